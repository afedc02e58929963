"""Demo availability for the two demo partners and a handful of channel-review bookings; safe to run again."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from .models import AvailabilityWindow, Booking
from .selectors import SLOT, free_slots

# (partner key, weekday, start, end) in the partner's own time zone.
WINDOWS = [
    ("dana.whitfield", 0, "10:00", "12:15"),
    ("dana.whitfield", 2, "13:00", "16:00"),
    ("dana.whitfield", 3, "09:00", "11:15"),
    ("marcus.okafor", 1, "09:00", "12:00"),
    ("marcus.okafor", 3, "13:30", "16:30"),
    ("marcus.okafor", 4, "10:00", "11:30"),
]

PROSPECTS: list[dict[str, Any]] = [
    {
        "partner": "dana.whitfield",
        "when": "upcoming",
        "company": "Harborline Security",
        "website": "https://harborline-security.example",
        "contact_name": "Elena Vargas",
        "email": "elena.vargas@harborline-security.example",
        "phone": "+1 617 555 0142",
        "role": "VP Sales",
        "sells": "Email security gateway with a multi-tenant console, sold per mailbox.",
        "has_us_sales": True,
        "notes": "Two MSPs already resell us informally; want a real program.",
        "time_zone": "America/New_York",
    },
    {
        "partner": "marcus.okafor",
        "when": "upcoming",
        "company": "Quillfield Analytics",
        "website": "https://quillfield.example",
        "contact_name": "Tom Becker",
        "email": "tom.becker@quillfield.example",
        "phone": "+49 30 5550 1234",
        "role": "Founder and CEO",
        "sells": "Microsoft 365 license optimisation and usage analytics.",
        "notes": "Based in Berlin, looking at North America for next year.",
        "time_zone": "Europe/Berlin",
    },
    {
        "partner": "dana.whitfield",
        "when": "past",
        "company": "Brightpath Backup",
        "website": "https://brightpath-backup.example",
        "contact_name": "Nadia Holt",
        "email": "nadia.holt@brightpath-backup.example",
        "phone": "+1 512 555 0199",
        "role": "Head of Partnerships",
        "sells": "Immutable backup for Microsoft 365 and Google Workspace.",
        "has_us_sales": True,
        "has_us_marketing": True,
        "has_us_channel": True,
        "time_zone": "America/Chicago",
    },
    {
        "partner": "marcus.okafor",
        "when": "cancelled",
        "company": "Tidewater Patch",
        "website": "https://tidewater-patch.example",
        "contact_name": "Sam Ortiz",
        "email": "sam.ortiz@tidewater-patch.example",
        "phone": "+1 206 555 0110",
        "role": "COO",
        "sells": "Third-party patching for Windows and macOS endpoints.",
        "time_zone": "America/Los_Angeles",
    },
]


def _time(value: str) -> datetime.time:
    return datetime.time.fromisoformat(value)


def seed(context: dict) -> None:
    """Publish the demo partners' weekly windows and add four bookings (two upcoming, one past, one cancelled)."""
    staff = context["staff"]
    for key, weekday, start, end in WINDOWS:
        AvailabilityWindow.objects.get_or_create(
            partner=staff[key], weekday=weekday, start_time=_time(start), defaults={"end_time": _time(end)}
        )
    now = timezone.now()
    for spec in PROSPECTS:
        spec = dict(spec)
        partner = staff[spec.pop("partner")]
        when = spec.pop("when")
        if Booking.objects.filter(email=spec["email"]).exists():
            continue
        if when == "past":
            # The same weekly slot one to two weeks ago: a review that has taken place.
            later = free_slots(now=now, partner=partner)
            if not later:
                continue
            starts_at = later[0].starts_at - datetime.timedelta(weeks=2)
        else:
            slots = free_slots(now=now, partner=partner)
            if not slots:
                continue
            starts_at = slots[min(len(slots) - 1, 2 if when == "upcoming" else 4)].starts_at
        Booking.objects.create(
            partner=partner,
            starts_at=starts_at,
            ends_at=starts_at + SLOT,
            status=Booking.Status.CANCELLED if when == "cancelled" else Booking.Status.CONFIRMED,
            cancelled_at=now if when == "cancelled" else None,
            **spec,
        )
