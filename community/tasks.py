"""Celery tasks of the community app: emails after commit, and the 15-minute reminder and feedback sweep."""

from __future__ import annotations

from email.mime.text import MIMEText

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tmw.accounts import policy
from tmw.tasks import TenantTask

from . import selectors, services
from .models import RSVP, EventInvitation

SUBJECTS = {
    "invitation": "You're invited: {title}",
    "confirmed": "You're going: {title}",
    "waitlisted": "You're on the waitlist: {title}",
    "promoted": "A seat opened up, you're going: {title}",
    "reminder_48h": "In two days: {title}",
    "reminder_2h": "Starting soon: {title}",
    "feedback": "How were the pitches? {title}",
}
WITH_CALENDAR = {"invitation", "confirmed", "promoted", "reminder_48h"}


def _calendar_part(invitation: EventInvitation, *, attending: bool):
    text = selectors.event_calendar(event=invitation.event, invitation=invitation if attending else None)
    part = MIMEText(text, "calendar", "utf-8")
    part.set_param("method", "PUBLISH")
    part.add_header("Content-Disposition", "attachment", filename="event.ics")
    return part


def _send(invitation: EventInvitation, kind: str, rsvp: RSVP | None = None) -> None:
    """Render and send one community email; every time in it is the event's own, labelled with its zone.

    Templates convert aware datetimes to the current time zone before ``|date`` formats them,
    and a worker's current zone is the site's, so the email is rendered inside the event's zone.
    """
    event = invitation.event
    zone = event.zone
    with timezone.override(zone):
        message = _message(invitation, kind, rsvp)
    message.send()


def _message(invitation: EventInvitation, kind: str, rsvp: RSVP | None) -> EmailMultiAlternatives:
    event = invitation.event
    zone = event.zone
    context = {
        "kind": kind,
        "event": event,
        "invitation": invitation,
        "rsvp": rsvp,
        "rank": selectors.waitlist_rank(rsvp) if rsvp is not None else None,
        "starts_local": timezone.localtime(event.starts_at, zone),
        "ends_local": timezone.localtime(event.ends_at, zone),
        "zone_name": event.time_zone,
        "url": selectors.feedback_url(invitation) if kind == "feedback" else selectors.rsvp_url(invitation),
        "portal_url": settings.SITE_URL + reverse("community:msp_invitations"),
        "pitches": selectors.public_pitch_lineup(event=event) if event.is_pitch else [],
    }
    message = EmailMultiAlternatives(
        subject=SUBJECTS[kind].format(title=event.title),
        body=render_to_string("community/email/message.txt", context),
        to=[invitation.email],
        reply_to=[event.host.email],
    )
    message.attach_alternative(render_to_string("community/email/message.html", context), "text/html")
    if kind in WITH_CALENDAR:
        message.attach(_calendar_part(invitation, attending=kind != "invitation"))
    return message


@shared_task(
    base=TenantTask,
    name="community.send_invitation_email",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def send_invitation_email(invitation_id: int) -> str:
    """Email an invitee the event and its signed RSVP link, once."""
    invitation = EventInvitation.objects.select_related("event", "event__host").get(pk=invitation_id)
    if invitation.sent_at is not None:
        return "skipped"
    _send(invitation, "invitation")
    EventInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return "sent"


@shared_task(
    base=TenantTask,
    name="community.send_rsvp_email",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def send_rsvp_email(rsvp_id: int, kind: str) -> str:
    """Email a person about their answer: confirmed (with the .ics), waitlisted, promoted, a reminder, feedback."""
    rsvp = RSVP.objects.select_related("invitation", "event", "event__host").get(pk=rsvp_id)
    invitation = rsvp.invitation
    invitation.event = rsvp.event
    _send(invitation, kind, rsvp)
    return kind


@shared_task(base=TenantTask, name="community.send_due_reminders", max_retries=0)
def send_due_reminders() -> dict[str, int]:
    """Every 15 minutes: the 48-hour and 2-hour reminders that are due, and feedback requests after pitches."""
    return {
        "reminders": services.reminders_send_due(actor=policy.SYSTEM),
        "feedback_requests": services.feedback_requests_send_due(actor=policy.SYSTEM),
    }
