"""Benchmark: a monthly statement run over 1,000 agreements with 100 attributed accounts each.

Run it from the project root:

    DEBUG=1 .venv/bin/python bench/statement_run.py [--agreements 1000] [--accounts 100] [--renders 7] [--repeats 15]

It uses its own throwaway SQLite file unless DATABASE_URL is set (then use a database of
its own: the run writes about 300,000 rows and removes them afterwards; on PostgreSQL the
tables it deletes from are vacuumed). It builds the agreements, one month of revenue per
account (100,000 revenue lines), then times in the same run:

- the statement run: ``statement_run_start`` through the real services and Celery tasks,
  run in-process (the run fans out one task per batch of ``STATEMENT_RUN_BATCH_SIZE``
  agreements; each batch writes its statements, lines and audit rows in one transaction);
- the bare write: the same lines copied again by one ``INSERT ... SELECT`` and committed,
  with nothing computed (goal: the run at most 1.5 times that). The run and the bare write
  are timed in ``--repeats`` pairs and the median pair ratio is the result;
- the floor: one SQL query computing the same totals (retainer plus the revenue share of
  every account, rounded per line) without writing anything;

and prints them, the run's parts and what each costs beyond the bare write, their ratios,
whether every agreement's total agrees to the cent, and the cost per agreement at a tenth of the
size and at the full size. Then the
median time to render a two-page statement PDF of the run against all of its own text in one
bare unstyled table, as ``bench/pdf.py`` compares a document (goal: at most 2.0), and a blank
one-page PDF.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFIX = "bench-stmt"
RATES = (Decimal("0.15"), Decimal("0.10"), Decimal("0.05"))


def setup_django() -> str | None:
    """Configure Django on a throwaway SQLite file unless DATABASE_URL is given; returns the file to delete."""
    throwaway = None
    if not os.environ.get("DATABASE_URL"):
        fd, throwaway = tempfile.mkstemp(prefix="bench-statement-run-", suffix=".sqlite3")
        os.close(fd)
        os.environ["DATABASE_URL"] = f"sqlite:///{throwaway}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
    media = tempfile.mkdtemp(prefix="bench-statement-media-")
    os.environ.setdefault("MEDIA_ROOT", media)
    import django
    from django.conf import settings

    django.setup()
    # DEBUG=1 serves static files for the PDF without collectstatic; queries are not recorded, as in production.
    settings.DEBUG = False
    from django.apps import apps

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    from tmw.celery import app
    from tmw.heap import freeze_startup_heap

    app.conf.task_always_eager = True  # the run is timed in-process, whatever REDIS_URL says
    # As a worker's pool process starts: the task modules imported, then its start-up heap frozen.
    app.loader.init_worker()
    freeze_startup_heap()
    import logging

    logging.disable(logging.WARNING)  # no per-task or per-page log lines inside the timings
    return throwaway


def build(n_agreements: int, n_accounts: int, period: datetime.date) -> list[int]:
    """Vendors, engagements, agreements (one terms version, 15/10/5 %), accounts and one month of revenue."""
    from commissions.models import Agreement, AgreementTerms, RevenueReport, RevenueShareStep
    from engagements.models import Attribution, Engagement
    from tmw.accounts.models import Organisation, Role, User

    operator = Organisation.objects.create(kind="operator", name=f"{PREFIX} TMW", slug=f"{PREFIX}-tmw")
    partner = User.objects.create_user(f"{PREFIX}@bench.example", "x", organisation=operator, role=Role.PARTNER)
    vendors = Organisation.objects.bulk_create(
        [
            Organisation(kind="vendor", name=f"{PREFIX} Vendor {i:04d}", slug=f"{PREFIX}-v-{i:04d}")
            for i in range(n_agreements)
        ],
        batch_size=1000,
    )
    engagements = Engagement.objects.bulk_create(
        [
            Engagement(
                vendor=v, option="B", status="active", lead_partner=partner, start_date=datetime.date(2024, 1, 1)
            )
            for v in vendors
        ],
        batch_size=1000,
    )
    agreements = Agreement.objects.bulk_create(
        [Agreement(engagement=e, vendor_id=e.vendor_id, currency="USD") for e in engagements], batch_size=1000
    )
    terms = AgreementTerms.objects.bulk_create(
        [
            AgreementTerms(
                agreement=a,
                effective_month=datetime.date(2024, 1, 1),
                monthly_amount=Decimal("5000.00") + i,
                tail_months=6,
            )
            for i, a in enumerate(agreements)
        ],
        batch_size=1000,
    )
    RevenueShareStep.objects.bulk_create(
        [RevenueShareStep(terms=t, year=y, rate=r) for t in terms for y, r in enumerate(RATES, start=1)],
        batch_size=3000,
    )
    msps = Organisation.objects.bulk_create(
        [
            Organisation(kind="msp", name=f"{PREFIX} MSP {i:04d}-{j:03d}", slug=f"{PREFIX}-m-{i:04d}-{j:03d}")
            for i in range(n_agreements)
            for j in range(n_accounts)
        ],
        batch_size=2000,
    )
    starts = period.replace(year=period.year - 1) + datetime.timedelta(days=31)  # all accounts in year 1
    attributions = Attribution.objects.bulk_create(
        [
            Attribution(
                engagement=engagements[k // n_accounts],
                vendor_id=engagements[k // n_accounts].vendor_id,
                msp=msp,
                starts_on=starts,
                reason="bench",
            )
            for k, msp in enumerate(msps)
        ],
        batch_size=2000,
    )
    # Amounts never fall on a half cent at 15 % (cents % 20 != 10), so the floor's ROUND agrees exactly.
    RevenueReport.objects.bulk_create(
        [
            RevenueReport(
                attribution=a,
                vendor_id=a.vendor_id,
                period=period,
                amount=Decimal(1000 + (k % 997)) + Decimal("0.33"),
                currency="USD",
                source="finance",
            )
            for k, a in enumerate(attributions)
        ],
        batch_size=2000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        # Statistics for the tables just filled, as autovacuum would have them on a live database.
        # Not for the statement tables: analysed while empty, their statistics would steer the
        # foreign-key checks of the run's lines into sequential scans of a table that grows.
        models = (Organisation, Engagement, Agreement, AgreementTerms, RevenueShareStep, Attribution, RevenueReport)
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return [a.pk for a in agreements]


FLOOR_SQL = """
SELECT ag.id, t.monthly_amount + COALESCE(SUM(ROUND(r.amount * s.rate, 2)), 0)
FROM commissions_agreement ag
JOIN commissions_agreementterms t ON t.agreement_id = ag.id
JOIN engagements_attribution a ON a.engagement_id = ag.engagement_id
JOIN commissions_revenuereport r ON r.attribution_id = a.id AND r.period = %s
JOIN commissions_revenuesharestep s ON s.terms_id = t.id AND s.year = 1
GROUP BY ag.id, t.monthly_amount
"""


def bare_write(period: datetime.date) -> tuple[int, float, float]:
    """Time writing the run's own lines again with no logic at all: a copy in one statement, committed.

    What no statement run can go below: the same rows, indexes and foreign keys, and the commit that
    makes them durable (on PostgreSQL the foreign keys are checked and the log flushed there), with
    nothing computed. The copies are deleted afterwards, outside the timing. Returns the rows, the
    seconds in all and the seconds of the ``INSERT`` alone (the rest is the commit).
    """
    from django.db import connection, transaction

    from commissions.models import Statement, StatementLine

    table = connection.ops.quote_name(StatementLine._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in StatementLine._meta.concrete_fields if not f.primary_key
    )
    # The run's statements by a subquery, not a list of ids: no size runs into SQLite's limit on parameters.
    statements = Statement.objects.filter(period=period, vendor__slug__startswith=f"{PREFIX}-v-").values("pk")
    subquery, params = statements.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (names from the model)
        last = cursor.fetchone()[0]
    # Names come from the model's metadata, values are parameters.
    sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table} WHERE statement_id IN ({subquery})"  # noqa: S608
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
        inserted = time.perf_counter() - start
    elapsed = time.perf_counter() - start
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id > %s AND statement_id IN ({subquery})", [last, *params])  # noqa: S608
    return rows, elapsed, inserted


def pages(pdf: bytes) -> int | None:
    """The page count of a PDF (pdfinfo), or None without poppler."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        try:
            out = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def pdf_bench(renders: int, period: datetime.date) -> None:
    """A two-page statement of this run against its own text in a bare table (``pdf.py``'s comparison)."""
    try:
        from commissions.pdf import TEMPLATE, render_statement_pdf, statement_context
    except ImportError:
        print("PDF: n/a (no statement renderer yet)")
        return
    import weasyprint
    from pdf import compare, median_ms  # bench/pdf.py, beside this script

    from commissions import services
    from commissions.models import Agreement, Statement
    from tmw.accounts import policy
    from tmw.pdf import _font_config

    # The smallest number of revenue lines that makes a two-page statement.
    agreement = Agreement.objects.select_related("engagement", "vendor").order_by("pk").first()
    statement = Statement.objects.get(agreement=agreement, period=period)
    all_lines = list(statement.lines.order_by("order"))
    chosen = None
    for keep in (20, 30, 40, 50, 60, 70, 85, 100):
        statement.lines.exclude(pk__in=[line.pk for line in all_lines[:keep]]).delete()
        count = pages(render_statement_pdf(statement)[2])
        if count is None or count >= 2:
            chosen = (keep, count)
            break
        services.statement_generate(agreement=agreement, period=period, actor=policy.SYSTEM)  # restore every line
        statement = Statement.objects.get(agreement=agreement, period=period)
        all_lines = list(statement.lines.order_by("order"))
    blank_ms = median_ms(  # with the same kept font configuration as the statement's renders
        renders,
        lambda: weasyprint.HTML(string="<html><body><p> </p></body></html>").write_pdf(font_config=_font_config()),
    )
    print(f"PDF floor (blank one-page PDF), median of {renders}: {blank_ms:8.1f} ms")
    label = f"statement of {chosen[0]} lines, {chosen[1] or '?'} pages" if chosen else "statement"
    compare(label, TEMPLATE, statement_context(statement), renders)


def cleanup() -> None:
    """Remove what the benchmark created (for a shared DATABASE_URL), in one DELETE per table.

    Each DELETE names its rows by a subquery on the benchmark's slugs, never by a list of ids, so
    no size runs into SQLite's limit on query parameters, and no row passes through Python.
    """
    from commissions.models import (
        Agreement,
        AgreementTerms,
        RevenueReport,
        RevenueShareStep,
        Statement,
        StatementLine,
        StatementRun,
    )
    from engagements.models import Attribution, Engagement
    from tmw.accounts.models import AuditEvent, Organisation, User

    def manager(model):
        return getattr(model, "all_objects", model.objects)  # unscoped: the benchmark's own rows, by slug

    vendors = manager(Organisation).filter(slug__startswith=f"{PREFIX}-v-").values("pk")
    statements = manager(Statement).filter(vendor__in=vendors).values("pk")
    deletions = [
        manager(StatementLine).filter(statement__in=statements),
        manager(AuditEvent).filter(organisation__in=vendors),
        manager(Statement).filter(vendor__in=vendors, credit_note_for__isnull=False),
        manager(Statement).filter(vendor__in=vendors),
        manager(StatementRun).filter(started_by__isnull=True, statements__isnull=True),
        manager(RevenueReport).filter(vendor__in=vendors),
        manager(RevenueShareStep).filter(terms__agreement__vendor__in=vendors),
        manager(AgreementTerms).filter(agreement__vendor__in=vendors),
        manager(Agreement).filter(vendor__in=vendors),
        manager(Attribution).filter(vendor__in=vendors),
        manager(Engagement).filter(vendor__in=vendors),
        manager(Organisation).filter(slug__startswith=f"{PREFIX}-v-"),
        manager(Organisation).filter(slug__startswith=f"{PREFIX}-m-"),
        manager(User).filter(email=f"{PREFIX}@bench.example"),
        manager(Organisation).filter(slug=f"{PREFIX}-tmw"),
    ]
    for queryset in deletions:
        # A plain DELETE ... WHERE ... IN (SELECT ...): no cascade collection, no signals (none apply here).
        queryset.order_by()._raw_delete(queryset.db)
    vacuum([queryset.model for queryset in deletions])


def vacuum(models) -> None:
    """On PostgreSQL, VACUUM the tables rows were deleted from, as autovacuum would on a live database.

    Without it (autovacuum may be off on a test machine) each run of the benchmark leaves its deleted
    rows behind, and every later run, the bare write as much as the statement run, pays for the bloat.
    """
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    tables = ", ".join(dict.fromkeys(connection.ops.quote_name(model._meta.db_table) for model in models))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {tables}")


def remove_run(period: datetime.date) -> None:
    """Remove a month's statements of the benchmark's vendors, their lines, audit rows and runs (then VACUUM)."""
    from commissions.models import Statement, StatementLine, StatementRun
    from tmw.accounts.models import AuditEvent

    statements = Statement.all_objects.filter(period=period, vendor__slug__startswith=f"{PREFIX}-v-")
    deletions = (
        StatementLine.all_objects.filter(statement__in=statements.values("pk")),
        AuditEvent.objects.filter(organisation__slug__startswith=f"{PREFIX}-v-"),
        statements,
        StatementRun.objects.filter(period=period, statements__isnull=True),
    )
    for queryset in deletions:
        queryset.order_by()._raw_delete(queryset.db)
    vacuum([queryset.model for queryset in deletions])


def checkpoint() -> None:
    """On PostgreSQL, write out what the build left in memory before anything is timed (``CHECKPOINT``).

    The build writes some 300,000 rows. Left to itself, the database writes those pages out in a
    checkpoint spread over the next minutes, in the middle of the timed pairs: the disk then serves
    the checkpoint and the commits at once, and a pair's two sides slow down by chance, by up to
    half. Both sides start from the same written-out state; neither is spared work of its own.
    """
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        return
    start = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as error:  # a role without pg_checkpoint: say so and time anyway
        print(f"Checkpoint before the timings: not allowed ({error}); a checkpoint may fall inside them.")
        return
    print(f"Checkpoint before the timings: {(time.perf_counter() - start) * 1000:.0f} ms.")


def warm_up(period: datetime.date) -> None:
    """One run over the month before, then removed: what a worker that has run before has loaded and cached.

    The timed run then finds the modules imported, the task machinery set up and the tables in the
    database's cache, as every monthly run but a server's first does.
    """
    from commissions import services
    from tmw.accounts import policy
    from tmw.months import add_months

    earlier = add_months(period, -1)
    services.statement_run_start(period=earlier, actor=policy.SYSTEM)
    remove_run(earlier)


class Parts:
    """Where the run's time goes: its lines' INSERT, the other queries, the commits, and the rest (Python).

    Two clocks around what the run does anyway: one on every query (``connection.execute_wrapper``),
    one on every commit, where PostgreSQL checks the deferred foreign keys and flushes the log.
    """

    def __init__(self, connection):
        self.connection = connection
        self.lines = self.queries = self.commits = 0.0
        self.counts = {"lines": 0, "queries": 0, "commits": 0}

    def _query(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            if "INSERT INTO" in sql and "commissions_statementline" in sql and "commissions_revenuereport" in sql:
                self.lines += elapsed
                self.counts["lines"] += 1
            else:
                self.queries += elapsed
                self.counts["queries"] += 1

    def __enter__(self):
        commit = self.connection.commit

        def timed_commit():
            start = time.perf_counter()
            try:
                return commit()
            finally:
                self.commits += time.perf_counter() - start
                self.counts["commits"] += 1

        self.connection.commit = timed_commit
        self._wrapper = self.connection.execute_wrapper(self._query)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
        del self.connection.commit  # the class's own method again
        return False

    def beyond(self, total: float, bare: float, insert: float) -> dict[str, float]:
        """What the run spends beyond a bare write of ``bare`` seconds (``insert`` of them its INSERT), by part.

        The lines' select is the run's lines statement less the bare INSERT of the same lines: the
        joins that read the batch's attributions, revenue, names and rates. The commits are less the
        bare write's one commit; the other queries and Python the bare write has none of.
        """
        return {
            "lines' select": self.lines - insert,
            "commits": self.commits - (bare - insert),
            "other queries": self.queries,
            "Python": total - self.lines - self.queries - self.commits,
        }

    def report(self, total: float, batches: int) -> str:
        rest = total - self.lines - self.queries - self.commits
        return (
            f"Run's parts: lines INSERT ... SELECT {self.lines * 1000:.0f} ms ({self.counts['lines']}), "
            f"commits {self.commits * 1000:.0f} ms ({self.counts['commits']}), "
            f"other queries {self.queries * 1000:.0f} ms ({self.counts['queries'] / max(1, batches):.0f} per batch "
            f"of {batches}), Python {rest * 1000:.0f} ms"
        )


def measure(n_agreements: int, n_accounts: int, period: datetime.date, *, report: bool, repeats: int = 1) -> float:
    """Build, run and check one size; prints the figures (all of them with ``report``); returns the run's seconds."""
    from django.db import connection

    from commissions import services
    from commissions.models import Statement, StatementLine, StatementRun
    from tmw.accounts import policy

    cleanup()
    start = time.perf_counter()
    ids = build(n_agreements, n_accounts, period)
    print(
        f"Built {len(ids):,} agreements × {n_accounts} accounts = {len(ids) * n_accounts:,} revenue lines "
        f"in {time.perf_counter() - start:.1f} s ({connection.vendor})."
    )

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [period])
            return {pk: Decimal(str(total)).quantize(Decimal("0.01")) for pk, total in cursor.fetchall()}

    floor()  # warm the cache the same way the run will find it
    start = time.perf_counter()
    floor_totals = floor()
    floor_s = time.perf_counter() - start
    warm_up(period)
    checkpoint()

    with Parts(connection) as parts:
        start = time.perf_counter()
        run = services.statement_run_start(period=period, actor=policy.SYSTEM)
        run_s = time.perf_counter() - start
    run = StatementRun.objects.get(pk=run.pk)
    stored = dict(Statement.objects.filter(period=period, agreement_id__in=ids).values_list("agreement_id", "total"))
    agree = sum(1 for pk in ids if stored.get(pk) == floor_totals.get(pk))
    lines = StatementLine.objects.filter(statement__period=period, statement__vendor__slug__startswith=PREFIX).count()
    print(f"Run {run.status}: {run.done:,} of {run.total:,} agreements, {lines:,} statement lines written.")
    print(
        f"Totals agree to the cent: {'yes' if agree == len(ids) else 'NO'} ({agree:,} of {len(ids):,} agreements; "
        f"sum {sum(stored.values(), Decimal('0')):,} vs {sum(floor_totals.values(), Decimal('0')):,})"
    )
    print(f"Cost per agreement at {len(ids):,} agreements: {run_s / len(ids) * 1000:.2f} ms")
    if not report:
        return run_s
    batches = len(services.statement_run_batches(ids))
    # The run and the bare write, in pairs, several times: on a shared machine one timing alone
    # varies by a fifth. Each pair runs on the same state (the run before removed and vacuumed).
    pairs, beyond = [], []
    for repeat in range(1, repeats + 1):
        if repeat > 1:
            remove_run(period)
            with Parts(connection) as parts:
                start = time.perf_counter()
                services.statement_run_start(period=period, actor=policy.SYSTEM)
                run_s = time.perf_counter() - start
        copied, bare_s, insert_s = bare_write(period)
        pairs.append((run_s, bare_s))
        beyond.append(parts.beyond(run_s, bare_s, insert_s))
        print(
            f"Repeat {repeat} of {repeats}: run {run_s * 1000:.0f} ms, bare write {bare_s * 1000:.0f} ms "
            f"(INSERT {insert_s * 1000:.0f} ms, commit {(bare_s - insert_s) * 1000:.0f} ms), "
            f"ratio {run_s / bare_s:.2f}. {parts.report(run_s, batches)}"
        )
    run_s = statistics.median(r for r, _ in pairs)
    bare_s = statistics.median(b for _, b in pairs)
    print(f"Floor (one SQL query, same totals):   {floor_s * 1000:10.1f} ms")
    print(
        f"Statement run (services, in-process), median of {repeats}: {run_s * 1000:10.1f} ms   "
        f"ratio {run_s / floor_s:.1f}x floor"
    )
    print(
        f"Writing the same {copied:,} lines alone (a copy, committed), median: {bare_s * 1000:10.1f} ms   "
        f"ratio {bare_s / floor_s:.1f}x floor"
    )
    ratio = statistics.median(r / b for r, b in pairs)
    print(
        f"run/bare-write ratio: {ratio:.2f}, median of {repeats} pairs "
        f"(goal: <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})"
    )
    extra = {part: statistics.median(b[part] for b in beyond) for part in beyond[0]}
    print(
        "Beyond the bare write, medians of the pairs: "
        + ", ".join(f"{part} {seconds * 1000:+.0f} ms" for part, seconds in extra.items())
    )
    reading = statistics.median((b + e["lines' select"]) / b for (_, b), e in zip(pairs, beyond, strict=True))
    print(f"The bare write with the lines' select (reading the run's inputs), against the bare write: {reading:.2f}")
    return run_s


def run(n_agreements: int, n_accounts: int, renders: int, repeats: int) -> None:
    from commissions.selectors import previous_month
    from tmw.accounts.tenancy import operator_scope

    period = previous_month()
    with operator_scope():
        # A tenth of the size first: the cost per agreement must stay the same (the run is linear).
        tenth = max(1, n_agreements // 10)
        small_s = measure(tenth, n_accounts, period, report=False)
        full_s = measure(n_agreements, n_accounts, period, report=True, repeats=repeats)
        growth = (full_s / n_agreements) / (small_s / tenth)
        print(f"Cost per agreement, full size against a tenth: {growth:.2f}x (1.00: linear)")
        if renders > 0:  # --renders 0: the run alone
            pdf_bench(renders, period)
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--renders", type=int, default=7)
    # 15 pairs: on this machine the median of 9 pairs moved by ±0.12 from one bench run to the next.
    parser.add_argument("--repeats", type=int, default=15, help="pairs of run and bare write at the full size")
    args = parser.parse_args()
    throwaway = setup_django()
    try:
        run(args.agreements, args.accounts, args.renders, max(1, args.repeats))
    finally:
        if throwaway:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(throwaway + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
