"""What the community's webhook events say: the key fields of an RSVP's API representation."""

from __future__ import annotations

from community.models import RSVP
from tmw.webhooks import services as webhooks


def rsvp_changed(rsvp: RSVP, *, previous: str | None) -> None:
    """Tell the webhook endpoints that an RSVP's status changed (answered, cancelled, promoted from the waitlist)."""
    if previous == rsvp.status:
        return
    data = {
        "rsvp": {
            "id": rsvp.pk,
            "invitation": rsvp.invitation_id,
            "event": rsvp.event_id,
            "event_title": rsvp.event.title,
            "event_starts_at": rsvp.event.starts_at.isoformat(),
            "msp": rsvp.msp_id,
            "msp_name": rsvp.msp.name,
            "status": rsvp.status,
            "waitlist_position": rsvp.waitlist_position,
            "responded_at": rsvp.responded_at.isoformat() if rsvp.responded_at else None,
        },
        "previous_status": previous,
    }
    webhooks.publish("rsvp.changed", payload=data)
