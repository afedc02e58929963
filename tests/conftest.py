"""Shared fixtures: the two-tenant world, logged-in clients, a real Celery worker, headless Chromium.

Speed without losing isolation:

- The world is built once per test database (once per xdist worker) inside an outer
  transaction; each test's own ``db`` transaction is a savepoint in it and rolls back, and
  each test gets a deep copy of the world's objects (as ``TestCase.setUpTestData`` does).
  Tests that need ``transactional_db`` (live server, real worker) build their own world.
- Under pytest-xdist every worker has its own test database (pytest-django appends the
  worker id) and its own Redis database: REDIS_URL's number plus the worker's number.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.factories import build_world

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Playwright's sync API runs an event loop in the test thread; the live-server tests still use the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Property tests judge correctness, not speed: a busy CI machine must not fail them.
hypothesis_settings.register_profile(
    "tmw", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
hypothesis_settings.load_profile("tmw")


def worker_redis_url(url: str, worker: str) -> str:
    """The Redis URL for one xdist worker: ``gwN`` uses database number REDIS_URL's + N (mod 16)."""
    match = re.fullmatch(r"gw(\d+)", worker)
    if not url or not match:
        return url
    base, _, db = url.rpartition("/")
    if not db.isdigit() or "//" not in base:
        base, db = url.rstrip("/"), "0"
    return f"{base}/{(int(db) + int(match.group(1))) % 16}"


XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER and settings.REDIS_URL:
    # Settings are loaded before this file; the broker of this process and of the workers it starts moves here.
    _url = worker_redis_url(settings.REDIS_URL, XDIST_WORKER)
    settings.REDIS_URL = settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = _url
    from tmw.celery import app as _celery_app

    _celery_app.conf.broker_url = _celery_app.conf.result_backend = _url


def skip_or_fail(reason: str) -> None:
    """Skip when a service is missing on a laptop; fail in CI (REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def is_transactional(item: pytest.Item) -> bool:
    """Whether the test commits for real (``transactional_db``, ``live_server``, ``django_db(transaction=True)``)."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    names = getattr(item, "fixturenames", ())
    return "transactional_db" in names or "live_server" in names


def shares_world(item: pytest.Item) -> bool:
    """Whether the test can use the world built once per test database."""
    return "world" in getattr(item, "fixturenames", ()) and not is_transactional(item)


class SharedWorld:
    """The world built once inside an outer transaction per database; tests nest in it and roll back."""

    def __init__(self) -> None:
        self.atomics: dict[str, transaction.Atomic] = {}
        self.world = None
        self.blocker = None

    @property
    def is_open(self) -> bool:
        return self.world is not None

    def open(self, blocker) -> None:
        if self.is_open:
            return
        self.blocker = blocker
        with blocker.unblock():
            for alias in connections:
                atomic = transaction.atomic(using=alias)
                atomic._from_testcase = True  # durable blocks inside are allowed, as under TestCase
                atomic.__enter__()
                self.atomics[alias] = atomic
            try:
                self.world = build_world()
            except BaseException:
                self._rollback()
                raise

    def close(self) -> None:
        if self.atomics:
            with self.blocker.unblock():
                self._rollback()
        self.world = None

    def _rollback(self) -> None:
        for alias, atomic in reversed(list(self.atomics.items())):
            transaction.set_rollback(True, using=alias)
            atomic.__exit__(None, None, None)
        self.atomics = {}

    def nested_depth(self) -> int:
        """How many atomic blocks are open on the default connection besides this one's."""
        return len(connections["default"].atomic_blocks) - (1 if self.atomics else 0)


SHARED_WORLD = SharedWorld()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that share the world first (after pytest-django's own ordering), so it is built rarely."""
    items.sort(key=lambda item: 0 if shares_world(item) else 1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Roll the shared world back before a test that must not see it sets up its database."""
    if SHARED_WORLD.is_open and not shares_world(item):
        SHARED_WORLD.close()
    return (yield)


@pytest.fixture(scope="session")
def _shared_world_store(django_db_setup, django_db_blocker):
    yield SHARED_WORLD
    SHARED_WORLD.close()


@pytest.fixture(autouse=True)
def _shared_world(request):
    """Open the shared world before the test's own transaction starts (autouse runs before ``db``)."""
    if shares_world(request.node):
        store = request.getfixturevalue("_shared_world_store")
        if store.nested_depth() == 0:
            store.open(request.getfixturevalue("django_db_blocker"))
    yield


@pytest.fixture
def world(request, db):
    """Two vendors, two MSPs, a user per role, one object of every tenant-owned model per side.

    A fresh copy of the world built once per test database; a transactional test builds its own.
    """
    if SHARED_WORLD.is_open and shares_world(request.node):
        return copy.deepcopy(SHARED_WORLD.world)
    return build_world()


@pytest.fixture
def client_for():
    """``client_for(user)`` gives a test client logged in as that user."""

    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process in tests unless a test starts a real worker."""
    from celery._state import _set_task_join_will_block

    from tmw.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    _set_task_join_will_block(False)  # this process is never a worker, whatever an earlier test loaded
    yield


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """No page a test keeps is served in the next one (each test's writes are rolled back, not undone)."""
    from tmw import pagecache

    pagecache.invalidate()
    yield


@pytest.fixture
def without_page_cache(settings):
    """Every load renders its page: for tests that count what rendering a page costs."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def celery_worker_process(transactional_db):
    """Start a real Celery worker on REDIS_URL against the test database; stop it afterwards."""
    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set: no real broker to test against")
    if not uses_postgres():
        skip_or_fail("a real worker shares the test database only on PostgreSQL")
    from tmw.celery import app

    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tmw.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    app.control.purge()
    # The worker's writes move its own process's page cache on, not this one's: pages are rendered afresh here.
    no_page_cache = override_settings(PAGE_CACHE_SECONDS=0)
    no_page_cache.enable()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tmw",
            "worker",
            "--pool=solo",
            "--loglevel=warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.task_always_eager = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"Celery worker exited early:\n{proc.stdout.read()}")
            replies = app.control.ping(timeout=1.0) or []
            if any(f"test-{os.getpid()}@" in name for reply in replies for name in reply):
                break
        else:
            pytest.fail("Celery worker did not answer a ping within 60 s")
        yield proc
    finally:
        app.conf.task_always_eager = True
        no_page_cache.disable()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- Browser tests: real headless Chromium driven by Playwright against a live server.


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM}")
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }
