"""Pages of the commercial terms: permission matrix, lifecycle through the pages, immutability, downloads,
and a constant number of queries as data grows."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from commissions import services
from commissions.forms import TermsForm, last_month
from commissions.models import Agreement, RetainerTier, RevenueReport, Statement, StatementLine, StatementRun
from tests.commissions.tenant_objects import agreement_for, billing_attribution_for, statement_for
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope

ROLES = ("anonymous", "other_vendor", "own_vendor", "msp", "partner", "finance")


def users(world) -> dict:
    return {
        "anonymous": None,
        "other_vendor": world.b.vendor_admin,
        "own_vendor": world.a.vendor_admin,
        "msp": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
    }


def issue(world, statement: Statement) -> Statement:
    with operator_scope():
        statement = services.statement_approve(statement=statement, actor=world.finance)
        return services.statement_issue(statement=statement, actor=world.finance)


def page_urls(world) -> dict:
    statement = world.a.objects[Statement]
    agreement = world.a.objects[Agreement]
    with operator_scope():
        tier = RetainerTier.objects.create(
            name="Core", monthly_fee_usd=Decimal("5000"), monthly_fee_cad=Decimal("6800")
        )
        run = StatementRun.objects.create(period=last_month(), status=StatementRun.Status.DONE, total=2, done=2)
    period = f"{last_month():%Y-%m}"
    return {
        "tiers": reverse("commissions:tier_list"),
        "tier": reverse("commissions:tier_edit", args=[tier.pk]),
        "agreements": reverse("commissions:agreement_list"),
        "agreement": reverse("commissions:agreement_detail", args=[agreement.pk]),
        "revenue": reverse("commissions:revenue_list"),
        "runs": reverse("commissions:run_list"),
        "run": reverse("commissions:run_detail", args=[run.pk]),
        "run_progress": reverse("commissions:run_progress", args=[run.pk]),
        "statements": reverse("commissions:statement_list"),
        "statement": reverse("commissions:statement_detail", args=[statement.pk]),
        "statement_pdf": reverse("commissions:statement_pdf", args=[statement.pk]),
        "zip": reverse("commissions:statement_zip") + f"?period={period}",
        "csv": reverse("commissions:statement_lines_csv") + f"?period={period}",
        "portal": reverse("commissions:portal_statements"),
        "portal_upload": reverse("commissions:portal_revenue_upload"),
    }


# Expected status per page and role (a draft statement of vendor A: vendors never see drafts).
MATRIX = {
    "tiers": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 200, "finance": 200},
    "tier": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 200, "finance": 200},
    "agreements": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 200, "finance": 200},
    "agreement": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 200, "finance": 200},
    "revenue": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 403, "finance": 200},
    "runs": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 403, "finance": 200},
    "run": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 403, "finance": 200},
    "run_progress": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 403, "finance": 200},
    "statements": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 200, "finance": 200},
    "statement": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 200, "finance": 200},
    "statement_pdf": {"other_vendor": 404, "own_vendor": 404, "msp": 403, "partner": 200, "finance": 200},
    "zip": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 403, "finance": 200},
    "csv": {"other_vendor": 403, "own_vendor": 403, "msp": 403, "partner": 403, "finance": 200},
    "portal": {"other_vendor": 200, "own_vendor": 200, "msp": 403, "partner": 403, "finance": 403},
    "portal_upload": {"other_vendor": 200, "own_vendor": 200, "msp": 403, "partner": 403, "finance": 403},
}


@pytest.mark.parametrize("page", sorted(MATRIX))
def test_permission_matrix(world, client_for, page):
    url = page_urls(world)[page]
    for role, user in users(world).items():
        response = client_for(user).get(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/login/" in response["Location"], (page, role)
            continue
        assert response.status_code == MATRIX[page][role], (page, role, response.status_code)


def test_pages_show_the_data(world, client_for):
    urls = page_urls(world)
    finance = client_for(world.finance)
    body = finance.get(urls["agreement"]).content.decode()
    assert world.a.marker in body and "Version history" in body and 'data-chart="forecast-data"' in body
    body = finance.get(urls["statements"] + f"?period={last_month():%Y-%m}").content.decode()
    assert world.a.marker in body and world.b.marker in body and "ZIP" in body
    body = finance.get(urls["statement"]).content.decode()
    assert "Revenue share" in body and "Approve" in body and "History" in body
    body = finance.get(urls["revenue"]).content.decode()
    assert f"{world.a.marker} Billing MSP" in body


def test_vendor_portal_shows_only_its_issued_statements(world, client_for):
    a_statement = issue(world, world.a.objects[Statement])
    b_statement = issue(world, world.b.objects[Statement])
    body = client_for(world.a.vendor_member).get(reverse("commissions:portal_statements")).content.decode()
    assert a_statement.number in body
    assert b_statement.number not in body and world.b.marker not in body
    own_pdf = client_for(world.a.vendor_member).get(reverse("commissions:statement_pdf", args=[a_statement.pk]))
    assert own_pdf.status_code == 200 and own_pdf["Content-Type"] == "application/pdf"
    other_pdf = client_for(world.a.vendor_member).get(reverse("commissions:statement_pdf", args=[b_statement.pk]))
    assert other_pdf.status_code == 404


def test_portal_banner_lists_missing_reports_for_last_month(world, client_for):
    with operator_scope():
        RevenueReport.all_objects.filter(vendor=world.a.vendor).delete()
    body = client_for(world.a.vendor_admin).get(reverse("commissions:portal_statements")).content.decode()
    assert "missing-reports" in body and f"{world.a.marker} Billing MSP" in body
    finance_body = client_for(world.finance).get(reverse("commissions:revenue_list")).content.decode()
    assert "missing-reports" in finance_body and f"{world.a.marker} Billing MSP" in finance_body


def test_lifecycle_through_the_pages(world, client_for):
    statement = world.a.objects[Statement]
    finance = client_for(world.finance)
    detail = reverse("commissions:statement_detail", args=[statement.pk])
    assert finance.post(reverse("commissions:statement_approve", args=[statement.pk])).status_code == 302
    assert finance.post(reverse("commissions:statement_issue", args=[statement.pk])).status_code == 302
    with operator_scope():
        statement.refresh_from_db()
    assert statement.status == Statement.Status.ISSUED and statement.number.startswith("TMW-")
    body = finance.get(detail).content.decode()
    assert statement.number in body and ">Approve<" not in body and ">Issue<" not in body
    paid = finance.post(
        reverse("commissions:statement_mark_paid", args=[statement.pk]),
        {"paid_on": datetime.date.today().isoformat(), "reference": "WIRE-4471"},
    )
    assert paid.status_code == 302
    with operator_scope():
        statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID and statement.payment_reference == "WIRE-4471"
    body = finance.get(detail).content.decode()
    assert "Payment recorded · WIRE-4471" in body and "Paid in full · WIRE-4471" in body  # the audit history
    assert "statement.paid" not in body


def test_void_creates_a_credit_note(world, client_for):
    statement = issue(world, world.a.objects[Statement])
    finance = client_for(world.finance)
    response = finance.post(reverse("commissions:statement_void", args=[statement.pk]), {"reason": "Wrong MRR"})
    assert response.status_code == 302
    with operator_scope():
        credit = Statement.all_objects.get(credit_note_for=statement)
        statement.refresh_from_db()
    assert statement.status == Statement.Status.VOID
    assert response["Location"].endswith(reverse("commissions:statement_detail", args=[credit.pk]))
    assert credit.total == -statement.total


def test_issued_statements_refuse_changes_through_the_pages(world, client_for):
    statement = issue(world, world.a.objects[Statement])
    with operator_scope():
        before = (statement.status, statement.number, statement.total, statement.pdf_sha256)
        lines_before = list(StatementLine.all_objects.filter(statement=statement).values_list("amount", flat=True))
    finance = client_for(world.finance)
    for name in ("statement_approve", "statement_issue"):
        response = finance.post(reverse(f"commissions:{name}", args=[statement.pk]))
        assert response.status_code == 409, name
    body = finance.get(reverse("commissions:statement_detail", args=[statement.pk])).content.decode()
    assert "statement_approve" not in body and ">Approve<" not in body and ">Issue<" not in body
    # Rerunning the month leaves the issued statement alone.
    with operator_scope():
        services.statement_generate(agreement=statement.agreement, period=statement.period, actor=SYSTEM)
        statement.refresh_from_db()
        after = (statement.status, statement.number, statement.total, statement.pdf_sha256)
        lines_after = list(StatementLine.all_objects.filter(statement=statement).values_list("amount", flat=True))
    assert before == after and lines_before == lines_after
    # Its PDF is the stored one, byte for byte.
    pdf = finance.get(reverse("commissions:statement_pdf", args=[statement.pk]))
    with operator_scope():
        statement.refresh_from_db()
        stored = statement.pdf.open("rb").read()
    assert pdf.content == stored


def test_partner_sees_statements_but_cannot_act(world, client_for):
    statement = world.a.objects[Statement]
    partner = client_for(world.partner)
    assert partner.post(reverse("commissions:statement_approve", args=[statement.pk])).status_code == 403
    body = partner.get(reverse("commissions:statement_detail", args=[statement.pk])).content.decode()
    assert ">Approve<" not in body


def test_run_page_starts_a_run_and_the_progress_partial_stops_polling(
    world, client_for, django_capture_on_commit_callbacks
):
    finance = client_for(world.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(reverse("commissions:run_list"), {"period": f"{last_month():%Y-%m}"})
    assert response.status_code == 302
    with operator_scope():
        run = StatementRun.objects.latest("pk")
    assert run.status == StatementRun.Status.DONE and run.percent == 100
    partial = finance.get(reverse("commissions:run_progress", args=[run.pk])).content.decode()
    assert 'aria-valuenow="100"' in partial and "every 1s" not in partial
    with operator_scope():
        running = StatementRun.objects.create(period=last_month(), status=StatementRun.Status.RUNNING, total=4, done=1)
    partial = finance.get(reverse("commissions:run_progress", args=[running.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and 'aria-valuenow="25"' in partial


def test_run_refuses_a_month_that_has_not_ended(world, client_for):
    this_month = datetime.date.today().replace(day=1)
    response = client_for(world.finance).post(reverse("commissions:run_list"), {"period": f"{this_month:%Y-%m}"})
    assert response.status_code == 400


def test_revenue_grid_saves_all_or_nothing(world, client_for):
    attribution = billing_attribution_for(world, world.a)
    b_attribution = billing_attribution_for(world, world.b)
    url = reverse("commissions:revenue_list")
    period = f"{last_month():%Y-%m}"
    finance = client_for(world.finance)
    bad = finance.post(
        url, {"period": period, f"amount-{attribution.pk}": "3100.00", f"amount-{b_attribution.pk}": "-5"}
    )
    assert bad.status_code == 400
    with operator_scope():
        assert RevenueReport.objects.get(attribution=attribution, period=last_month()).amount == Decimal("2000.00")
    good = finance.post(
        url, {"period": period, f"amount-{attribution.pk}": "3100.00", f"amount-{b_attribution.pk}": "2000.00"}
    )
    assert good.status_code == 302
    with operator_scope():
        report = RevenueReport.objects.get(attribution=attribution, period=last_month())
    assert report.amount == Decimal("3100.00") and report.revision == 2


def test_tier_create_and_edit(world, client_for):
    client = client_for(world.partner)
    response = client.post(
        reverse("commissions:tier_list"),
        {"new-name": "Growth", "new-monthly_fee_usd": "8000", "new-monthly_fee_cad": "10900", "new-active": "on"},
    )
    assert response.status_code == 302
    tier = RetainerTier.objects.get(name="Growth")
    response = client.post(
        reverse("commissions:tier_edit", args=[tier.pk]),
        {"name": "Growth", "monthly_fee_usd": "8500", "monthly_fee_cad": "11500", "description": "Desk + events"},
    )
    assert response.status_code == 302
    tier.refresh_from_db()
    assert tier.monthly_fee_usd == Decimal("8500.00") and not tier.active


def test_new_terms_version_from_the_agreement_page(world, client_for):
    agreement = agreement_for(world, world.a)
    next_month = (datetime.date.today().replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    response = client_for(world.finance).post(
        reverse("commissions:agreement_terms_add", args=[agreement.pk]),
        {
            "effective_month": f"{next_month:%Y-%m}",
            "monthly_amount": "6000",
            "rates": "12, 8, 4",
            "tail_months": "12",
            "equity_kind": "convertible",
            "equity_share": "40",
            "principal": "100000",
            "valuation_cap": "12000000",
            "discount": "20",
            "note": "Renewal",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with operator_scope():
        terms = agreement.versions.order_by("-effective_month").first()
        rates = [s.rate for s in terms.steps.order_by("year")]
    assert terms.effective_month == next_month and terms.equity_share == Decimal("0.4")
    assert rates == [Decimal("0.12"), Decimal("0.08"), Decimal("0.04")] and terms.discount == Decimal("0.2")
    # A change made later starts from this version, in the numbers finance typed (not "4E+1").
    with operator_scope():
        form = TermsForm(initial=TermsForm.initial_from(terms))
    html = "".join(str(form[name]) for name in ("rates", "equity_share", "discount"))
    assert 'value="12, 8, 4"' in html and 'value="40"' in html and 'value="20"' in html and "E+" not in html
    bad = client_for(world.finance).post(
        reverse("commissions:agreement_terms_add", args=[agreement.pk]),
        {"effective_month": "2026-13", "rates": "abc", "tail_months": "0", "equity_kind": "none"},
    )
    assert bad.status_code == 400


def test_zip_and_csv_downloads(world, client_for):
    statement = issue(world, world.a.objects[Statement])
    with operator_scope():
        StatementLine.all_objects.filter(statement=world.b.objects[Statement]).update(description="=HYPERLINK(1)")
    finance = client_for(world.finance)
    period = f"{last_month():%Y-%m}"
    archive = finance.get(reverse("commissions:statement_zip") + f"?period={period}")
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert any(n.startswith(statement.number) for n in names) and len(names) == 2
    response = finance.get(reverse("commissions:statement_lines_csv") + f"?period={period}")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["statement", "status", "vendor"]
    descriptions = [r[6] for r in rows[1:]]
    assert "'=HYPERLINK(1)" in descriptions and "=HYPERLINK(1)" not in descriptions
    assert statement.number in [r[0] for r in rows[1:]]


def _more_agreements(world, n: int) -> None:
    """Add ``n`` vendors with an agreement, an attributed account, revenue and a draft statement."""
    from engagements.models import Attribution, Engagement
    from tests.factories import OrganisationFactory
    from tmw.accounts.models import Organisation

    with operator_scope():
        for i in range(n):
            vendor = OrganisationFactory(name=f"Bulk Vendor {i}")
            msp = OrganisationFactory(kind=Organisation.Kind.MSP, name=f"Bulk MSP {i}")
            engagement = Engagement.all_objects.create(
                vendor=vendor,
                option="A",
                status="active",
                lead_partner=world.partner,
                start_date=datetime.date.today() - datetime.timedelta(days=120),
            )
            agreement = services.agreement_create(
                engagement=engagement,
                currency="USD" if i % 2 else "CAD",
                effective_month=engagement.start_date.replace(day=1),
                actor=world.finance,
                monthly_amount=Decimal("4000"),
                rates=[Decimal("0.15"), Decimal("0.10")],
                tail_months=3,
            )
            attribution = Attribution.all_objects.create(
                engagement=engagement, vendor=vendor, msp=msp, starts_on=engagement.start_date, reason="bulk"
            )
            services.revenue_report_record(
                attribution=attribution,
                period=last_month(),
                amount=Decimal("1000"),
                currency=agreement.currency,
                source="finance",
                actor=world.finance,
            )
            statement = services.statement_generate(agreement=agreement, period=last_month(), actor=SYSTEM)
            if i % 2:
                statement = services.statement_approve(statement=statement, actor=world.finance)


@pytest.mark.parametrize(
    "page",
    ["agreement_list", "statement_list", "revenue_list", "run_detail"],
)
def test_pages_keep_a_constant_number_of_queries(world, client_for, page, without_page_cache):
    client = client_for(world.finance)
    with operator_scope():
        run = StatementRun.objects.create(period=last_month(), status=StatementRun.Status.DONE, total=1, done=1)
    url = reverse(f"commissions:{page}", args=[run.pk] if page == "run_detail" else [])
    if page == "statement_list":
        url += f"?period={last_month():%Y-%m}"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up (sessions, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _more_agreements(world, 6)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries), page


def test_portal_keeps_a_constant_number_of_queries(world, client_for, without_page_cache):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.a.vendor_admin)
    url = reverse("commissions:portal_statements")
    issue(world, statement_for(world, world.a))
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    with operator_scope():
        agreement = agreement_for(world, world.a)
        for months_back in (2, 3):
            period = last_month()
            for _ in range(months_back - 1):
                period = (period - datetime.timedelta(days=1)).replace(day=1)
            statement = services.statement_generate(agreement=agreement, period=period, actor=SYSTEM)
            issue(world, statement)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_agreement_set_up_for_an_engagement_without_one(world, client_for):
    from engagements.models import Engagement
    from tests.factories import OrganisationFactory

    with operator_scope():
        vendor = OrganisationFactory(name="Newcomer Vendor")
        engagement = Engagement.all_objects.create(
            vendor=vendor, option="A", status="active", lead_partner=world.partner, start_date=datetime.date(2026, 3, 9)
        )
    url = reverse("commissions:agreement_create", args=[engagement.pk])
    assert "Newcomer Vendor" in client_for(world.finance).get(reverse("commissions:agreement_list")).content.decode()
    for user, expected in ((world.a.vendor_admin, 403), (world.a.msp_member, 403), (world.partner, 200)):
        assert client_for(user).get(url).status_code == expected
    response = client_for(world.finance).post(
        url,
        {
            "currency": "CAD",
            "effective_month": "2026-03",
            "monthly_amount": "12000",
            "rates": "15, 10, 5",
            "tail_months": "6",
            "equity_kind": "stake",
            "equity_share": "25",
            "stake_percent": "2.5",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with operator_scope():
        agreement = Agreement.objects.get(engagement=engagement)
        terms = agreement.versions.get()
    assert agreement.currency == "CAD" and terms.equity_share == Decimal("0.25")
    # A second agreement for the same engagement is not offered.
    assert client_for(world.finance).get(url).status_code == 404


def test_agreement_forecast_from_current_mrr(world):
    """Side A: one account attributed at the engagement start, MRR 2,000.00, schedule 15/10/5 %, 6-month tail."""
    from commissions.forecast import add_months, months_between
    from commissions.views import agreement_forecast, current_terms

    agreement = agreement_for(world, world.a)
    attribution = billing_attribution_for(world, world.a)
    today = datetime.date.today()
    with operator_scope():
        terms = current_terms(agreement.versions.prefetch_related("steps"))
        result = agreement_forecast(agreement, terms, today=today)
    first = add_months(today.replace(day=1), 1)
    year_one_left = max(0, 12 - months_between(attribution.starts_on, first))  # months still at 15 %
    assert result["total"] == Decimal("300.00") * year_one_left + Decimal("200.00") * (12 - year_one_left)
    assert [m.total for m in result["tail"].months] == [m.total for m in result["months"][:6]]
    assert result["chart"]["labels"][0] == f"{first:%b %Y}"
