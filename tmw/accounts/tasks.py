"""Emails about accounts, sent by Celery after the transaction that asked for them commits."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from tmw.tasks import TenantTask

from .models import Invitation, User


@shared_task(
    base=TenantTask,
    scope="tenant",
    name="accounts.send_invitation_email",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def send_invitation_email(invitation_id: int, raw_token: str, *, organisation_id: int) -> str:
    """Email an invitation its one-time link, in the scope of the organisation it invites into."""
    invitation = Invitation.objects.select_related("organisation", "invited_by").get(pk=invitation_id)
    if not invitation.is_open:
        return "skipped"
    context = {
        "invitation": invitation,
        "has_account": User.objects.filter(email__iexact=invitation.email).exists(),
        "login_url": settings.SITE_URL + reverse("accounts:login"),
        "url": settings.SITE_URL + reverse("accounts:invitation_accept", args=[raw_token]),
    }
    message = EmailMultiAlternatives(
        subject=f"{invitation.invited_by} invited you to {invitation.organisation} on TMW Channel Desk",
        body=render_to_string("accounts/email/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("accounts/email/invitation.html", context), "text/html")
    message.send()
    return "sent"
