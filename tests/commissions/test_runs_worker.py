"""A real Celery worker through Redis, killed in the middle of a statement run, then a rerun."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from django.conf import settings

from commissions import services
from commissions.models import Agreement, RevenueReport, Statement, StatementRun
from engagements.models import Attribution
from tests.commissions.money import agreement, engagement, lines_of
from tests.conftest import ROOT
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope

MARCH = datetime.date(2025, 3, 1)
AGREEMENTS = 40
ACCOUNTS = 200


def start_worker(name: str) -> subprocess.Popen:
    """Another worker process on the same broker and test database (like ``celery_worker_process``)."""
    from tmw.celery import app

    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tmw.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tmw", "worker", "--pool=solo", "--loglevel=warning"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the second worker exited early"
        replies = app.control.ping(timeout=1.0) or []
        if any(f"{name}@" in host for reply in replies for host in reply):
            return proc
    proc.kill()
    pytest.fail("the second worker did not answer a ping")


def build(world) -> list[int]:
    """AGREEMENTS agreements with ACCOUNTS attributed accounts each and a month of revenue (bulk inserts)."""
    ids = []
    with operator_scope():
        for i in range(AGREEMENTS):
            side = world.a if i % 2 == 0 else world.b
            eng = engagement(side.vendor, world.partner, start=datetime.date(2025, 1, 1))
            agr = agreement(eng, world.finance, monthly_amount=Decimal("2500.00") + i)
            msps = Organisation.all_objects.bulk_create(
                [
                    Organisation(kind="msp", name=f"Worker MSP {i:02d}-{j:03d}", slug=f"worker-msp-{i:02d}-{j:03d}")
                    for j in range(ACCOUNTS)
                ]
            )
            attributions = Attribution.all_objects.bulk_create(
                [
                    Attribution(
                        engagement=eng, vendor=side.vendor, msp=msp, starts_on=datetime.date(2024, 9, 1), reason="TMW"
                    )
                    for msp in msps
                ]
            )
            RevenueReport.all_objects.bulk_create(
                [
                    RevenueReport(
                        attribution=a,
                        vendor=side.vendor,
                        period=MARCH,
                        amount=Decimal(1000 + j) + Decimal("0.33"),
                        currency="USD",
                        source="finance",
                    )
                    for j, a in enumerate(attributions)
                ]
            )
            ids.append(agr.pk)
    return ids


def check_whole(ids) -> dict[int, tuple]:
    """Every stored statement equals a fresh in-process computation: no half statement anywhere."""
    found = {}
    with operator_scope():
        for statement in Statement.objects.filter(agreement_id__in=ids, period=MARCH):
            agr = Agreement.objects.select_related("engagement").get(pk=statement.agreement_id)
            expected = services.statement_compute(agreement=agr, period=MARCH)
            stored = lines_of(statement)
            assert len(stored) == len(expected) == ACCOUNTS + 1
            assert [(x[0], x[1], x[5]) for x in stored] == [(d.kind, d.attribution_id, d.amount) for d in expected]
            assert statement.total == sum((d.amount for d in expected), Decimal("0"))
            found[statement.agreement_id] = (statement.pk, statement.total, stored)
    return found


@pytest.mark.worker
@pytest.mark.postgres
def test_a_worker_killed_mid_run_leaves_no_half_statement_and_a_rerun_completes(celery_worker_process, world):
    ids = build(world)
    with operator_scope():
        first = services.statement_run_start(period=MARCH, actor=world.finance)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if Statement.all_objects.filter(agreement_id__in=ids, period=MARCH).count() >= 3:
            break
        time.sleep(0.01)
    os.kill(celery_worker_process.pid, signal.SIGKILL)
    celery_worker_process.wait(timeout=30)

    at_kill = check_whole(ids)
    assert 3 <= len(at_kill) < AGREEMENTS, "the worker should die in the middle of the run"
    with operator_scope():
        assert StatementRun.objects.get(pk=first.pk).status == "running"

    second_worker = start_worker(f"rerun-{os.getpid()}")
    try:
        with operator_scope():
            rerun = services.statement_run_start(period=MARCH, actor=world.finance)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with operator_scope():
                rerun.refresh_from_db()
            if rerun.is_finished:
                break
            time.sleep(0.2)
        assert rerun.status == "done", (rerun.status, rerun.done, rerun.total, rerun.error)
        after = check_whole(ids)
        assert set(after) == set(ids)
        # The statements written before the kill are the same rows with the same lines.
        assert {k: after[k] for k in at_kill} == at_kill
        with operator_scope():
            assert Statement.objects.filter(agreement_id__in=ids, period=MARCH).count() == AGREEMENTS
    finally:
        second_worker.terminate()
        try:
            second_worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            second_worker.kill()
