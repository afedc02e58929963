"""Demo community events: past and upcoming events of every kind with invitations, answers, a waitlist,
check-ins, a walk-in and pitch feedback. Running it again changes nothing (events are found by title).

Rows are written directly, without the emails the services send, so seeding stays quiet; the
pitch feedback goes through ``feedback_submit`` so that follow-ups and pilots reach the desks'
pipelines as they would for real.
"""

from __future__ import annotations

import datetime
import random
import zoneinfo
from typing import NotRequired, TypedDict

from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.models import Role, User
from tmw.directory.models import MSPContact

from . import services
from .models import RSVP, Event, EventInvitation, PitchFeedback, PitchSlot


class EventSpec(TypedDict):
    title: str
    kind: str
    days: int
    hour: int
    hours: int
    time_zone: str
    venue: str
    capacity: int
    invite: int
    decline: int
    attend: NotRequired[int]
    walk_ins: NotRequired[int]
    host: str
    description: str
    access: NotRequired[str]
    virtual_link: NotRequired[str]
    pitches: NotRequired[list[tuple[str, int, str]]]


EVENTS: list[EventSpec] = [
    {
        "title": "Backup and recovery pitch night",
        "kind": Event.Kind.PITCH,
        "days": -21,
        "hour": 17,
        "hours": 3,
        "time_zone": "America/Toronto",
        "venue": "The Loft, 125 King St W, Toronto",
        "capacity": 12,
        "invite": 15,
        "decline": 2,
        "attend": 10,
        "walk_ins": 1,
        "pitches": [("Option A desk", 20, "Restore testing as a billable service"), ("Option B desk", 15, "")],
        "host": "dana.whitfield",
        "description": "Two vendors, fifteen minutes each, then questions from the floor and dinner.",
    },
    {
        "title": "Chicago MSP owners' dinner",
        "kind": Event.Kind.DINNER,
        "days": -9,
        "hour": 19,
        "hours": 3,
        "time_zone": "America/Chicago",
        "venue": "Gibsons Italia, 233 N Canal St, Chicago",
        "capacity": 8,
        "invite": 12,
        "decline": 1,
        "attend": 7,
        "walk_ins": 0,
        "host": "marcus.okafor",
        "description": "Owners only: pricing, hiring technicians and what PE buyers look for.",
    },
    {
        "title": "Identity and access focus group",
        "kind": Event.Kind.FOCUS_GROUP,
        "days": 6,
        "hour": 13,
        "hours": 2,
        "time_zone": "America/New_York",
        "venue": "",
        "virtual_link": "https://meet.themspworks.example/identity-focus",
        "capacity": 8,
        "invite": 10,
        "decline": 2,
        "host": "marcus.okafor",
        "description": "How MSPs roll out phishing-resistant MFA across small clients, and what it costs them.",
    },
    {
        "title": "Vancouver MSP dinner",
        "kind": Event.Kind.DINNER,
        "days": 12,
        "hour": 18,
        "hours": 3,
        "time_zone": "America/Vancouver",
        "venue": "Ask for Luigi, 305 Alexander St, Vancouver",
        "capacity": 6,
        "invite": 12,
        "decline": 1,
        "host": "dana.whitfield",
        "description": "A long table of West Coast MSPs. Tell us about dietary needs when you answer.",
    },
    {
        "title": "AI and automation working group",
        "kind": Event.Kind.WORKING_GROUP,
        "days": 20,
        "hour": 12,
        "hours": 1,
        "time_zone": "America/New_York",
        "venue": "",
        "virtual_link": "https://meet.themspworks.example/ai-working-group",
        "capacity": 30,
        "access": Event.Access.OPEN,
        "invite": 6,
        "decline": 0,
        "host": "dana.whitfield",
        "description": "Monthly: which automation MSPs can bill for, and which scripts save technicians hours.",
    },
    {
        "title": "Spring pitch session",
        "kind": Event.Kind.PITCH,
        "days": 30,
        "hour": 16,
        "hours": 2,
        "time_zone": "America/Toronto",
        "venue": "The Loft, 125 King St W, Toronto",
        "capacity": 20,
        "invite": 9,
        "decline": 1,
        "pitches": [("Option B desk", 15, "AI service desk for MSPs"), ("Option A desk", 15, "")],
        "host": "marcus.okafor",
        "description": "Two vendors pitch to MSP owners and service managers; drinks after.",
    },
]
DIETARY = ["", "", "Vegetarian", "", "No shellfish", "", "Gluten-free", "", "Vegan", ""]
COMMENTS = {
    "not_now": ["Not this year; we just renewed.", "Interesting, but our stack is full.", ""],
    "follow_up": ["Send us pricing for 40 technicians.", "Would like a call with our service manager.", ""],
    "pilot": ["Ready to pilot with two clients next month.", "Let's run it at our healthcare clients."],
}


def _contact_for(msp) -> tuple[str, str]:
    contact = MSPContact.objects.filter(msp__organisation=msp).exclude(email="").order_by("-is_primary").first()
    if contact is not None:
        return contact.name, contact.email
    user = User.objects.filter(organisation=msp, role=Role.MSP_MEMBER).order_by("pk").first()
    if user is not None:
        return user.get_full_name(), user.email
    return f"Owner at {msp.name}", f"owner@{msp.slug}.example"


def _event(spec: EventSpec, staff: dict, today: datetime.date) -> Event:
    zone = zoneinfo.ZoneInfo(spec["time_zone"])
    day = today + datetime.timedelta(days=spec["days"])
    starts = datetime.datetime(day.year, day.month, day.day, spec["hour"], 0, tzinfo=zone)
    event = Event(
        kind=spec["kind"],
        title=spec["title"],
        description=spec["description"],
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=spec["hours"]),
        time_zone=spec["time_zone"],
        venue=spec["venue"],
        virtual_link=spec.get("virtual_link", ""),
        capacity=spec["capacity"],
        access=spec.get("access", Event.Access.INVITE_ONLY),
        host=staff[spec["host"]],
        rsvp_deadline=starts - datetime.timedelta(days=2) if spec["days"] > 2 else None,
    )
    event.full_clean()
    event.save()
    return event


def _answer(event: Event, invitation: EventInvitation, *, going: bool, when: datetime.datetime, dietary: str) -> RSVP:
    """An answer as ``rsvp_respond`` would record it (seat, else the next waitlist place), without its email."""
    if not going:
        status, position = RSVP.Status.NOT_GOING, None
    elif RSVP.objects.filter(event=event, status=RSVP.Status.GOING).count() < event.capacity:
        status, position = RSVP.Status.GOING, None
    else:
        status = RSVP.Status.WAITLISTED
        position = RSVP.objects.filter(event=event, status=RSVP.Status.WAITLISTED).count() + 1
    return RSVP.objects.create(
        invitation=invitation,
        event=event,
        msp_id=invitation.msp_id,
        status=status,
        waitlist_position=position,
        dietary=dietary if event.is_dinner else "",
        responded_at=when,
    )


def seed(context: dict) -> None:
    """Create the demo events once; a second run finds them by title and adds nothing."""
    staff = context["staff"]
    vendors = context["vendors"]
    msps = list(context["msps"])
    today = timezone.localdate()
    now = timezone.now()
    for index, spec in enumerate(EVENTS):
        if Event.objects.filter(title=spec["title"]).exists():
            continue
        rng = random.Random(index + 7)
        event = _event(spec, staff, today)
        host = event.host
        for order, (label, minutes, topic) in enumerate(spec.get("pitches", []), start=1):
            vendor = vendors.get(label)
            if vendor is not None:
                PitchSlot.objects.create(event=event, vendor=vendor, order=order, minutes=minutes, topic=topic)
        invited = rng.sample(msps, min(spec["invite"], len(msps)))
        sent_at = (
            event.starts_at - datetime.timedelta(days=14) if spec["days"] < 0 else now - datetime.timedelta(days=2)
        )
        rsvps = []
        for n, msp in enumerate(invited):
            name, email = _contact_for(msp)
            invitation = EventInvitation.objects.create(
                event=event,
                msp=msp,
                name=name,
                email=email,
                invited_by=host,
                sent_at=sent_at,
                self_registered=event.access == Event.Access.OPEN,
            )
            if n >= len(invited) - 1 and spec["days"] > 0 and spec["invite"] > 4:
                continue  # one invitee has not answered yet
            going = n >= spec["decline"]
            rsvps.append(
                _answer(
                    event,
                    invitation,
                    going=going,
                    when=sent_at + datetime.timedelta(hours=3 + n),
                    dietary=DIETARY[n % len(DIETARY)],
                )
            )
        if spec["days"] >= 0:
            continue
        seated = [r for r in rsvps if r.status == RSVP.Status.GOING]
        for n, rsvp in enumerate(seated):
            rsvp.attendance = RSVP.Attendance.ATTENDED if n < spec["attend"] else RSVP.Attendance.NO_SHOW
            rsvp.checked_in_at = event.starts_at + datetime.timedelta(minutes=5 + n) if n < spec["attend"] else None
            rsvp.feedback_requested_at = event.ends_at + datetime.timedelta(hours=1) if event.is_pitch else None
            rsvp.save(update_fields=["attendance", "checked_in_at", "feedback_requested_at"])
        taken = {r.msp_id for r in rsvps}
        for msp in [m for m in msps if m.pk not in taken][: spec.get("walk_ins", 0)]:
            name, email = _contact_for(msp)
            invitation = EventInvitation.objects.create(
                event=event, msp=msp, name=name, email=email, invited_by=host, walk_in=True
            )
            RSVP.objects.create(
                invitation=invitation,
                event=event,
                msp=msp,
                status=RSVP.Status.GOING,
                attendance=RSVP.Attendance.ATTENDED,
                checked_in_at=event.starts_at + datetime.timedelta(minutes=20),
                responded_at=event.starts_at + datetime.timedelta(minutes=20),
            )
        if event.is_pitch:
            _feedback(event, rng)


def _feedback(event: Event, rng: random.Random) -> None:
    """Each attendee rates the pitches as through the signed feedback link emailed after the session."""
    attended = RSVP.objects.filter(event=event, attendance=RSVP.Attendance.ATTENDED).select_related("msp")
    slots = list(PitchSlot.objects.filter(event=event).select_related("vendor"))
    for n, rsvp in enumerate(attended):
        for slot in slots:
            if PitchFeedback.objects.filter(rsvp=rsvp, pitch_slot=slot).exists():
                continue
            interest = ["not_now", "follow_up", "pilot", "follow_up", "not_now"][(n + slot.order) % 5]
            services.feedback_submit(
                rsvp=rsvp,
                pitch_slot=slot,
                interest=interest,
                comment=rng.choice(COMMENTS[interest]),
                actor=policy.VISITOR,
            )
