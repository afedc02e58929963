"""Reads shared by the booking pages and the API: free review slots and filtered booking lists."""

from __future__ import annotations

import datetime
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from tmw import ics
from tmw.accounts.models import TIME_ZONE_CHOICES, Role, User

from .closures import closed_days
from .models import SLOT_MINUTES, AvailabilityWindow, BlackoutDate, Booking

SLOT = datetime.timedelta(minutes=SLOT_MINUTES)
HORIZON = datetime.timedelta(weeks=4)
MIN_NOTICE = datetime.timedelta(hours=24)
DEFAULT_VISITOR_TIME_ZONE = "America/New_York"
OFFERED_TIME_ZONES = frozenset(tz for tz, _ in TIME_ZONE_CHOICES)


@dataclass(frozen=True)
class Slot:
    """A free 45-minute review with one partner, starting at an instant in UTC."""

    partner_id: int
    partner_name: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime

    @property
    def key(self) -> str:
        """The value a form posts to pick this slot: ``<partner id>-<UTC start>``."""
        return f"{self.partner_id}-{self.starts_at.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"

    def local_start(self, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
        return self.starts_at.astimezone(tz)

    def local_end(self, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
        return self.ends_at.astimezone(tz)


def parse_slot_key(key: str) -> tuple[int, datetime.datetime] | None:
    """The partner id and UTC start a slot key names, or None when it is malformed."""
    partner, _, when = (key or "").partition("-")
    try:
        starts_at = datetime.datetime.strptime(when, "%Y%m%dT%H%MZ").replace(tzinfo=datetime.UTC)
        return int(partner), starts_at
    except ValueError:
        return None


def is_offered_zone(name: str | None) -> bool:
    """Whether the name is one of the time zones the pages offer."""
    return name in OFFERED_TIME_ZONES


def unknown_zone_message(name: str, default: str = DEFAULT_VISITOR_TIME_ZONE) -> str:
    """What a visitor is told when a request names a time zone we do not offer."""
    shown = name[:64]
    return f'Time zone: "{shown}" is not one we know. Times are shown in {default.replace("_", " ")}; pick yours.'


def zone_or_default(name: str | None, default: str = DEFAULT_VISITOR_TIME_ZONE) -> zoneinfo.ZoneInfo:
    """The named time zone when it is one we offer, else the default."""
    return zoneinfo.ZoneInfo(name if name in OFFERED_TIME_ZONES else default)


def bookable_partners() -> QuerySet[User]:
    """Active TMW partners, the people a prospect can book."""
    return User.objects.filter(role=Role.PARTNER, is_active=True)


def _window_slots(
    window: AvailabilityWindow, day: datetime.date, tz: zoneinfo.ZoneInfo
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Back-to-back 45-minute slots of a window on one local day, as UTC instants.

    The window's local start and end are turned into instants first and the slots are laid
    out in real time between them, so a day on which clocks change gets the slots that truly
    fit (one fewer in spring, one more in autumn) and no two slots ever overlap.
    """
    start = datetime.datetime.combine(day, window.start_time, tzinfo=tz).astimezone(datetime.UTC)
    end = datetime.datetime.combine(day, window.end_time, tzinfo=tz).astimezone(datetime.UTC)
    out = []
    while start + SLOT <= end:
        out.append((start, start + SLOT))
        start += SLOT
    return out


def free_slots(
    *,
    now: datetime.datetime | None = None,
    partner: User | None = None,
    horizon: datetime.timedelta = HORIZON,
) -> list[Slot]:
    """Every free slot in the next four weeks, at least 24 hours away, sorted by start then partner.

    Slots come from each partner's active weekly windows, read in the partner's time zone,
    minus blocked days, minus public holidays and TMW closures the partner has not opened
    (``closures.closed_days``), and minus any slot that overlaps a live booking. Three queries,
    whatever the number of partners and bookings.
    """
    now = now or timezone.now()
    earliest = now + MIN_NOTICE
    latest = now + horizon
    queryset = AvailabilityWindow.objects.filter(active=True, partner__in=bookable_partners()).select_related("partner")
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    windows = list(queryset)
    if not windows:
        return []
    partner_ids = {w.partner_id for w in windows}
    blackouts: dict[int, set[datetime.date]] = defaultdict(set)
    opened: dict[int, set[datetime.date]] = defaultdict(set)
    for partner_id, day, is_opened in BlackoutDate.objects.filter(
        partner_id__in=partner_ids,
        date__gte=(now - datetime.timedelta(days=1)).date(),
        date__lte=(latest + datetime.timedelta(days=1)).date(),
    ).values_list("partner_id", "date", "opened"):
        (opened if is_opened else blackouts)[partner_id].add(day)
    booked: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = defaultdict(list)
    for partner_id, starts_at, ends_at in (
        Booking.objects.filter(partner_id__in=partner_ids, ends_at__gt=earliest, starts_at__lt=latest + SLOT)
        .exclude(status=Booking.Status.CANCELLED)
        .values_list("partner_id", "starts_at", "ends_at")
    ):
        booked[partner_id].append((starts_at, ends_at))

    by_partner: dict[int, list[AvailabilityWindow]] = defaultdict(list)
    for window in windows:
        by_partner[window.partner_id].append(window)

    slots: set[Slot] = set()
    for partner_id, partner_windows in by_partner.items():
        person = partner_windows[0].partner
        tz = zone_or_default(person.time_zone, default="America/New_York")
        first_day = now.astimezone(tz).date()
        last_day = latest.astimezone(tz).date()
        closed = set(closed_days(person.time_zone, first_day, last_day)) - opened[partner_id]
        day = first_day
        while day <= last_day:
            if day not in blackouts[partner_id] and day not in closed:
                for window in partner_windows:
                    if window.weekday != day.weekday():
                        continue
                    for starts_at, ends_at in _window_slots(window, day, tz):
                        if starts_at < earliest or starts_at > latest:
                            continue
                        if any(b_start < ends_at and starts_at < b_end for b_start, b_end in booked[partner_id]):
                            continue
                        slots.add(Slot(partner_id, person.get_full_name(), starts_at, ends_at))
            day += datetime.timedelta(days=1)
    return sorted(slots, key=lambda s: (s.starts_at, s.partner_name, s.partner_id))


def slots_by_day(slots: list[Slot], tz: zoneinfo.ZoneInfo) -> dict[datetime.date, list[Slot]]:
    """Slots grouped by the day they fall on in the visitor's time zone, in order."""
    days: dict[datetime.date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.local_start(tz).date(), []).append(slot)
    return days


def slot_is_free(*, partner: User, starts_at: datetime.datetime, now: datetime.datetime | None = None) -> bool:
    """Whether this partner still offers a free slot starting at this instant."""
    return any(s.starts_at == starts_at for s in free_slots(now=now, partner=partner))


def booking_list(
    *,
    status: str = "",
    when: str = "upcoming",
    partner: str | int | None = None,
    q: str = "",
    now: datetime.datetime | None = None,
) -> QuerySet[Booking]:
    """Bookings filtered the way the partners' list and the API filter them."""
    now = now or timezone.now()
    qs = Booking.objects.select_related("partner", "vendor")
    if status in Booking.Status.values:
        qs = qs.filter(status=status)
    if when == "upcoming":
        qs = qs.filter(ends_at__gte=now).order_by("starts_at", "pk")
    elif when == "past":
        qs = qs.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
    else:
        qs = qs.order_by("-starts_at", "-pk")
    if partner not in (None, ""):
        try:
            qs = qs.filter(partner_id=int(str(partner)))
        except (TypeError, ValueError):
            qs = qs.none()
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(company__icontains=q) | Q(contact_name__icontains=q) | Q(email__icontains=q) | Q(sells__icontains=q)
        )
    return qs


@dataclass(frozen=True)
class ClosedDay:
    """A public holiday or TMW closure in a partner's calendar, and whether the partner opened it."""

    date: datetime.date
    name: str
    opened: bool
    mark_id: int | None


def partner_closed_days(
    *, partner: User, today: datetime.date | None = None, days: int = 120, marks: list[BlackoutDate] | None = None
) -> list[ClosedDay]:
    """The partner's closed days of the coming ``days`` days, each with whether the partner opened it."""
    today = today or timezone.localdate()
    if marks is None:
        marks = list(BlackoutDate.objects.filter(partner=partner, opened=True, date__gte=today))
    opened = {m.date: m.pk for m in marks if m.opened}
    return [
        ClosedDay(day, name, day in opened, opened.get(day))
        for day, name in closed_days(partner.time_zone, today, today + datetime.timedelta(days=days)).items()
    ]


def is_closed_day(*, partner: User, day: datetime.date) -> str | None:
    """The name of the closed day this is for the partner (holiday or TMW closure), or None."""
    return closed_days(partner.time_zone, day, day).get(day)


def feed_items(user: User) -> list[ics.Event]:
    """A partner's channel reviews for their calendar feed, in the partner's zone (cancelled ones as cancelled)."""
    from .services import booking_ics_item

    if user.role not in (Role.PARTNER, Role.ADMIN):
        return []
    since = timezone.now() - datetime.timedelta(days=90)
    bookings = Booking.objects.filter(partner=user, ends_at__gte=since).select_related("partner")
    return [booking_ics_item(b, time_zone=user.time_zone) for b in bookings]
