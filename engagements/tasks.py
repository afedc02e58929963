"""Celery tasks of the engagements app: attribution emails after commit, and the daily sweeps of beat."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.models import Role, User
from tmw.tasks import TenantTask

from . import selectors, services
from .models import Attribution

SUBJECTS = {
    "new": "TMW attributed {msp} to your desk: acknowledge or dispute by {due}",
    "disputed": "{vendor} disputes the attribution of {msp}",
    "resolved": "TMW resolved your dispute of {msp}",
}


def _vendor_emails(vendor_id: int) -> list[str]:
    """The vendor's active admins: they acknowledge and dispute."""
    return list(
        User.objects.filter(organisation_id=vendor_id, role=Role.VENDOR_ADMIN, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


def attribution_message(attribution: Attribution, kind: str) -> EmailMessage | None:
    """The email of one step of an attribution's review, or None when nobody is there to read it."""
    msp, vendor, engagement = attribution.msp, attribution.vendor, attribution.engagement
    due = f"{attribution.acknowledge_by:%d %b %Y}" if attribution.acknowledge_by else "the end of the window"
    portal = settings.SITE_URL + reverse("engagements:portal") + "#attributions"
    desk = settings.SITE_URL + reverse("engagements:engagement_detail", args=[engagement.pk]) + "#attributions"
    if kind == "new":
        to = _vendor_emails(vendor.pk)
        body = (
            f"TMW attributed {msp} to your channel desk from {attribution.starts_on:%d %b %Y}.\n"
            f"Reason: {attribution.reason}\n\n"
            f"Please acknowledge it, or dispute it with a reason, by {due}: {portal}\n"
            "An attribution you do not answer by then counts as acknowledged.\n"
        )
        reply_to = [engagement.lead_partner.email]
    elif kind == "disputed":
        to = [engagement.lead_partner.email] if engagement.lead_partner.is_active else []
        body = (
            f"{vendor} disputes the attribution of {msp} (from {attribution.starts_on:%d %b %Y}).\n"
            f"Disputed by: {attribution.disputed_by or vendor}\n"
            f"Their reason: {attribution.dispute_reason}\n\n"
            f"Resolve it on the desk page: keep it or end it, with a reason: {desk}\n"
        )
        reply_to = []
    elif kind == "resolved":
        to = _vendor_emails(vendor.pk)
        outcome = (
            f"kept: it stays attributed from {attribution.starts_on:%d %b %Y}"
            if attribution.acknowledgement == Attribution.Acknowledgement.KEPT
            else f"ended on {attribution.ended_on:%d %b %Y}"
            if attribution.ended_on
            else "ended"
        )
        body = (
            f"TMW resolved your dispute of {msp}: the attribution is {outcome}.\n"
            f"Reason: {attribution.resolution_reason}\n\n"
            f"See it in your portal: {portal}\n"
        )
        reply_to = [engagement.lead_partner.email]
    else:
        raise ValueError(f"Unknown attribution email: {kind}")
    if not to:
        return None
    subject = SUBJECTS[kind].format(msp=msp, vendor=vendor, due=due)
    return EmailMessage(subject=subject, body=body, to=to, reply_to=reply_to)


@shared_task(
    base=TenantTask,
    name="engagements.send_attribution_email",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def send_attribution_email(attribution_id: int, kind: str) -> str:
    """Email one step of an attribution's review: the vendor of a new one or a resolution, the partner of a dispute."""
    policy.require(policy.SYSTEM, "attribution.review_notify")
    attribution = Attribution.objects.select_related("msp", "vendor", "engagement__lead_partner", "disputed_by").get(
        pk=attribution_id
    )
    message = attribution_message(attribution, kind)
    if message is None:
        return "nobody"
    message.send()
    return kind


@shared_task(base=TenantTask, name="engagements.deem_acknowledged", max_retries=0)
def deem_acknowledged(day: str | None = None) -> int:
    """Beat, daily: attributions the vendor left unanswered past their window count as acknowledged."""
    today = datetime.date.fromisoformat(day) if day else timezone.localdate()
    return services.attributions_deem_acknowledged(actor=policy.SYSTEM, today=today)


def overdue_message(owner: User, steps: list, day: datetime.date) -> EmailMessage:
    """One owner's email of their overdue next steps."""
    lines = []
    for step in steps:
        on = f" · {step.opportunity.msp}" if step.opportunity_id else ""
        lines.append(f"- {step.title} ({step.engagement.vendor}{on}), due {step.due_on:%d %b %Y}")
    link = settings.SITE_URL + reverse("engagements:next_step_list")
    return EmailMessage(
        subject=f"{len(steps)} overdue next step{'s' if len(steps) != 1 else ''} ({day:%d %b %Y})",
        body="These next steps of yours are past their due date:\n\n" + "\n".join(lines) + f"\n\nYour list: {link}\n",
        to=[owner.email],
    )


@shared_task(base=TenantTask, name="engagements.send_overdue_steps", max_retries=0)
def send_overdue_steps(day: str | None = None) -> int:
    """Beat, daily: each owner with overdue next steps gets one email that day, however often this runs."""
    today = datetime.date.fromisoformat(day) if day else timezone.localdate()
    sent = 0
    by_owner = selectors.overdue_steps_by_owner(today=today)
    owners = {u.pk: u for u in User.objects.filter(pk__in=list(by_owner))}
    for owner_id, steps in by_owner.items():
        owner = owners[owner_id]
        with transaction.atomic():
            if not services.overdue_digest_claim(owner=owner, day=today, steps=len(steps), actor=policy.SYSTEM):
                continue
            overdue_message(owner, steps, today).send()  # a failed send rolls the claim back
        sent += 1
    return sent
