"""Revenue intake: one account's month (pages, API) and a vendor's CSV import (all rows or none)."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from commissions import engine
from commissions.models import (
    Agreement,
    Currency,
    RevenueReport,
    RevenueReportRevision,
)
from commissions.services._common import (
    Actor,
    _money,
    _month,
)
from tmw.accounts import policy
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError
from tmw.months import format_month, month_label

if TYPE_CHECKING:
    from engagements.models import Attribution
    from tmw.accounts.models import Organisation

__all__ = [
    "revenue_report_record",
    "revenue_report_submit",
    "revenue_reports_import",
]


def _request_hash(*, attribution_id: int, period: datetime.date, amount: Decimal, currency: str) -> str:
    body = json.dumps(
        {"attribution": attribution_id, "period": period.isoformat(), "amount": str(amount), "currency": currency},
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _attributed_in(attribution: Attribution, period: datetime.date) -> bool:
    if period < engine.first_of_month(attribution.starts_on):
        return False
    return attribution.ended_on is None or period <= engine.first_of_month(attribution.ended_on)


def _check_reporter(actor: Actor, vendor_id: int, source: str) -> None:
    """Finance reports for any vendor, a vendor user for their own organisation (another's accounts: 404)."""
    if source not in RevenueReport.Source.values:
        raise ApplicationError("Unknown source.", extra={"source": ["Unknown source."]})
    policy.require(actor, "revenue.report", "report revenue")
    if not policy.may_report_revenue(actor, vendor_id):
        raise ApplicationError("No such account.", status=404)


@transaction.atomic
def revenue_report_record(
    *,
    attribution: Attribution,
    period: datetime.date,
    amount: Decimal,
    currency: str,
    source: str,
    actor: Actor,
    idempotency_key: str | None = None,
) -> RevenueReport:
    """Record (or correct) one attributed account's recurring revenue for one month.

    With an ``idempotency_key``: a retry with the same key and content returns the first
    answer (the report, with ``report.replayed = True``); the same key with other content
    is refused with status 409. A correction of a month whose statement is approved or
    issued leaves that statement alone: the difference becomes an adjustment line on the
    agreement's next statement.
    """
    _check_reporter(actor, attribution.vendor_id, source)
    period = _month(period)
    amount = _money(amount)
    key = _idempotency_key(idempotency_key)
    request_hash = _request_hash(attribution_id=attribution.pk, period=period, amount=amount, currency=currency)
    earlier = _earlier(attribution.vendor_id, key)
    if earlier is not None:
        return _replay(earlier, same=earlier.request_hash == request_hash)

    agreement = Agreement.objects.filter(engagement_id=attribution.engagement_id).first()
    if agreement is None:
        raise ApplicationError(
            "This account's engagement has no agreement yet.", extra={"attribution": ["No agreement."]}
        )
    if currency != agreement.currency:
        raise ApplicationError(
            f"Revenue for this agreement is reported in {agreement.currency}.",
            extra={"currency": [f"Use {agreement.currency}."]},
        )
    if period > engine.first_of_month(timezone.localdate()):
        raise ApplicationError("The month is in the future.", extra={"period": ["A month in the future."]})
    if not _attributed_in(attribution, period):
        raise ApplicationError(
            f"{attribution} is not attributed in {month_label(period)}.",
            extra={"period": ["Not an attributed month of this account."]},
        )

    try:
        with transaction.atomic():
            return _report_write(
                attribution=attribution,
                period=period,
                amount=amount,
                currency=currency,
                source=source,
                actor=actor,
                key=key,
                request_hash=request_hash,
            )
    except IntegrityError:
        # Another request wrote the same report or used the same key at the same moment.
        earlier = _earlier(attribution.vendor_id, key)
        if earlier is not None:
            return _replay(earlier, same=earlier.request_hash == request_hash)
        return _report_write(
            attribution=attribution,
            period=period,
            amount=amount,
            currency=currency,
            source=source,
            actor=actor,
            key=key,
            request_hash=request_hash,
        )


def _idempotency_key(raw: str | None) -> str | None:
    """An ``Idempotency-Key`` as stored: stripped, None when empty, refused when longer than 100 characters."""
    key = (raw or "").strip() or None
    if key and len(key) > 100:
        raise ApplicationError("The idempotency key is too long.", extra={"idempotency_key": ["At most 100."]})
    return key


def _earlier(vendor_id: int, key: str | None) -> RevenueReportRevision | None:
    """The revision a vendor's idempotency key was first used for, if any."""
    if not key:
        return None
    return (
        # unscoped: unique (an idempotency key is looked up across every tenant's revisions)
        RevenueReportRevision.all_objects.select_related("report__attribution__msp")
        .filter(vendor_id=vendor_id, idempotency_key=key)
        .first()
    )


def _replay(earlier: RevenueReportRevision, *, same: bool) -> RevenueReport:
    """The first answer to a retried request (``report.replayed``, ``report.revision_replayed``), or 409."""
    if not same:
        raise ApplicationError(
            "This idempotency key was already used with other content.",
            extra={"idempotency_key": ["Already used with other content."]},
            status=409,
        )
    report = RevenueReport.objects.select_related("attribution__msp").get(pk=earlier.report_id)
    report.replayed = True
    report.revision_replayed = earlier
    return report


def _same_request(
    earlier: RevenueReportRevision, *, account: str, period: datetime.date, amount: Decimal, currency: str
) -> bool:
    """Whether a request naming its account by text says what the one that first used the key said."""
    report = earlier.report
    msp = report.attribution.msp
    return (
        account.strip().lower() in {msp.name.lower(), msp.slug.lower(), str(msp.pk)}
        and report.period == period
        and earlier.amount == amount
        and earlier.currency == currency
    )


@transaction.atomic
def revenue_report_submit(
    *,
    account: str,
    period: datetime.date | str,
    amount: Decimal | str,
    currency: str,
    source: str,
    actor: Actor,
    idempotency_key: str | None = None,
) -> RevenueReport:
    """Record one month of an account named by text (the MSP's name, slug or id), as the API receives it.

    The idempotency key is honoured before the account is looked up, so a retry gets the
    first answer (or a 409 for other content) even if it names the account another way.
    """
    from commissions.imports import resolve_account

    policy.require(actor, "revenue.report", "report revenue")
    key = _idempotency_key(idempotency_key)
    period = _month(period)
    amount = _money(amount)
    user = policy.user_of(actor)
    # A vendor user names accounts of their own organisation only; finance names any vendor's.
    vendor = user.organisation if user is not None and policy.revenue_vendor_of(actor) is not None else None
    if vendor is not None:
        earlier = _earlier(vendor.pk, key)
        if earlier is not None:
            same = _same_request(earlier, account=account, period=period, amount=amount, currency=currency)
            return _replay(earlier, same=same)
    attribution, why = resolve_account(account=account, period=period, vendor=vendor)
    if attribution is None:
        raise ApplicationError(why, extra={"account": [why]})
    return revenue_report_record(
        attribution=attribution,
        period=period,
        amount=amount,
        currency=currency,
        source=source,
        actor=actor,
        idempotency_key=key,
    )


def _report_write(
    *,
    attribution: Attribution,
    period: datetime.date,
    amount: Decimal,
    currency: str,
    source: str,
    actor: Actor,
    key: str | None,
    request_hash: str,
) -> RevenueReport:
    # unscoped: lock (re-reads with FOR UPDATE the caller's own account-month)
    report = RevenueReport.all_objects.select_for_update().filter(attribution=attribution, period=period).first()
    user = policy.user_of(actor)
    if report is None:
        report = RevenueReport(
            attribution=attribution,
            vendor_id=attribution.vendor_id,
            period=period,
            amount=amount,
            currency=currency,
            source=source,
            idempotency_key=key,
            request_hash=request_hash,
            revision=1,
            created_by=user,
        )
        report.full_clean(validate_unique=False, validate_constraints=False)
        report.save()
        previous = None
        verb = "revenue_report.recorded"
    else:
        if report.amount == amount and not key:
            report.replayed = False
            return report
        previous = report.amount
        report.amount = amount
        report.source = source
        report.revision += 1
        report.idempotency_key = key
        report.request_hash = request_hash
        report.save()
        verb = "revenue_report.corrected" if previous != amount else "revenue_report.confirmed"
    RevenueReportRevision.objects.create(
        report=report,
        vendor_id=report.vendor_id,
        number=report.revision,
        amount=amount,
        previous_amount=previous,
        currency=currency,
        source=source,
        idempotency_key=key,
        request_hash=request_hash,
        created_by=user,
    )
    audit_record(
        actor=actor,
        verb=verb,
        obj=report,
        organisation=attribution.vendor,
        data={
            "period": period.isoformat(),
            "amount": str(amount),
            "previous": None if previous is None else str(previous),
            "source": source,
        },
    )
    report.replayed = False
    return report


def _import_error(errors: list[dict[str, object]], row: int, field: str, message: str) -> None:
    errors.append({"row": row, "field": field, "message": message})


@transaction.atomic
def revenue_reports_import(
    *,
    vendor: Organisation,
    rows: list[dict[str, Any]],
    actor: Actor,
    source: str = "vendor_csv",
    dry_run: bool = False,
    today: datetime.date | None = None,
) -> list[RevenueReport]:
    """Validate every row and import all of them, or none.

    Each row is a dict of strings: ``account`` (the MSP's name, slug or id), ``period``
    (``YYYY-MM`` or ``YYYY-MM-01``), ``amount`` (e.g. ``1234.50``), ``currency``
    (optional: USD or CAD, default the agreement's) and optionally ``row`` (the row
    number to report; default the position + 2, i.e. the CSV line under a header).
    Errors raise ApplicationError with ``extra={"rows": [{"row", "field", "message"}, ...]}``.

    With ``dry_run`` nothing is written: the rows are checked exactly as for the import and the
    reports it would record are returned unsaved, in row order (the upload's preview).
    """
    from engagements.models import Attribution

    _check_reporter(actor, vendor.pk, source)
    if not rows:
        raise ApplicationError(
            "The file has no rows.", extra={"rows": [{"row": 1, "field": "file", "message": "No rows."}]}
        )
    attributions = list(Attribution.objects.filter(vendor=vendor).select_related("msp", "engagement"))
    agreements = {
        a.engagement_id: a for a in Agreement.objects.filter(engagement_id__in={x.engagement_id for x in attributions})
    }
    by_name: dict[str, list[Attribution]] = defaultdict(list)
    for attribution in attributions:
        by_name[attribution.msp.name.strip().lower()].append(attribution)
        for key in {attribution.msp.slug.lower(), str(attribution.msp_id)} - {attribution.msp.name.strip().lower()}:
            by_name[key].append(attribution)
    this_month = engine.first_of_month(today or timezone.localdate())

    errors: list[dict[str, object]] = []
    valid: list[tuple[Attribution, datetime.date, Decimal, str]] = []
    seen: dict[tuple[int, datetime.date], int] = {}
    for index, raw in enumerate(rows):
        row = int(raw.get("row") or index + 2)
        before = len(errors)
        account = str(raw.get("account") or "").strip()
        period = amount = None
        if not account:
            _import_error(errors, row, "account", "Name the account (the MSP's name).")
        try:
            if not str(raw.get("period") or "").strip():
                raise ApplicationError("Give the month as YYYY-MM.")
            period = _month(raw.get("period"))
            if period > this_month:
                _import_error(errors, row, "period", f"{format_month(period)} is in the future.")
                period = None
        except ApplicationError:
            _import_error(errors, row, "period", "Give the month as YYYY-MM.")
        try:
            if str(raw.get("amount") or "").strip() == "":
                raise ApplicationError("Give the amount.", extra={"amount": ["Give the amount."]})
            amount = _money(raw.get("amount"))
        except ApplicationError as exc:
            _import_error(errors, row, "amount", exc.extra.get("amount", [exc.message])[0])
        currency = str(raw.get("currency") or "").strip().upper() or None
        if currency is not None and currency not in Currency.values:
            _import_error(errors, row, "currency", "Use USD or CAD.")
            currency = None
        if account and period is not None:
            matches = [a for a in by_name.get(account.lower(), []) if _attributed_in(a, period)]
            if not matches:
                _import_error(
                    errors, row, "account", f"No account named “{account}” is attributed in {format_month(period)}."
                )
            elif len({m.pk for m in matches}) > 1:
                _import_error(errors, row, "account", f"“{account}” is attributed to more than one desk.")
            else:
                attribution = matches[0]
                agreement = agreements.get(attribution.engagement_id)
                if agreement is None:
                    _import_error(errors, row, "account", "This account's desk has no agreement yet.")
                elif currency is not None and currency != agreement.currency:
                    _import_error(errors, row, "currency", f"This agreement is in {agreement.currency}.")
                elif (attribution.pk, period) in seen:
                    _import_error(
                        errors,
                        row,
                        "account",
                        f"Duplicate of row {seen[(attribution.pk, period)]}: the same account and month.",
                    )
                elif len(errors) == before and amount is not None:
                    seen[(attribution.pk, period)] = row
                    valid.append((attribution, period, amount, agreement.currency))
    if errors:
        count = len({e["row"] for e in errors})
        raise ApplicationError(
            f"{count} row{'s' if count != 1 else ''} of the file {'have' if count != 1 else 'has'} errors; "
            "nothing was imported.",
            extra={"rows": errors},
        )
    if dry_run:
        return [
            RevenueReport(
                attribution=attribution,
                vendor_id=vendor.pk,
                period=period,
                amount=amount,
                currency=currency,
                source=source,
            )
            for attribution, period, amount, currency in valid
        ]
    return [
        revenue_report_record(
            attribution=attribution, period=period, amount=amount, currency=currency, source=source, actor=actor
        )
        for attribution, period, amount, currency in valid
    ]
