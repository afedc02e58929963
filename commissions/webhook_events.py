"""What a statement's webhook events say: the key fields of the statement's API representation."""

from __future__ import annotations

from typing import Any

from commissions.models import Statement
from tmw.months import format_month
from tmw.webhooks import services as webhooks


def statement_data(statement: Statement) -> dict[str, Any]:
    """A statement as its events carry it: ids, number, period, status, amounts as strings and the currency."""
    return {
        "statement": {
            "id": statement.pk,
            "number": statement.number,
            "agreement": statement.agreement_id,
            "vendor": statement.vendor_id,
            "vendor_name": statement.vendor.name,
            "period": format_month(statement.period),
            "status": statement.status,
            "currency": statement.currency,
            "total": str(statement.total),
            "equity_total": str(statement.equity_total),
            "cash_total": str(statement.cash_total),
            "issued_at": statement.issued_at.isoformat() if statement.issued_at else None,
            "paid_on": statement.paid_on.isoformat() if statement.paid_on else None,
            "payment_reference": statement.payment_reference or None,
        }
    }


def publish_statement(event: str, statement: Statement) -> None:
    """Tell the webhook endpoints that ``statement`` was issued, paid (or queried); sent after commit."""
    webhooks.publish(event, payload=statement_data(statement), vendor=statement.vendor)
