"""Statement queries: a vendor questions an issued statement or one line; finance accepts or declines.

``statement_query_raise`` is the one function that raises a query (what ``statement.queried``
will publish). ``statement_query_answer`` accepts it as an adjustment carried by the next
month's statement (``generation.query_adjustments_of``), accepts it with a credit note and a
reissue of the month (``statement_void``, then the month computed, approved and issued again,
carrying the same adjustment), or declines it with a reason. Every step writes an audit row on
the statement and emails the other side after commit (``commissions.statement_query_notify``).
A query holds back nothing: runs and issues ignore open queries.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from commissions.limits import bounded_amount
from commissions.models import Statement, StatementLine, StatementQuery
from commissions.services._common import Actor
from commissions.services.statements import (
    statement_approve,
    statement_generate,
    statement_issue,
    statement_void,
)
from commissions.webhook_events import publish_statement
from tmw.accounts import policy
from tmw.accounts.models import Role, User
from tmw.accounts.services import audit_record, billing_recipients
from tmw.errors import ApplicationError
from tmw.months import add_months
from tmw.tasks import enqueue_on_commit

__all__ = [
    "QUERY_DECISIONS",
    "QUERY_NOTIFY_TASK",
    "statement_query_answer",
    "statement_query_notify",
    "statement_query_raise",
]

QUERY_NOTIFY_TASK = "commissions.statement_query_notify"
QUERY_DECISIONS = {
    "adjustment": "Accept: adjustment on the next statement",
    "credit_note": "Accept: credit note and reissue",
    "decline": "Decline with a reason",
}
MAX_COMMENT = 2000


def _refuse(field: str, message: str, status: int = 400) -> ApplicationError:
    return ApplicationError(message, extra={field: [message]}, status=status)


def _optional_amount(value: object, field: str, *, allow_negative: bool) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return bounded_amount(value, field, allow_negative=allow_negative)


@transaction.atomic
def statement_query_raise(
    *,
    statement: Statement,
    reason: str,
    comment: str,
    actor: Actor,
    line: StatementLine | None = None,
    expected_amount: object = None,
) -> StatementQuery:
    """A vendor user questions an issued statement, or one of its lines: the reason, a comment, the amount it expects.

    Refused, naming the field: a draft, approved or void statement, or a credit note; a line of
    another statement; an unknown reason; an empty comment; an amount that is negative or over
    1,000,000,000.00; a second open query on the same line (or on the whole statement).
    """
    policy.require(actor, "statement.query", "raise queries on statements")
    user = policy.user_of(actor)
    # unscoped: lock (re-reads with FOR UPDATE a statement the caller already holds)
    statement = Statement.all_objects.select_for_update(of=("self",)).select_related("vendor").get(pk=statement.pk)
    if user is not None and user.organisation_id != statement.vendor_id:
        raise _refuse("statement", "You may query only your own statements.", status=404)
    if statement.status not in Statement.FINAL or statement.is_credit_note:
        state = "a credit note" if statement.is_credit_note else f"{statement.get_status_display().lower()}"
        raise _refuse("statement", f"Only an issued or paid statement can be queried; this one is {state}.")
    if line is not None and line.statement_id != statement.pk:
        raise _refuse("line", "That line is not on this statement.")
    if reason not in StatementQuery.Reason.values:
        raise _refuse("reason", "Choose a reason from the list.")
    comment = (comment or "").strip()
    if not comment:
        raise _refuse("comment", "Say what looks wrong.")
    if len(comment) > MAX_COMMENT:
        raise _refuse("comment", f"At most {MAX_COMMENT} characters.")
    expected = _optional_amount(expected_amount, "expected_amount", allow_negative=False)
    open_queries = StatementQuery.objects.filter(statement=statement, status=StatementQuery.Status.OPEN)
    if line is not None and open_queries.filter(line=line).exists():
        raise _refuse("line", "This line already has an open query; wait for finance's answer.", status=409)
    if line is None and open_queries.filter(line__isnull=True).exists():
        raise _refuse("statement", "This statement already has an open query; wait for finance's answer.", 409)
    query = StatementQuery.objects.create(
        statement=statement,
        line=line,
        vendor_id=statement.vendor_id,
        reason=reason,
        comment=comment,
        expected_amount=expected,
        raised_by=user,
    )
    audit_record(
        actor=user,
        verb="statement.queried",
        obj=statement,
        organisation=statement.vendor,
        data={
            "query": query.pk,
            "line": line.pk if line is not None else None,
            "reason": reason,
            "expected_amount": None if expected is None else str(expected),
        },
    )
    enqueue_on_commit(QUERY_NOTIFY_TASK, query.pk, "raised")
    publish_statement("statement.queried", query.statement)
    return query


def _adjustment(query: StatementQuery, amount: object) -> Decimal | None:
    """Finance's amount, else what the vendor expects less what was billed (line, or statement total)."""
    given = _optional_amount(amount, "amount", allow_negative=True)
    if given is not None:
        return given
    if query.expected_amount is None:
        return None
    billed = query.line.amount if query.line is not None else query.statement.total
    return query.expected_amount - billed


@transaction.atomic
def statement_query_answer(
    *,
    query: StatementQuery,
    decision: str,
    actor: Actor,
    answer: str = "",
    amount: object = None,
) -> StatementQuery:
    """Finance answers an open query: ``adjustment``, ``credit_note`` (void, recompute, reissue) or ``decline``.

    The adjustment is ``amount`` when given (negative credits the vendor), else the amount the
    vendor expects less what was billed. Declining needs a reason. A closed query is refused.
    """
    policy.require(actor, "statement.query_answer", "answer statement queries")
    user = policy.user_of(actor)
    # unscoped: lock (re-reads with FOR UPDATE a query the caller already holds)
    query = (
        StatementQuery.all_objects.select_for_update(of=("self",))
        .select_related("statement__vendor", "statement__agreement__engagement", "line")
        .get(pk=query.pk)
    )
    if not query.is_open:
        raise _refuse(
            "status", f"This query is already {query.get_status_display().lower()}; it cannot be answered again.", 409
        )
    if decision not in QUERY_DECISIONS:
        raise _refuse(
            "decision", "Choose to accept it as an adjustment, as a credit note and reissue, or to decline it."
        )
    answer = (answer or "").strip()
    if len(answer) > MAX_COMMENT:
        raise _refuse("answer", f"At most {MAX_COMMENT} characters.")
    statement = query.statement
    now = timezone.now()
    query.answered_by, query.answered_at, query.answer = user, now, answer
    if decision == "decline":
        if not answer:
            raise _refuse("answer", "Say why the query is declined.")
        query.status = StatementQuery.Status.DECLINED
        query.save()
        verb = "statement.query_declined"
    else:
        adjustment = _adjustment(query, amount)
        if decision == "adjustment":
            if not adjustment:
                raise _refuse(
                    "amount", "Give the adjustment amount (not zero): the vendor named no amount to derive it."
                )
            query.carry_from = add_months(statement.period, 1)
        else:
            if statement.status != Statement.Status.ISSUED:
                raise _refuse(
                    "decision",
                    f"Only an issued, unpaid statement can be credited and reissued; this one is {statement.status}. "
                    "Accept it as an adjustment on the next statement instead.",
                    409,
                )
            query.carry_from = statement.period
        query.status = StatementQuery.Status.ACCEPTED
        query.resolution = decision
        query.adjustment_amount = adjustment or None
        query.save()
        verb = "statement.query_accepted"
        if decision == "credit_note":
            reason = f"Query {query.pk} accepted" + (f": {answer}" if answer else "")
            credit = statement_void(statement=statement, reason=reason, actor=actor)
            reissued = statement_generate(agreement=statement.agreement, period=statement.period, actor=actor)
            assert reissued is not None  # the month's statement was just voided, so a new draft is written
            reissued = statement_issue(statement=statement_approve(statement=reissued, actor=actor), actor=actor)
            query.credit_note, query.reissued_statement = credit, reissued
            query.save(update_fields=["credit_note", "reissued_statement"])
    audit_record(
        actor=user,
        verb=verb,
        obj=statement,
        organisation=statement.vendor,
        data={
            "query": query.pk,
            "resolution": query.resolution,
            "amount": None if query.adjustment_amount is None else str(query.adjustment_amount),
            "answer": answer,
            "credit_note": query.credit_note.number if query.credit_note else None,
            "number": query.reissued_statement.number if query.reissued_statement else None,
        },
    )
    enqueue_on_commit(QUERY_NOTIFY_TASK, query.pk, "answered")
    return query


def statement_query_notify(*, query: StatementQuery, event: str, actor: Actor) -> int:
    """Email the other side of a query step: finance when it is raised, the vendor's billing contacts when answered."""
    policy.require(actor, "statement.query_notify", "send query emails")
    statement = query.statement
    site = settings.SITE_URL.rstrip("/")
    about = f"line “{query.line.description}”" if query.line is not None else "the whole statement"
    if event == "raised":
        to = list(
            User.objects.filter(role=Role.FINANCE, is_active=True).order_by("email").values_list("email", flat=True)
        )
        subject = f"Query from {statement.vendor.name} on {statement.number}"
        expected = (
            f"\nAmount it believes is right: {statement.currency} {query.expected_amount}"
            if query.expected_amount is not None
            else ""
        )
        body = (
            f"{statement.vendor.name} raised a query on {statement.number} ({statement.period:%B %Y}), {about}.\n\n"
            f"Reason: {query.get_reason_display()}\n{query.comment}{expected}\n\n"
            f"Answer it: {site}{reverse('commissions:statement_detail', args=[statement.pk])}\n"
        )
    else:
        to = billing_recipients(statement.vendor)
        if query.raised_by is not None and query.raised_by.is_active and query.raised_by.email not in to:
            to.append(query.raised_by.email)
        outcomes: dict[str, str] = {
            StatementQuery.Status.DECLINED: f"declined: {query.answer}",
            StatementQuery.Status.ACCEPTED: (
                f"accepted. An adjustment of {statement.currency} {query.adjustment_amount} "
                "will be on your next statement."
                if query.resolution == StatementQuery.Resolution.ADJUSTMENT
                else "accepted. The statement is voided by credit note "
                f"{query.credit_note.number if query.credit_note else ''} and reissued as "
                f"{query.reissued_statement.number if query.reissued_statement else ''}."
            ),
        }
        outcome = outcomes.get(query.status, query.get_status_display())
        note = f"\n\n{query.answer}" if query.answer and query.status != StatementQuery.Status.DECLINED else ""
        subject = f"Your query on {statement.number}: {query.get_status_display().lower()}"
        body = (
            f"Your query on {statement.number} ({statement.period:%B %Y}), {about}, was {outcome}{note}\n\n"
            f"See it in the portal: {site}{reverse('commissions:portal_statement_detail', args=[statement.pk])}\n\n"
            "The MSP Works finance\n"
        )
    if not to:
        return 0
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)
