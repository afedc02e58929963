"""Celery tasks of the community app: emails after commit, and the 15-minute reminder and feedback sweep."""

from __future__ import annotations

from email.mime.text import MIMEText

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
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
    "changed": "Changed: {title}",
    "cancelled": "Cancelled: {title}",
}
WITH_CALENDAR = {"invitation", "confirmed", "promoted", "reminder_48h", "changed", "cancelled"}


def _calendar_part(invitation: EventInvitation, *, attending: bool, kind: str = ""):
    """The .ics attachment: PUBLISH with a first invitation; REQUEST (same UID, current SEQUENCE) to a
    person who answered or whose event changed; CANCEL when the event is called off."""
    event = invitation.event
    if kind == "cancelled" or event.is_cancelled:
        method = "CANCEL"
    elif attending or kind == "changed":
        method = "REQUEST"
    else:
        method = "PUBLISH"
    with_attendee = method != "PUBLISH"
    text = selectors.event_calendar(event=event, invitation=invitation if with_attendee else None, method=method)
    part = MIMEText(text, "calendar", "utf-8")
    part.set_param("method", method)
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
        message.attach(_calendar_part(invitation, attending=kind != "invitation", kind=kind))
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


@shared_task(
    base=TenantTask,
    name="community.send_event_change_email",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def send_event_change_email(invitation_id: int, kind: str, sequence: int) -> str:
    """Email an invitee that their event moved (an updated .ics) or is cancelled (METHOD:CANCEL), once per change.

    The invitation remembers the SEQUENCE it was last told about, so a retried or repeated
    task sends nothing twice, and a change overtaken by a newer one is not sent at all.
    """
    with transaction.atomic():
        # The row lock makes a second copy of this task wait, then find the change already sent;
        # a failed send rolls the mark back, so the retry sends it.
        invitation = (
            EventInvitation.objects.select_for_update(of=("self",))
            .select_related("event", "event__host")
            .get(pk=invitation_id)
        )
        event = invitation.event
        if invitation.notified_sequence >= sequence or event.sequence != sequence:
            return "skipped"
        rsvp = RSVP.objects.filter(invitation=invitation).first()
        if rsvp is not None and rsvp.status in (RSVP.Status.NOT_GOING, RSVP.Status.CANCELLED):
            return "skipped"
        EventInvitation.objects.filter(pk=invitation.pk).update(notified_sequence=sequence)
        _send(invitation, kind, rsvp)
    return kind


@shared_task(base=TenantTask, name="community.send_due_reminders", max_retries=0)
def send_due_reminders() -> dict[str, int]:
    """Every 15 minutes: the 48-hour and 2-hour reminders that are due, and feedback requests after pitches."""
    return {
        "reminders": services.reminders_send_due(actor=policy.SYSTEM),
        "feedback_requests": services.feedback_requests_send_due(actor=policy.SYSTEM),
    }
