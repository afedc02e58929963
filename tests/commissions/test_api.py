"""API of the commercial terms: roles, idempotent revenue reports, statement lifecycle and immutability."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from commissions import services
from commissions.forms import last_month
from commissions.models import RevenueReport, RevenueReportRevision, Statement
from tests.commissions.tenant_objects import billing_attribution_for
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope


@pytest.fixture
def api():
    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


def issue(world, statement: Statement) -> Statement:
    with operator_scope():
        statement = services.statement_approve(statement=statement, actor=world.finance)
        return services.statement_issue(statement=statement, actor=world.finance)


def report_body(world, side, amount="2500.00", **extra) -> dict:
    return {
        "account": f"{side.marker} Billing MSP",
        "period": f"{last_month():%Y-%m}",
        "amount": amount,
        "currency": "USD",
        **extra,
    }


def test_agreements_are_read_by_operators_only(world, api):
    for user, expected in (
        (None, 403),
        (world.a.vendor_admin, 403),
        (world.a.msp_member, 403),
        (world.partner, 200),
        (world.finance, 200),
    ):
        response = api(user).get("/api/v1/agreements/")
        assert response.status_code in ((401, 403) if user is None else (expected,)), user
    data = api(world.partner).get("/api/v1/agreements/").json()
    vendors = {row["vendor_name"] for row in data["results"]}
    assert {world.a.vendor.name, world.b.vendor.name} <= vendors
    row = next(r for r in data["results"] if r["vendor_name"] == world.a.vendor.name)
    assert row["versions"][0]["rates"] == ["0.150000", "0.100000", "0.050000"]
    # Operators create agreements (terms.manage); an empty body names the fields it lacks.
    refused = api(world.partner).post("/api/v1/agreements/", {}, format="json")
    assert refused.status_code == 400 and {"engagement", "currency", "effective_month"} <= set(refused.json()["extra"])
    assert api(world.a.vendor_admin).post("/api/v1/agreements/", {}, format="json").status_code == 403


def test_statements_by_role(world, api):
    a_statement = world.a.objects[Statement]
    # Vendors never see drafts, not even their own.
    assert api(world.a.vendor_admin).get(f"/api/v1/statements/{a_statement.pk}/").status_code == 404
    assert api(world.a.vendor_admin).get("/api/v1/statements/").json()["results"] == []
    issued = issue(world, a_statement)
    vendor_list = api(world.a.vendor_member).get("/api/v1/statements/").json()["results"]
    assert [s["number"] for s in vendor_list] == [issued.number]
    detail = api(world.a.vendor_member).get(f"/api/v1/statements/{issued.pk}/").json()
    assert Decimal(detail["total"]) == sum(Decimal(line["amount"]) for line in detail["lines"])
    pdf = api(world.a.vendor_member).get(f"/api/v1/statements/{issued.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # The other vendor gets 404, the MSP 403.
    assert api(world.b.vendor_admin).get(f"/api/v1/statements/{issued.pk}/").status_code == 404
    assert api(world.a.msp_member).get("/api/v1/statements/").status_code == 403
    # Partners read everything but act on nothing.
    listed = api(world.partner).get("/api/v1/statements/").json()["results"]
    assert len([s for s in listed if s["status"] != "void"]) == 2  # each side also holds a void one (payments)
    b_statement = world.b.objects[Statement]
    assert api(world.partner).post(f"/api/v1/statements/{b_statement.pk}/approve/").status_code == 403
    assert api(world.a.vendor_admin).post(f"/api/v1/statements/{issued.pk}/void/", {"reason": "x"}).status_code == 403


def test_statement_filters(world, api):
    period = f"{last_month():%Y-%m}"
    rows = api(world.finance).get(f"/api/v1/statements/?period={period}&vendor={world.a.vendor.pk}").json()
    assert [r["vendor_name"] for r in rows["results"]] == [world.a.vendor.name]
    assert api(world.finance).get("/api/v1/statements/?period=2001-01").json()["results"] == []
    assert api(world.finance).get("/api/v1/statements/?status=paid").json()["results"] == []


def test_lifecycle_through_the_api(world, api):
    statement = world.b.objects[Statement]
    finance = api(world.finance)
    response = finance.post(f"/api/v1/statements/{statement.pk}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    response = finance.post(f"/api/v1/statements/{statement.pk}/issue/")
    assert response.status_code == 200 and response.json()["number"].startswith("TMW-")
    bad = finance.post(f"/api/v1/statements/{statement.pk}/mark-paid/", {"paid_on": "soon"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"message", "extra"}
    paid = finance.post(
        f"/api/v1/statements/{statement.pk}/mark-paid/",
        {"paid_on": datetime.date.today().isoformat(), "reference": "ACH 889"},
        format="json",
    )
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def test_void_answers_the_credit_note(world, api):
    statement = issue(world, world.a.objects[Statement])
    response = api(world.finance).post(f"/api/v1/statements/{statement.pk}/void/", {"reason": "Wrong"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["credit_note_for"] == statement.pk and Decimal(body["total"]) == -statement.total


def test_issued_statements_refuse_changes_through_the_api(world, api):
    statement = issue(world, world.a.objects[Statement])
    finance = api(world.finance)
    for path in ("approve", "issue"):
        response = finance.post(f"/api/v1/statements/{statement.pk}/{path}/")
        assert response.status_code == 409, path
        assert set(response.json()) == {"message", "extra"}
    for method in ("put", "patch", "delete"):
        # The view declares no action for these methods: the door refuses them (it fails closed).
        assert getattr(finance, method)(f"/api/v1/statements/{statement.pk}/", {}).status_code == 403
    with operator_scope():
        fresh = Statement.all_objects.get(pk=statement.pk)
    assert (fresh.status, fresh.number, fresh.total, fresh.pdf_sha256) == (
        statement.status,
        statement.number,
        statement.total,
        statement.pdf_sha256,
    )


def test_revenue_report_create_and_list_by_role(world, api):
    vendor = api(world.a.vendor_admin)
    response = vendor.post("/api/v1/revenue-reports/", report_body(world, world.a), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account"] == f"{world.a.marker} Billing MSP" and body["amount"] == "2500.00"
    assert body["revision"] == 2  # the world already reported 2,000.00 for last month
    # Another vendor's account is unknown to this vendor.
    other = vendor.post("/api/v1/revenue-reports/", report_body(world, world.b), format="json")
    assert other.status_code == 400 and "account" in other.json()["extra"]
    # Lists are scoped.
    listed = vendor.get("/api/v1/revenue-reports/").json()["results"]
    assert {r["account"] for r in listed} == {f"{world.a.marker} Billing MSP"}
    # Partners read but cannot report; MSP users do neither.
    assert api(world.partner).get("/api/v1/revenue-reports/").status_code == 200
    assert api(world.partner).post("/api/v1/revenue-reports/", report_body(world, world.a)).status_code == 403
    assert api(world.a.msp_member).get("/api/v1/revenue-reports/").status_code == 403
    # Finance reports for any vendor.
    finance = api(world.finance).post("/api/v1/revenue-reports/", report_body(world, world.b, "10.00"), format="json")
    assert finance.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"period": "2026-13"}, "period"),
        ({"currency": "EUR"}, "currency"),
        ({"account": "Nobody MSP"}, "account"),
    ],
)
def test_revenue_report_bad_input_is_a_400_with_field_messages(world, api, change, field):
    response = api(world.a.vendor_admin).post(
        "/api/v1/revenue-reports/", report_body(world, world.a, **change), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["extra"]


def test_revenue_report_refuses_the_wrong_currency_and_a_future_month(world, api):
    vendor = api(world.a.vendor_admin)
    cad = vendor.post("/api/v1/revenue-reports/", report_body(world, world.a, currency="CAD"), format="json")
    assert cad.status_code == 400 and "currency" in cad.json()["extra"]
    future = (datetime.date.today().replace(day=28) + datetime.timedelta(days=40)).replace(day=1)
    response = vendor.post("/api/v1/revenue-reports/", report_body(world, world.a, period=f"{future:%Y-%m}"))
    assert response.status_code == 400


def test_idempotency_key_replay_returns_the_first_answer(world, api):
    vendor = api(world.a.vendor_admin)
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-2026-001"}
    first = vendor.post("/api/v1/revenue-reports/", report_body(world, world.a, "3333.33"), format="json", **headers)
    assert first.status_code == 201
    # Someone corrects the month afterwards; a retry of the first request still gets the first answer.
    later = vendor.post("/api/v1/revenue-reports/", report_body(world, world.a, "4000.00"), format="json")
    assert later.status_code == 201
    retry = vendor.post("/api/v1/revenue-reports/", report_body(world, world.a, "3333.33"), format="json", **headers)
    assert retry.status_code == first.status_code
    assert retry.json() == first.json()
    with operator_scope():
        assert RevenueReportRevision.all_objects.filter(idempotency_key="upload-2026-001").count() == 1
        report = RevenueReport.all_objects.get(pk=first.json()["id"])
    assert report.amount == Decimal("4000.00")


def test_idempotency_key_with_other_content_is_a_conflict(world, api):
    vendor = api(world.a.vendor_admin)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-42"}
    assert (
        vendor.post("/api/v1/revenue-reports/", report_body(world, world.a), format="json", **headers).status_code
        == 201
    )
    for change in ({"amount": "2600.00"}, {"account": "Somebody else"}, {"period": "2001-01"}):
        response = vendor.post(
            "/api/v1/revenue-reports/", report_body(world, world.a, **change), format="json", **headers
        )
        assert response.status_code == 409, change
        assert set(response.json()) == {"message", "extra"}
    # The same key from another vendor is that vendor's own key.
    other = api(world.b.vendor_admin).post(
        "/api/v1/revenue-reports/", report_body(world, world.b), format="json", **headers
    )
    assert other.status_code == 201


def test_a_correction_after_issue_becomes_an_adjustment(world, api):
    statement = issue(world, world.a.objects[Statement])
    attribution = billing_attribution_for(world, world.a)
    response = api(world.a.vendor_admin).post(
        "/api/v1/revenue-reports/", report_body(world, world.a, "2400.00"), format="json"
    )
    assert response.status_code == 201
    with operator_scope():
        fresh = Statement.all_objects.get(pk=statement.pk)
        assert fresh.total == statement.total
        this_month = datetime.date.today().replace(day=1)
        services.revenue_report_record(
            attribution=attribution,
            period=this_month,
            amount=Decimal("2400.00"),
            currency="USD",
            source="finance",
            actor=world.finance,
        )
        following = services.statement_generate(agreement=statement.agreement, period=this_month, actor=SYSTEM)
        adjustments = list(following.lines.filter(kind="adjustment"))
    assert len(adjustments) == 1
    assert adjustments[0].corrects_period == last_month()
    assert adjustments[0].amount == Decimal("60.00")  # (2,400 − 2,000) × 15 %


@pytest.mark.parametrize(("amount", "expected"), [("$1,234.50", 201), (1234.5, 201), ("١٢٣", 400), ("1.234", 400)])
def test_the_api_reads_amounts_by_the_one_money_rule(world, api, amount, expected):
    billing_attribution_for(world, world.a)
    response = api(world.a.vendor_admin).post(
        "/api/v1/revenue-reports/", report_body(world, world.a, amount), format="json"
    )
    assert response.status_code == expected, response.json()
    if expected == 201:
        assert response.json()["amount"] == "1234.50"
    else:
        assert "amount" in response.json()["extra"]
