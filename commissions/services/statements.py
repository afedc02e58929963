"""Statements: computing and writing drafts, and the lifecycle (approve, issue, pay, void)."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from commissions import engine, generation
from commissions.engine import LineDraft
from commissions.models import (
    Agreement,
    RevenueReport,
    Statement,
    StatementLine,
    StatementRun,
    StatementSequence,
)
from commissions.services._common import (
    Actor,
    _month,
)
from commissions.services.delivery import statement_delivery_queue
from commissions.services.payments import due_date_for
from commissions.webhook_events import publish_statement
from tmw.accounts import policy
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError

__all__ = [
    "PreRendered",
    "lifecycle_refusal",
    "statement_approve",
    "statement_compute",
    "statement_generate",
    "statement_issue",
    "statement_void",
]


# The lifecycle in order, what each action leads to, and how each is written in a sentence.
_RANK: dict[str, int] = {
    Statement.Status.DRAFT: 0,
    Statement.Status.APPROVED: 1,
    Statement.Status.ISSUED: 2,
    Statement.Status.PAID: 3,
}
_TARGET = {"approve": Statement.Status.APPROVED, "issue": Statement.Status.ISSUED, "pay": Statement.Status.PAID}
_DONE = {"approve": "approved", "issue": "issued", "pay": "marked paid", "void": "voided"}
_STATE: dict[str, str] = {
    Statement.Status.DRAFT: "still a draft",
    Statement.Status.APPROVED: "approved",
    Statement.Status.ISSUED: "issued",
    Statement.Status.PAID: "paid",
    Statement.Status.VOID: "void",
}
_STEP = {1: "approve", 2: "issue"}


def lifecycle_refusal(*, status: str, action: str, credit_note: bool = False) -> str:
    """Why a statement in ``status`` cannot take ``action``, as a sentence.

    ``lifecycle_refusal(status="approved", action="approve")`` →
    "This statement is already approved; it cannot be approved again."
    """
    noun = "credit note" if credit_note else "statement"
    state = _STATE.get(status, str(status))
    done = _DONE.get(action, action)
    if status == Statement.Status.VOID:
        if action == "void":
            return f"This {noun} is already void; it cannot be voided again."
        return f"This {noun} is void; it cannot be {done}."
    if action == "void":
        if status == Statement.Status.PAID:
            return f"This {noun} is paid; a paid {noun} cannot be voided."
        return f"This {noun} is {state}; only an issued {noun} can be voided."
    target = _RANK[_TARGET[action]]
    current = _RANK.get(status, 0)
    if current >= target:
        return f"This {noun} is already {state}; it cannot be {done} again."
    steps = " and ".join(_STEP[rank] for rank in range(current + 1, target))
    return f"This {noun} is {state}; {steps} it before it can be {done}."


def statement_compute(*, agreement: Agreement, period: datetime.date) -> list[LineDraft]:
    """The lines of an agreement's statement for a month, computed in Python (writes nothing).

    The reference computation: ``statement_generate`` writes the same lines, the account
    lines in SQL (``commissions.generation``). A handful of queries, whatever the number of accounts.
    """
    from engagements.models import Attribution

    period = _month(period)
    engagement = agreement.engagement
    accounts = [
        engine.Account(id=pk, name=name, starts_on=starts_on, ended_on=ended_on)
        for pk, name, starts_on, ended_on in Attribution.objects.filter(
            engagement_id=agreement.engagement_id
        ).values_list("pk", "msp__name", "starts_on", "ended_on")
    ]
    revenue = {}
    for attribution_id, amount, currency in RevenueReport.objects.filter(
        attribution__engagement_id=agreement.engagement_id, period=period
    ).values_list("attribution_id", "amount", "currency"):
        if currency != agreement.currency:
            raise ApplicationError(generation.foreign_currency_reason(currency, agreement))
        revenue[attribution_id] = amount
    lines = engine.compute_lines(
        period=period,
        start=engagement.start_date,
        stop=engagement.stop_date,
        terms=generation.terms_of([agreement])[agreement.pk],
        accounts=accounts,
        revenue=revenue,
        corrections=generation.corrections_of([agreement], period).get(agreement.pk, []),
    )
    queried = [draft for _, draft in generation.query_adjustments_of([agreement], period).get(agreement.pk, [])]
    return lines + engine.numbered(queried, first=len(lines) + 1) if queried else lines


@transaction.atomic
def statement_generate(
    *,
    agreement: Agreement,
    period: datetime.date,
    actor: Actor,
    run: StatementRun | None = None,
    skip_empty: bool = False,
) -> Statement | None:
    """Compute and store the draft statement of an agreement for a month, replacing an earlier draft.

    An approved, issued or paid statement is returned unchanged. Two calls at once give one
    statement (a unique constraint); the statement and its lines are written in this one
    transaction. With ``skip_empty`` no statement is created for an agreement past its tail
    with nothing to bill. Driven by the system for a run, the audit row names who started the run.
    """
    policy.require(actor, "statement.run", "generate statements")
    period = _month(period)
    audit_actor = policy.user_of(actor) or (run.started_by if run else None)
    written = generation.statements_write(
        agreements=[generation.Billed.of(agreement)],
        period=period,
        run=run,
        actor=audit_actor,
        skip_finished=skip_empty,
    )
    if agreement.pk in written.failed:
        raise ApplicationError(written.failed[agreement.pk])
    statement = written.statements.get(agreement.pk)
    if statement is not None:
        statement.agreement = agreement
    return statement


def _locked_statement(statement: Statement) -> Statement:
    # unscoped: lock (re-reads with FOR UPDATE a statement the caller already holds)
    return Statement.all_objects.select_for_update().select_related("agreement", "vendor").get(pk=statement.pk)


@transaction.atomic
def statement_approve(*, statement: Statement, actor: Actor) -> Statement:
    """Approve a draft statement (finance); from now on it is never recomputed."""
    policy.require(actor, "statement.approve", "approve statements")
    user = policy.user_of(actor)
    statement = _locked_statement(statement)
    if statement.status != Statement.Status.DRAFT:
        raise ApplicationError(f"Only a draft can be approved; this one is {statement.status}.", status=409)
    statement.status = Statement.Status.APPROVED
    statement.approved_at = timezone.now()
    statement.approved_by = user
    statement.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    audit_record(
        actor=user,
        verb="statement.approved",
        obj=statement,
        organisation=statement.vendor,
        data={"total": str(statement.total)},
    )
    return statement


def _next_number(year: int) -> str:
    """The next gap-free number of ``year``, taken under a row lock (inside the caller's transaction)."""
    sequence, _ = StatementSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"TMW-{year}-{sequence.last_number:04d}"


def _render_pdf(statement: Statement) -> tuple[str, str, bytes]:
    from commissions.pdf import render_statement_pdf

    return render_statement_pdf(statement)


@dataclass(frozen=True)
class PreRendered:
    """A statement's PDF rendered ahead of issuing (a bulk run renders them in parallel), for the number,
    issue date and due date it was rendered with; issuing uses it only when all three come out the same."""

    number: str
    issued_on: datetime.date
    due_on: datetime.date
    filename: str
    content: bytes

    def fits(self, statement: Statement) -> bool:
        assert statement.issued_at is not None
        return (self.number, self.issued_on, self.due_on) == (
            statement.number,
            statement.issued_at.date(),
            statement.due_on,
        )


def _store_pdf(statement: Statement, prerendered: PreRendered | None = None) -> None:
    """Render the statement's PDF and store it once: a statement that already has one is refused, never rewritten."""
    if statement.pdf:
        raise ApplicationError(
            f"This statement already has a stored PDF ({statement.pdf.name}); an issued PDF is never replaced.",
            status=409,
        )
    if prerendered is not None and prerendered.fits(statement):
        filename, content = prerendered.filename, prerendered.content
    else:
        filename, _content_type, content = _render_pdf(statement)
    statement.pdf.save(filename, ContentFile(content), save=False)
    statement.pdf_sha256 = hashlib.sha256(content).hexdigest()


@transaction.atomic
def statement_issue(*, statement: Statement, actor: Actor, prerendered: PreRendered | None = None) -> Statement:
    """Issue an approved statement: the next number of the year under a lock, its due date from the payment
    terms, and its PDF rendered once and stored (``prerendered`` when it was rendered for that same number,
    issue date and due date).

    After commit the statement is emailed to the vendor's billing contacts (``services.delivery``).

    Should the PDF fail, the whole issue rolls back and the number is not used.
    """
    policy.require(actor, "statement.issue", "issue statements")
    user = policy.user_of(actor)
    statement = _locked_statement(statement)
    if statement.status != Statement.Status.APPROVED:
        raise ApplicationError(f"Only an approved statement can be issued; this one is {statement.status}.", status=409)
    now = timezone.now()
    statement.number = _next_number(timezone.localdate().year)
    statement.status = Statement.Status.ISSUED
    statement.issued_at = now
    statement.issued_by = user
    statement.due_on = due_date_for(statement, timezone.localdate(now))
    _store_pdf(statement, prerendered)
    statement.save()
    audit_record(
        actor=user,
        verb="statement.issued",
        obj=statement,
        organisation=statement.vendor,
        data={"number": statement.number, "total": str(statement.total), "pdf_sha256": statement.pdf_sha256},
    )
    publish_statement("statement.issued", statement)
    statement_delivery_queue(statement=statement, actor=actor)  # emailed to the billing contacts after commit
    return statement


@transaction.atomic
@transaction.atomic
def statement_void(*, statement: Statement, reason: str, actor: Actor) -> Statement:
    """Void an issued statement with a credit note that refers to it; returns the credit note.

    The credit note takes the next number, negates every line and stores its own PDF; the
    month can then be computed again by a new run.
    """
    policy.require(actor, "statement.void", "void statements")
    user = policy.user_of(actor)
    statement = _locked_statement(statement)
    if statement.status != Statement.Status.ISSUED or statement.is_credit_note:
        raise ApplicationError(
            f"Only an issued, unpaid statement can be voided; this one is {statement.status}.", status=409
        )
    if statement.payments.filter(reversed_at__isnull=True).exists():
        raise ApplicationError(
            "Payments are recorded against this statement; a statement with payments cannot be voided. "
            "Reverse a payment recorded in error first, or correct it with an adjustment on a later statement.",
            status=409,
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the statement is voided.", extra={"reason": ["Required."]})
    now = timezone.now()
    statement.status = Statement.Status.VOID
    statement.voided_at = now
    statement.void_reason = reason
    statement.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
    credit = Statement.objects.create(
        agreement=statement.agreement,
        vendor_id=statement.vendor_id,
        period=statement.period,
        status=Statement.Status.ISSUED,
        number=_next_number(timezone.localdate().year),
        currency=statement.currency,
        total=-statement.total,
        equity_total=-statement.equity_total,
        credit_note_for=statement,
        generated_at=now,
        issued_at=now,
        issued_by=user,
        void_reason=reason,
    )
    StatementLine.objects.bulk_create(
        [
            StatementLine(
                statement=credit,
                # The tax line stays a tax line: a credit note carries the negative tax.
                kind=StatementLine.Kind.TAX if line.kind == StatementLine.Kind.TAX else StatementLine.Kind.CREDIT,
                description=f"Credit: {line.description}"[:300],
                attribution_id=line.attribution_id,
                revenue=line.revenue,
                account_year=line.account_year,
                rate=line.rate,
                amount=-line.amount,
                corrects_period=line.corrects_period,
                order=line.order,
            )
            for line in statement.lines.order_by("order", "pk")
        ]
    )
    _store_pdf(credit)
    credit.save(update_fields=["pdf", "pdf_sha256"])
    audit_record(
        actor=user,
        verb="statement.voided",
        obj=statement,
        organisation=statement.vendor,
        data={"reason": reason, "credit_note": credit.number},
    )
    audit_record(
        actor=user,
        verb="statement.credit_note_issued",
        obj=credit,
        organisation=statement.vendor,
        data={"number": credit.number, "for": statement.number, "total": str(credit.total)},
    )
    statement_delivery_queue(statement=credit, actor=actor)  # the credit note goes the same way
    return credit
