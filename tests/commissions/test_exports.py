"""Accounting exports: QuickBooks Online and Xero files and the equity journal add up to the issued statements."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from commissions import exports, services
from commissions.models import AccountingSettings, Statement
from tests.commissions.money import D, agreement, attribute, engagement, fake_pdf, report
from tmw.accounts.models import AuditEvent
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError
from tmw.months import first_of_month, format_month, previous_month

pytestmark = pytest.mark.usefixtures("_fake_renderer")


@pytest.fixture
def _fake_renderer(monkeypatch):
    monkeypatch.setattr(services.statements, "_render_pdf", fake_pdf)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def total(rows_: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows_ if r[column]), Decimal("0.00"))


def issue(world, statement: Statement) -> Statement:
    statement = services.statement_approve(statement=statement, actor=world.finance)
    return services.statement_issue(statement=statement, actor=world.finance)


@pytest.fixture
def month_of_issues(world):
    """This month: an HST statement with equity and revenue share (issued), a voided one with its credit note,
    a plain USD statement (issued) and a draft that is never exported."""
    period = previous_month()
    with operator_scope():
        start = first_of_month(period) - datetime.timedelta(days=40)
        taxed = agreement(
            engagement(world.a.vendor, world.partner, start=start),
            world.finance,
            currency="CAD",
            monthly_amount=D("1000.00"),
            equity_share=D("0.40"),
            equity_kind="convertible",
            principal=D("5000.00"),
            tax_kind="hst13",
            tax_registration="81234 5678 RT0001",
        )
        account = attribute(taxed.engagement, world.partner, starts_on=start, name="=Formula MSP")
        report(account, period, "333.30", world.finance, currency="CAD")  # × 15 % = 49.995 -> 50.00
        voided = agreement(
            engagement(world.b.vendor, world.partner, start=start), world.finance, tax_kind="gst", currency="CAD"
        )
        plain = agreement(engagement(world.a.vendor, world.partner, start=start), world.finance)
        draft = agreement(engagement(world.b.vendor, world.partner, start=start), world.finance)
        first = issue(world, services.statement_generate(agreement=taxed, period=period, actor=SYSTEM))
        to_void = issue(world, services.statement_generate(agreement=voided, period=period, actor=SYSTEM))
        credit = services.statement_void(statement=to_void, reason="Wrong month", actor=world.finance)
        usd = issue(world, services.statement_generate(agreement=plain, period=period, actor=SYSTEM))
        services.statement_generate(agreement=draft, period=period, actor=SYSTEM)
        to_void.refresh_from_db()
    return SimpleNamespace(
        period=timezone.localdate(), statement=first, voided=to_void, credit=credit, usd=usd, statements_period=period
    )


def test_hand_computed_statement_behind_the_files(month_of_issues):
    s = month_of_issues.statement
    with operator_scope():
        amounts = [(line.kind, line.amount) for line in s.lines.order_by("order", "pk")]
    # 1,000 retainer: 600 cash + 400 equity; revenue share 50.00; HST 13 % of 650.00 = 84.50
    assert amounts == [
        ("retainer_cash", D("600.00")),
        ("equity_accrual", D("400.00")),
        ("revenue_share", D("50.00")),
        ("tax", D("84.50")),
    ]
    assert (s.total, s.equity_total, s.cash_total) == (D("1134.50"), D("400.00"), D("734.50"))


def test_every_file_reads_back_and_adds_up_to_the_statements(month_of_issues, world):
    m = month_of_issues
    with operator_scope():
        issued = exports.issued_in(m.period)
        settings = AccountingSettings.current()
        assert {s.pk for s in issued} == {m.statement.pk, m.voided.pk, m.credit.pk, m.usd.pk}
        invoices = rows(exports.qbo_invoices(issued, settings))
        memos = rows(exports.qbo_credit_memos(issued, settings))
        xero = rows(exports.xero_invoices(issued, settings))
        journal = rows(exports.equity_journal(issued, settings))

    statements = [m.statement, m.voided, m.usd]
    assert list(invoices[0]) == exports.QBO_INVOICE_COLUMNS
    assert total(invoices, "ItemAmount") == sum(s.cash_total for s in statements)
    for s in statements:
        own = [r for r in invoices if r["InvoiceNo"] == s.number]
        assert total(own, "ItemAmount") == s.cash_total
        assert all(r["ItemQuantity"] == "1" and r["ItemRate"] == r["ItemAmount"] for r in own)
        assert {r["DueDate"] for r in own} == {(timezone.localdate(s.issued_at) + datetime.timedelta(30)).isoformat()}
        assert {r["Terms"] for r in own} == {"Net 30"}
    hst = [r for r in invoices if r["InvoiceNo"] == m.statement.number]
    assert [(r["Item(Product/Service)"], r["ItemAmount"]) for r in hst] == [
        ("Retainer", "600.00"),
        ("Revenue share", "50.00"),
        ("Sales tax", "84.50"),
    ]
    assert "registration no. 81234 5678 RT0001" in hst[2]["ItemDescription"]
    assert {r["Currency"] for r in hst} == {"CAD"} and {r["ItemTaxCode"] for r in hst} == {"Out of Scope"}

    assert list(memos[0]) == exports.QBO_CREDIT_MEMO_COLUMNS
    assert {r["CreditMemoNo"] for r in memos} == {m.credit.number}
    assert total(memos, "ItemAmount") == -m.credit.cash_total == m.voided.cash_total
    assert all(Decimal(r["ItemAmount"]) > 0 for r in memos)

    assert list(xero[0]) == exports.XERO_COLUMNS
    everything = [*statements, m.credit]
    assert total(xero, "UnitAmount") == sum(s.cash_total for s in everything)
    credit_rows = [r for r in xero if r["InvoiceNumber"] == m.credit.number]
    assert credit_rows and all(Decimal(r["UnitAmount"]) < 0 for r in credit_rows)
    assert {r["Reference"] for r in credit_rows} == {m.voided.number}
    assert total(credit_rows, "UnitAmount") == m.credit.cash_total
    codes = {(r["InvoiceNumber"], r["Description"][:7]): r["AccountCode"] for r in xero}
    assert codes[(m.statement.number, "Monthly")] == "4000"
    assert {r["AccountCode"] for r in xero if r["Description"].startswith(("HST", "GST", "Credit: GST"))} == {"2200"}

    assert list(journal[0]) == exports.JOURNAL_COLUMNS
    assert total(journal, "debit") == total(journal, "credit") == D("400.00")
    assert [(r["account"], r["debit"], r["credit"], r["reference"]) for r in journal] == [
        ("1500", "400.00", "", m.statement.number),
        ("4010", "", "400.00", m.statement.number),
    ]
    # The formula-looking account name is neutralised, never written as a formula.
    assert {r["ItemDescription"] for r in hst if r["Item(Product/Service)"] == "Revenue share"} == {
        "'=Formula MSP: revenue share, account year 1 at 15 %"
    }


def test_a_credit_note_reverses_the_equity_in_the_journal(world):
    with operator_scope():
        start = first_of_month(previous_month())
        agr = agreement(
            engagement(world.a.vendor, world.partner, start=start),
            world.finance,
            equity_share=D("0.25"),
            equity_kind="stake",
            stake_percent=D("2"),
        )
        statement = issue(world, services.statement_generate(agreement=agr, period=start, actor=SYSTEM))
        credit = services.statement_void(statement=statement, reason="Duplicate", actor=world.finance)
        journal = rows(exports.equity_journal(exports.issued_in(timezone.localdate()), AccountingSettings.current()))
    mine = [r for r in journal if r["reference"] in (statement.number, credit.number)]
    asset = sum(Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0) for r in mine if r["account"] == "1500")
    assert asset == statement.equity_total + credit.equity_total == 0
    reversal = [r for r in mine if r["reference"] == credit.number]
    assert [(r["account"], r["debit"], r["credit"]) for r in reversal] == [
        ("4010", "1500.00", ""),
        ("1500", "", "1500.00"),
    ]
    assert reversal[0]["description"].startswith("Reversal: ")


def test_only_the_month_of_issue_counts(month_of_issues):
    with operator_scope():
        assert exports.issued_in(previous_month(month_of_issues.period)) == []
        assert not [s for s in exports.issued_in(month_of_issues.period) if s.status == Statement.Status.DRAFT]


def test_due_date_of_reads_the_statement_due_date_when_there_is_one():
    issued = timezone.make_aware(datetime.datetime(2026, 3, 31, 12, 0))
    without = SimpleNamespace(issued_at=issued)
    assert exports.due_date_of(without) == datetime.date(2026, 4, 30)
    with_due = SimpleNamespace(issued_at=issued, due_date=datetime.date(2026, 4, 15))
    assert exports.due_date_of(with_due) == datetime.date(2026, 4, 15)
    assert exports.due_date_of(SimpleNamespace(issued_at=issued, due_date=None)) == datetime.date(2026, 4, 30)


def test_the_files_download_from_the_finance_page(month_of_issues, world, client_for):
    finance = client_for(world.finance)
    month = format_month(month_of_issues.period)
    page = finance.get(reverse("commissions:accounting_exports") + f"?period={month}")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("qbo_invoices", "qbo_credit_memos", "xero_invoices", "equity_journal"):
        url = reverse(f"commissions:accounting_{name}")
        assert f"{url}?period={month}" in html
        response = finance.get(url, {"period": month})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].endswith(f'-{month}.csv"')
    xero = rows(finance.get(reverse("commissions:accounting_xero_invoices"), {"period": month}).content.decode())
    assert len({r["InvoiceNumber"] for r in xero}) == 4
    assert finance.get(reverse("commissions:accounting_qbo_invoices"), {"period": "2026-13"}).status_code == 400
    assert finance.get(reverse("commissions:accounting_exports"), {"period": "soon"}).status_code == 400
    statements = finance.get(reverse("commissions:statement_list")).content.decode()
    assert reverse("commissions:accounting_exports") in statements
    for user in (world.partner, world.a.vendor_admin, world.a.msp_member):
        assert client_for(user).get(reverse("commissions:accounting_qbo_invoices")).status_code in (403, 404)


def test_the_files_download_from_the_api_and_the_schema_documents_them(month_of_issues, world):
    api = APIClient()
    api.force_authenticate(world.finance)
    month = format_month(month_of_issues.period)
    listing = api.get("/api/v1/accounting-exports/", {"period": month})
    assert listing.status_code == 200
    body = listing.json()
    cad = next(t for t in body["totals"] if t["currency"] == "CAD")
    m = month_of_issues
    assert Decimal(cad["net"]) == m.statement.cash_total + m.voided.cash_total + m.credit.cash_total
    assert Decimal(cad["tax"]) == D("84.50")
    assert Decimal(cad["equity"]) == D("400.00")
    assert {f["key"] for f in body["files"]} == set(exports.EXPORTS)
    for path in ("qbo-invoices", "qbo-credit-memos", "xero-sales-invoices", "equity-journal"):
        response = api.get(f"/api/v1/accounting-exports/{path}/", {"period": month})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), path
    invoices = rows(api.get("/api/v1/accounting-exports/qbo-invoices/", {"period": month}).content.decode())
    assert total(invoices, "ItemAmount") == m.statement.cash_total + m.voided.cash_total + m.usd.cash_total
    bad = api.get("/api/v1/accounting-exports/xero-sales-invoices/", {"period": "2026-1x"})
    assert bad.status_code == 400 and "period" in bad.json()["extra"]
    vendor = APIClient()
    vendor.force_authenticate(world.a.vendor_admin)
    assert vendor.get("/api/v1/accounting-exports/qbo-invoices/").status_code == 403
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/accounting-exports/",
        "/api/v1/accounting-exports/qbo-invoices/",
        "/api/v1/accounting-exports/qbo-credit-memos/",
        "/api/v1/accounting-exports/xero-sales-invoices/",
        "/api/v1/accounting-exports/equity-journal/",
        "/api/v1/accounting-settings/",
    ):
        assert path in schema["paths"], path
    answers = schema["paths"]["/api/v1/accounting-exports/qbo-invoices/"]["get"]["responses"]
    assert "text/csv" in answers["200"]["content"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("retainer_account", "40 00"), ("tax_account", ""), ("equity_asset_account", "  "), ("xero_tax_type", "")],
)
def test_bad_settings_name_the_field_and_write_nothing(world, field, value):
    with operator_scope():
        with pytest.raises(ApplicationError) as caught:
            services.accounting_settings_save(actor=world.finance, revenue_share_account="4555", **{field: value})
        assert field in caught.value.extra
        assert not AccountingSettings.objects.exists()
        with pytest.raises(ApplicationError):
            services.accounting_settings_save(actor=world.partner, revenue_share_account="4555")


def test_finance_sets_the_accounts_on_the_page_and_the_exports_use_them(month_of_issues, world, client_for):
    finance = client_for(world.finance)
    url = reverse("commissions:accounting_settings")
    form = {
        "retainer_account": "4001",
        "revenue_share_account": "4101",
        "tail_account": "4111",
        "adjustment_account": "4121",
        "tax_account": "2201",
        "equity_asset_account": "1501",
        "equity_income_account": "4011",
        "qbo_tax_code": "Exempt",
        "xero_tax_type": "Tax Exempt (0%)",
    }
    refused = finance.post(url, {**form, "tax_account": "22 01"})
    assert refused.status_code == 400 and "An account code has no spaces." in refused.content.decode()
    with operator_scope():
        assert not AccountingSettings.objects.exists()
    assert finance.post(url, form).status_code in (200, 302)
    with operator_scope():
        assert AccountingSettings.current().tax_account == "2201"
        assert AuditEvent.objects.filter(verb="accounting.settings_saved").count() == 1
    month = format_month(month_of_issues.period)
    xero = rows(finance.get(reverse("commissions:accounting_xero_invoices"), {"period": month}).content.decode())
    assert {r["TaxType"] for r in xero} == {"Tax Exempt (0%)"}
    assert "2201" in {r["AccountCode"] for r in xero}
    assert client_for(world.partner).post(url, form).status_code == 403


def test_the_settings_api(world):
    api = APIClient()
    api.force_authenticate(world.finance)
    assert api.get("/api/v1/accounting-settings/").json()["tax_account"] == "2200"
    refused = api.post("/api/v1/accounting-settings/", {"tail_account": "41 10"}, format="json")
    assert refused.status_code == 400 and "tail_account" in refused.json()["extra"]
    saved = api.post("/api/v1/accounting-settings/", {"tail_account": "4199"}, format="json")
    assert saved.status_code == 200 and saved.json()["tail_account"] == "4199"
    partner = APIClient()
    partner.force_authenticate(world.partner)
    assert partner.post("/api/v1/accounting-settings/", {"tail_account": "1"}, format="json").status_code == 403
