"""Emails about the MSP directory, sent by Celery after the transaction that asked for them commits."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from tmw.accounts.models import Role, User
from tmw.tasks import TenantTask

from .models import MSPProfileChange


@shared_task(
    base=TenantTask,
    name="directory.notify_profile_change",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def notify_profile_change(change_id: int, step: str) -> str:
    """Tell the partners of a proposed profile change, and the MSP of the answer."""
    change = MSPProfileChange.objects.select_related("msp", "proposed_by", "reviewed_by").get(pk=change_id)
    context = {
        "change": change,
        "msp": change.msp,
        "step": step,
        "review_url": settings.SITE_URL + reverse("directory:msp_change", args=[change.pk]),
        "profile_url": settings.SITE_URL + reverse("msp_profile:edit"),
    }
    if step == "proposed":
        if change.status != MSPProfileChange.Status.PENDING:
            return "skipped"
        recipients = list(
            User.objects.filter(role=Role.PARTNER, is_active=True).order_by("email").values_list("email", flat=True)
        )
        subject = f"{change.msp} updated its directory profile: please review"
    else:
        proposer = change.proposed_by
        if proposer is None or not proposer.is_active:
            return "skipped"
        recipients = [proposer.email]
        verdict = "approved" if step == "approved" else "declined"
        subject = f"TMW {verdict} the changes to {change.msp}'s profile"
    if not recipients:
        return "skipped"
    send_mail(subject, render_to_string("directory/email/profile_change.txt", context), None, recipients)
    return "sent"
