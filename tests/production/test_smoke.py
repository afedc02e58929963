"""The app started as in production, driven by real headless Chromium: every role's home and one money path.

A fresh PostgreSQL database, ``DEBUG`` off with a generated ``SECRET_KEY``, ``migrate``,
``collectstatic`` into a temporary folder, ``seed_demo``, then gunicorn (2 workers, whitenoise
serving the static files), a Celery worker and beat, each a subprocess with the environment of
docker-compose.yml (plain http on loopback, so the secure-cookie and redirect switches are off).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT, XDIST_WORKER, skip_or_fail

pytestmark = [pytest.mark.production, pytest.mark.browser]

PASSWORD = "channel-desk-demo"  # the demo users' password (README)
ROLES = {
    "partner": ("dana.whitfield@themspworks.example", "/partner/", "Portfolio"),
    "finance": ("priya.raman@themspworks.example", "/finance/", "Finance"),
    "admin": ("admin@themspworks.example", "/partner/", "Portfolio"),
    "vendor admin": ("jordan.reyes@sentinel-backup.example", "/portal/", "Sentinel"),
    "MSP member": ("taylor.garcia@bluewater-systems.example", "/msp/", "Bluewater"),
}
VENDOR_ADMINS = {
    "Sentinel Backup": "jordan.reyes@sentinel-backup.example",
    "Lumen AI Ops": "henrik.lund@lumen-aiops.example",
}


def _worker_number() -> int:
    match = re.fullmatch(r"gw(\d+)", XDIST_WORKER)
    return int(match.group(1)) if match else 0


def smoke_database_url(url: str) -> str:
    """The URL of this test's own database (one per xdist worker) on the server of ``url``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/tmw_smoke_{XDIST_WORKER or 'main'}"))


def smoke_redis_url(url: str) -> str:
    """This test's own Redis database: REDIS_URL's number plus 8 plus the xdist worker's number (mod 16).

    The other tests of a worker use REDIS_URL's number plus the worker's number; this one stays clear of them.
    """
    parts = urlsplit(url)
    db = parts.path.strip("/")
    number = (int(db) if db.isdigit() else 0) + 8 + _worker_number()
    return urlunsplit(parts._replace(path=f"/{number % 16}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """The subprocesses of one production-like start, with their logs."""

    workdir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    helpers: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def run(self, name: str, *args: str, timeout: float = 300) -> None:
        log = self.logs.setdefault(name, self.workdir / f"{name}.log")
        started = time.monotonic()
        with log.open("w") as out:
            result = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if result.returncode:
            pytest.fail(f"manage.py {' '.join(args)} exited with {result.returncode}:\n{log.read_text()}")
        print(f"{name}: {time.monotonic() - started:.1f} s")

    def run_in_background(self, name: str, *args: str) -> subprocess.Popen:
        """A ``manage.py`` command that needs neither the database nor the others, next to them."""
        return self.start(name, sys.executable, "manage.py", *args, keep=False)

    def finish(self, name: str, proc: subprocess.Popen, timeout: float = 300) -> None:
        started = time.monotonic()
        if proc.wait(timeout=timeout):
            pytest.fail(f"{name} exited with {proc.returncode}:\n{self.logs[name].read_text()}")
        print(f"{name}: done {time.monotonic() - started:.1f} s after the rest")

    def start(self, name: str, *command: str, keep: bool = True) -> subprocess.Popen:
        log = self.logs.setdefault(name, self.workdir / f"{name}.log")
        out = log.open("w")
        # A session of its own, so that stopping it reaches gunicorn's and Celery's child processes too.
        proc = subprocess.Popen(
            list(command), cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        if keep:
            self.processes[name] = proc
        else:
            self.helpers[name] = proc
        return proc

    def wait_for_log(self, name: str, pattern: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.logs[name].read_text()):
                return
            self.assert_running()
            time.sleep(0.2)
        pytest.fail(f"{name} did not log {pattern!r} within {timeout:.0f} s")

    def assert_running(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}")

    def stop(self) -> None:
        for proc in [*self.helpers.values(), *self.processes.values()]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.helpers.values(), *self.processes.values()]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def print_logs(self) -> None:
        for name, log in self.logs.items():
            print(f"\n===== {name} ({log}) =====\n{log.read_text() if log.exists() else '(no log)'}")


def _admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


@pytest.fixture
def stack(tmp_path, request):
    """migrate, collectstatic, seed_demo; then gunicorn (2 workers), a Celery worker and beat. Yields the base URL."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        skip_or_fail("DATABASE_URL is not a PostgreSQL URL: the production smoke test needs PostgreSQL")
    if not redis_url:
        skip_or_fail("REDIS_URL is not set: the production smoke test needs Redis")
    import psycopg
    import redis

    db_url, broker_url = smoke_database_url(database_url), smoke_redis_url(redis_url)
    db_name = urlsplit(db_url).path.lstrip("/")
    try:
        admin = _admin_connection(database_url)
    except psycopg.OperationalError as exc:
        skip_or_fail(f"PostgreSQL does not answer: {exc}")
    broker = redis.Redis.from_url(broker_url)
    try:
        broker.flushdb()
    except redis.ConnectionError as exc:
        skip_or_fail(f"Redis does not answer: {exc}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{db_name}"')

    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AWS_", "PYTEST_", "TEST_")) and key not in {"DEBUG", "SECRET_KEY"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tmw.settings",
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": db_url,
            "REDIS_URL": broker_url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "STATIC_ROOT": str(tmp_path / "staticfiles"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "AWS_STORAGE_BUCKET_NAME": "",  # files on the local disk, whatever a .env says
            "EMAIL_URL": "consolemail://",
            "PYTHONUNBUFFERED": "1",
        }
    )
    bin_dir = Path(sys.executable).parent
    stack = Stack(workdir=tmp_path, env=env)
    try:
        started = time.monotonic()
        # collectstatic (compressing every file, the slowest step) runs beside migrate and seed_demo.
        collectstatic = stack.run_in_background("collectstatic", "collectstatic", "--noinput")
        stack.run("migrate", "migrate", "--noinput")
        stack.run("seed_demo", "seed_demo")
        stack.finish("collectstatic", collectstatic)
        stack.start(
            "web",
            str(bin_dir / "gunicorn"),
            "tmw.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        )
        celery = [str(bin_dir / "celery"), "-A", "tmw"]
        stack.start("worker", *celery, "worker", "--loglevel=info", "--concurrency=2", "-n", f"smoke-{os.getpid()}@%h")
        stack.start("beat", *celery, "beat", "--loglevel=info", "--schedule", str(tmp_path / "celerybeat-schedule"))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            stack.assert_running()
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # still starting, or busy
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not answer /healthz with 200 within 60 s")
            time.sleep(0.3)
        stack.wait_for_log("worker", r"ready\.")
        stack.wait_for_log("beat", r"beat: Starting")
        print(f"web, worker and beat up: {time.monotonic() - started:.1f} s")
        yield stack, base
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            stack.print_logs()
        stack.assert_running()
    except BaseException:
        stack.print_logs()
        raise
    finally:
        stack.stop()
        with contextlib.suppress(Exception), _admin_connection(database_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        with contextlib.suppress(Exception):
            broker.flushdb()


class Watch:
    """Every response with a 5xx status and every console error of a page."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def attach(self, page) -> None:
        page.on("response", lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))


def login(browser, base: str, email: str, watch: Watch):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    watch.attach(page)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return context, page


def test_production_start_serves_every_role_and_the_money_path(stack, browser):
    stack_, base = stack
    watch = Watch()
    started = time.monotonic()

    # Static files come from whitenoise, compressed and with hashed names, with DEBUG off.
    with urllib.request.urlopen(f"{base}/accounts/login/", timeout=10) as response:  # noqa: S310
        html = response.read().decode()
        policy = response.headers["Content-Security-Policy"] or ""
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
        assert "camera=()" in (response.headers["Permissions-Policy"] or "")
    css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', html)
    assert css, "the login page links no hashed stylesheet"
    request = urllib.request.Request(f"{base}{css.group(1)}", headers={"Accept-Encoding": "gzip"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"

    # Every role lands on its home with 200.
    for role, (email, path, heading) in ROLES.items():
        context, page = login(browser, base, email, watch)
        response = page.goto(f"{base}{path}")
        assert page.url == f"{base}{path}", role
        assert response.status == 200, role
        assert "unsafe-inline" not in response.headers["content-security-policy"], role
        assert heading in page.locator("h1").first.inner_text(), role
        context.close()

    # Finance starts last month's statement run; the real worker runs it while the page polls.
    context, page = login(browser, base, ROLES["finance"][0], watch)
    page.goto(f"{base}/commissions/runs/")
    page.click("#start-run")
    page.wait_for_url(re.compile(r".*/commissions/runs/\d+/$"))
    page.locator("#run-progress [role=progressbar]").wait_for()
    # A locator wait, not wait_for_function: the page's policy forbids the eval that polling uses.
    expect(page.locator("#run-progress [role=progressbar]")).to_have_attribute("aria-valuenow", "100", timeout=60000)
    assert page.locator("#run-progress").get_attribute("data-status") == "done"

    # It approves and issues the first draft, and downloads the stored PDF.
    vendor = next(name for name in VENDOR_ADMINS if page.locator(f"#run-progress >> text={name}").count())
    page.click(f"#run-progress >> text={vendor}")
    page.wait_for_url(re.compile(r".*/commissions/statements/\d+/$"))
    statement_url = page.url
    page.click("#statement-actions button:has-text('Approve')")
    page.wait_for_load_state("networkidle")
    assert "Approved" in page.locator(".page-head").inner_text()
    page.click("#statement-actions button:has-text('Issue')")
    page.wait_for_load_state("networkidle")
    number = re.search(r"TMW-\d{4}-\d{4}", page.locator("h1").inner_text())
    assert number, page.locator("h1").inner_text()
    with page.expect_download() as info:
        page.click("#download-pdf")
    finance_pdf = Path(info.value.path()).read_bytes()
    assert finance_pdf.startswith(b"%PDF")
    assert info.value.suggested_filename.startswith(number.group(0))
    context.close()

    # The vendor admin of that statement's vendor finds it in the portal and downloads the same PDF.
    context, page = login(browser, base, VENDOR_ADMINS[vendor], watch)
    page.goto(f"{base}/commissions/portal/statements/")
    row = page.locator("tr", has_text=number.group(0))
    assert row.count() == 1, f"{number.group(0)} is not in the portal"
    with page.expect_download() as info:
        row.locator("a:has-text('PDF')").click()
    assert Path(info.value.path()).read_bytes() == finance_pdf
    context.close()

    print(f"browser: {time.monotonic() - started:.1f} s")
    assert statement_url.startswith(base)
    assert watch.problems == []
    stack_.assert_running()
