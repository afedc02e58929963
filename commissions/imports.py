"""Revenue intake from vendors: CSV parsing and row checks for the preview, account lookup, missing reports.

The vendor's CSV has the columns ``account`` (the MSP's name, slug or id), ``period``
(``YYYY-MM``), ``amount`` and ``currency``. Every row is checked and every error names its
row (the header is row 1) and field. The preview is a dry run of
``services.revenue_reports_import`` (all or nothing), so it refuses exactly what the import refuses.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q

from engagements.models import Attribution
from tmw import months
from tmw.accounts.policy import Actor
from tmw.errors import ApplicationError
from tmw.months import format_month, month_label

from .models import RevenueReport

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
REQUIRED_COLUMNS = ("account", "period", "amount", "currency")
ALIASES = {"msp": "account", "account_name": "account", "month": "period", "mrr": "amount", "revenue": "amount"}


class ImportFileError(Exception):
    """The file as a whole cannot be read: too large, not UTF-8, not CSV, missing columns, too many rows."""


@dataclass
class RevenueRow:
    """One CSV row: what it says, the attribution it matched and its errors by field."""

    number: int
    raw: dict[str, str]
    attribution: Attribution | None = None
    period: datetime.date | None = None
    amount: Decimal | None = None
    currency: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)

    def service_row(self) -> dict:
        """The row as ``revenue_reports_import`` takes it."""
        return {
            "account": self.attribution.msp.slug if self.attribution else self.raw.get("account", ""),
            "period": f"{format_month(self.period)}" if self.period else self.raw.get("period", ""),
            "amount": str(self.amount) if self.amount is not None else self.raw.get("amount", ""),
            "currency": self.currency,
            "row": self.number,
        }


@dataclass
class RevenuePreview:
    """What an upload would import."""

    rows: list[RevenueRow]

    @property
    def errors(self) -> list[dict]:
        return [{"row": r.number, "field": f, "message": m} for r in self.rows for f, m in r.errors]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.errors

    @property
    def totals(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for r in self.rows:
            if r.amount is not None and r.currency:
                totals[r.currency] = totals.get(r.currency, Decimal("0.00")) + r.amount
        return totals


def decode(content: bytes) -> str:
    """The file's text; refuses oversized and non-UTF-8 files."""
    if len(content) > MAX_BYTES:
        raise ImportFileError(f"The file is {len(content) / 1024:.0f} KB; the limit is {MAX_BYTES // 1024} KB.")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again.") from exc


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV text as ``(row number, {column: value})``; refuses a file without the required columns."""
    if len(text.encode()) > MAX_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_BYTES // 1024} KB.")
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ImportFileError("The file is empty.") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV: {exc}.") from exc
    columns = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportFileError(
            f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"The first row must name the columns {', '.join(REQUIRED_COLUMNS)}."
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"The file has more than {MAX_ROWS} rows; split it.")
            rows.append((number, {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns)}))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV: {exc}.") from exc
    if not rows:
        raise ImportFileError("The file has a header but no rows.")
    return rows


def attributions_in_period(period: datetime.date):
    """Attributions of engagements with an agreement that are attributed during the month ``period``."""
    end = months.last_of_month(period)
    return (
        Attribution.objects.filter(engagement__agreement__isnull=False, starts_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=period))
        .select_related("msp", "vendor", "engagement__agreement")
    )


def _pick(candidates: list[Attribution], period: datetime.date | None) -> Attribution | None:
    if period is None:
        return candidates[0] if candidates else None
    for a in candidates:
        if a.starts_on <= months.last_of_month(period) and (a.ended_on is None or a.ended_on >= period):
            return a
    return None


def resolve_account(*, account: str, period: datetime.date | None, vendor=None) -> tuple[Attribution | None, str]:
    """The attribution an account (MSP name, slug or id) names for a month, or ``(None, why)``."""
    qs = Attribution.objects.filter(engagement__agreement__isnull=False).select_related(
        "msp", "vendor", "engagement__agreement"
    )
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    key = (account or "").strip().lower()
    if not key:
        return None, "Give the account (the MSP's name)."
    condition = Q(msp__name__iexact=key) | Q(msp__slug__iexact=key)
    if key.isdigit():
        condition |= Q(msp_id=int(key))
    candidates = list(qs.filter(condition).order_by("-starts_on"))
    if not candidates:
        return None, f"“{account}” is not an account attributed to your engagement."
    found = _pick(candidates, period)
    if found is None and period is not None:
        return None, f"“{account}” is not attributed in {month_label(period)}."
    return found, ""


def check_rows(
    rows: list[tuple[int, dict[str, str]]], *, vendor, actor: Actor, today: datetime.date | None = None
) -> RevenuePreview:
    """Check every row by a dry run of ``services.revenue_reports_import``: the import's own checks, no writes."""
    from commissions.services import revenue_reports_import

    result = [RevenueRow(number=number, raw=raw) for number, raw in rows]
    service_rows = [{**raw, "row": number} for number, raw in rows]
    try:
        reports = revenue_reports_import(
            vendor=vendor,
            rows=service_rows,
            actor=actor,
            source=RevenueReport.Source.VENDOR_CSV,
            dry_run=True,
            today=today,
        )
    except ApplicationError as exc:
        by_number = {r.number: r for r in result}
        for error in (exc.extra or {}).get("rows", []):
            row = by_number.get(error.get("row"))
            if row is not None:
                row.errors.append((error.get("field", ""), error.get("message", "")))
        if not any(r.errors for r in result):  # refused as a whole (who is asking): name it on the first row
            result[0].errors.append(("file", exc.message))
        return RevenuePreview(rows=result)
    for row, report in zip(result, reports, strict=True):
        row.attribution, row.period, row.amount, row.currency = (
            report.attribution,
            report.period,
            report.amount,
            report.currency,
        )
    return RevenuePreview(rows=result)


def preview_upload(content: bytes | str, *, vendor, actor: Actor) -> RevenuePreview:
    """Decode, parse and check an uploaded CSV (raises ImportFileError for a file that cannot be read)."""
    text = decode(content) if isinstance(content, bytes) else content
    return check_rows(read_rows(text), vendor=vendor, actor=actor)


def missing_reports(period: datetime.date):
    """Attributions active during ``period`` with no revenue report for it (scoped to the active tenant)."""
    reported = RevenueReport.objects.filter(attribution=OuterRef("pk"), period=period)
    return (
        attributions_in_period(period)
        .annotate(reported=Exists(reported))
        .filter(reported=False)
        .order_by("vendor__name", "msp__name")
    )
