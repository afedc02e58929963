"""Accounting exports of a month: QuickBooks Online invoices and credit memos, Xero sales invoices, the equity journal.

What goes in: the statements and credit notes **issued** in the month (by their issue date in
TMW's time zone), whatever their status since (paid, or void: a voided statement was issued,
and its credit note is exported in the month it was issued). Drafts and approved statements
never. Every amount is the statement's own, to the cent, so the files add up to the statements:

- **QuickBooks Online invoices** (``qbo_invoices``): one row per cash line of each statement,
  in the columns of QuickBooks' invoice import. The tax line is its own row, item *Sales tax*:
  the tax is computed once per statement, so QuickBooks must not compute it again per line,
  and every row carries the tax code set on the settings page (default ``Out of Scope``).
- **QuickBooks Online credit memos** (``qbo_credit_memos``): QuickBooks imports credit memos
  separately from invoices, so credit notes go in their own file, same columns with
  ``CreditMemoNo``/``CreditMemoDate``, amounts positive (a credit memo is a credit by kind).
- **Xero sales invoices** (``xero_invoices``): one row per cash line, with the account code of
  the line's kind; a credit note's rows are negative, which Xero's invoice import takes as a
  credit note. The tax line is coded to the sales-tax account, every row to the tax type set
  on the settings page (default ``Tax Exempt``).
- **Equity journal** (``equity_journal``): the retainer taken as equity is not cash and is on
  no invoice; each statement with an accrual gives a debit to the equity-investments account
  and a credit to the equity-income account (a credit note the reverse).

Every text cell goes through ``tmw.web.csv_cell`` (no cell starts a formula); amounts and dates
are written by this module from ``Decimal`` and ``date`` values.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from commissions.models import AccountingSettings, Statement, StatementLine
from tmw.months import add_months, first_of_month, format_month, month_label
from tmw.web import csv_cell

__all__ = [
    "EXPORTS",
    "ExportLine",
    "Summary",
    "due_date_of",
    "equity_journal",
    "export_lines",
    "issued_in",
    "qbo_credit_memos",
    "qbo_invoices",
    "summary_of",
    "xero_invoices",
]

PAYMENT_TERMS_DAYS = 30
ZERO = Decimal("0.00")
Kind = StatementLine.Kind

QBO_INVOICE_COLUMNS = [
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "Currency",
]
QBO_CREDIT_MEMO_COLUMNS = [
    "CreditMemoNo",
    "Customer",
    "CreditMemoDate",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "Currency",
]
XERO_COLUMNS = [
    "ContactName",
    "InvoiceNumber",
    "Reference",
    "InvoiceDate",
    "DueDate",
    "Description",
    "Quantity",
    "UnitAmount",
    "AccountCode",
    "TaxType",
    "Currency",
]
JOURNAL_COLUMNS = ["date", "account", "debit", "credit", "description", "reference"]

# The QuickBooks product (or service) of each line kind; each product carries its income account in QuickBooks.
PRODUCTS: dict[str, str] = {
    Kind.RETAINER_CASH: "Retainer",
    Kind.REVENUE_SHARE: "Revenue share",
    Kind.TAIL: "Post-termination tail",
    Kind.ADJUSTMENT: "Adjustment",
    Kind.CREDIT: "Adjustment",
    Kind.TAX: "Sales tax",
    Kind.EQUITY_ACCRUAL: "Retainer taken as equity",
}


def due_date_of(statement: Statement) -> datetime.date:
    """The statement's due date: its own ``due_date`` where statements have one, else issue date + 30 days."""
    due = getattr(statement, "due_date", None)
    if isinstance(due, datetime.date):
        return due
    return issue_date_of(statement) + datetime.timedelta(days=PAYMENT_TERMS_DAYS)


def issue_date_of(statement: Statement) -> datetime.date:
    """The day the statement was issued, in TMW's time zone."""
    assert statement.issued_at is not None  # only issued statements are exported
    return timezone.localdate(statement.issued_at, timezone.get_default_timezone())


def _bounds(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_default_timezone()
    start = first_of_month(period)
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=zone),
        datetime.datetime.combine(add_months(start, 1), datetime.time.min, tzinfo=zone),
    )


def issued_in(period: datetime.date) -> list[Statement]:
    """The statements and credit notes issued in ``period``'s month, with their lines (and a credit note's
    original lines), in issue order: three queries."""
    start, end = _bounds(period)
    ordered = StatementLine.objects.order_by("order", "pk")
    return list(
        Statement.objects.filter(number__isnull=False, issued_at__gte=start, issued_at__lt=end)
        .select_related("vendor", "credit_note_for")
        .prefetch_related(Prefetch("lines", queryset=ordered), Prefetch("credit_note_for__lines", queryset=ordered))
        .order_by("issued_at", "number")
    )


@dataclass(frozen=True)
class ExportLine:
    """One line of an issued statement as the exports see it: the kind it bills (a credit line the kind it credits)."""

    statement: Statement
    kind: str
    description: str
    amount: Decimal


def export_lines(statement: Statement) -> list[ExportLine]:
    """Every line of a statement; a credit note's lines take the kind of the line each one negates."""
    lines = list(statement.lines.all())
    kinds = [line.kind for line in lines]
    original = statement.credit_note_for
    if original is not None:
        credited = [line.kind for line in original.lines.all()]
        if len(credited) == len(lines):  # the credit note negates every line in order
            kinds = [k if line.kind == Kind.CREDIT else line.kind for k, line in zip(credited, lines, strict=True)]
        else:
            kinds = [Kind.ADJUSTMENT if line.kind == Kind.CREDIT else line.kind for line in lines]
    return [
        ExportLine(statement=statement, kind=kind, description=line.description, amount=line.amount)
        for kind, line in zip(kinds, lines, strict=True)
    ]


def _cash_lines(statement: Statement) -> list[ExportLine]:
    """The lines on the invoice: everything but the retainer taken as equity (zero lines left out)."""
    return [line for line in export_lines(statement) if line.kind != Kind.EQUITY_ACCRUAL and line.amount]


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _cell(value: object) -> str:
    """A CSV cell: text through the formula-safe helper; amounts, dates and counts as this module writes them."""
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return csv_cell(value)


def _csv(columns: list[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _terms_label(statement: Statement) -> str:
    return f"Net {(due_date_of(statement) - issue_date_of(statement)).days}"


def _memo(statement: Statement) -> str:
    memo = f"{month_label(statement.period)} statement"
    if statement.credit_note_for is not None:
        memo = f"Credits {statement.credit_note_for.number} ({month_label(statement.period)})"
    return memo


def qbo_invoices(statements: list[Statement], settings: AccountingSettings) -> str:
    """QuickBooks Online invoice import: the issued statements (not credit notes), one row per cash line."""
    rows = []
    for statement in statements:
        if statement.is_credit_note:
            continue
        for line in _cash_lines(statement):
            rows.append(
                [
                    statement.number,
                    statement.vendor.name,
                    issue_date_of(statement),
                    due_date_of(statement),
                    _terms_label(statement),
                    _memo(statement),
                    PRODUCTS[line.kind],
                    line.description,
                    1,
                    line.amount,
                    line.amount,
                    settings.qbo_tax_code,
                    statement.currency,
                ]
            )
    return _csv(QBO_INVOICE_COLUMNS, rows)


def qbo_credit_memos(statements: list[Statement], settings: AccountingSettings) -> str:
    """QuickBooks Online credit memo import: the credit notes, amounts positive (a credit memo credits by kind)."""
    rows = []
    for statement in statements:
        if not statement.is_credit_note:
            continue
        for line in _cash_lines(statement):
            rows.append(
                [
                    statement.number,
                    statement.vendor.name,
                    issue_date_of(statement),
                    _memo(statement),
                    PRODUCTS[line.kind],
                    line.description,
                    1,
                    -line.amount,
                    -line.amount,
                    settings.qbo_tax_code,
                    statement.currency,
                ]
            )
    return _csv(QBO_CREDIT_MEMO_COLUMNS, rows)


def xero_invoices(statements: list[Statement], settings: AccountingSettings) -> str:
    """Xero sales invoice import: statements and credit notes, one row per cash line; credit notes negative."""
    rows = []
    for statement in statements:
        reference = statement.credit_note_for.number if statement.credit_note_for is not None else _memo(statement)
        for line in _cash_lines(statement):
            rows.append(
                [
                    statement.vendor.name,
                    statement.number,
                    reference,
                    issue_date_of(statement),
                    due_date_of(statement),
                    line.description,
                    1,
                    line.amount,
                    settings.account_for(line.kind),
                    settings.xero_tax_type,
                    statement.currency,
                ]
            )
    return _csv(XERO_COLUMNS, rows)


def equity_journal(statements: list[Statement], settings: AccountingSettings) -> str:
    """The equity accrued in the month as a journal: debit equity investments, credit equity income (reversed
    for a credit note); one pair of rows per statement with an accrual."""
    rows = []
    for statement in statements:
        amount = statement.equity_total
        if not amount:
            continue
        day = issue_date_of(statement)
        what = f"Retainer taken as equity, {statement.vendor.name}, {month_label(statement.period)}"
        if statement.is_credit_note:
            what = f"Reversal: {what}"
        debit, credit = (
            (settings.equity_asset_account, settings.equity_income_account)
            if amount > 0
            else (settings.equity_income_account, settings.equity_asset_account)
        )
        size = abs(amount)
        rows.append([day, debit, size, "", f"{what} ({statement.currency})", statement.number])
        rows.append([day, credit, "", size, f"{what} ({statement.currency})", statement.number])
    return _csv(JOURNAL_COLUMNS, rows)


@dataclass(frozen=True)
class ExportFile:
    """One downloadable export: its name in URLs, its title, its file name and how it is written."""

    key: str
    title: str
    slug: str
    write: Callable[[list[Statement], AccountingSettings], str]

    def filename(self, period: datetime.date) -> str:
        return f"{self.slug}-{format_month(period)}.csv"


EXPORTS: dict[str, ExportFile] = {
    f.key: f
    for f in (
        ExportFile("qbo_invoices", "QuickBooks Online invoices", "qbo-invoices", qbo_invoices),
        ExportFile("qbo_credit_memos", "QuickBooks Online credit memos", "qbo-credit-memos", qbo_credit_memos),
        ExportFile("xero_invoices", "Xero sales invoices and credit notes", "xero-sales-invoices", xero_invoices),
        ExportFile("equity_journal", "Equity accrual journal", "equity-journal", equity_journal),
    )
}


def export_file(key: str, period: datetime.date) -> tuple[str, str]:
    """``(filename, CSV text)`` of one export for the month."""
    found = EXPORTS[key]
    return found.filename(period), found.write(issued_in(period), AccountingSettings.current())


@dataclass
class Summary:
    """What a month's exports hold, per currency: counts and totals as the statements say them."""

    currency: str
    statements: int = 0
    credit_notes: int = 0
    invoiced: Decimal = ZERO  # cash due of the statements, tax included
    credited: Decimal = ZERO  # cash of the credit notes (negative)
    tax: Decimal = ZERO  # the tax lines, credit notes included
    equity: Decimal = ZERO  # equity accrued, credit notes included

    @property
    def net(self) -> Decimal:
        return self.invoiced + self.credited


def summary_of(statements: list[Statement]) -> list[Summary]:
    """Per currency, what the month's files add up to (read from the statements, not from the files)."""
    found: dict[str, Summary] = {}
    for statement in statements:
        row = found.setdefault(statement.currency, Summary(currency=statement.currency))
        if statement.is_credit_note:
            row.credit_notes += 1
            row.credited += statement.cash_total
        else:
            row.statements += 1
            row.invoiced += statement.cash_total
        row.tax += sum((line.amount for line in statement.lines.all() if line.kind == Kind.TAX), ZERO)
        row.equity += statement.equity_total
    return [found[c] for c in sorted(found)]
