"""Delivery of issued statements and credit notes: one email to the vendor's billing contacts, recorded.

``statement_issue`` and ``statement_void`` call ``statement_delivery_queue`` inside their
transaction; the row is written there and the ``commissions.statement_deliver`` task is queued
after commit. The task calls ``statement_delivery_send``, which attaches the PDF stored at issue
(never a new rendering) and records what the mail system answered: success, or the exception's
text (the task then retries). Finance resends with ``statement_delivery_resend``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from commissions.models import Statement, StatementDelivery
from commissions.pdf import statement_filename
from commissions.services._common import Actor
from tmw.accounts import policy
from tmw.accounts.services import audit_record, billing_recipients
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

__all__ = [
    "DELIVERY_TASK",
    "statement_delivery_queue",
    "statement_delivery_resend",
    "statement_delivery_send",
]

DELIVERY_TASK = "commissions.statement_deliver"


def statement_delivery_queue(
    *, statement: Statement, actor: Actor, reason: str = StatementDelivery.Reason.ISSUED
) -> StatementDelivery:
    """Record a delivery of an issued statement or credit note and queue its email after commit."""
    policy.require(actor, "statement.deliver", "send statements")
    if statement.status not in (*Statement.FINAL, Statement.Status.VOID) or not statement.pdf:
        raise ApplicationError(
            "Only an issued statement or credit note with its stored PDF can be sent.",
            extra={"statement": ["Not issued."]},
            status=409,
        )
    delivery = StatementDelivery.objects.create(
        statement=statement,
        vendor_id=statement.vendor_id,
        reason=reason,
        requested_by=policy.user_of(actor),
    )
    audit_record(
        actor=policy.user_of(actor),
        verb="statement.delivery_queued",
        obj=statement,
        organisation=statement.vendor,
        data={"delivery": delivery.pk, "reason": reason},
    )
    enqueue_on_commit(DELIVERY_TASK, delivery.pk)
    return delivery


@transaction.atomic
def statement_delivery_resend(*, statement: Statement, actor: Actor) -> StatementDelivery:
    """Finance sends an issued statement or credit note again (to today's billing contacts)."""
    policy.require(actor, "statement.resend", "resend statements")
    return statement_delivery_queue(statement=statement, actor=actor, reason=StatementDelivery.Reason.RESENT)


def portal_url(statement: Statement) -> str:
    """The vendor portal's page of a statement, as an absolute link for emails."""
    return str(settings.SITE_URL).rstrip("/") + reverse("commissions:portal_statement_detail", args=[statement.pk])


def _message(statement: Statement, recipients: list[str]) -> EmailMultiAlternatives:
    noun = "Credit note" if statement.is_credit_note else "Statement"
    context = {
        "statement": statement,
        "noun": noun,
        "vendor": statement.vendor,
        "url": portal_url(statement),
        "credits": statement.credit_note_for,
    }
    message = EmailMultiAlternatives(
        subject=f"{noun} {statement.number} from The MSP Works · {statement.period:%B %Y}",
        body=render_to_string("commissions/email/statement.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("commissions/email/statement.html", context), "text/html")
    with statement.pdf.open("rb") as fh:
        message.attach(statement_filename(statement), fh.read(), "application/pdf")
    return message


def statement_delivery_send(*, delivery: StatementDelivery, actor: Actor) -> StatementDelivery:
    """Send one recorded delivery now and record the mail system's answer; re-raises a failure (the task retries).

    A delivery already sent is left alone, so a task delivered twice sends one email.
    """
    policy.require(actor, "statement.deliver", "send statements")
    # unscoped: lock (re-reads with FOR UPDATE a delivery the caller already holds)
    with transaction.atomic():
        delivery = (
            StatementDelivery.all_objects.select_for_update(of=("self",))
            .select_related("statement__vendor", "statement__credit_note_for")
            .get(pk=delivery.pk)
        )
        if delivery.status == StatementDelivery.Status.SENT:
            return delivery
        statement = delivery.statement
        recipients = billing_recipients(statement.vendor)
        delivery.recipients = recipients
        delivery.attempts += 1
        delivery.attempted_at = timezone.now()
        if not recipients:
            delivery.status = StatementDelivery.Status.FAILED
            delivery.response = "No billing contact and no active vendor admin to send to."
            delivery.save()
            return delivery
        try:
            sent = _message(statement, recipients).send(fail_silently=False)
        except Exception as exc:
            delivery.status = StatementDelivery.Status.FAILED
            delivery.response = f"{type(exc).__name__}: {exc}"[:2000]
            delivery.save()
            audit_record(
                actor=None,
                verb="statement.delivery_failed",
                obj=statement,
                organisation=statement.vendor,
                data={"delivery": delivery.pk, "error": delivery.response},
            )
            failure = exc
        else:
            delivery.status = StatementDelivery.Status.SENT if sent else StatementDelivery.Status.FAILED
            delivery.response = "Accepted by the mail system." if sent else "The mail system accepted no message."
            delivery.sent_at = timezone.now() if sent else None
            delivery.save()
            audit_record(
                actor=None,
                verb="statement.delivered",
                obj=statement,
                organisation=statement.vendor,
                data={"delivery": delivery.pk, "to": recipients},
            )
            return delivery
    raise failure
