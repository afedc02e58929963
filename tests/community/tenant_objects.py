"""Builders for the community models.

Each side gets two invite-only events that never mix the side's vendor with its MSP
(a vendor must not see the MSP's name, nor the MSP the vendor's): a pitch evening where
the side's vendor pitches (the ``Event`` and ``PitchSlot`` objects), and a peer night,
already held, where a neutral vendor pitched and the side's MSP was invited, went,
attended and gave feedback (the ``EventInvitation``, ``RSVP`` and ``PitchFeedback`` objects).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from community.models import RSVP, Event, EventInvitation, EventQuestion, PitchFeedback, PitchSlot, RSVPAnswer
from tests.factories import OrganisationFactory, Side, World, tenant_object


def _event(world: World, title: str, *, days: int, kind: str = Event.Kind.PITCH) -> Event:
    existing = Event.objects.filter(title=title).first()
    if existing is not None:
        return existing
    starts = (timezone.now() + datetime.timedelta(days=days)).replace(microsecond=0)
    return Event.objects.create(
        kind=kind,
        title=title,
        description="Peers comparing notes.",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        time_zone="America/Toronto",
        venue="The Loft, 12 King St W, Toronto",
        capacity=20,
        access=Event.Access.INVITE_ONLY,
        host=world.partner,
    )


def neutral_vendor():
    """A vendor on neither side of the world, pitching at the peer nights."""
    return OrganisationFactory(name="Northwind Neutral Vendor", category="Identity")


def pitch_evening(world: World, side: Side) -> Event:
    return _event(world, f"Pitch evening {side.key.upper()}", days=10)


def peer_night(world: World, side: Side) -> Event:
    event = _event(world, f"Peer night {side.key.upper()}", days=-3)
    vendor = neutral_vendor()
    PitchSlot.objects.get_or_create(event=event, vendor=vendor, defaults={"order": 1, "minutes": 15})
    return event


@tenant_object(Event)
def _event_builder(world: World, side: Side):
    return pitch_evening(world, side)


@tenant_object(PitchSlot)
def _pitch_slot(world: World, side: Side):
    return PitchSlot.objects.create(
        event=pitch_evening(world, side), vendor=side.vendor, order=1, minutes=20, topic=f"{side.marker} pitch"
    )


def _invitation(world: World, side: Side) -> EventInvitation:
    invitation, _ = EventInvitation.objects.get_or_create(
        event=peer_night(world, side),
        email=f"guest@{side.key}-msp.example",
        defaults={"msp": side.msp, "name": f"{side.msp_marker} Guest", "invited_by": world.partner},
    )
    return invitation


@tenant_object(EventInvitation)
def _event_invitation(world: World, side: Side):
    return _invitation(world, side)


def _rsvp(world: World, side: Side) -> RSVP:
    invitation = _invitation(world, side)
    rsvp, _ = RSVP.objects.get_or_create(
        invitation=invitation,
        defaults={
            "event": invitation.event,
            "msp": side.msp,
            "status": RSVP.Status.GOING,
            "attendance": RSVP.Attendance.ATTENDED,
            "dietary": f"{side.msp_marker} vegetarian",
        },
    )
    return rsvp


@tenant_object(RSVP)
def _rsvp_builder(world: World, side: Side):
    return _rsvp(world, side)


@tenant_object(PitchFeedback)
def _pitch_feedback(world: World, side: Side):
    rsvp = _rsvp(world, side)
    slot = PitchSlot.objects.get(event=rsvp.event, vendor=neutral_vendor())
    return PitchFeedback.objects.create(
        rsvp=rsvp, pitch_slot=slot, interest=PitchFeedback.Interest.NOT_NOW, comment=f"{side.msp_marker} says not now"
    )


def _question(world: World, side: Side) -> EventQuestion:
    question, _ = EventQuestion.objects.get_or_create(
        event=peer_night(world, side),
        label="Which PSA do you run?",
        defaults={"kind": EventQuestion.Kind.CHOICE, "choices": "ConnectWise\nAutotask\nHalo", "required": True},
    )
    return question


@tenant_object(EventQuestion)
def _event_question(world: World, side: Side):
    return _question(world, side)


@tenant_object(RSVPAnswer)
def _rsvp_answer(world: World, side: Side):
    return RSVPAnswer.objects.create(rsvp=_rsvp(world, side), question=_question(world, side), value="Halo")
