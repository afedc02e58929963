"""Reads of the MSP directory shared by pages and the API."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from tmw.accounts.models import User

from .models import MSPProfile


def msp_directory(*, user: User | AnonymousUser) -> QuerySet[MSPProfile]:
    """The MSP profiles the user may see (partners all; vendors those a visibility rule shows them), light columns."""
    return MSPProfile.objects.only(
        "organisation_id",
        "legal_name",
        "city",
        "region",
        "country",
        "website",
        "employees",
        "technicians",
        "endpoints",
        "clients",
        "verticals",
        "service_lines",
        "psa_tools",
        "rmm_tools",
        "pe_backed",
        "community_member",
        "relationship",
        "confirmed_at",
    ).order_by("legal_name", "pk")
