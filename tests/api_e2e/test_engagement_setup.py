"""An engagement set up end to end through the REST API alone, and its statements checked against the engine.

Only the TMW staff who hold the first logins (a partner and finance) are made directly; everything else is
a request with a token: the vendor and its first admin's invitation, the MSPs, the diagnostic and its
decision, the engagement, the agreement (equity and a tail), attributions, revenue, statement runs read to
the end, approval, issue, a correction and the months after, up to a tail month after the engagement ends.
Each statement's lines are compared with ``commissions.services.statement_compute``, the Python engine's
own computation (``commissions.engine.compute_lines``).

It runs on PostgreSQL when ``DATABASE_URL`` points there (as ``make test`` and CI do), on SQLite otherwise;
the statement-run tasks run eagerly, after the commit of the request that started them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from rest_framework.test import APIClient

from commissions import engine
from commissions.models import Agreement
from commissions.services import statement_compute
from tests.factories import OrganisationFactory, UserFactory
from tmw.accounts.models import Organisation, Role
from tmw.accounts.tenancy import operator_scope

PASSWORD = "an-api-only-journey-7"
pytestmark = pytest.mark.django_db


def months_ago(n: int) -> datetime.date:
    month = engine.first_of_month(datetime.date.today())
    for _ in range(n):
        month = engine.first_of_month(month - datetime.timedelta(days=1))
    return month


def login(email: str) -> APIClient:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json()


def engine_lines(agreement_id: int, period: datetime.date) -> list[tuple]:
    with operator_scope():
        agreement = Agreement.objects.select_related("engagement").get(pk=agreement_id)
        drafts = statement_compute(agreement=agreement, period=period)
    return sorted(
        (
            d.kind,
            d.attribution_id,
            None if d.revenue is None else f"{d.revenue:.2f}",
            d.account_year,
            None if d.rate is None else f"{d.rate:.6f}",
            f"{d.amount:.2f}",
            None if d.corrects_period is None else d.corrects_period.isoformat(),
        )
        for d in drafts
    )


def api_lines(statement: dict) -> list[tuple]:
    return sorted(
        (
            line["kind"],
            line["attribution"],
            line["revenue"],
            line["account_year"],
            line["rate"],
            line["amount"],
            line["corrects_period"],
        )
        for line in statement["lines"]
    )


@pytest.fixture
def staff():
    with operator_scope():
        operator = OrganisationFactory(kind=Organisation.Kind.OPERATOR, name="The MSP Works (API)", slug="tmw-api")
        partner = UserFactory(email="partner@api-e2e.example", organisation=operator, role=Role.PARTNER)
        finance = UserFactory(email="finance@api-e2e.example", organisation=operator, role=Role.FINANCE)
        for user in (partner, finance):
            user.set_password(PASSWORD)
            user.save()
    return partner, finance


def run_month(finance: APIClient, period: datetime.date, capture) -> dict:
    with capture(execute=True):
        run = ok(finance.post("/api/v1/statement-runs/", {"period": f"{period:%Y-%m}"}, format="json"), 202)
    progress = ok(finance.get(f"/api/v1/statement-runs/{run['id']}/"))
    assert progress["is_finished"] and progress["status"] == "done", progress
    assert progress["failures"] == [] and progress["percent"] == 100
    return progress


def statement_of(client: APIClient, agreement: int, period: datetime.date, status: str = "draft") -> dict:
    rows = ok(client.get("/api/v1/statements/", {"agreement": agreement}))["results"]
    wanted = [r for r in rows if r["period"] == f"{period:%Y-%m}" and r["status"] == status]
    assert len(wanted) == 1, rows
    return ok(client.get(f"/api/v1/statements/{wanted[0]['id']}/"))


def approve_and_issue(finance: APIClient, statement: dict) -> dict:
    ok(finance.post(f"/api/v1/statements/{statement['id']}/approve/", {}, format="json"))
    return ok(finance.post(f"/api/v1/statements/{statement['id']}/issue/", {}, format="json"))


def test_an_engagement_is_set_up_and_billed_through_the_api_alone(staff, django_capture_on_commit_callbacks):
    partner_user, _ = staff
    partner = login("partner@api-e2e.example")
    finance = login("finance@api-e2e.example")
    m0, m1, m2, m3 = months_ago(4), months_ago(3), months_ago(2), months_ago(1)
    start = m0 + datetime.timedelta(days=9)  # the 10th: a part month of retainer

    # 1. The vendor, its billing contact and its first admin (a retry with the same key answers the same).
    body = {
        "name": "Keystone Ledger Inc.",
        "website": "https://keystone-ledger.example",
        "city": "Denver",
        "region": "co",
        "country": "US",
        "category": "Accounting automation",
        "billing_contacts": [{"name": "Accounts payable", "email": "ap@keystone-ledger.example"}],
        "admin_email": "founder@keystone-ledger.example",
    }
    with django_capture_on_commit_callbacks(execute=True):
        vendor = ok(partner.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="vendor-1"), 201)
    assert vendor["region"] == "CO" and vendor["invitation"] is not None
    assert vendor["billing_contacts"] == [{"name": "Accounts payable", "email": "ap@keystone-ledger.example"}]
    assert [m.to for m in mail.outbox] == [["founder@keystone-ledger.example"]]
    replay = partner.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="vendor-1")
    assert replay.status_code == 201 and replay.json() == vendor and replay["Idempotent-Replayed"] == "true"
    other = partner.post(
        "/api/v1/vendors/", {**body, "name": "Other Name"}, format="json", HTTP_IDEMPOTENCY_KEY="vendor-1"
    )
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["extra"]
    duplicate = partner.post("/api/v1/vendors/", {**body, "name": "keystone ledger inc.", "admin_email": ""})
    assert duplicate.status_code == 400 and "name" in duplicate.json()["extra"]
    ok(partner.patch(f"/api/v1/vendors/{vendor['id']}/", {"city": "Boulder"}, format="json"))

    # 2. Two MSPs in the directory.
    msps = [
        ok(
            partner.post(
                "/api/v1/msps/",
                {"legal_name": name, "city": city, "region": region, "country": country},
                format="json",
            ),
            201,
        )["id"]
        for name, city, region, country in (
            ("Granite Peak IT", "Calgary", "AB", "CA"),
            ("Harborline Networks", "Portland", "OR", "US"),
        )
    ]

    # 3. The diagnostic and its go decision.
    diagnostic = ok(
        partner.post(
            "/api/v1/diagnostics/",
            {"vendor": vendor["id"], "lead_partner": partner_user.pk, "started_on": f"{m0 - datetime.timedelta(30)}"},
            format="json",
        ),
        201,
    )
    decision = partner.put(
        f"/api/v1/diagnostics/{diagnostic['id']}/decision/",
        {"outcome": "go", "rationale": "Fits the MSP stack; the channel is ready for a TMW-led desk."},
        format="json",
    )
    if decision.status_code == 409:  # a gate not scored yet counts as failed: the partner overrides it
        decision = partner.put(
            f"/api/v1/diagnostics/{diagnostic['id']}/decision/",
            {
                "outcome": "go",
                "rationale": "Fits the MSP stack; the channel is ready for a TMW-led desk.",
                "gate_override_reason": "Scored in the workshop; the gate is met.",
            },
            format="json",
        )
    assert ok(decision)["option"] == "B"

    # 4. The engagement, proposed from the decision and started on the 10th of the first month.
    engagement = ok(
        partner.post(
            "/api/v1/engagements/",
            {"diagnostic": diagnostic["id"], "lead_partner": partner_user.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="engagement-1",
        ),
        201,
    )
    assert engagement["status"] == "proposed" and engagement["option"] == "B"
    started = ok(partner.post(f"/api/v1/engagements/{engagement['id']}/start/", {"on": f"{start}"}, format="json"))
    assert started["status"] == "active" and started["start_date"] == f"{start}"

    # 5. The agreement: a negotiated retainer, 40 % of it as equity in a convertible note, a 3-month tail.
    agreement = ok(
        finance.post(
            "/api/v1/agreements/",
            {
                "engagement": engagement["id"],
                "currency": "USD",
                "effective_month": f"{m0:%Y-%m}",
                "monthly_amount": "12000.00",
                "rates": ["0.15", "0.10", "0.05"],
                "tail_months": 3,
                "equity_share": "0.40",
                "equity_kind": "convertible",
                "principal": "50000.00",
            },
            format="json",
        ),
        201,
    )
    assert agreement["versions"][0]["rates"] == ["0.150000", "0.100000", "0.050000"]
    unknown = finance.post(f"/api/v1/agreements/{agreement['id']}/terms/", {"effective_month": "x", "tail": 1})
    assert unknown.status_code == 400 and "tail" in unknown.json()["extra"]

    # 6. Two attributed accounts: one from the start, one from the second month.
    first = ok(
        partner.post(
            "/api/v1/attributions/",
            {"engagement": engagement["id"], "msp": msps[0], "starts_on": f"{start}", "reason": "Introduced by TMW"},
            format="json",
        ),
        201,
    )
    second = ok(
        partner.post(
            "/api/v1/attributions/",
            {
                "engagement": engagement["id"],
                "msp": msps[1],
                "starts_on": f"{m1 + datetime.timedelta(days=4)}",
                "reason": "Met at the pitch session",
            },
            format="json",
        ),
        201,
    )

    def report(account: str, period: datetime.date, amount: str, key: str) -> None:
        body = {"account": account, "period": f"{period:%Y-%m}", "amount": amount, "currency": "USD"}
        ok(finance.post("/api/v1/revenue-reports/", body, format="json", HTTP_IDEMPOTENCY_KEY=key), 201)

    # 7. Month 0: revenue, a run, the lines against the engine, approve, issue.
    report("Granite Peak IT", m0, "20000.00", "rev-m0-a")
    run_month(finance, m0, django_capture_on_commit_callbacks)
    statement = statement_of(finance, agreement["id"], m0)
    assert api_lines(statement) == engine_lines(agreement["id"], m0)
    by_kind = {line["kind"]: line["amount"] for line in statement["lines"]}
    # 12,000 x 22/30 or 22/31 days in term, 40 % of it as equity; 20,000 x 15 % revenue share
    retainer = Decimal("12000") * ((engine.last_of_month(m0) - start).days + 1) / engine.last_of_month(m0).day
    retainer = retainer.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    equity = (retainer * Decimal("0.40")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert by_kind == {
        "retainer_cash": f"{retainer - equity:.2f}",
        "equity_accrual": f"{equity:.2f}",
        "revenue_share": "3000.00",
    }
    assert Decimal(statement["total"]) == sum(Decimal(line["amount"]) for line in statement["lines"])
    issued = approve_and_issue(finance, statement)
    assert issued["status"] == "issued" and issued["number"]

    # 8. A correction of month 0 (its statement is issued) and month 1: the adjustment comes on month 1.
    report("Granite Peak IT", m0, "25000.00", "rev-m0-a-corrected")
    report("Granite Peak IT", m1, "21000.00", "rev-m1-a")
    report("Harborline Networks", m1, "8000.00", "rev-m1-b")
    run_month(finance, m1, django_capture_on_commit_callbacks)
    statement = statement_of(finance, agreement["id"], m1)
    assert api_lines(statement) == engine_lines(agreement["id"], m1)
    adjustments = [line for line in statement["lines"] if line["corrects_period"] == f"{m0}"]
    assert [line["amount"] for line in adjustments] == ["750.00"]  # (25,000 - 20,000) x 15 %
    assert ok(finance.get(f"/api/v1/statements/{issued['id']}/"))["total"] == issued["total"]  # issued never changes
    approve_and_issue(finance, statement)

    # 9. The desk ends on the last day of month 2; the second account's attribution ended earlier.
    ok(
        partner.post(
            f"/api/v1/attributions/{second['id']}/end/",
            {"ended_on": f"{m2 + datetime.timedelta(days=2)}", "reason": "The MSP left the programme."},
            format="json",
        )
    )
    ended = ok(
        partner.post(
            f"/api/v1/engagements/{engagement['id']}/end/",
            {"on": f"{engine.last_of_month(m2)}"},
            format="json",
        )
    )
    assert ended["status"] == "ended" and ended["stop_date"] == f"{engine.last_of_month(m2)}"
    report("Granite Peak IT", m2, "22000.00", "rev-m2-a")
    report("Harborline Networks", m2, "9000.00", "rev-m2-b")
    run_month(finance, m2, django_capture_on_commit_callbacks)
    statement = statement_of(finance, agreement["id"], m2)
    assert api_lines(statement) == engine_lines(agreement["id"], m2)
    approve_and_issue(finance, statement)

    # 10. Month 3 is a tail month: no retainer, the first account still earns; the ended one does not.
    report("Granite Peak IT", m3, "23000.00", "rev-m3-a")
    run_month(finance, m3, django_capture_on_commit_callbacks)
    statement = statement_of(finance, agreement["id"], m3)
    assert api_lines(statement) == engine_lines(agreement["id"], m3)
    assert [line["attribution"] for line in statement["lines"]] == [first["id"]]
    assert statement["lines"][0]["kind"] == "tail"
    approve_and_issue(finance, statement)

    statements = ok(finance.get("/api/v1/statements/", {"agreement": agreement["id"], "status": "issued"}))
    assert statements["count"] == 4
