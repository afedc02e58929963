"""Signed, expiring RSVP links: they work without a password until the event ends."""

from __future__ import annotations

import datetime

from django.core import signing

from .models import EventInvitation

SALT = "community.rsvp-link"


class LinkError(Exception):
    """The link is not valid (tampered, unknown) or no longer valid (the event is over)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def rsvp_token(invitation: EventInvitation) -> str:
    """The signed, timestamped token of an invitation's RSVP link."""
    return signing.dumps({"i": invitation.pk}, salt=SALT)


def _signed_at(token: str) -> datetime.datetime:
    timestamp = signing.b62_decode(token.rsplit(":", 2)[1])
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


def invitation_for_token(token: str) -> EventInvitation:
    """The invitation a link belongs to (read across tenants: the signature is the credential).

    The link's max age runs from when it was signed until the event ends, so a link
    stops working when its event is over. Raises ``LinkError`` otherwise.
    """
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise LinkError("This link is not valid.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise LinkError("This link is not valid.")
    invitation = EventInvitation.all_objects.select_related("event", "msp", "event__host").filter(pk=data["i"]).first()
    if invitation is None:
        raise LinkError("This link is not valid.")
    max_age = invitation.event.ends_at - _signed_at(token)
    try:
        signing.loads(token, salt=SALT, max_age=max(max_age, datetime.timedelta(0)))
    except signing.SignatureExpired as exc:
        raise LinkError("This event is over, so its link has expired.", expired=True) from exc
    return invitation
