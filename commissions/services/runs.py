"""Monthly statement runs: creation, fan-out in batches, and counting what each batch did."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from commissions import engine, generation
from commissions.models import (
    Agreement,
    Statement,
    StatementRun,
)
from commissions.services._common import (
    Actor,
    _month,
    _validate,
)
from commissions.services.statements import statement_generate
from tmw.accounts import policy
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

__all__ = [
    "agreements_for_period",
    "statement_run_batches",
    "statement_run_fan_out",
    "statement_run_generate_batch",
    "statement_run_generate_one",
    "statement_run_now",
    "statement_run_record_failure",
    "statement_run_start",
]


def agreements_for_period(period: datetime.date) -> list[int]:
    """Ids of the agreements a run for ``period`` computes: engagements started by the end of the month."""
    period = _month(period)
    return list(
        Agreement.objects.filter(engagement__start_date__lte=engine.last_of_month(period))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def _run_create(*, period: datetime.date, actor: Actor) -> StatementRun:
    policy.require(actor, "statement.run", "start a statement run")
    period = _month(period)
    if period > engine.first_of_month(timezone.localdate()):
        raise ApplicationError("The month is in the future.", extra={"period": ["A month in the future."]})
    run = StatementRun(period=period, started_by=policy.user_of(actor))
    _validate(run)
    run.save()
    audit_record(actor=actor, verb="statement_run.started", obj=run, data={"period": period.isoformat()})
    return run


def statement_run_start(*, period: datetime.date, actor: Actor) -> StatementRun:
    """Start a statement run for a month: after commit a Celery task fans it out in batches of agreements."""
    run = _run_create(period=period, actor=actor)

    enqueue_on_commit("commissions.statement_run", run.pk)
    return run


def statement_run_now(*, period: datetime.date, actor: Actor) -> StatementRun:
    """Run a month's statement run to the end in this process, batch by batch (demo data, scripts)."""
    run = _run_create(period=period, actor=actor)
    for batch in statement_run_batches(statement_run_fan_out(run=run, actor=actor)):
        statement_run_generate_batch(run=run, agreement_ids=batch, actor=actor)
    run.refresh_from_db()
    return run


def statement_run_batches(agreement_ids: list[int]) -> list[list[int]]:
    """A run's agreements in batches of ``STATEMENT_RUN_BATCH_SIZE``, each written in one transaction."""
    size = max(1, settings.STATEMENT_RUN_BATCH_SIZE)
    return [agreement_ids[i : i + size] for i in range(0, len(agreement_ids), size)]


@transaction.atomic
def statement_run_fan_out(*, run: StatementRun, actor: Actor) -> list[int]:
    """Mark a run as running with the number of agreements to compute; returns their ids."""
    policy.require(actor, "statement.run", "start a statement run")
    run = StatementRun.objects.select_for_update().get(pk=run.pk)
    ids = agreements_for_period(run.period)
    run.total = len(ids)
    run.done = 0
    run.failed = 0
    run.status = StatementRun.Status.RUNNING if ids else StatementRun.Status.DONE
    run.started_at = timezone.now()
    run.finished_at = None if ids else run.started_at
    run.save()
    return ids


@transaction.atomic(savepoint=False)  # part of its caller's transaction when there is one
def _run_count(run_id: int, *, done: int = 0, failed: int = 0, errors: Iterable[str] = ()) -> None:
    """Add to a run's counters (and errors) and finish it when every agreement is counted."""
    changes: dict[str, object] = {}
    if done:
        changes["done"] = F("done") + done
    if failed:
        changes["failed"] = F("failed") + failed
    errors = list(errors)
    if errors:
        run = StatementRun.objects.select_for_update().only("error").get(pk=run_id)
        changes["error"] = "\n".join(filter(None, [run.error, *errors]))[:2000]
    if changes:
        StatementRun.objects.filter(pk=run_id).update(**changes)
    StatementRun.objects.filter(
        pk=run_id, status=StatementRun.Status.RUNNING, done__gte=F("total") - F("failed")
    ).update(
        status=Case(
            When(failed__gt=0, then=Value(StatementRun.Status.FAILED)),
            default=Value(StatementRun.Status.DONE),
        ),
        finished_at=timezone.now(),
    )


def statement_run_generate_batch(*, run: StatementRun, agreement_ids: list[int], actor: Actor) -> generation.Written:
    """Generate the statements of a batch of agreements for a run and count them, in one transaction.

    The statements' audit rows name whoever started the run (the system for the monthly one).
    """
    policy.require(actor, "statement.run", "generate statements")
    with transaction.atomic():
        agreements = generation.billed_load(agreement_ids)
        written = generation.statements_write(
            agreements=agreements, period=run.period, run=run, actor=run.started_by, skip_finished=True
        )
        gone = sorted(set(agreement_ids) - {a.pk for a in agreements})
        errors = [f"Agreement {pk}: {reason}" for pk, reason in sorted(written.failed.items())]
        errors += [f"Agreement {pk}: it no longer exists." for pk in gone]
        _run_count(
            run.pk,
            done=len(written.statements) + len(written.skipped),
            failed=len(written.failed) + len(gone),
            errors=errors,
        )
    return written


def statement_run_generate_one(*, run: StatementRun, agreement: Agreement, actor: Actor) -> Statement | None:
    """Generate one agreement's statement for a run and count it, in the same transaction."""
    with transaction.atomic():
        statement = statement_generate(agreement=agreement, period=run.period, run=run, actor=actor, skip_empty=True)
        _run_count(run.pk, done=1)
    return statement


def statement_run_record_failure(*, run: StatementRun, agreement_id: int, error: str, actor: Actor) -> None:
    """Count an agreement whose statement could not be computed, with the error for finance."""
    policy.require(actor, "statement.run", "count statement runs")
    _run_count(run.pk, failed=1, errors=[f"Agreement {agreement_id}: {error}"])
