"""Load the demo data set; running it again changes nothing."""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

from tmw.accounts.demo import DEMO_PASSWORD
from tmw.accounts.tenancy import operator_scope

# Each app that has demo data exposes ``seed(context) -> None`` in ``<app>/demo.py``; order matters.
APP_SEEDERS = [
    "tmw.directory.demo",
    "diagnostics.demo",
    "diagnostics.booking.demo",
    "engagements.demo",
    "commissions.demo",
    "community.demo",
]


class Command(BaseCommand):
    help = "Create the demo organisations, users and domain data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, quiet: bool = False, **options):
        from tmw.accounts import demo

        with operator_scope(), transaction.atomic():
            context = demo.seed()
            for module_name in APP_SEEDERS:
                try:
                    module = importlib.import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name != module_name:
                        raise
                    continue
                module.seed(context)
        if quiet:
            return
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Log in at http://127.0.0.1:8000/ with:"))
        width = max(len(role) for role, _, _ in context["logins"])
        for role, email, org in context["logins"]:
            self.stdout.write(f"  {role:<{width}}  {email:<44} {org}")
        self.stdout.write(f"  Password for every demo login: {DEMO_PASSWORD}")
