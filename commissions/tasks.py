"""Celery tasks of the commissions app: thin wrappers that enter the operator scope and call one service."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import OperationalError

from commissions.models import Agreement, BulkRun, StatementDelivery, StatementQuery, StatementRun
from commissions.selectors import previous_month
from commissions.services import (
    bulk_run_issue,
    bulk_run_plan,
    bulk_run_render_one,
    missing_reports_notify,
    overdue_reminders_send,
    statement_delivery_send,
    statement_query_notify,
    statement_run_batches,
    statement_run_fan_out,
    statement_run_generate_batch,
    statement_run_generate_one,
    statement_run_record_failure,
    statement_run_start,
)
from tmw.accounts import policy
from tmw.tasks import TenantTask, task_logger

logger = task_logger(__name__)


@shared_task(base=TenantTask, name="commissions.statement_run", max_retries=0)
def statement_run_task(run_id: int) -> int:
    """Fan a statement run out into one task per batch of agreements; returns how many batches were queued."""
    run = StatementRun.objects.get(pk=run_id)
    batches = statement_run_batches(statement_run_fan_out(run=run, actor=policy.SYSTEM))
    for batch in batches:
        statement_batch_task.delay(run_id, batch)
    return len(batches)


@shared_task(base=TenantTask, bind=True, name="commissions.statement_batch", max_retries=3)
def statement_batch_task(self: TenantTask, run_id: int, agreement_ids: list[int]) -> int:
    """Write the statements of a batch of agreements in one transaction and count them on the run.

    A lock timeout or a dropped connection retries the batch; any other error splits it into
    one task per agreement, so that one agreement's bad data holds back no other statement.
    """
    run = StatementRun.objects.get(pk=run_id)
    try:
        statement_run_generate_batch(run=run, agreement_ids=agreement_ids, actor=policy.SYSTEM)
        return len(agreement_ids)
    except OperationalError as exc:
        if self.max_retries is not None and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=5) from exc
        logger.warning("Statement batch of run %s failed again (%s); one task per agreement", run_id, exc)
    except Exception:
        logger.exception("Statement batch of run %s failed; one task per agreement", run_id)
    for agreement_id in agreement_ids:
        statement_generate_task.delay(run_id, agreement_id)
    return 0


@shared_task(base=TenantTask, bind=True, name="commissions.statement_generate", max_retries=3)
def statement_generate_task(self: TenantTask, run_id: int, agreement_id: int) -> int | None:
    """Compute one agreement's statement for a run (one transaction) and count it on the run (a batch's fallback)."""
    run = StatementRun.objects.get(pk=run_id)
    try:
        agreement = Agreement.objects.select_related("engagement", "vendor").get(pk=agreement_id)
        statement = statement_run_generate_one(run=run, agreement=agreement, actor=policy.SYSTEM)
    except OperationalError as exc:  # a lock timeout or a dropped connection: try again
        if self.max_retries is not None and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=5) from exc
        statement_run_record_failure(run=run, agreement_id=agreement_id, error=str(exc), actor=policy.SYSTEM)
        return None
    except Exception as exc:
        logger.exception("Statement of agreement %s for run %s failed", agreement_id, run_id)
        statement_run_record_failure(run=run, agreement_id=agreement_id, error=str(exc), actor=policy.SYSTEM)
        return None
    return statement.pk if statement is not None else None


@shared_task(base=TenantTask, name="commissions.statement_run_monthly", max_retries=0)
def statement_run_monthly() -> int:
    """Beat, on the 1st of each month: start the statement run for the previous month."""
    run = statement_run_start(period=previous_month(), actor=policy.SYSTEM)
    return run.pk


@shared_task(base=TenantTask, name="commissions.missing_reports_notify", max_retries=0)
def missing_reports_notify_task(period: str | None = None) -> int:
    """Beat, monthly: email finance and each vendor's admins the accounts without a report for last month."""
    month = datetime.date.fromisoformat(period) if period else previous_month()
    return missing_reports_notify(period=month, actor=policy.SYSTEM)


@shared_task(base=TenantTask, name="commissions.overdue_reminders", max_retries=0)
def overdue_reminders_task() -> int:
    """Beat, daily: email the billing contacts of overdue statements at each schedule step, once per step."""
    return overdue_reminders_send(actor=policy.SYSTEM)


@shared_task(base=TenantTask, name="commissions.bulk_run", max_retries=0)
def bulk_run_task(run_id: int) -> int:
    """Plan a bulk run (approving the drafts), then queue one PDF task per statement to issue; returns how many."""
    run = BulkRun.objects.get(pk=run_id)
    plan = bulk_run_plan(run=run, actor=policy.SYSTEM)
    for statement_id, number in plan:
        bulk_render_task.delay(run_id, statement_id, number)
    return len(plan)


@shared_task(base=TenantTask, name="commissions.bulk_render", max_retries=0)
def bulk_render_task(run_id: int, statement_id: int, number: str) -> bool:
    """Render one statement's PDF for a bulk run (in parallel with the others); the last one queues the issue."""
    run = BulkRun.objects.get(pk=run_id)
    last = bulk_run_render_one(run=run, statement_id=statement_id, number=number, actor=policy.SYSTEM)
    if last:
        bulk_issue_task.delay(run_id)
    return last


@shared_task(base=TenantTask, name="commissions.bulk_issue", max_retries=0)
def bulk_issue_task(run_id: int) -> int:
    """Issue a bulk run's statements in their planned order, each taking its number under the lock."""
    return bulk_run_issue(run=BulkRun.objects.get(pk=run_id), actor=policy.SYSTEM)


@shared_task(
    base=TenantTask,
    bind=True,
    name="commissions.statement_deliver",
    max_retries=5,
    default_retry_delay=60,
)
def statement_deliver_task(self: TenantTask, delivery_id: int) -> str:
    """Email an issued statement or credit note (its stored PDF attached) to the vendor's billing contacts.

    Each attempt is recorded on the delivery (success, or the exception's text); a failed attempt
    is retried by a worker, up to ``max_retries`` times, a minute apart. The last failure stays recorded on the
    delivery (finance sees it on the statement and resends) and is logged; the task then ends.
    """
    delivery = StatementDelivery.objects.get(pk=delivery_id)
    try:
        delivery = statement_delivery_send(delivery=delivery, actor=policy.SYSTEM)
    except Exception as exc:
        # In-process (no broker: the request that issued is waiting) the failure is recorded and left to a resend.
        eager = bool(getattr(self.request, "is_eager", False))
        if not eager and self.max_retries is not None and self.request.retries < self.max_retries:
            raise self.retry(exc=exc) from exc
        logger.warning("Statement delivery %s failed after %s attempts: %s", delivery_id, self.request.retries + 1, exc)
        return StatementDelivery.Status.FAILED
    return delivery.status


@shared_task(
    base=TenantTask,
    name="commissions.statement_query_notify",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def statement_query_notify_task(query_id: int, event: str) -> int:
    """Email the other side of a statement query's step: finance when raised, the vendor when answered."""
    query = StatementQuery.objects.select_related("statement__vendor", "line", "raised_by").get(pk=query_id)
    return statement_query_notify(query=query, event=event, actor=policy.SYSTEM)
