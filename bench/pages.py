"""Benchmark: every role's pages and API lists at production speed, against the login page in the same run.

Run it from the project root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tmw_bench .venv/bin/python bench/pages.py \
        [--seconds 20] [--scale 1] [--pages partner_home,api_msps] [--concurrency 4] [--workers 2]

It builds a database of its own (with ``DATABASE_URL`` pointing at PostgreSQL it drops and creates
``<that name>_pages``; without it, a throwaway SQLite file): the demo data set (``seed_demo``), whose
query counts it records page by page, then the scaled data set on top (at ``--scale 1``: 20,000 MSPs,
200 vendors, about 150 desks of 50 opportunities, about 1,700 statements over 12 months, 100 events;
built with the other benchmarks' builders), whose query counts it records again. Then it collects the
static files and serves the database with gunicorn (``DEBUG`` off, ``--workers`` workers), logs in as
each role and loads each page for ``--seconds`` at ``--concurrency`` keep-alive connections, after the
floor, the login page (a GET: a session-less page through the same middleware). It prints

    page NAME: R req/s, p50 X ms, p95 Y ms, ratio Z

per page (Z: its throughput as a share of the floor's, measured again for a quarter of the time right
before the page, so that drift in the machine's load within a run does not land on one page), then
``worst page ratio: Z``. Goal: every page at
least 0.20 of the floor. The query counts at the two sizes must be equal (the script exits 1 otherwise).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SECRET = "bench-pages-secret-key-not-for-production-use-0123456789abcdef"
GOAL = 0.20
SERVE_ENV: dict[str, str] = {}
FRESH = {"Cache-Control": "no-cache"}  # the page rendered afresh, as on its first load after a write


@dataclass
class Page:
    """A page to load: its name, who loads it, and how to find its URL in the data set."""

    name: str
    login: str  # a demo login (email), "" for anonymous, or "token:<email>" for the API
    url: Callable[[], str]
    queries: dict[str, int] = field(default_factory=dict)


def database_url(base: str | None, reuse: bool = False) -> tuple[str, str | None]:
    """A database of the benchmark's own: ``<name>_pages`` next to a PostgreSQL URL, else a SQLite file."""
    if base and base.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(base)
        name = (parts.path.lstrip("/") or "tmw") + "_pages"
        if reuse:
            return urlunsplit(parts._replace(path=f"/{name}")), None
        admin = urlunsplit(parts._replace(path="/postgres"))
        import psycopg

        with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(parts._replace(path=f"/{name}")), None
    fd, path = tempfile.mkstemp(prefix="bench-pages-", suffix=".sqlite3")
    os.close(fd)
    return f"sqlite:///{path}", path


def setup_django(url: str, static_root: str, media_root: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="tmw.settings",
        SECRET_KEY=SECRET,
        DEBUG="0",
        STATIC_ROOT=static_root,
        MEDIA_ROOT=media_root,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        EMAIL_URL="dummymail://",
    )
    # Built with tasks in-process; served with REDIS_URL, when it is set, as production is: the shared cache
    # (sessions and the page cache) and the broker. Without it, no page is kept (tmw/pagecache.py).
    SERVE_ENV["REDIS_URL"] = os.environ.pop("REDIS_URL", "")
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    logging.disable(logging.ERROR)  # no log lines inside the timings (nor the demo's PDF renders)


# --- the scaled data set --------------------------------------------------------------------------------


def build_scaled(scale: float) -> dict:
    """MSPs, vendors, desks with pipelines, a year of statements and events, on top of the demo data."""
    import statement_run
    import target_scoring
    from django.db import connection
    from django.utils import timezone

    from commissions import services as commissions_services
    from commissions.models import Statement
    from commissions.selectors import previous_month
    from community.models import Event
    from diagnostics.models import Diagnostic
    from diagnostics.services import target_list_build
    from engagements.models import Engagement, Opportunity
    from tmw.accounts import policy
    from tmw.accounts.models import Organisation, User
    from tmw.directory.models import MSPContact, MSPProfile
    from tmw.months import add_months

    n_msps = max(50, int(20000 * scale))
    n_desks = max(3, int(150 * scale))
    n_vendors = max(n_desks + 1, int(200 * scale))
    per_desk = 50 if scale >= 0.05 else 10
    n_events = max(3, int(100 * scale))
    rng = random.Random(152)
    started = time.perf_counter()

    target_scoring.build_directory(n_msps, "bench-pages")
    msp_profiles = list(MSPProfile.objects.filter(organisation__slug__startswith="bench-pages-msp-"))
    msp_ids = [p.organisation_id for p in msp_profiles]
    MSPContact.objects.bulk_create(
        [
            MSPContact(
                msp=p,
                name=f"Contact {k} of {p.legal_name}",
                email=f"contact{k}@{p.organisation.slug}.example",
                title="Owner" if k == 0 else "Service manager",
            )
            for p in msp_profiles
            for k in range(2)
        ],
        batch_size=2000,
    )

    # Desks with a year of statements: the statement run benchmark's builder, then 11 more months of revenue.
    period = previous_month()
    statement_run.build(n_desks, 5, period)
    from commissions.models import RevenueReport

    reports = list(RevenueReport.objects.filter(vendor__slug__startswith=f"{statement_run.PREFIX}-v-", period=period))
    months = [add_months(period, -k) for k in range(11, 0, -1)]
    RevenueReport.objects.bulk_create(
        [
            RevenueReport(
                attribution_id=r.attribution_id,
                vendor_id=r.vendor_id,
                period=month,
                amount=r.amount + k,
                currency=r.currency,
                source=r.source,
            )
            for r in reports
            for k, month in enumerate(months)
        ],
        batch_size=2000,
    )
    for month in [*months, period]:
        commissions_services.statement_run_start(period=month, actor=policy.SYSTEM)
    # Months before the last two are issued and paid, as finance would have left them.
    old = Statement.objects.filter(
        vendor__slug__startswith=f"{statement_run.PREFIX}-v-", period__lt=add_months(period, -1)
    ).order_by("period", "pk")
    now = timezone.now()
    issued = []
    for k, statement in enumerate(old):
        statement.status = Statement.Status.PAID if k % 3 else Statement.Status.ISSUED
        statement.number = f"TMW-B{k + 1:06d}"
        statement.issued_at = now
        statement.paid_on = now.date() if statement.status == Statement.Status.PAID else None
        issued.append(statement)
    Statement.objects.bulk_update(issued, ["status", "number", "issued_at", "paid_on"], batch_size=1000)

    # Vendors without a desk yet, and the pipelines of every bench desk.
    Organisation.objects.bulk_create(
        [
            Organisation(kind="vendor", name=f"bench-pages Vendor {i:04d}", slug=f"bench-pages-v-{i:04d}")
            for i in range(n_vendors - n_desks)
        ],
        batch_size=1000,
    )
    stages = [s for s, _ in Opportunity.Stage.choices]
    desks = list(Engagement.objects.filter(vendor__slug__startswith=f"{statement_run.PREFIX}-v-"))
    desks += list(Engagement.objects.exclude(vendor__slug__startswith=f"{statement_run.PREFIX}-v-"))
    opportunities = []
    for desk in desks:
        taken = set(desk.opportunities.values_list("msp_id", flat=True))
        for msp_id in rng.sample(msp_ids, per_desk):
            if msp_id in taken:
                continue
            opportunities.append(
                Opportunity(
                    engagement=desk,
                    vendor_id=desk.vendor_id,
                    msp_id=msp_id,
                    stage=rng.choice(stages),
                    source=rng.choice(["tmw", "vendor"]),
                    expected_mrr=Decimal(rng.randint(5, 300) * 100),
                )
            )
    Opportunity.objects.bulk_create(opportunities, batch_size=2000)

    host = User.objects.get(email="dana.whitfield@themspworks.example")
    soon = timezone.now() + datetime.timedelta(days=3)
    Event.objects.bulk_create(
        [
            Event(
                kind=rng.choice(["pitch", "focus_group", "dinner", "working_group"]),
                title=f"Bench community event {i:03d}",
                starts_at=soon + datetime.timedelta(days=i),
                ends_at=soon + datetime.timedelta(days=i, hours=2),
                venue="Austin, TX",
                capacity=40,
                host=host,
            )
            for i in range(n_events)
        ]
    )

    # Every diagnostic's target list scored against the whole directory: 250 entries each.
    partner = host
    for diagnostic in Diagnostic.objects.filter(ideal_partner_profile__isnull=False).exclude(status="complete"):
        target_list_build(diagnostic=diagnostic, actor=partner)

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # statistics and visibility, as autovacuum keeps them on a live database
    return {
        "msps": MSPProfile.objects.count(),
        "vendors": Organisation.objects.filter(kind="vendor").count(),
        "desks": Engagement.objects.count(),
        "opportunities": Opportunity.objects.count(),
        "statements": Statement.objects.count(),
        "events": Event.objects.count(),
        "seconds": time.perf_counter() - started,
    }


# --- the pages --------------------------------------------------------------------------------------------

PARTNER = "dana.whitfield@themspworks.example"
FINANCE = "priya.raman@themspworks.example"
VENDOR = "jordan.reyes@sentinel-backup.example"
MSP = "taylor.garcia@bluewater-systems.example"


def _largest_desk():
    from django.db.models import Count

    from engagements.models import Engagement

    return Engagement.objects.annotate(n=Count("opportunities")).order_by("-n", "pk").first()


def _desk_url() -> str:
    return f"/engagements/{_largest_desk().pk}/board/"


def _desk_detail_url() -> str:
    return f"/engagements/{_largest_desk().pk}/"


def _target_list_url() -> str:
    from django.db.models import Count

    from diagnostics.models import TargetList

    target_list = TargetList.objects.annotate(n=Count("entries")).order_by("-n", "-pk").first()
    return f"/diagnostics/{target_list.diagnostic_id}/targets/"


def _event_url() -> str:
    from django.db.models import Count

    from community.models import Event

    event = Event.objects.annotate(n=Count("invitations")).order_by("-n", "pk").first()
    return f"/community/events/{event.pk}/"


PAGES = [
    Page("partner_home", PARTNER, lambda: "/partner/"),
    Page("finance_home", FINANCE, lambda: "/finance/"),
    Page("msp_directory", PARTNER, lambda: "/diagnostics/msps/?country=US&service=managed_it"),
    Page("pipeline_board", PARTNER, _desk_url),
    Page("desk", PARTNER, _desk_detail_url),
    Page("target_list", PARTNER, _target_list_url),
    Page("vendor_portal", VENDOR, lambda: "/portal/"),
    Page("msp_home", MSP, lambda: "/msp/"),
    Page("api_msps", "token:" + VENDOR, lambda: "/api/v1/msps/"),
    Page("event", PARTNER, _event_url),
    Page("statements", FINANCE, lambda: "/commissions/statements/"),
    Page("vendor_statements", VENDOR, lambda: "/commissions/portal/statements/"),
]
FLOOR = Page("login", "", lambda: "/accounts/login/")


def page_url(page: Page) -> str:
    from tmw.accounts.tenancy import operator_scope

    with operator_scope():
        return page.url()


def credentials(login: str) -> dict[str, str]:
    """Request headers that carry a real session (or API token) of the user."""
    if not login:
        return {}
    from django.test import Client

    from tmw.accounts.models import User

    if login.startswith("token:"):
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=User.objects.get(email=login.removeprefix("token:")))
        return {"Authorization": f"Token {token.key}"}
    client = Client()
    client.force_login(User.objects.get(email=login))
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def count_queries(pages: list[Page], size: str) -> None:
    """Load each page once in-process and record how many queries it ran (after one warm-up load)."""
    from django.db import connection
    from django.test import Client

    for page in pages:
        headers = credentials(page.login)
        client = Client(headers=headers) if headers else Client()
        url = page_url(page)
        first = client.get(url)
        assert first.status_code == 200, f"{page.name} {url}: {first.status_code}"
        page.queries[size] = queries_of(connection, lambda client=client, url=url: client.get(url))


def queries_of(connection, fn: Callable[[], object]) -> int:
    """How many statements ``fn`` sends to the database (counted at the cursor, whatever DEBUG says)."""
    sent = [0]

    def counter(execute, sql, params, many, context):
        sent[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return sent[0]


# --- the load -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(
    port: int, url: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[int, list[float], int]:
    """GET ``url`` from ``concurrency`` keep-alive connections for ``seconds``; (errors, latencies, cache hits)."""
    latencies: list[float] = []
    errors = [0]
    hits = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad = kept = 0
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                conn.request("GET", url, headers={"Host": "127.0.0.1", **headers})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
                if response.getheader("X-Page-Cache") == "hit":
                    kept += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad
            hits[0] += kept

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors[0], latencies, hits[0]


def serve(url: str, static_root: str, media_root: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, **SERVE_ENV, "DATABASE_URL": url, "STATIC_ROOT": static_root, "MEDIA_ROOT": media_root}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "tmw.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        + ["--worker-class", "gthread", "--threads", "1", "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


@dataclass
class Measured:
    rps: float
    p50: float
    p95: float
    errors: int
    hits: int
    requests: int

    def line(self, name: str, floor: float) -> str:
        note = f", {self.errors} errors" if self.errors else ""
        kept = f", {self.hits * 100 // max(1, self.requests)} % from the page cache" if self.hits else ""
        return (
            f"page {name}: {self.rps:.1f} req/s, p50 {self.p50:.1f} ms, p95 {self.p95:.1f} ms, "
            f"ratio {self.rps / floor if floor else 0.0:.3f}{note}{kept} (floor just before: {floor:.1f} req/s)"
        )


def measure(port: int, page: Page, seconds: float, concurrency: int, fresh: bool = False) -> Measured:
    url, headers = page_url(page), {**credentials(page.login), **(FRESH if fresh else {})}
    load(port, url, headers, min(1.0, seconds / 4), concurrency)  # warm every worker's caches and connections
    started = time.perf_counter()
    errors, latencies, hits = load(port, url, headers, seconds, concurrency)
    elapsed = time.perf_counter() - started
    if not latencies:
        return Measured(0.0, 0.0, 0.0, errors, 0, 0)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    return Measured(
        len(latencies) / elapsed, statistics.median(latencies) * 1000, p95 * 1000, errors, hits, len(latencies)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per page")
    parser.add_argument("--scale", type=float, default=1.0, help="size of the scaled data set (1: 20,000 MSPs)")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--reuse", action="store_true", help="PostgreSQL only: serve the data set the last run built (no query counts)"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    chosen = [p for p in PAGES if not args.pages or p.name in args.pages.split(",")]
    unknown = set(filter(None, args.pages.split(","))) - {p.name for p in PAGES}
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}; known: {', '.join(p.name for p in PAGES)}")

    url, throwaway = database_url(os.environ.get("DATABASE_URL"), reuse=args.reuse)
    if args.reuse and throwaway:
        parser.error("--reuse needs DATABASE_URL pointing at PostgreSQL")
    work = tempfile.mkdtemp(prefix="bench-pages-")
    static_root, media_root = os.path.join(work, "static"), os.path.join(work, "media")
    process = None
    try:
        setup_django(url, static_root, media_root)
        from django.core.management import call_command
        from django.db import connection

        from tmw.accounts.tenancy import operator_scope

        if not args.reuse:
            started = time.perf_counter()
            call_command("seed_demo", quiet=True)
            print(f"Demo data set built in {time.perf_counter() - started:.1f} s ({connection.vendor}).")
            count_queries(chosen, "demo")
            with operator_scope():
                sizes = build_scaled(args.scale)
            print(
                f"Scaled data set built in {sizes.pop('seconds'):.1f} s: "
                + ", ".join(f"{v:,} {k}" for k, v in sizes.items())
                + "."
            )
        count_queries(chosen, "scaled")
        connection.close()

        process, port = serve(url, static_root, media_root, args.workers)
        print(f"gunicorn: {args.workers} workers, DEBUG off; load: {args.concurrency} connections, {args.seconds:g} s.")
        floor = measure(port, FLOOR, args.seconds, args.concurrency)
        print(f"floor {FLOOR.name}: {floor.rps:.1f} req/s, p50 {floor.p50:.1f} ms, p95 {floor.p95:.1f} ms")
        cache = "on (REDIS_URL)" if SERVE_ENV.get("REDIS_URL") else "off (no REDIS_URL)"
        print(f"page cache: {cache}; each page is measured as served, then rendered afresh (Cache-Control: no-cache)")
        worst: dict[bool, float] = {}
        unequal = []
        for page in chosen:
            for fresh in (False, True):
                # The floor again right before each page, so that a page is compared with the machine as it
                # was then (on a shared machine the load of others drifts within a run).
                near = measure(port, FLOOR, max(1.0, args.seconds / 4), args.concurrency).rps
                measured = measure(port, page, args.seconds, args.concurrency, fresh=fresh)
                print(measured.line(page.name + (" rendered" if fresh else ""), near))
                ratio = measured.rps / near if near else 0.0
                worst[fresh] = min(worst.get(fresh, ratio), ratio)
            print(f"  queries {page.name}: demo {page.queries.get('demo', '-')}, scaled {page.queries['scaled']}")
            if not args.reuse and page.queries["demo"] != page.queries["scaled"]:
                unequal.append(page.name)
        print(f"worst rendered page ratio: {worst[True]:.3f}")
        print(f"worst page ratio: {worst[False]:.3f} (goal: >= {GOAL:.2f})")
        if unequal:
            print(f"query counts differ between the two sizes: {', '.join(unequal)}")
            sys.exit(1)
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
        if throwaway:
            from django.db import connections

            connections.close_all()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(throwaway + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
