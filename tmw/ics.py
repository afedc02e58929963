"""A small iCalendar (RFC 5545) writer for meeting invitations: one VEVENT per calendar.

Lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character;
text values are escaped; times are written in UTC (``20270301T150000Z``). Used for
channel-review bookings and community events.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Attendee", "Event", "calendar", "escape_text", "fold", "format_utc"]

CRLF = "\r\n"
MAX_OCTETS = 75
PRODID = "-//The MSP Works//TMW Channel Desk//EN"


def escape_text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and newlines (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param_value(value: str) -> str:
    """A parameter value (CN=...): quoted when it holds : ; or , and never with a double quote."""
    value = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'"{value}"' if any(c in value for c in ":;,") else value


def _raw(value: str) -> str:
    """A value written as is (UID, URL, mailto): line breaks removed so it cannot start a new property."""
    return value.replace("\r", "").replace("\n", "")


def format_utc(value: datetime.datetime) -> str:
    """A DATE-TIME in UTC form; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("iCalendar times must be timezone-aware.")
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold one content line into chunks of at most 75 octets, continuation lines starting with a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= MAX_OCTETS:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
            limit = MAX_OCTETS - 1  # the leading space of a continuation line counts
        current += char
        size += width
    parts.append(current)
    return (CRLF + " ").join(parts)


@dataclass(frozen=True)
class Attendee:
    """Someone invited to an event."""

    email: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True

    def line(self) -> str:
        params = [f"ROLE={self.role}", f"PARTSTAT={self.partstat}", f"RSVP={'TRUE' if self.rsvp else 'FALSE'}"]
        if self.name:
            params.insert(0, f"CN={_param_value(self.name)}")
        return f"ATTENDEE;{';'.join(params)}:mailto:{_raw(self.email)}"


@dataclass(frozen=True)
class Event:
    """One VEVENT: a meeting with an organiser and attendees."""

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

    def lines(self) -> list[str]:
        stamp = self.dtstamp or datetime.datetime.now(datetime.UTC)
        organizer = "ORGANIZER"
        if self.organizer_name:
            organizer += f";CN={_param_value(self.organizer_name)}"
        out = [
            "BEGIN:VEVENT",
            f"UID:{_raw(self.uid)}",
            f"DTSTAMP:{format_utc(stamp)}",
            f"DTSTART:{format_utc(self.starts_at)}",
            f"DTEND:{format_utc(self.ends_at)}",
            f"SUMMARY:{escape_text(self.summary)}",
            f"{organizer}:mailto:{_raw(self.organizer_email)}",
            *(attendee.line() for attendee in self.attendees),
            f"SEQUENCE:{int(self.sequence)}",
            f"STATUS:{self.status}",
            "TRANSP:OPAQUE",
        ]
        if self.description:
            out.append(f"DESCRIPTION:{escape_text(self.description)}")
        if self.location:
            out.append(f"LOCATION:{escape_text(self.location)}")
        if self.url:
            out.append(f"URL:{_raw(self.url)}")
        out.append("END:VEVENT")
        return out


def calendar(events: Iterable[Event], *, method: str = "REQUEST", prodid: str = PRODID) -> str:
    """A whole VCALENDAR as text with CRLF line endings; ``method`` is REQUEST, CANCEL or PUBLISH."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{prodid}", "CALSCALE:GREGORIAN", f"METHOD:{method}"]
    for event in events:
        lines.extend(event.lines())
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
