"""Bulk runs: approve every draft of a month, issue every approved statement, or both, as one run.

A run is planned once (``bulk_run_plan``): it approves the month's drafts one by one (each in its
own transaction, through ``statement_approve``), then fixes the order in which the approved
statements take their numbers (vendor name, then id) and predicts each one's number from the
year's sequence. The PDFs are then rendered by the workers in parallel, one task per statement
(``bulk_run_render_one``), each for its predicted number, issue date and due date. When the last
PDF is rendered, one task issues the statements in the planned order (``bulk_run_issue``), each
through ``statement_issue`` in its own transaction: the number is still taken under the
sequence's lock, so numbers stay gap-free and follow the order; the rendered PDF is stored when
the number, issue date and due date came out as predicted, and rendered again under the lock
otherwise (a statement issued by hand meanwhile, or one before it that failed). A statement that
fails, at any step, is listed on the run with its reason and holds back no other.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from commissions import engine
from commissions.models import BulkRun, BulkRunRender, Statement, StatementSequence
from commissions.services import statements as statement_services
from commissions.services._common import Actor, _month, _validate
from commissions.services.payments import due_date_for
from tmw.accounts import policy
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

__all__ = [
    "bulk_run_failures",
    "bulk_run_issue",
    "bulk_run_plan",
    "bulk_run_render_one",
    "bulk_run_start",
]


def _actions_of(action: str) -> list[str]:
    needed: dict[str, list[str]] = {
        BulkRun.Action.APPROVE: ["statement.approve"],
        BulkRun.Action.ISSUE: ["statement.issue"],
        BulkRun.Action.APPROVE_ISSUE: ["statement.approve", "statement.issue"],
    }
    return needed.get(action, [])


@transaction.atomic
def bulk_run_start(*, period: datetime.date | str, action: str, actor: Actor) -> BulkRun:
    """Start a bulk run over a month's statements; after commit a Celery task plans and fans it out."""
    policy.require(actor, "statement.bulk", "approve or issue statements in bulk")
    if action not in BulkRun.Action.values:
        raise ApplicationError("Choose approve, issue, or approve and issue.", extra={"action": ["Not a bulk action."]})
    for needed in _actions_of(action):
        policy.require(actor, needed)
    period = _month(period)
    if period > engine.first_of_month(timezone.localdate()):
        raise ApplicationError("The month is in the future.", extra={"period": ["A month in the future."]})
    run = BulkRun(period=period, action=action, started_by=policy.user_of(actor))
    _validate(run)
    run.save()
    audit_record(
        actor=policy.user_of(actor),
        verb="bulk_run.started",
        obj=run,
        data={"period": period.isoformat(), "action": action},
    )
    enqueue_on_commit("commissions.bulk_run", run.pk)
    return run


def _month_statements(run: BulkRun, status: str) -> list[Statement]:
    return list(
        Statement.objects.filter(period=run.period, status=status, credit_note_for__isnull=True)
        .select_related("vendor")
        .order_by("vendor__name", "pk")
    )


def _fail(
    run_id: int, statement: Statement | None, message: str, *, stage: str, statement_id: int | None = None
) -> None:
    """List a statement that failed on the run, with the step and the reason."""
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run_id)
        run.failures = [
            *run.failures,
            {
                "statement": statement.pk if statement is not None else statement_id,
                "title": str(statement) if statement is not None else f"Statement {statement_id}",
                "stage": stage,
                "message": message[:500],
            },
        ]
        run.failed += 1
        run.save(update_fields=["failures", "failed"])


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, ApplicationError) else f"{exc.__class__.__name__}: {exc}"


def _run_user(run: BulkRun, actor: Actor) -> Actor:
    """Who acts for the run: the finance user who started it (its policy is asked again at each step)."""
    return run.started_by if run.started_by is not None else actor


def bulk_run_plan(*, run: BulkRun, actor: Actor) -> list[tuple[int, str]]:
    """Approve the month's drafts (if the run approves) and plan the issue: returns (statement id, predicted number)
    for each statement to render, in numbering order. A run that only approves finishes here."""
    policy.require(actor, "statement.bulk_step", "run bulk statement actions")
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run.pk)
        if run.phase != BulkRun.Phase.PLANNING:
            return []  # planned already (a redelivered task)
        drafts = _month_statements(run, Statement.Status.DRAFT) if run.approves else []
        approved = _month_statements(run, Statement.Status.APPROVED) if run.issues else []
        run.status = BulkRun.Status.RUNNING
        run.phase = BulkRun.Phase.APPROVING
        run.started_at = timezone.now()
        run.to_approve = len(drafts)
        run.to_issue = len(drafts) + len(approved) if run.issues else 0
        run.total = len(drafts) + len(approved)
        run.save()
    user = _run_user(run, actor)
    for draft in drafts:
        try:
            statement_services.statement_approve(statement=draft, actor=user)
        except Exception as exc:  # noqa: BLE001 - listed on the run; the others go on
            _fail(run.pk, draft, _reason(exc), stage="approve")
        else:
            BulkRun.objects.filter(pk=run.pk).update(approved=F("approved") + 1)
    if not run.issues:
        _finish(run.pk)
        return []
    failed = {f["statement"] for f in BulkRun.objects.get(pk=run.pk).failures}
    ready = []
    for statement in _month_statements(run, Statement.Status.APPROVED):
        if statement.pk in failed:
            continue
        if statement.pdf:  # issuing refuses it; say so now, before it takes a place in the numbering
            _fail(run.pk, statement, f"It already has a stored PDF ({statement.pdf.name}).", stage="issue")
            continue
        ready.append(statement)
    year = timezone.localdate().year
    last = StatementSequence.objects.filter(year=year).values_list("last_number", flat=True).first() or 0
    plan = [(s.pk, f"TMW-{year}-{last + i:04d}") for i, s in enumerate(ready, start=1)]
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run.pk)
        run.plan = [pk for pk, _number in plan]
        run.to_issue = len(plan)
        run.phase = BulkRun.Phase.RENDERING
        run.save(update_fields=["plan", "to_issue", "phase"])
    if not plan:
        _finish(run.pk)
    return plan


def bulk_run_render_one(*, run: BulkRun, statement_id: int, number: str, actor: Actor) -> bool:
    """Render one statement's PDF for its predicted number (writes no statement); True when the run is now
    ready to issue (this was the last PDF), so that exactly one caller queues the issue."""
    policy.require(actor, "statement.bulk_step", "run bulk statement actions")
    statement = Statement.objects.select_related("vendor", "agreement__engagement").filter(pk=statement_id).first()
    try:
        if statement is None:
            raise ApplicationError("The statement no longer exists.")
        if statement.status != Statement.Status.APPROVED:
            raise ApplicationError(f"It is {statement.get_status_display().lower()}, no longer approved.")
        now = timezone.now()
        statement.number = number
        statement.status = Statement.Status.ISSUED
        statement.issued_at = now
        statement.due_on = due_date_for(statement, timezone.localdate(now))
        filename, _content_type, content = statement_services._render_pdf(statement)
        BulkRunRender.objects.update_or_create(
            run_id=run.pk,
            statement_id=statement_id,
            defaults={
                "number": number,
                "issued_on": now.date(),
                "due_on": statement.due_on,
                "filename": filename,
                "content": content,
            },
        )
    except Exception as exc:  # noqa: BLE001 - listed on the run; the others go on
        stored = Statement.objects.select_related("vendor").filter(pk=statement_id).first()
        _fail(run.pk, stored, _reason(exc), stage="pdf", statement_id=statement_id)
    else:
        BulkRun.objects.filter(pk=run.pk).update(rendered=F("rendered") + 1)
    return _claim_issue(run.pk)


def _claim_issue(run_id: int) -> bool:
    """Move the run from rendering to issuing once every planned PDF is rendered or failed; True for the one caller
    that moved it."""
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run_id)
        if run.phase != BulkRun.Phase.RENDERING:
            return False
        pdf_failures = sum(1 for f in run.failures if f.get("stage") == "pdf")
        if run.rendered + pdf_failures < run.to_issue:
            return False
        run.phase = BulkRun.Phase.ISSUING
        run.save(update_fields=["phase"])
        return True


def bulk_run_issue(*, run: BulkRun, actor: Actor) -> int:
    """Issue the run's statements in the planned order, each through ``statement_issue`` in its own transaction
    (the number under the lock), with the PDF rendered ahead when it fits; returns how many were issued."""
    policy.require(actor, "statement.bulk_step", "run bulk statement actions")
    run = BulkRun.objects.get(pk=run.pk)
    if run.phase != BulkRun.Phase.ISSUING:
        return 0
    user = _run_user(run, actor)
    failed = {f["statement"] for f in run.failures}
    issued = 0
    renders = {r.statement_id: r for r in BulkRunRender.objects.filter(run=run)}
    for statement_id in run.plan:
        if statement_id in failed:
            continue
        statement = Statement.objects.filter(pk=statement_id).first()
        if statement is None:
            _fail(run.pk, None, "The statement no longer exists.", stage="issue", statement_id=statement_id)
            continue
        if statement.status == Statement.Status.ISSUED and statement.number:
            continue  # issued by an earlier attempt of this task
        render = renders.get(statement_id)
        prerendered = (
            statement_services.PreRendered(
                number=render.number,
                issued_on=render.issued_on,
                due_on=render.due_on,
                filename=render.filename,
                content=bytes(render.content),
            )
            if render is not None
            else None
        )
        try:
            statement_services.statement_issue(statement=statement, actor=user, prerendered=prerendered)
        except Exception as exc:  # noqa: BLE001 - listed on the run; the others go on
            _fail(run.pk, statement, _reason(exc), stage="issue")
        else:
            issued += 1
            BulkRun.objects.filter(pk=run.pk).update(issued=F("issued") + 1)
    BulkRunRender.objects.filter(run=run).delete()
    _finish(run.pk)
    return issued


def _finish(run_id: int) -> None:
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run_id)
        run.phase = BulkRun.Phase.FINISHED
        run.status = BulkRun.Status.FAILED if run.failed else BulkRun.Status.DONE
        run.finished_at = timezone.now()
        run.save(update_fields=["phase", "status", "finished_at"])


def bulk_run_failures(run: BulkRun) -> list[dict[str, Any]]:
    """The run's failures in the order they happened."""
    return list(run.failures)
