"""The statement PDF: what a finance team sends, rendered offline through ``tmw.pdf.render_pdf``.

Issued statements are rendered once by ``statement_issue`` and stored; drafts and approved
statements are rendered on the fly with a DRAFT watermark. TMW's own details (address, tax
number, bank accounts per currency) come from the ``TMW_ISSUER`` and ``TMW_REMITTANCE``
settings when they are set, else from the defaults below.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from decimal import Decimal

from django.conf import settings
from django.utils.text import slugify

from tmw.months import format_month, month_label
from tmw.pdf import render_pdf

from . import selectors
from .models import AgreementTerms, Statement, StatementLine

TEMPLATE = "commissions/pdf/statement.html"
PAYMENT_TERMS_DAYS = 30

DEFAULT_ISSUER = {
    "name": "The MSP Works",
    "legal_name": "The MSP Works Inc.",
    "address": ["100 King Street West, Suite 5600", "Toronto, ON M5X 1C9", "Canada"],
    "email": "finance@themspworks.com",
    "tax_id": "GST/HST 81234 5678 RT0001",
}
DEFAULT_REMITTANCE = {
    "USD": {
        "account_name": "The MSP Works Inc.",
        "bank": "JPMorgan Chase Bank, N.A., New York, NY",
        "rows": [("ABA routing (ACH / wire)", "021000021"), ("Account", "000123456789"), ("SWIFT", "CHASUS33")],
    },
    "CAD": {
        "account_name": "The MSP Works Inc.",
        "bank": "Royal Bank of Canada, Toronto, ON",
        "rows": [("Institution / transit", "003 / 00002"), ("Account", "1234567"), ("SWIFT", "ROYCCAT2")],
    },
}

KIND_ORDER = [
    StatementLine.Kind.RETAINER_CASH,
    StatementLine.Kind.EQUITY_ACCRUAL,
    StatementLine.Kind.REVENUE_SHARE,
    StatementLine.Kind.TAIL,
    StatementLine.Kind.ADJUSTMENT,
    StatementLine.Kind.CREDIT,
    StatementLine.Kind.TAX,
]
DETAILED_KINDS = {StatementLine.Kind.REVENUE_SHARE, StatementLine.Kind.TAIL, StatementLine.Kind.ADJUSTMENT}
GROUP_LABELS: dict[str, str] = {
    StatementLine.Kind.RETAINER_CASH: "Retainer",
    StatementLine.Kind.EQUITY_ACCRUAL: "Retainer taken as equity",
    StatementLine.Kind.REVENUE_SHARE: "Revenue share",
    StatementLine.Kind.TAIL: "Post-termination tail",
    StatementLine.Kind.ADJUSTMENT: "Adjustments to earlier periods",
    StatementLine.Kind.CREDIT: "Credit",
    StatementLine.Kind.TAX: "Sales tax",
}


def money(value: Decimal | None) -> str:
    """``1234.5`` as ``1,234.50``; negative amounts keep their sign."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}"


def percent(rate: Decimal | None) -> str:
    """A fraction as a percentage without trailing zeros: ``0.15`` → ``15%``, ``0.125`` → ``12.5%``."""
    if rate is None:
        return ""
    value = (Decimal(rate) * 100).quantize(Decimal("0.01")).normalize()
    return f"{value:f}%"


def due_date(statement: Statement) -> datetime.date | None:
    """The statement's due date (set at issue from its payment terms); net 30 from the issue date before it had one."""
    if statement.issued_at is None:
        return None
    if statement.due_on is not None:
        return statement.due_on
    return statement.issued_at.date() + datetime.timedelta(days=PAYMENT_TERMS_DAYS)


def grouped_lines(lines) -> list[dict]:
    """Lines grouped by kind, in statement order, each group with its subtotal."""
    groups: OrderedDict[str, list] = OrderedDict((k, []) for k in KIND_ORDER)
    for line in lines:
        groups.setdefault(line.kind, []).append(line)
    result = []
    for kind, items in groups.items():
        if not items:
            continue
        result.append(
            {
                "kind": kind,
                "label": GROUP_LABELS.get(kind, kind),
                "lines": items,
                "subtotal": sum((i.amount for i in items), Decimal("0.00")),
                "detailed": kind in DETAILED_KINDS,
                "corrects": kind in (StatementLine.Kind.ADJUSTMENT, StatementLine.Kind.CREDIT),
            }
        )
    return result


def equity_to_date(statement: Statement) -> Decimal:
    """Equity accrued by the agreement up to and including this statement's month (issued statements)."""
    before = selectors.equity_accrued(agreement=statement.agreement, through=statement.period, excluding=statement)
    return before + (statement.equity_total or Decimal("0.00"))


def equity_note(statement: Statement, terms: AgreementTerms | None) -> dict | None:
    """The equity note, or None when the agreement has no equity layer this month."""
    if terms is None or terms.equity_kind == AgreementTerms.EquityKind.NONE:
        return None
    currency = statement.currency
    accrued_to_date = equity_to_date(statement)
    if terms.equity_kind == AgreementTerms.EquityKind.CONVERTIBLE:
        parts = [f"Convertible instrument: opening principal {currency} {money(terms.principal or Decimal('0'))}"]
        if terms.valuation_cap is not None:
            parts.append(f"valuation cap {currency} {money(terms.valuation_cap)}")
        if terms.discount is not None:
            parts.append(f"discount {percent(terms.discount)}")
        if terms.maturity_date:
            parts.append(f"matures {terms.maturity_date:%-d %B %Y}")
        description = ", ".join(parts) + "."
        running = (terms.principal or Decimal("0")) + accrued_to_date
    else:
        description = f"Minority stake of {terms.stake_percent or 0:f}%."
        running = None
    return {
        "kind": terms.equity_kind,
        "description": description,
        "share": percent(terms.equity_share),
        "accrued": f"{currency} {money(statement.equity_total)}",
        "accrued_to_date": f"{currency} {money(accrued_to_date)}",
        "running_principal": f"{currency} {money(running)}" if running is not None else "",
    }


def line_rows(group: dict) -> list[dict]:
    rows = []
    for line in group["lines"]:
        rows.append(
            {
                "description": line.description,
                "revenue": money(line.revenue) if line.revenue is not None else "",
                "account_year": line.account_year or "",
                "rate": percent(line.rate),
                "corrects": f"{month_label(line.corrects_period)}" if line.corrects_period else "",
                "amount": money(line.amount),
                # the vendor's answer to the account's attribution (acknowledged, disputed, ...)
                "acknowledgement": line.attribution.get_acknowledgement_display() if line.attribution_id else "",
            }
        )
    return rows


def statement_context(statement: Statement, *, watermark: str | None = None) -> dict:
    """Everything the statement template shows, as display strings."""
    agreement = statement.agreement
    engagement = agreement.engagement
    vendor = statement.vendor
    lines = list(statement.lines.select_related("attribution__msp").order_by("order", "pk"))
    groups = grouped_lines(lines)
    for group in groups:
        group["span"] = 1 + (3 if group["detailed"] else 0) + (1 if group["corrects"] else 0)
        group["rows"] = line_rows(group)
        group["lines"] = group["rows"]
        group["subtotal"] = money(group["subtotal"])
    terms = selectors.terms_in_force(agreement=agreement, period=statement.period)
    currency = statement.currency
    issuer = {**DEFAULT_ISSUER, **getattr(settings, "TMW_ISSUER", {})}
    remittance_settings = getattr(settings, "TMW_REMITTANCE", {}) or {}
    remittance = remittance_settings.get(currency) or DEFAULT_REMITTANCE.get(currency) or DEFAULT_REMITTANCE["USD"]
    final = statement.status in Statement.FINAL or (statement.status == Statement.Status.VOID and statement.number)
    if watermark is None:
        watermark = "" if final else "DRAFT"
    by_kind = {g["kind"]: g for g in grouped_lines(lines)}

    def subtotal(*kinds) -> Decimal:
        return sum((by_kind[k]["subtotal"] for k in kinds if k in by_kind), Decimal("0.00"))

    summary = [
        {"label": "Retainer (cash)", "value": money(subtotal(StatementLine.Kind.RETAINER_CASH))},
        {
            "label": "Revenue share and tail",
            "value": money(subtotal(StatementLine.Kind.REVENUE_SHARE, StatementLine.Kind.TAIL)),
        },
    ]
    if statement.equity_total:
        summary.append({"label": "Accrued as equity", "value": money(statement.equity_total)})
    if StatementLine.Kind.ADJUSTMENT in by_kind:
        summary.append({"label": "Adjustments", "value": money(subtotal(StatementLine.Kind.ADJUSTMENT))})
    tax_lines = by_kind.get(StatementLine.Kind.TAX, {}).get("lines", [])
    if tax_lines:
        summary.append({"label": "Sales tax", "value": money(subtotal(StatementLine.Kind.TAX))})
    number = statement.number or ""
    title = "Credit note" if statement.is_credit_note else "Statement"
    credits = ""
    if statement.is_credit_note and statement.credit_note_for is not None:
        credits = statement.credit_note_for.number or ""
    return {
        "doc": {
            "title": title,
            "number": number,
            "number_display": number or "Draft · not yet numbered",
            "reference": number or "DRAFT",
            "status": statement.status,
            "status_label": statement.get_status_display(),
            "period_label": f"{month_label(statement.period)}",
            "issue_date": f"{statement.issued_at:%-d %B %Y}" if statement.issued_at else "",
            "due_date": f"{due_date(statement):%-d %B %Y}" if statement.issued_at else "",
            "currency": currency,
            "engagement_label": engagement.get_option_display(),
            "total": money(statement.total),
            "total_display": f"{currency} {money(statement.total)}",
            "equity_display": f"{currency} {money(statement.equity_total)}",
            "cash_display": f"{currency} {money(statement.cash_total)}",
            "has_equity": bool(statement.equity_total),
            "watermark": watermark,
            "tail_months": terms.tail_months if terms else 0,
            "is_credit": statement.is_credit_note,
            "credits": credits,
            "tax_lines": [{"description": t.description, "amount": money(t.amount)} for t in tax_lines],
            "before_tax_display": f"{currency} {money(statement.total - subtotal(StatementLine.Kind.TAX))}",
        },
        "issuer": issuer,
        "vendor": {
            "name": vendor.name,
            "address": [p for p in (vendor.city and f"{vendor.city}, {vendor.region}".strip(", "),) if p]
            + [vendor.get_country_display()],
            "contact": "Accounts payable",
        },
        "summary": summary,
        "groups": groups,
        "equity": equity_note(statement, terms),
        "remittance": remittance,
    }


def statement_filename(statement: Statement) -> str:
    """``TMW-2026-0001-acme-2026-05.pdf``, or ``draft-…`` before the statement is numbered."""
    label = statement.number or f"draft-{statement.pk}"
    return f"{label}-{slugify(statement.vendor.name)}-{format_month(statement.period)}.pdf"


def render_statement_pdf(statement: Statement, *, fetcher=None) -> tuple[str, str, bytes]:
    """Render a statement: ``(filename, content type, PDF bytes)``."""
    content = render_pdf(TEMPLATE, statement_context(statement), fetcher=fetcher)
    return statement_filename(statement), "application/pdf", content
