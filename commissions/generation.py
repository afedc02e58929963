"""Writing the draft statements of many agreements for one month at once.

This is how every statement is written: the statement run calls it with a batch of
agreements, ``services.statement_generate`` with one. Per batch it runs a fixed number of
queries, whatever the number of agreements and accounts:

- the terms, the statements already there (locked with ``SELECT ... FOR UPDATE``), revenue
  in a foreign currency and the corrections of locked months are loaded in a few queries;
- the engine decides in Python, per agreement, the retainer and equity lines, the
  adjustments and the *share rule* (``engine.share_rule``: revenue share or tail, the
  rates by account year, the stop date);
- the revenue-share and tail lines, one per attributed account with revenue, are written by
  one ``INSERT ... SELECT``: the database joins the month's revenue to the attributions and
  to each agreement's rate for the account's year, taken from the share rules. A hundred
  thousand lines never pass through Python. On PostgreSQL the share rules, the rates and the
  batch's other lines (retainer, equity, adjustments) arrive as arrays in that one statement,
  which returns each statement's count and sum of account lines; on SQLite they go through
  two temporary tables and the ORM, and one aggregate reads the sums back;
- Python adds the rest (and a tax line, which depends on the sum) and writes the totals in
  one ``UPDATE``, and one audit row per statement is inserted in bulk.

The per-account conditions in the SQL are those of ``engine.account_earns``; the amount is
revenue × rate rounded half-up to the cent in exact arithmetic on both databases (integer
cents on SQLite, ``numeric`` on PostgreSQL). ``engine.compute_lines`` is the reference: the
tests compare every stored statement with it, on random data too.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from commissions import engine, tax
from commissions.limits import TOTAL_DIGITS, check_total
from commissions.models import (
    Agreement,
    AgreementTerms,
    Currency,
    RevenueReport,
    RevenueShareStep,
    Statement,
    StatementQuery,
)
from commissions.models import StatementLine as Line
from engagements.models import Attribution
from tmw.accounts.models import Organisation
from tmw.accounts.services import audit_records
from tmw.sql import pg_array, unnest_rows

__all__ = [
    "Billed",
    "Written",
    "billed_load",
    "corrections_of",
    "foreign_currency_reason",
    "statements_write",
    "terms_of",
]

ACCOUNT_KINDS = (Line.Kind.REVENUE_SHARE, Line.Kind.TAIL)
RATE_UNITS = 10**6  # rates have six decimal places
SHARE_STATEMENTS = "commissions_share_statement"
SHARE_RATES = "commissions_share_rate"
LINES_WORK_MEM = "32MB"  # PostgreSQL's memory for sorting one batch's lines (its default is 4MB)


# The most characters a line's description and an account's name hold (both are CharFields).
DESCRIPTION_LENGTH = Line._meta.get_field("description").max_length or 300
NAME_LENGTH = Organisation._meta.get_field("name").max_length or 200
YEAR_DIGITS = 4  # the most digits an account year computed in SQL can have (a start date in year 1)


class Billed(NamedTuple):
    """What ``statements_write`` reads of an agreement: its keys, currency, engagement dates and vendor.

    A batch of the statement run reads these as plain values (``billed_load``), one query and no
    agreement or engagement instances; one agreement already loaded becomes one by ``Billed.of``.
    """

    pk: int
    engagement_id: int
    vendor_id: int
    currency: str
    start_date: datetime.date | None
    stop_date: datetime.date | None  # termination first, else the end date (``Engagement.stop_date``)
    vendor: Organisation  # its id and name (a statement's name, in its audit row, says the vendor)

    @classmethod
    def of(cls, agreement: Agreement) -> Billed:
        engagement = agreement.engagement
        return cls(
            agreement.pk,
            agreement.engagement_id,
            agreement.vendor_id,
            agreement.currency,
            engagement.start_date,
            engagement.stop_date,
            agreement.vendor,
        )


def billed_load(ids: Sequence[int]) -> list[Billed]:
    """The agreements of ``ids`` that exist, by id, as ``Billed`` (one query).

    Each vendor is an ``Organisation`` with its id and name loaded and its other fields deferred,
    as ``only("name")`` gives it: reading another field loads it, none holds a wrong value.
    """
    found = []
    vendors: dict[int, Organisation] = {}
    for pk, engagement_id, vendor_id, currency, start, end, terminated, name in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        Agreement.all_objects.filter(pk__in_ids=ids)
        .order_by("pk")
        .values_list(
            "pk",
            "engagement_id",
            "vendor_id",
            "currency",
            "engagement__start_date",
            "engagement__end_date",
            "engagement__terminated_on",
            "vendor__name",
        )
    ):
        vendor = vendors.get(vendor_id)
        if vendor is None:
            vendor = vendors[vendor_id] = Organisation.from_db(connection.alias, ["id", "name"], (vendor_id, name))
        found.append(Billed(pk, engagement_id, vendor_id, currency, start, terminated or end, vendor))
    return found


@dataclass
class Written:
    """What ``statements_write`` did, by agreement id."""

    statements: dict[int, Statement] = field(default_factory=dict)  # written, or left alone because locked
    skipped: set[int] = field(default_factory=set)  # past the tail with nothing to bill: no statement
    failed: dict[int, str] = field(default_factory=dict)  # refused, with the reason


@dataclass
class _Plan:
    agreement: Billed
    terms: list[engine.Terms]
    fixed: list[engine.LineDraft]
    rule: engine.ShareRule | None
    adjustments: list[engine.LineDraft]
    query_ids: list[int] = field(default_factory=list)  # accepted queries whose adjustments this plan carries


# --- loading ----------------------------------------------------------------------------------


def terms_of(agreements: Sequence[Agreement | Billed]) -> dict[int, list[engine.Terms]]:
    """Every terms version of each agreement as engine terms, oldest first (two queries)."""
    versions = list(
        # unscoped: operator (statement generation runs only inside operator_scope())
        AgreementTerms.all_objects.filter(agreement_id__in_ids=[a.pk for a in agreements])
        .order_by("agreement_id", "effective_month")
        .values_list(
            "pk",
            "agreement_id",
            "effective_month",
            "monthly_amount",
            "retainer_tier__monthly_fee_usd",
            "retainer_tier__monthly_fee_cad",
            "tail_months",
            "tail_rate",
            "equity_share",
            "equity_kind",
            *tax.TERMS_FIELDS,
        )
    )
    rates: dict[int, list] = defaultdict(list)
    for terms_id, rate in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        RevenueShareStep.all_objects.filter(terms_id__in_ids=[v[0] for v in versions])
        .order_by("terms_id", "year")
        .values_list("terms_id", "rate")
    ):
        rates[terms_id].append(rate)
    currency = {a.pk: a.currency for a in agreements}
    labels: dict[str, str] = {
        AgreementTerms.EquityKind.CONVERTIBLE: "convertible",
        AgreementTerms.EquityKind.STAKE: "equity stake",
    }
    found: dict[int, list[engine.Terms]] = {a.pk: [] for a in agreements}
    for pk, agreement_id, month, amount, fee_usd, fee_cad, tail_months, tail_rate, share, kind, *taxed in versions:
        tier_fee = fee_cad if currency[agreement_id] == Currency.CAD else fee_usd
        found[agreement_id].append(
            engine.Terms(
                effective_month=month,
                monthly_retainer=amount if amount is not None else tier_fee,
                rates=tuple(rates[pk]),
                tail_months=tail_months,
                tail_rate=tail_rate,
                equity_share=share,
                equity_label=labels.get(kind, "equity"),
                tax=tax.rule_of_values(taxed),
            )
        )
    return found


def corrections_of(
    agreements: Sequence[Agreement | Billed], period: datetime.date
) -> dict[int, list[engine.Correction]]:
    """Per agreement: revenue of earlier months with a locked statement that differs from what was billed.

    What was billed for an account-month is the revenue on its line of the locked statement
    plus the revenue of adjustments already made for it on other statements (not void).
    """
    ids = [a.pk for a in agreements]
    locked: dict[int, set[datetime.date]] = defaultdict(set)
    statement_ids = []
    for agreement_id, month, pk in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        Statement.all_objects.filter(
            agreement_id__in_ids=ids, period__lt=period, status__in=Statement.LOCKED, credit_note_for__isnull=True
        )
        .order_by()
        .values_list("agreement_id", "period", "pk")
    ):
        locked[agreement_id].add(month)
        statement_ids.append(pk)
    if not locked:
        return {}
    agreement_of = {a.engagement_id: a.pk for a in agreements if a.pk in locked}
    months = set().union(*locked.values())
    accounted: dict[tuple[int | None, datetime.date | None], Decimal] = defaultdict(Decimal)
    for attribution_id, month, revenue in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        Line.all_objects.filter(statement_id__in_ids=statement_ids, kind__in=ACCOUNT_KINDS)
        .order_by()
        .values_list("attribution_id", "statement__period", "revenue")
    ):
        accounted[(attribution_id, month)] += revenue or 0
    for attribution_id, corrects, revenue in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        Line.all_objects.filter(
            statement__agreement_id__in_ids=list(locked),
            statement__credit_note_for__isnull=True,
            kind=Line.Kind.ADJUSTMENT,
            corrects_period__lt=period,
        )
        .exclude(statement__status=Statement.Status.VOID)
        .exclude(statement__period=period)
        .order_by()
        .values_list("attribution_id", "corrects_period", "revenue")
    ):
        accounted[(attribution_id, corrects)] += revenue or 0
    differences = []
    for engagement_id, attribution_id, month, amount in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        RevenueReport.all_objects.filter(attribution__engagement_id__in_ids=list(agreement_of), period__in=months)
        .order_by()
        .values_list("attribution__engagement_id", "attribution_id", "period", "amount")
    ):
        agreement_id = agreement_of[engagement_id]
        difference = amount - accounted.get((attribution_id, month), Decimal("0"))
        if difference and month in locked[agreement_id]:
            differences.append((agreement_id, attribution_id, month, difference))
    if not differences:
        return {}
    accounts = {
        pk: engine.Account(id=pk, name=name, starts_on=starts_on, ended_on=ended_on)
        # unscoped: operator (statement generation runs only inside operator_scope())
        for pk, name, starts_on, ended_on in Attribution.all_objects.filter(
            pk__in_ids={d[1] for d in differences}
        ).values_list("pk", "msp__name", "starts_on", "ended_on")
    }
    found: dict[int, list[engine.Correction]] = defaultdict(list)
    for agreement_id, attribution_id, month, difference in differences:
        correction = engine.Correction(account=accounts[attribution_id], period=month, difference=difference)
        found[agreement_id].append(correction)
    return found


def foreign_currency_reason(currency: str, agreement: Agreement | Billed) -> str:
    """Why revenue reported in ``currency`` cannot be billed on ``agreement``."""
    return f"Revenue in {currency} cannot be billed on an agreement in {agreement.currency}."


def _foreign_currency(agreements: list[Billed], period: datetime.date) -> dict[int, str]:
    """Agreements with revenue reported for ``period`` in another currency than theirs: the reason.

    A first query reads, per vendor, the lowest and the highest currency of the month's revenue:
    two seeks each in the index on (vendor, period, currency), whatever the number of reports.
    The revenue of an engagement is looked at only for vendors with more than one currency in play.
    """
    currencies: dict[int, set[str]] = defaultdict(set)
    for agreement in agreements:
        currencies[agreement.vendor_id].add(agreement.currency)
    # unscoped: operator (statement generation runs only inside operator_scope())
    reported = RevenueReport.all_objects.filter(vendor_id=OuterRef("pk"), period=period).values("currency")
    suspect = set()
    for vendor_id, lowest, highest in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        Organisation.all_objects.filter(pk__in_ids=list(currencies))
        .annotate(
            lowest=Subquery(reported.order_by("currency")[:1]), highest=Subquery(reported.order_by("-currency")[:1])
        )
        .filter(lowest__isnull=False)
        .order_by()
        .values_list("pk", "lowest", "highest")
    ):
        if lowest != highest or currencies[vendor_id] != {lowest}:
            suspect.add(vendor_id)
    by_engagement = {a.engagement_id: a for a in agreements if a.vendor_id in suspect}
    if not by_engagement:
        return {}
    refused = {}
    for engagement_id, currency in (
        # unscoped: operator (statement generation runs only inside operator_scope())
        RevenueReport.all_objects.filter(attribution__engagement_id__in_ids=list(by_engagement), period=period)
        .order_by()
        .values_list("attribution__engagement_id", "currency")
        .distinct()
    ):
        agreement = by_engagement[engagement_id]
        if currency != agreement.currency:
            refused[agreement.pk] = foreign_currency_reason(currency, agreement)
    return refused


def _lock_existing(ids: list[int], period: datetime.date) -> dict[int, Statement]:
    """The current (not void, not credit note) statements of ``period``, locked until the transaction ends."""
    return {
        s.agreement_id: s
        # unscoped: operator (statement generation runs only inside operator_scope())
        for s in Statement.all_objects.select_for_update()
        .filter(agreement_id__in_ids=ids, period=period, credit_note_for__isnull=True)
        .exclude(status=Statement.Status.VOID)
        .order_by()
    }


# --- SQL for the account lines ----------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _cents_sql(column: str) -> str:
    """A two-decimal money column as integer cents, exactly."""
    if connection.vendor == "postgresql":
        return f"CAST({column} * 100 AS BIGINT)"
    return f"CAST(ROUND({column} * 100) AS INTEGER)"


def _share_amount_sql(revenue: str, rate: str, rate_units: str) -> str:
    """revenue × rate, rounded half-up to the cent, exactly (revenue is never negative)."""
    if connection.vendor == "postgresql":
        return f"ROUND({revenue} * {rate}, 2)"
    # Integer arithmetic, split so that no product leaves 64 bits: cents = high * 10^6 + low.
    cents = _cents_sql(revenue)
    units = RATE_UNITS
    return (
        f"(({cents} / {units}) * {rate_units} + (({cents} %% {units}) * {rate_units} + {units // 2}) / {units}) / 100.0"
    )


def _prepare_share_tables(cursor) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {SHARE_STATEMENTS} ("
        "statement_id bigint NOT NULL, engagement_id bigint NOT NULL, kind varchar(16) NOT NULL, "
        "stop date NULL, base integer NOT NULL)"
    )
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {SHARE_RATES} ("
        "statement_id bigint NOT NULL, year integer NULL, rate numeric(7, 6) NOT NULL, "
        "rate_units bigint NOT NULL, prefix varchar(100) NOT NULL, suffix varchar(100) NOT NULL, "
        "label varchar(200) NULL, starts_from date NOT NULL, starts_to date NOT NULL)"
    )
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {SHARE_RATES}_key ON {SHARE_RATES} (statement_id)")
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {SHARE_STATEMENTS}_key ON {SHARE_STATEMENTS} (engagement_id)")
    cursor.execute(f"DELETE FROM {SHARE_STATEMENTS}")
    cursor.execute(f"DELETE FROM {SHARE_RATES}")


RateRow = tuple[int | None, Decimal, datetime.date, datetime.date]  # year (None: the last step), rate, starts


def rate_table(rule: engine.ShareRule, period: datetime.date) -> list[RateRow]:
    """The rates of ``rule`` in ``period`` by the start dates of the accounts that earn them.

    One row ``(year, rate, starts_from, starts_to)`` per account year up to the rule's last step
    (``ShareRule.last_step``), as ``ShareRule.rate_for_year`` says; the last step's row is open
    towards the past and has no year, which the SQL computes for its accounts. The SQL joins an
    account to its row by its start date and holds no rate rule of its own. Years that earn
    nothing are left out.
    """
    rows: list[RateRow] = []
    for year in range(1, rule.last_step + 1):
        if rate := rule.rate_for_year(year):
            starts_from, starts_to = engine.account_year_starts(year, period)
            if year == rule.last_step:
                rows.append((None, rate, datetime.date.min, starts_to))
            else:
                rows.append((year, rate, starts_from, starts_to))
    return rows


@functools.lru_cache(maxsize=256)
def _rate_rows(kind: str, rates: tuple[Decimal, ...], tail_rate: Decimal | None, period: datetime.date) -> tuple:
    """``rate_table`` of a rule with each rate's integer units and description (agreements share schedules).

    A row's description is the text after the account's name: its parts around the year
    (``engine.account_description_parts``) and, for a row of one year, the whole of it (``label``),
    so the SQL only puts the name in front; the last step's row leaves the year to the SQL.
    """
    rule = engine.ShareRule(kind, rates, tail_rate)
    found = []
    for year, rate, starts_from, starts_to in rate_table(rule, period):
        prefix, suffix = engine.account_description_parts(kind, rate)
        label = None if year is None else f"{prefix}{year}{suffix}"
        found.append((year, rate, int(rate * RATE_UNITS), prefix, suffix, label, starts_from, starts_to))
    return tuple(found)


def _longest_label(rates: list[tuple]) -> int:
    """The longest text a batch's rate rows put after an account's name (``_rate_rows``)."""
    return max(
        (len(label) if label else len(prefix) + YEAR_DIGITS + len(suffix)) for *_, prefix, suffix, label, _, _ in rates
    )


def _month_index_sql(column: str) -> str:
    """``year * 12 + month`` of a date column, as an integer."""
    if connection.vendor == "postgresql":
        return f"(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {column}) AS INTEGER))"
    return f"(CAST(SUBSTR({column}, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR({column}, 6, 2) AS INTEGER))"


LINE_COLUMNS = (
    "statement_id",
    "kind",
    "description",
    "attribution_id",
    "revenue",
    "account_year",
    "rate",
    "amount",
    "corrects_period",
    "order",
)
# The PostgreSQL types of LINE_COLUMNS, for the arrays the other lines of a batch arrive in.
LINE_TYPES = ("bigint", "varchar", "varchar", "bigint", "numeric", "integer", "numeric", "numeric", "date", "integer")


def _create_lines(rows: list[tuple]) -> None:
    """Lines given as rows of ``LINE_COLUMNS``, through the ORM."""
    if rows:
        Line.objects.bulk_create([Line(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in rows])


def _insert_lines(
    shares: list[tuple[Statement, int, engine.ShareRule, int]],
    others: list[tuple],
    period: datetime.date,
) -> dict[int, tuple[int, Decimal]]:
    """Write every revenue-share or tail line of these statements by one INSERT ... SELECT, and ``others``.

    ``others`` are the batch's other lines, as rows of ``LINE_COLUMNS``. Returns, per statement,
    how many account lines it has and their sum. On PostgreSQL it is one statement: the batch's
    share rules, rates and other lines arrive as arrays (``unnest``), the account lines are computed
    once (a materialized ``WITH``), inserted with the other lines by a data-modifying ``WITH`` and
    counted and summed from the same rows.
    Elsewhere the share rules and rates go to two temporary tables, the other lines through the ORM,
    and one aggregate reads the sums back.
    """
    postgresql = connection.vendor == "postgresql"
    statements, rates = [], []
    for statement, engagement_id, rule, base in shares:
        stop = rule.stop.isoformat() if rule.stop else None
        statements.append((statement.pk, engagement_id, rule.kind, stop, base + 1))
        for year, rate, units, prefix, suffix, label, first, last in _rate_rows(
            rule.kind, rule.rates, rule.tail_rate, period
        ):
            if not postgresql:
                first, last = first.isoformat(), last.isoformat()
            rates.append((statement.pk, year, rate, units, prefix, suffix, label, first, last))
    if not postgresql and not rates:
        _create_lines(others)
        return {}
    name_order = 'LOWER(o.name) COLLATE "C"' if postgresql else "LOWER(o.name)"
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in LINE_COLUMNS)
    # The join order is fixed (CROSS JOIN, which SQLite keeps and PostgreSQL plans freely): from the
    # batch's statements to their attributions to that month's revenue, all by index, so the cost
    # follows the batch and not the size of the revenue history. An account finds its year's rate
    # by its start date, between the bounds of that year in the rate table: no date arithmetic but
    # for the accounts past the last step. Rows are inserted sorted by account name: within a
    # statement every account line has the same ``order`` and the primary key keeps them in that
    # sequence.
    # On PostgreSQL the batch's engagements are also named as an array: the planner then reads
    # the attributions by index with a true estimate of their number, where a join to the
    # unnested share rules alone (estimated at 100 rows of unknown values) scans the whole table.
    engagements_sql = " AND a.engagement_id = ANY(%s::bigint[])" if postgresql else ""
    period_index = period.year * 12 + period.month
    year_sql = f"COALESCE(x.year, ({period_index} - {_month_index_sql('a.starts_on')}) / 12 + 1)"
    description_sql = f"o.name || COALESCE(x.label, x.prefix || {year_sql} || x.suffix)"
    if rates and NAME_LENGTH + _longest_label(rates) > DESCRIPTION_LENGTH:
        description_sql = f"SUBSTR({description_sql}, 1, {DESCRIPTION_LENGTH})"  # as the column holds it
    shares_sql = f"""
        SELECT s.statement_id, s.kind, {description_sql}, a.id, r.amount,
               {year_sql}, x.rate, {_share_amount_sql("r.amount", "x.rate", "x.rate_units")}, CAST(NULL AS date), s.base
        FROM {SHARE_STATEMENTS} s
        CROSS JOIN {_table(Attribution)} a
        CROSS JOIN {_table(RevenueReport)} r
        JOIN {_table(Organisation)} o ON o.id = a.msp_id
        JOIN {SHARE_RATES} x ON x.statement_id = s.statement_id
             AND a.starts_on >= x.starts_from AND a.starts_on <= x.starts_to
        WHERE a.engagement_id = s.engagement_id AND r.attribution_id = a.id AND r.period = %s
          AND a.starts_on <= %s AND (a.ended_on IS NULL OR a.ended_on >= %s)
          AND (s.stop IS NULL OR a.starts_on <= s.stop){engagements_sql}
        ORDER BY s.statement_id, {name_order}, a.id
    """
    params: list = [period.isoformat(), engine.last_of_month(period).isoformat(), period.isoformat()]
    if not postgresql:
        with connection.cursor() as cursor:
            _prepare_share_tables(cursor)
            cursor.executemany(f"INSERT INTO {SHARE_STATEMENTS} VALUES (%s, %s, %s, %s, %s)", statements)
            cursor.executemany(f"INSERT INTO {SHARE_RATES} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rates)
            cursor.execute(f"INSERT INTO {_table(Line)} ({columns}) {shares_sql}", params)  # noqa: S608
        sums = _account_sums([s.pk for s, *_ in shares])
        _create_lines(others)  # after the sums, which count every line of the statements
        return sums
    if not (rates or others):
        return {}

    statements_sql, statements_params = unnest_rows(statements, ("bigint", "bigint", "varchar", "date", "integer"))
    rates_sql, rates_params = unnest_rows(
        rates, ("bigint", "integer", "numeric", "bigint", "varchar", "varchar", "varchar", "date", "date")
    )
    others_sql, others_params = unnest_rows(others, LINE_TYPES)
    sql = (
        f"WITH {SHARE_STATEMENTS} (statement_id, engagement_id, kind, stop, base) AS ({statements_sql}), "
        f"{SHARE_RATES} (statement_id, year, rate, rate_units, prefix, suffix, label, starts_from, starts_to) "
        f"AS ({rates_sql}), "
        f"shares ({columns}) AS MATERIALIZED ({shares_sql}), "
        f"written AS (INSERT INTO {_table(Line)} ({columns}) {others_sql} UNION ALL SELECT * FROM shares) "
        f"SELECT statement_id, COUNT(*), SUM(amount) FROM shares GROUP BY statement_id"
    )
    engagements = pg_array([row[1] for row in statements])
    with connection.cursor() as cursor:
        # The batch's lines are sorted by account name in memory rather than on disk.
        cursor.execute(f"SET LOCAL work_mem = '{LINES_WORK_MEM}'")
        cursor.execute(sql, [*statements_params, *rates_params, *params, engagements, *others_params])
        return {pk: (count, Decimal(total).quantize(engine.CENT)) for pk, count, total in cursor.fetchall()}


def _account_sums(statement_ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    """Per statement: how many account lines it has and their sum."""
    if not statement_ids:
        return {}
    found = {}
    with connection.cursor() as cursor:
        for start in range(0, len(statement_ids), 500):
            chunk = statement_ids[start : start + 500]
            cursor.execute(
                f"SELECT statement_id, COUNT(*), SUM({_cents_sql('amount')}) FROM {_table(Line)} "
                f"WHERE statement_id IN ({', '.join(['%s'] * len(chunk))}) GROUP BY statement_id",
                chunk,
            )
            for statement_id, count, cents in cursor.fetchall():
                found[statement_id] = (count, (Decimal(int(cents)) / 100).quantize(engine.CENT))
    return found


# --- writing ----------------------------------------------------------------------------------


def query_adjustments_of(
    agreements: Sequence[Agreement | Billed], period: datetime.date
) -> dict[int, list[tuple[int, engine.LineDraft]]]:
    """Per agreement: the adjustment lines of accepted statement queries that ``period``'s statement carries.

    An accepted query (``services.queries``) is carried by the first statement of a month from
    its ``carry_from`` on: it is pending while no statement carries it, while the one that did is
    void, or when that statement is the one being recomputed. One query, one line, billed once.
    """
    found: dict[int, list[tuple[int, engine.LineDraft]]] = defaultdict(list)
    # unscoped: operator (statement generation runs only inside operator_scope())
    pending = (
        StatementQuery.all_objects.filter(
            statement__agreement_id__in_ids=[a.pk for a in agreements],
            status=StatementQuery.Status.ACCEPTED,
            adjustment_amount__isnull=False,
            carry_from__lte=period,
        )
        .filter(
            Q(adjustment_statement__isnull=True)
            | Q(adjustment_statement__status=Statement.Status.VOID)
            | Q(adjustment_statement__period=period)
        )
        .select_related("statement", "line")
        .order_by("answered_at", "pk")
    )
    for query in pending:
        source = query.statement
        about = f" · {query.line.description}" if query.line is not None else ""
        found[source.agreement_id].append(
            (
                query.pk,
                engine.LineDraft(
                    kind=engine.ADJUSTMENT,
                    description=f"Query {query.pk} on {source.number or source.title} accepted{about}"[:300],
                    amount=engine.cents(query.adjustment_amount or Decimal("0")),
                    attribution_id=query.line.attribution_id if query.line is not None else None,
                    corrects_period=source.period,
                ),
            )
        )
    return found


def _plan(agreements, period, existing, terms, skip_finished, written) -> dict[int, _Plan]:
    corrections = corrections_of(agreements, period)
    queried = query_adjustments_of(agreements, period)
    plans = {}
    for agreement in agreements:
        start, stop = agreement.start_date, agreement.stop_date
        versions = terms[agreement.pk]
        plan = _Plan(
            agreement=agreement,
            terms=versions,
            fixed=engine.retainer_lines(terms=versions, period=period, start=start, stop=stop),
            rule=engine.share_rule(terms=versions, period=period, start=start, stop=stop),
            adjustments=engine.adjustment_lines(
                terms=versions, corrections=corrections.get(agreement.pk, []), start=start, stop=stop
            )
            + [draft for _, draft in queried.get(agreement.pk, [])],
            query_ids=[pk for pk, _ in queried.get(agreement.pk, [])],
        )
        ended = engine.last_billable_month(versions, stop) if stop is not None else None
        finished = ended is not None and period > ended
        if skip_finished and finished and agreement.pk not in existing and not (plan.fixed or plan.adjustments):
            written.skipped.add(agreement.pk)  # past the tail: no empty statement
            continue
        plans[agreement.pk] = plan
    return plans


def _statements(plans, existing, period, run, now) -> tuple[dict[int, Statement], list[Statement]]:
    """The statement row of every plan: an existing draft emptied of its lines, or a new one; and the new ones.

    On PostgreSQL the new rows only take their ids here (one query) and are inserted with their
    totals once the lines are written (``_save_statements``): the lines' foreign key to them is
    checked at commit. Elsewhere they are inserted now and their totals written by an update.
    """
    drafts = {pk: existing[pk] for pk in plans if pk in existing}
    if drafts:
        # unscoped: operator (statement generation runs only inside operator_scope())
        Line.all_objects.filter(statement_id__in_ids=[s.pk for s in drafts.values()]).delete()
    new = _new_statements(
        [plan.agreement for pk, plan in plans.items() if pk not in existing],
        period=period,
        run_id=run.pk if run is not None else None,
        now=now,
    )
    if connection.vendor == "postgresql":
        _take_ids(new)
    else:
        Statement.objects.bulk_create(new)
    return {**drafts, **{s.agreement_id: s for s in new}}, new


def _new_statements(
    agreements: Sequence[Agreement | Billed], *, period: datetime.date, run_id: int | None, now: datetime.datetime
) -> list[Statement]:
    """Unsaved draft statements of ``agreements``, built from every field's value in order.

    The same instances as ``Statement(agreement_id=…, …)``: the fields not given take their
    defaults, asked of each field once for the batch rather than once per statement (they are
    plain values, shared safely; a test keeps them so).
    """
    fields = Statement._meta.concrete_fields
    values = [field.get_default() for field in fields]
    at = {field.attname: index for index, field in enumerate(fields)}
    for attname, value in (("period", period), ("run_id", run_id), ("generated_at", now)):
        values[at[attname]] = value
    agreement_at, vendor_at, currency_at = at["agreement_id"], at["vendor_id"], at["currency"]
    new = []
    for agreement in agreements:
        values[agreement_at], values[vendor_at], values[currency_at] = (
            agreement.pk,
            agreement.vendor_id,
            agreement.currency,
        )
        new.append(Statement(*values))
    return new


def _take_ids(new: list[Statement]) -> None:
    """Give new statements the next ids of the table's sequence, without inserting them."""
    if not new:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Statement._meta.db_table, len(new)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for statement, pk in zip(new, ids, strict=True):
        statement.pk = pk


def _insert_statements(new: list[Statement], now: datetime.datetime) -> None:
    """Insert new statements, ids and totals set, by one INSERT from their columns (``unnest_rows``, PostgreSQL).

    Each column's values are prepared as ``bulk_create`` prepares them, once per distinct value
    (most columns hold one value for the whole batch); ``created_at`` and ``updated_at`` get ``now``.
    """
    fields = list(Statement._meta.concrete_fields)
    # The connection itself, not the ``django.db.connection`` proxy, which looks it up again on
    # every attribute the fields' preparation reads (a few microseconds each, thousands a batch).
    db = transaction.get_connection()
    columns, types = [], []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for statement in new:
                setattr(statement, f.attname, now)
        values = [getattr(statement, f.attname) for statement in new]
        prepared = {value: f.get_db_prep_save(value, db) for value in set(values)}
        columns.append([prepared[value] for value in values])
        types.append("bigint" if f.primary_key else str(f.db_type(db)).split("(")[0])
    q = db.ops.quote_name
    values_sql, params = unnest_rows(list(zip(*columns, strict=True)), types)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(Statement)} ({', '.join(q(f.column) for f in fields)}) {values_sql}",  # noqa: S608 (names from the model)
            params,
        )
    for statement in new:
        statement._state.adding, statement._state.db = False, connection.alias


def _save_statements(
    plans: dict[int, _Plan],
    statements: dict[int, Statement],
    new: list[Statement],
    totals: dict[int, tuple[Decimal, Decimal, int]],
    run,
    now,
) -> None:
    """Give every statement its totals: new ones inserted with them on PostgreSQL, the others updated."""
    for agreement_id, statement in statements.items():
        total, equity, _ = totals[agreement_id]
        statement.total = check_total(total, "total")
        statement.equity_total = check_total(equity, "equity_total")
        statement.generated_at, statement.updated_at = now, now
        statement.currency = plans[agreement_id].agreement.currency
        if run is not None:
            statement.run = run
    postgresql = connection.vendor == "postgresql"
    if postgresql and new:
        _insert_statements(new, now)
    inserted = {s.pk for s in new} if postgresql else set()
    ops = connection.ops
    rows = [
        (
            ops.adapt_decimalfield_value(s.total, TOTAL_DIGITS, 2),
            ops.adapt_decimalfield_value(s.equity_total, TOTAL_DIGITS, 2),
            ops.adapt_datetimefield_value(now),
            s.currency,
            s.run_id,
            ops.adapt_datetimefield_value(now),
            s.pk,
        )
        for s in statements.values()
        if s.pk not in inserted
    ]
    if not rows:
        return
    q = ops.quote_name
    with connection.cursor() as cursor:
        if postgresql:
            # One UPDATE for the batch's redrafted statements, its values as one array per column.
            types = ("numeric", "numeric", "timestamptz", "varchar", "bigint", "timestamptz", "bigint")
            values_sql, values = unnest_rows(rows, types)
            cursor.execute(
                f"UPDATE {_table(Statement)} AS s SET {q('total')} = v.total, {q('equity_total')} = v.equity, "
                f"{q('generated_at')} = v.generated_at, {q('currency')} = v.currency, {q('run_id')} = v.run_id, "
                f"{q('updated_at')} = v.updated_at FROM ({values_sql}) "
                "AS v(total, equity, generated_at, currency, run_id, updated_at, id) WHERE s.id = v.id",
                values,
            )
            return
        cursor.executemany(
            f"UPDATE {_table(Statement)} SET {q('total')} = %s, {q('equity_total')} = %s, {q('generated_at')} = %s, "
            f"{q('currency')} = %s, {q('run_id')} = %s, {q('updated_at')} = %s WHERE {q('id')} = %s",
            rows,
        )


def _line_row(statement: Statement, draft: engine.LineDraft) -> tuple:
    """A drafted line as a row of ``LINE_COLUMNS``."""
    return (
        statement.pk,
        draft.kind,
        draft.description[:300],
        draft.attribution_id,
        draft.revenue,
        draft.account_year,
        draft.rate,
        draft.amount,
        draft.corrects_period,
        draft.order,
    )


def _write_lines(plans, statements, period) -> dict[int, tuple[Decimal, Decimal, int]]:
    """Every line of the batch's statements, the account lines by one INSERT ... SELECT; returns the totals.

    The retainer, equity and adjustment lines go with the account lines (``_insert_lines``); a tax
    line, which depends on the sum of the account lines, is written after them.
    """
    shares, others, numbered = [], [], {}
    for agreement_id, plan in plans.items():
        statement = statements[agreement_id]
        if plan.rule is not None:
            shares.append((statement, plan.agreement.engagement_id, plan.rule, len(plan.fixed)))
        fixed = engine.numbered(plan.fixed)
        adjustments = engine.numbered(plan.adjustments, first=len(plan.fixed) + 2)
        numbered[agreement_id] = (fixed, adjustments)
        others += [_line_row(statement, draft) for draft in fixed + adjustments]
    sums = _insert_lines(shares, others, period)

    taxes, totals = [], {}
    for agreement_id, plan in plans.items():
        statement = statements[agreement_id]
        count, account_sum = sums.get(statement.pk, (0, Decimal("0.00")))
        fixed, adjustments = numbered[agreement_id]
        version = engine.terms_for(plan.terms, period)
        accounts = [engine.LineDraft(kind=engine.REVENUE_SHARE, description="", amount=account_sum)]
        taxed = tax.tax_line(
            version.tax if version else None, fixed + accounts + adjustments, order=len(fixed) + 2 + len(adjustments)
        )
        if taxed is not None:
            adjustments = [*adjustments, taxed]
            taxes.append(_line_row(statement, taxed))
        lines = fixed + adjustments
        total = engine.total_of(lines) + account_sum
        equity = sum((d.amount for d in lines if d.kind == engine.EQUITY_ACCRUAL), Decimal("0")).quantize(engine.CENT)
        totals[agreement_id] = (total, equity, len(lines) + count)
    _create_lines(taxes)
    return totals


def _mark_carried_queries(plans: dict[int, _Plan], statements: dict[int, Statement]) -> None:
    """Record on each accepted query the statement that now carries its adjustment line."""
    for agreement_id, plan in plans.items():
        if plan.query_ids:
            # unscoped: operator (statement generation runs only inside operator_scope())
            StatementQuery.all_objects.filter(pk__in=plan.query_ids).update(
                adjustment_statement=statements[agreement_id]
            )


@transaction.atomic(savepoint=False)  # inside a caller's transaction its error ends that one: no savepoint
def statements_write(
    *,
    agreements: list[Billed],
    period: datetime.date,
    run=None,
    actor=None,
    skip_finished: bool = False,
) -> Written:
    """Compute and store the draft statements of ``agreements`` for ``period``, in one transaction.

    Approved, issued and paid statements are left as they are; drafts are replaced. Agreements
    with revenue in a foreign currency are refused (``Written.failed``) and the others written.
    With ``skip_finished`` an agreement past its tail with nothing to bill gets no statement.
    Each statement comes back with its vendor (``Billed.vendor``) set, not its agreement.
    """
    period = engine.first_of_month(period)
    written = Written()
    if not agreements:
        return written
    ids = [a.pk for a in agreements]
    terms = terms_of(agreements)
    for attempt in range(2):
        existing = _lock_existing(ids, period)
        todo = []
        for agreement in agreements:
            found = existing.get(agreement.pk)
            if found is not None and found.is_locked:
                found.vendor = agreement.vendor
                written.statements[agreement.pk] = found
            else:
                todo.append(agreement)
        refused = _foreign_currency(todo, period)
        written.failed.update(refused)
        todo = [a for a in todo if a.pk not in refused]
        plans = _plan(todo, period, existing, terms, skip_finished, written)
        now = timezone.now()
        try:
            with transaction.atomic():  # a savepoint: a concurrent run's statement makes this fail alone
                statements, new = _statements(plans, existing, period, run, now)
                for agreement_id, statement in statements.items():
                    statement.vendor = plans[agreement_id].agreement.vendor
                totals = _write_lines(plans, statements, period)
                _save_statements(plans, statements, new, totals, run, now)
            break
        except IntegrityError:
            # Another run created some of these statements a moment ago: lock them too and start again.
            if attempt:
                raise
            written = Written()
    _mark_carried_queries(plans, statements)

    audit_records(
        actor=actor,
        verb="statement.generated",
        entries=[
            (
                statement,
                statement.vendor_id,
                {"period": period.isoformat(), "total": str(totals[agreement_id][0]), "lines": totals[agreement_id][2]},
            )
            for agreement_id, statement in statements.items()
        ],
    )
    written.statements.update(statements)
    return written
