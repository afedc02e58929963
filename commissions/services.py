"""Business actions on agreements, revenue reports and statements; one transaction each.

Every service is keyword-only, validates, writes an audit row and raises
``tmw.errors.ApplicationError`` with field messages when a business rule says no.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from commissions.engine import LineDraft
from commissions.models import Agreement, AgreementTerms, RevenueReport, Statement, StatementRun

__all__ = [
    "agreement_create",
    "agreement_terms_change",
    "revenue_report_record",
    "revenue_reports_import",
    "statement_approve",
    "statement_compute",
    "statement_generate",
    "statement_issue",
    "statement_mark_paid",
    "statement_run_start",
    "statement_void",
]


@transaction.atomic
def agreement_create(
    *,
    engagement,
    currency: str,
    effective_month: datetime.date,
    actor,
    retainer_tier=None,
    monthly_amount: Decimal | None = None,
    rates: Iterable[Decimal] = (),
    tail_months: int = 0,
    tail_rate: Decimal | None = None,
    equity_share: Decimal = Decimal("0"),
    equity_kind: str = AgreementTerms.EquityKind.NONE,
    stake_percent: Decimal | None = None,
    principal: Decimal | None = None,
    valuation_cap: Decimal | None = None,
    discount: Decimal | None = None,
    maturity_date: datetime.date | None = None,
) -> Agreement:
    """Create the agreement of an engagement with its first terms version.

    ``rates`` is the revenue-share schedule by account year: ``[0.15, 0.10, 0.05]``
    means year 1 15 %, year 2 10 %, year 3 and later 5 %.
    """
    raise NotImplementedError


@transaction.atomic
def agreement_terms_change(
    *,
    agreement: Agreement,
    effective_month: datetime.date,
    actor,
    retainer_tier=None,
    monthly_amount: Decimal | None = None,
    rates: Iterable[Decimal] = (),
    tail_months: int = 0,
    tail_rate: Decimal | None = None,
    equity_share: Decimal = Decimal("0"),
    equity_kind: str = AgreementTerms.EquityKind.NONE,
    stake_percent: Decimal | None = None,
    principal: Decimal | None = None,
    valuation_cap: Decimal | None = None,
    discount: Decimal | None = None,
    maturity_date: datetime.date | None = None,
    note: str = "",
) -> AgreementTerms:
    """Add a terms version that applies from ``effective_month`` on; months with a locked statement keep theirs."""
    raise NotImplementedError


@transaction.atomic
def revenue_report_record(
    *,
    attribution,
    period: datetime.date,
    amount: Decimal,
    currency: str,
    source: str,
    actor,
    idempotency_key: str | None = None,
) -> RevenueReport:
    """Record (or correct) one account's revenue for one month.

    With an ``idempotency_key``: a retry with the same key and content returns the first
    answer (the report, with ``report.replayed = True``); the same key with other content
    is refused with status 409.
    """
    raise NotImplementedError


@transaction.atomic
def revenue_reports_import(*, vendor, rows: list[dict], actor, source: str = "vendor_csv") -> list[RevenueReport]:
    """Validate every row and import all of them, or none.

    Each row is a dict of strings: ``account`` (the MSP's name or slug), ``period``
    (``YYYY-MM`` or ``YYYY-MM-01``), ``amount`` (e.g. ``1234.50``), ``currency``
    (optional: USD or CAD, default the agreement's) and optionally ``row`` (the row
    number to report; default the position + 2, i.e. the CSV line under a header).
    Errors raise ApplicationError with ``extra={"rows": [{"row", "field", "message"}, ...]}``.
    """
    raise NotImplementedError


def statement_compute(*, agreement: Agreement, period: datetime.date) -> list[LineDraft]:
    """The lines of an agreement's statement for a month, computed from data (writes nothing)."""
    raise NotImplementedError


@transaction.atomic
def statement_generate(
    *, agreement: Agreement, period: datetime.date, actor=None, run: StatementRun | None = None
) -> Statement:
    """Compute and store the draft statement of an agreement for a month, replacing an earlier draft.

    An approved, issued or paid statement is returned unchanged.
    """
    raise NotImplementedError


def statement_run_start(*, period: datetime.date, actor) -> StatementRun:
    """Start a statement run for a month: a Celery task fans out one task per agreement."""
    raise NotImplementedError


@transaction.atomic
def statement_approve(*, statement: Statement, actor) -> Statement:
    """Approve a draft statement; from now on it is never recomputed."""
    raise NotImplementedError


@transaction.atomic
def statement_issue(*, statement: Statement, actor) -> Statement:
    """Issue an approved statement: take the next number of the year under a lock and store its PDF once."""
    raise NotImplementedError


@transaction.atomic
def statement_mark_paid(*, statement: Statement, paid_on: datetime.date, reference: str, actor) -> Statement:
    """Record the payment of an issued statement."""
    raise NotImplementedError


@transaction.atomic
def statement_void(*, statement: Statement, reason: str, actor) -> Statement:
    """Void an issued statement with a credit note that refers to it; returns the credit note."""
    raise NotImplementedError
