"""Signed, expiring links that work without a password.

The RSVP link's max age runs until the event ends. The feedback link, sent once a pitch
session is over, stays valid for ``FEEDBACK_WINDOW`` after the event ends. Each link kind
has its own salt, so one cannot stand in for the other.
"""

from __future__ import annotations

import datetime

from django.core import signing

from .models import EventInvitation

SALT = "community.rsvp-link"
FEEDBACK_SALT = "community.feedback-link"
FEEDBACK_WINDOW = datetime.timedelta(days=14)


class LinkError(Exception):
    """The link is not valid (tampered, unknown) or no longer valid (its time is up)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def rsvp_token(invitation: EventInvitation) -> str:
    """The signed, timestamped token of an invitation's RSVP link."""
    return signing.dumps({"i": invitation.pk}, salt=SALT)


def feedback_token(invitation: EventInvitation) -> str:
    """The signed, timestamped token of an invitation's pitch-feedback link."""
    return signing.dumps({"i": invitation.pk}, salt=FEEDBACK_SALT)


def _signed_at(token: str) -> datetime.datetime:
    timestamp = signing.b62_decode(token.rsplit(":", 2)[1])
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


def _load(token: str, *, salt: str, valid_after_end: datetime.timedelta, expired_message: str) -> EventInvitation:
    try:
        data = signing.loads(token, salt=salt)
    except signing.BadSignature as exc:
        raise LinkError("This link is not valid.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise LinkError("This link is not valid.")
    # unscoped: token (the signed link is the authority)
    invitation = EventInvitation.all_objects.select_related("event", "msp", "event__host").filter(pk=data["i"]).first()
    if invitation is None:
        raise LinkError("This link is not valid.")
    max_age = invitation.event.ends_at + valid_after_end - _signed_at(token)
    try:
        signing.loads(token, salt=salt, max_age=max(max_age, datetime.timedelta(0)))
    except signing.SignatureExpired as exc:
        raise LinkError(expired_message, expired=True) from exc
    return invitation


def invitation_for_token(token: str) -> EventInvitation:
    """The invitation an RSVP link belongs to (read across tenants: the signature is the credential).

    The link's max age runs from when it was signed until the event ends, so it stops
    working when its event is over. Raises ``LinkError`` otherwise.
    """
    return _load(
        token,
        salt=SALT,
        valid_after_end=datetime.timedelta(0),
        expired_message="This event is over, so its link has expired.",
    )


def invitation_for_feedback_token(token: str) -> EventInvitation:
    """The invitation a feedback link belongs to; valid until ``FEEDBACK_WINDOW`` after the event ends."""
    return _load(
        token,
        salt=FEEDBACK_SALT,
        valid_after_end=FEEDBACK_WINDOW,
        expired_message="Feedback for this event has closed.",
    )
