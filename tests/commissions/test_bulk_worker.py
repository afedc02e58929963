"""A bulk approve-and-issue run through a real Celery worker and Redis, with one statement made to fail."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest

from commissions import services
from commissions.models import BulkRun, Statement
from tests.commissions.money import agreement, engagement
from tests.factories import OrganisationFactory
from tmw.accounts.models import Organisation
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope

MARCH = datetime.date(2025, 3, 1)
VENDORS = 6


@pytest.mark.worker
@pytest.mark.postgres
def test_a_worker_approves_and_issues_a_month_and_lists_the_one_that_fails(celery_worker_process, world):
    drafts = []
    with operator_scope():
        for i in range(VENDORS):
            vendor = OrganisationFactory(kind=Organisation.Kind.VENDOR, name=f"Worker Bulk {i:02d}")
            eng = engagement(vendor, world.partner, start=datetime.date(2025, 1, 1))
            agr = agreement(eng, world.finance, monthly_amount=Decimal("1500.00") + i)
            drafts.append(services.statement_generate(agreement=agr, period=MARCH, actor=SYSTEM))
        # One statement cannot be issued: it already holds a stored PDF (issuing never replaces one).
        broken = drafts[2]
        services.statement_approve(statement=broken, actor=world.finance)
    Statement.all_objects.filter(pk=broken.pk).update(pdf="statements/2025/stray.pdf")

    with operator_scope():
        run = services.bulk_run_start(period=MARCH, action="approve_issue", actor=world.finance)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        with operator_scope():
            run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.25)
    assert run.is_finished, (run.phase, run.approved, run.rendered, run.issued, run.failures)
    assert (run.status, run.approved, run.issued, run.failed) == ("failed", VENDORS - 1, VENDORS - 1, 1)
    assert [f["statement"] for f in run.failures] == [broken.pk] and "stored PDF" in run.failures[0]["message"]

    year = datetime.date.today().year
    with operator_scope():
        statements = list(
            Statement.objects.filter(pk__in=[d.pk for d in drafts]).select_related("vendor").order_by("vendor__name")
        )
        assert BulkRun.objects.get(pk=run.pk).renders.count() == 0
    issued = [(s.vendor.name, s.number) for s in statements if s.pk != broken.pk]
    assert issued == [(f"Worker Bulk {i:02d}", f"TMW-{year}-{n:04d}") for n, i in enumerate([0, 1, 3, 4, 5], start=1)]
    assert all(s.status == "issued" and s.pdf_sha256 and s.due_on for s in statements if s.pk != broken.pk)
    assert next(s for s in statements if s.pk == broken.pk).number is None
