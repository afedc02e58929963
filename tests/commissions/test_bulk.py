"""Bulk runs in-process: approve and issue a month in one run, numbers gap-free in vendor order, one failure
listed and holding back no other, PDFs rendered ahead and reused when their number came out as predicted."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from commissions import services
from commissions.models import BulkRun, BulkRunRender, Statement
from tests.commissions.money import agreement, engagement, fake_pdf
from tests.factories import OrganisationFactory
from tmw.accounts.models import Organisation
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError

MARCH = datetime.date(2025, 3, 1)


def month_of_drafts(world, names: list[str]) -> list[Statement]:
    """One draft for March per vendor named (each a new vendor with its own agreement)."""
    drafts = []
    with operator_scope():
        for i, name in enumerate(names):
            vendor = OrganisationFactory(kind=Organisation.Kind.VENDOR, name=name)
            eng = engagement(vendor, world.partner, start=datetime.date(2025, 1, 1))
            agr = agreement(eng, world.finance, monthly_amount=Decimal("1000.00") + i)
            drafts.append(services.statement_generate(agreement=agr, period=MARCH, actor=SYSTEM))
    return drafts


class Renderer:
    """``fake_pdf`` that counts its calls, and fails for the statements listed in ``fail``."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.fail: set[int] = set()

    def __call__(self, statement):
        self.calls.append((statement.pk, statement.number))
        if statement.pk in self.fail:
            raise RuntimeError("the renderer broke")
        return fake_pdf(statement)


@pytest.fixture
def renderer(monkeypatch):
    found = Renderer()
    monkeypatch.setattr("commissions.services.statements._render_pdf", found)
    return found


def start(world, capture, action="approve_issue") -> BulkRun:
    with capture(execute=True), operator_scope():
        run = services.bulk_run_start(period=MARCH, action=action, actor=world.finance)
    with operator_scope():
        return BulkRun.objects.get(pk=run.pk)


def numbers_in_order(drafts) -> list[tuple[str, str | None, str]]:
    with operator_scope():
        return [
            (s.vendor.name, s.number, s.status)
            for s in Statement.objects.filter(pk__in=[d.pk for d in drafts]).select_related("vendor")
        ]


def test_approve_and_issue_a_month_in_vendor_order_with_gap_free_numbers(
    world, renderer, django_capture_on_commit_callbacks
):
    drafts = month_of_drafts(world, ["Cobalt Bulk", "Amber Bulk", "Birch Bulk"])
    run = start(world, django_capture_on_commit_callbacks)
    assert (run.status, run.phase, run.to_approve, run.approved, run.to_issue, run.issued) == (
        "done",
        "finished",
        3,
        3,
        3,
        3,
    )
    assert run.percent == 100 and run.failures == []
    got = sorted(numbers_in_order(drafts), key=lambda r: r[1])
    year = datetime.date.today().year
    assert [(name, number) for name, number, _ in got] == [
        ("Amber Bulk", f"TMW-{year}-0001"),
        ("Birch Bulk", f"TMW-{year}-0002"),
        ("Cobalt Bulk", f"TMW-{year}-0003"),
    ]
    # Each PDF was rendered once, ahead, for the number it then took; none again under the lock.
    assert sorted(number for _pk, number in renderer.calls) == [number for _n, number, _s in got]
    with operator_scope():
        assert not BulkRunRender.objects.exists()
        assert all(s.pdf and s.due_on for s in Statement.objects.filter(pk__in=[d.pk for d in drafts]))


def test_one_failure_is_listed_and_holds_back_no_other(world, renderer, django_capture_on_commit_callbacks):
    drafts = month_of_drafts(world, ["Amber Fail", "Birch Fail", "Cobalt Fail", "Dune Fail"])
    broken = drafts[1]  # Birch: its PDF fails
    renderer.fail = {broken.pk}
    with operator_scope():  # Dune was approved and issued by hand before the run: it is left alone
        issued_by_hand = services.statement_issue(
            statement=services.statement_approve(statement=drafts[3], actor=world.finance), actor=world.finance
        )
    run = start(world, django_capture_on_commit_callbacks)
    assert (run.status, run.approved, run.issued, run.failed) == ("failed", 3, 2, 1)
    assert [(f["statement"], f["stage"]) for f in run.failures] == [(broken.pk, "pdf")]
    assert "the renderer broke" in run.failures[0]["message"]
    year = datetime.date.today().year
    got = {name: (number, status) for name, number, status in numbers_in_order(drafts)}
    assert got == {
        "Dune Fail": (f"TMW-{year}-0001", "issued"),
        "Amber Fail": (f"TMW-{year}-0002", "issued"),
        "Birch Fail": (None, "approved"),
        "Cobalt Fail": (f"TMW-{year}-0003", "issued"),  # no gap: predicted 0004, rendered again under the lock
    }
    assert issued_by_hand.number == f"TMW-{year}-0001"
    cobalt = [number for pk, number in renderer.calls if pk == drafts[2].pk]
    assert cobalt == [f"TMW-{year}-0004", f"TMW-{year}-0003"]

    # Once fixed, a run of "issue" issues the one left, with the next number.
    renderer.fail = set()
    again = start(world, django_capture_on_commit_callbacks, action="issue")
    assert (again.status, again.to_approve, again.issued) == ("done", 0, 1)
    assert numbers_in_order([broken])[0][1] == f"TMW-{year}-0004"


def test_a_statement_that_already_has_a_pdf_fails_before_taking_a_place(
    world, renderer, django_capture_on_commit_callbacks
):
    drafts = month_of_drafts(world, ["Amber Pdf", "Birch Pdf"])
    with operator_scope():
        services.statement_approve(statement=drafts[0], actor=world.finance)
    Statement.all_objects.filter(pk=drafts[0].pk).update(pdf="statements/2025/stray.pdf")
    run = start(world, django_capture_on_commit_callbacks)
    assert (run.status, run.issued, run.failed) == ("failed", 1, 1)
    assert run.failures[0]["stage"] == "issue" and "stored PDF" in run.failures[0]["message"]
    assert numbers_in_order(drafts)[1][1] == f"TMW-{datetime.date.today().year}-0001"


def test_approve_only_runs_approve_every_draft(world, renderer, django_capture_on_commit_callbacks):
    drafts = month_of_drafts(world, ["Amber Only", "Birch Only"])
    run = start(world, django_capture_on_commit_callbacks, action="approve")
    assert (run.status, run.approved, run.to_issue) == ("done", 2, 0)
    assert {status for _n, _num, status in numbers_in_order(drafts)} == {"approved"}
    assert renderer.calls == []


def test_bulk_runs_from_the_pages_and_the_api(world, renderer, client_for, django_capture_on_commit_callbacks):
    month_of_drafts(world, ["Amber Page"])
    finance = client_for(world.finance)
    assert finance.get(reverse("commissions:bulk_list")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(reverse("commissions:bulk_list"), {"period": "2025-03", "action": "approve_issue"})
    assert response.status_code == 302
    with operator_scope():
        run = BulkRun.objects.get()
    assert response["Location"].endswith(reverse("commissions:bulk_detail", args=[run.pk]))
    progress = finance.get(reverse("commissions:bulk_progress", args=[run.pk])).content.decode()
    assert 'data-status="done"' in progress and "hx-trigger" not in progress and "Amber Page" in progress
    bad = finance.post(reverse("commissions:bulk_list"), {"period": "2999-01", "action": "approve"})
    assert bad.status_code == 400

    client = APIClient()
    client.force_authenticate(world.finance)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/bulk-runs/", {"period": "2025-03", "action": "issue"}, format="json")
    assert answer.status_code == 201 and answer.json()["action"] == "issue"
    detail = client.get(f"/api/v1/bulk-runs/{answer.json()['id']}/").json()
    assert (detail["status"], detail["to_issue"], detail["percent"]) == ("done", 0, 100)
    assert client.post("/api/v1/bulk-runs/", {"period": "2025-03", "action": "burn"}, format="json").status_code == 400
    partner = APIClient()
    partner.force_authenticate(world.partner)
    assert (
        partner.post("/api/v1/bulk-runs/", {"period": "2025-03", "action": "issue"}, format="json").status_code == 403
    )
    with operator_scope(), pytest.raises(ApplicationError):
        services.bulk_run_start(period=MARCH, action="issue", actor=world.partner)
