"""iCalendar (RFC 5545) files for meeting invitations and calendar feeds, built with the ``icalendar`` library.

One module for channel-review bookings, community events and the partners' calendar feeds.
Times are written in each event's own time zone (``DTSTART;TZID=America/Chicago:...``) and
the calendar carries a VTIMEZONE for every zone it uses, so a calendar shows the right
wall-clock time across daylight-saving changes. Each event has a VALARM reminder, an
ORGANIZER and its ATTENDEEs. An update keeps the UID and raises SEQUENCE; a cancellation
is ``METHOD:CANCEL`` with ``STATUS:CANCELLED``.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

import icalendar

__all__ = ["Attendee", "Event", "calendar"]

PRODID = "-//The MSP Works//TMW Channel Desk//EN"
DEFAULT_ALARM = datetime.timedelta(minutes=30)


def _one_line(value: str) -> str:
    """A value that must stay on one line (UID, URL, an address): line breaks removed."""
    return value.replace("\r", "").replace("\n", "")


def _param(value: str) -> str:
    """A parameter value (CN=...): no double quote and no line break, so it cannot leave its quotes."""
    return value.replace('"', "'").replace("\r", " ").replace("\n", " ")


def _aware(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("iCalendar times must be timezone-aware.")
    return value


@dataclass(frozen=True)
class Attendee:
    """Someone invited to an event."""

    email: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True

    def address(self) -> icalendar.vCalAddress:
        address = icalendar.vCalAddress(f"mailto:{_one_line(self.email)}")
        if self.name:
            address.params["CN"] = _param(self.name)
        address.params["ROLE"] = self.role
        address.params["PARTSTAT"] = self.partstat
        address.params["RSVP"] = "TRUE" if self.rsvp else "FALSE"
        return address


@dataclass(frozen=True)
class Event:
    """One VEVENT: a meeting with an organiser, attendees, a reminder, written in ``time_zone``."""

    uid: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    summary: str
    organizer_email: str
    organizer_name: str = ""
    description: str = ""
    location: str = ""
    url: str = ""
    attendees: tuple[Attendee, ...] = field(default_factory=tuple)
    sequence: int = 0
    status: str = "CONFIRMED"
    dtstamp: datetime.datetime | None = None
    time_zone: str = "UTC"
    alarm_before: datetime.timedelta | None = DEFAULT_ALARM

    def component(self) -> icalendar.Event:
        try:
            zone = zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        stamp = self.dtstamp or datetime.datetime.now(datetime.UTC)
        item = icalendar.Event()
        item.add("uid", _one_line(self.uid))
        item.add("dtstamp", _aware(stamp).astimezone(datetime.UTC))
        item.add("dtstart", _aware(self.starts_at).astimezone(zone))
        item.add("dtend", _aware(self.ends_at).astimezone(zone))
        item.add("summary", self.summary)
        organizer = icalendar.vCalAddress(f"mailto:{_one_line(self.organizer_email)}")
        if self.organizer_name:
            organizer.params["CN"] = _param(self.organizer_name)
        item.add("organizer", organizer)
        for attendee in self.attendees:
            item.add("attendee", attendee.address())
        item.add("sequence", int(self.sequence))
        item.add("status", self.status)
        item.add("transp", "TRANSPARENT" if self.status == "CANCELLED" else "OPAQUE")
        if self.description:
            item.add("description", self.description)
        if self.location:
            item.add("location", self.location)
        if self.url:
            item.add("url", _one_line(self.url))
        if self.alarm_before and self.status != "CANCELLED":
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Reminder: {self.summary}")
            alarm.add("trigger", -self.alarm_before)
            item.add_component(alarm)
        return item


def calendar(events: Iterable[Event], *, method: str | None = "REQUEST", prodid: str = PRODID, name: str = "") -> str:
    """A whole VCALENDAR as text (CRLF lines folded at 75 octets) with a VTIMEZONE per zone used.

    ``method`` is REQUEST (an invitation or its update), CANCEL, PUBLISH, or None for a
    subscribed feed; ``name`` is the feed's display name.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("name", name)
    events = list(events)
    for event in events:
        cal.add_component(event.component())
    if events:
        # The VTIMEZONEs cover the years of the events (a year either side), not 1970-2038.
        first = min(e.starts_at for e in events).date() - datetime.timedelta(days=366)
        last = max(e.ends_at for e in events).date() + datetime.timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical().decode("utf-8")
