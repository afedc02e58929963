"""Statement runs: fan-out, progress, reruns, failures, the schedule, missing reports; concurrency on PostgreSQL."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from commissions import engine, services, tasks
from commissions.models import Agreement, RevenueReport, Statement, StatementRun
from commissions.selectors import finance_summary, missing_revenue_reports, previous_month
from tests.commissions.money import D, agreement, attribute, engagement, fake_pdf, lines_of, report
from tests.conftest import skip_or_fail, uses_postgres
from tmw.accounts.models import AuditEvent
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope, tenant_scope

MARCH = datetime.date(2025, 3, 1)


@pytest.fixture(autouse=True)
def _fake_renderer(monkeypatch):
    monkeypatch.setattr(services.statements, "_render_pdf", fake_pdf)


def build_desks(world, count: int = 3, accounts: int = 2, period: datetime.date = MARCH) -> list[Agreement]:
    """``count`` agreements (alternating vendors) with ``accounts`` reporting accounts each."""
    agreements = []
    with operator_scope():
        for i in range(count):
            vendor = (world.a if i % 2 == 0 else world.b).vendor
            eng = engagement(vendor, world.partner, start=datetime.date(2025, 1, 1))
            agr = agreement(eng, world.finance, monthly_amount=D("1000.00") + i)
            for _ in range(accounts):
                report(
                    attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1)), period, "1000.00", world.finance
                )
            agreements.append(agr)
    return agreements


def run_now(period, actor, capture):
    with operator_scope(), capture(execute=True):
        run = services.statement_run_start(period=period, actor=actor)
    run.refresh_from_db()
    return run


def snapshot(agreements, period):
    with operator_scope():
        result = {}
        for agr in agreements:
            statement = Statement.objects.get(agreement=agr, period=period, credit_note_for__isnull=True)
            result[agr.pk] = (statement.pk, statement.status, statement.total, lines_of(statement))
        return result


def test_a_run_computes_every_agreement_and_counts_its_progress(world, django_capture_on_commit_callbacks):
    agreements = build_desks(world)
    run = run_now(MARCH, world.finance, django_capture_on_commit_callbacks)
    with operator_scope():
        expected = Agreement.objects.filter(engagement__start_date__lte=datetime.date(2025, 3, 31)).count()
    assert (run.status, run.total, run.done, run.failed, run.percent) == ("done", expected, expected, 0, 100)
    assert run.finished_at is not None
    first = snapshot(agreements, MARCH)
    assert [v[2] for v in first.values()] == [D("1300.00"), D("1301.00"), D("1302.00")]
    with operator_scope():
        assert Statement.objects.filter(run=run).count() == expected
        # Each statement's history says who started the run that computed it.
        generated = AuditEvent.all_objects.filter(
            verb="statement.generated", object_id__in=[str(v[0]) for v in first.values()]
        )
        assert generated.count() == expected and {e.actor_id for e in generated} == {world.finance.pk}


def test_a_rerun_replaces_drafts_only_and_changes_nothing_else(world, django_capture_on_commit_callbacks):
    agreements = build_desks(world)
    run_now(MARCH, world.finance, django_capture_on_commit_callbacks)
    first = snapshot(agreements, MARCH)
    with operator_scope():
        issued = Statement.objects.get(pk=first[agreements[0].pk][0])
        services.statement_approve(statement=issued, actor=world.finance)
        services.statement_issue(statement=issued, actor=world.finance)
    rerun = run_now(MARCH, world.finance, django_capture_on_commit_callbacks)
    second = snapshot(agreements, MARCH)
    assert rerun.status == "done"
    assert {k: (v[0], v[2], v[3]) for k, v in second.items()} == {k: (v[0], v[2], v[3]) for k, v in first.items()}
    assert second[agreements[0].pk][1] == "issued"
    with operator_scope():
        assert Statement.objects.filter(period=MARCH, agreement__in=agreements).count() == 3


def break_agreement_with_retainer(monkeypatch, amount: Decimal) -> None:
    """Make the engine fail ("bad data") for the agreement whose monthly retainer is ``amount``."""
    real = engine.retainer_lines

    def broken(*, terms, period, start, stop):
        if terms and terms[-1].monthly_retainer == amount:
            raise RuntimeError("bad data")
        return real(terms=terms, period=period, start=start, stop=stop)

    monkeypatch.setattr(engine, "retainer_lines", broken)


def test_a_failing_agreement_is_counted_and_the_others_complete(world, django_capture_on_commit_callbacks, monkeypatch):
    """An unexpected error fails its batch, which is split into one task per agreement: only one fails."""
    agreements = build_desks(world)
    break_agreement_with_retainer(monkeypatch, D("1001.00"))  # the second agreement
    run = run_now(MARCH, world.finance, django_capture_on_commit_callbacks)
    assert run.status == "failed" and run.failed == 1 and run.done == run.total - 1
    assert f"Agreement {agreements[1].pk}: bad data" in run.error
    with operator_scope():
        assert not Statement.objects.filter(agreement=agreements[1], period=MARCH).exists()
        assert Statement.objects.filter(agreement__in=[agreements[0], agreements[2]], period=MARCH).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_agreement_is_counted_in_autocommit_mode_too(world, monkeypatch):
    """As in a worker: no surrounding transaction when the failure is recorded."""
    agreements = build_desks(world)
    break_agreement_with_retainer(monkeypatch, D("1002.00"))  # the third agreement
    with operator_scope():
        run = services.statement_run_start(period=MARCH, actor=world.finance)
    run.refresh_from_db()
    assert (run.status, run.failed, run.done) == ("failed", 1, run.total - 1)
    assert f"Agreement {agreements[2].pk}: bad data" in run.error


def test_revenue_in_a_foreign_currency_fails_its_agreement_and_not_the_batch(
    world, django_capture_on_commit_callbacks, settings
):
    settings.STATEMENT_RUN_BATCH_SIZE = 100  # all agreements in one batch
    agreements = build_desks(world)
    with operator_scope():
        RevenueReport.all_objects.filter(attribution__engagement=agreements[2].engagement).update(currency="CAD")
    run = run_now(MARCH, world.finance, django_capture_on_commit_callbacks)
    assert run.status == "failed" and run.failed == 1 and run.done == run.total - 1
    assert f"Agreement {agreements[2].pk}: Revenue in CAD cannot be billed on an agreement in USD." in run.error
    with operator_scope():
        assert not Statement.objects.filter(agreement=agreements[2], period=MARCH).exists()
        assert Statement.objects.filter(agreement__in=agreements[:2], period=MARCH).count() == 2


def test_agreements_past_their_tail_get_no_empty_statement(world, django_capture_on_commit_callbacks):
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2024, 1, 1), end=datetime.date(2024, 6, 30))
        old = agreement(eng, world.finance, tail_months=2)
    run_now(MARCH, world.finance, django_capture_on_commit_callbacks)
    with operator_scope():
        assert not Statement.objects.filter(agreement=old).exists()


def test_the_monthly_task_runs_last_month_and_is_scheduled(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.statement_run_monthly()
    with operator_scope():
        run = StatementRun.objects.get(pk=run_id)
    assert run.period == previous_month() and run.status == "done"
    schedule = settings.CELERY_BEAT_SCHEDULE["commissions-statement-run-monthly"]
    assert schedule["task"] == "commissions.statement_run_monthly"
    assert schedule["schedule"].day_of_month == {1} and schedule["schedule"].hour == {6}
    assert settings.CELERY_BEAT_SCHEDULE["commissions-missing-reports"]["task"] == "commissions.missing_reports_notify"


def test_runs_refuse_future_months_and_vendor_users(world):
    from tmw.errors import ApplicationError

    with operator_scope():
        with pytest.raises(ApplicationError):
            services.statement_run_start(period=timezone.localdate() + datetime.timedelta(days=40), actor=world.finance)
        with pytest.raises(ApplicationError) as err:
            services.statement_run_start(period=MARCH, actor=world.a.vendor_admin)
    assert err.value.status == 403


def test_missing_reports_are_flagged_to_finance_and_each_vendor(world):
    last = previous_month()
    with operator_scope():
        eng_a = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
        agreement(eng_a, world.finance)
        silent = attribute(eng_a, world.partner, starts_on=datetime.date(2025, 1, 1), name="Silent MSP")
        loud = attribute(eng_a, world.partner, starts_on=datetime.date(2025, 1, 1), name="Reported MSP")
        report(loud, last, "10.00", world.finance)
        eng_b = engagement(world.b.vendor, world.partner, start=datetime.date(2025, 1, 1))
        agreement(eng_b, world.finance)
        quiet_b = attribute(eng_b, world.partner, starts_on=datetime.date(2025, 1, 1), name="Quiet B MSP")
        everyone = {m.attribution_id for m in missing_revenue_reports()}
    assert {silent.pk, quiet_b.pk} <= everyone and loud.pk not in everyone
    with tenant_scope((world.a.vendor.pk,)):
        mine = {m.attribution_id for m in missing_revenue_reports()}
    assert silent.pk in mine and quiet_b.pk not in mine

    mail.outbox.clear()
    sent = tasks.missing_reports_notify_task(last.isoformat())
    assert sent == len(mail.outbox) == 3
    finance_mail = next(m for m in mail.outbox if world.finance.email in m.to)
    assert "Silent MSP" in finance_mail.body and "Quiet B MSP" in finance_mail.body
    vendor_a_mail = next(m for m in mail.outbox if world.a.vendor_admin.email in m.to)
    assert "Silent MSP" in vendor_a_mail.body and "Quiet B MSP" not in vendor_a_mail.body
    assert world.a.vendor_member.email not in vendor_a_mail.to


def test_finance_summary(world, django_capture_on_commit_callbacks):
    with operator_scope():
        summary = finance_summary()
    assert set(summary) == {
        "period",
        "counts",
        "outstanding",
        "paid_this_year",
        "missing_reports",
        "last_run",
        "monthly",
    }
    assert summary["period"] == previous_month()
    assert summary["counts"]["draft"] >= 1  # the world's draft statements for last month
    assert len(summary["monthly"]["labels"]) == 12


# --- PostgreSQL: real concurrency -------------------------------------------------------------


def _require_postgres():
    if not uses_postgres():
        skip_or_fail("concurrency needs PostgreSQL (set DATABASE_URL)")


def _in_threads(count: int, work):
    """Run ``work(i)`` in ``count`` threads released together; re-raise the first error."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    results: list = [None] * count

    def target(i):
        try:
            barrier.wait(timeout=30)
            with operator_scope():
                results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_give_one_statement_per_agreement(world):
    _require_postgres()
    agreements = build_desks(world, count=8, accounts=20)

    def start(i):
        return services.statement_run_start(period=MARCH, actor=world.finance).pk

    run_ids = _in_threads(2, start)
    with operator_scope():
        runs = list(StatementRun.objects.filter(pk__in=run_ids))
        assert all(run.status == "done" for run in runs), [(r.status, r.error) for r in runs]
        for agr in agreements:
            assert Statement.objects.filter(agreement=agr, period=MARCH).count() == 1
        totals = {s.agreement_id: s.total for s in Statement.objects.filter(period=MARCH, agreement__in=agreements)}
    assert totals == {agr.pk: D("1000.00") + i + D("3000.00") for i, agr in enumerate(agreements)}

    # Many generators of the same statements at once still give one each, all equal.
    def generate(i):
        return [services.statement_generate(agreement=agr, period=MARCH, actor=SYSTEM).pk for agr in agreements]

    results = _in_threads(4, generate)
    assert all(result == results[0] for result in results)
    with operator_scope():
        assert Statement.objects.filter(period=MARCH, agreement__in=agreements).count() == len(agreements)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_statement_numbers_are_gap_free_under_concurrency(world, monkeypatch):
    _require_postgres()
    agreements = build_desks(world, count=2, accounts=1)
    periods = [datetime.date(2025, m, 1) for m in range(1, 7)]
    with operator_scope():
        statements = []
        for agr in agreements:
            for period in periods:
                statement = services.statement_generate(agreement=agr, period=period, actor=SYSTEM)
                statements.append(services.statement_approve(statement=statement, actor=world.finance))
    failing = statements[3].pk

    def renderer(statement):
        if statement.pk == failing:
            raise RuntimeError("renderer down")
        return fake_pdf(statement)

    monkeypatch.setattr(services.statements, "_render_pdf", renderer)

    def issue(i):
        try:
            return services.statement_issue(statement=statements[i], actor=world.finance).number
        except RuntimeError:
            return None

    numbers = [n for n in _in_threads(len(statements), issue) if n]
    year = timezone.localdate().year
    assert sorted(numbers) == [f"TMW-{year}-{n:04d}" for n in range(1, len(statements))]
    with operator_scope():
        assert Statement.objects.get(pk=failing).status == "approved"
        assert Statement.objects.get(pk=failing).number is None


def test_decimal_only():
    """No float reaches the money code."""
    import inspect

    from commissions import engine, selectors

    for module in (engine, services, selectors, tasks):
        source = inspect.getsource(module)
        assert "float(" not in source
    assert Decimal("0.1") + Decimal("0.2") == Decimal("0.3")
