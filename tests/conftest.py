"""Shared fixtures: the two-tenant world, logged-in clients, a real Celery worker, headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
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


def skip_or_fail(reason: str) -> None:
    """Skip when a service is missing on a laptop; fail in CI (REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture
def world(db):
    """Two vendors, two MSPs, a user per role, one object of every tenant-owned model per side."""
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
