"""The iCalendar files: CRLF lines folded at 75 octets, escaped text, times in the event's zone with its VTIMEZONE."""

from __future__ import annotations

import datetime
import zoneinfo

import icalendar
import pytest

from tmw import ics


def parse_ics(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Unfold and split an iCalendar text into (name, params, value) lines; a reader for tests."""
    assert "\n" not in text.replace("\r\n", ""), "every line must end in CRLF"
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    out = []
    for line in unfolded.split("\r\n"):
        if not line:
            continue
        head, _, value = _split_value(line)
        name, *raw_params = _split_outside_quotes(head, ";")
        params = {}
        for raw in raw_params:
            key, _, val = raw.partition("=")
            assert key.upper() not in params, f"parameter {key} given twice"
            params[key.upper()] = val.strip('"')
        out.append((name.upper(), params, value))
    return out


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, current, in_quotes = [], "", False
    for char in text:
        if char == '"':
            in_quotes = not in_quotes
        if char == sep and not in_quotes:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _split_value(line: str) -> tuple[str, str, str]:
    in_quotes = False
    for i, char in enumerate(line):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            return line[:i], ":", line[i + 1 :]
    raise AssertionError(f"no value in {line!r}")


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def event_values(text: str) -> dict[str, str]:
    """The first value of each property of the (only) VEVENT (not of its VALARM), plus METHOD and BEGIN."""
    values: dict[str, str] = {}
    stack: list[str] = []
    for name, params, value in parse_ics(text):
        if name == "BEGIN":
            stack.append(value)
        elif name == "END":
            stack.pop()
            continue
        if stack[-1:] != ["VEVENT"] and name not in ("METHOD", "BEGIN"):
            continue
        values.setdefault(name, value)
        if params:
            values.setdefault(f"{name}:params", params)
    return values


def _event(**overrides) -> ics.Event:
    chicago = zoneinfo.ZoneInfo("America/Chicago")
    defaults = {
        "uid": "booking-7@tmw.example",
        "starts_at": datetime.datetime(2027, 3, 8, 9, 0, tzinfo=chicago),
        "ends_at": datetime.datetime(2027, 3, 8, 9, 45, tzinfo=chicago),
        "summary": "Channel review: Acme, Inc. with Dana; follow-up",
        "organizer_email": "dana@tmw.example",
        "organizer_name": "Dana Whitfield",
        "attendees": (ics.Attendee(email="ceo@acme.example", name="Lee, CEO"),),
        "description": "Line one\nLine two with a backslash \\ and a very long tail " + "é" * 80,
        "dtstamp": datetime.datetime(2027, 3, 1, 12, 0, tzinfo=datetime.UTC),
        "time_zone": "America/Chicago",
    }
    defaults.update(overrides)
    return ics.Event(**defaults)


def test_calendar_has_crlf_lines_and_the_required_properties():
    text = ics.calendar([_event()])
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    values = event_values(text)
    assert values["METHOD"] == "REQUEST"
    assert values["UID"] == "booking-7@tmw.example"
    assert values["DTSTAMP"] == "20270301T120000Z"
    assert values["DTSTART"] == "20270308T090000"  # the event's wall-clock time, with its zone
    assert values["DTSTART:params"]["TZID"] == "America/Chicago"
    assert values["DTEND"] == "20270308T094500"
    assert values["ORGANIZER"] == "mailto:dana@tmw.example"
    assert values["ORGANIZER:params"]["CN"] == "Dana Whitfield"
    assert values["ATTENDEE"] == "mailto:ceo@acme.example"
    assert values["ATTENDEE:params"]["CN"] == "Lee, CEO"  # quoted because of the comma
    assert values["ATTENDEE:params"]["RSVP"] == "TRUE"
    begins = [v for n, _, v in parse_ics(text) if n == "BEGIN"]
    assert begins.count("VEVENT") == 1 and "VTIMEZONE" in begins and "VALARM" in begins


def test_text_is_escaped_and_round_trips():
    values = event_values(ics.calendar([_event()]))
    assert values["SUMMARY"] == "Channel review: Acme\\, Inc. with Dana\\; follow-up"
    assert unescape(values["SUMMARY"]) == "Channel review: Acme, Inc. with Dana; follow-up"
    assert unescape(values["DESCRIPTION"]).startswith("Line one\nLine two with a backslash \\ and")


def test_long_lines_are_folded_at_75_octets_without_splitting_characters():
    text = ics.calendar([_event()])
    raw_lines = text.split("\r\n")
    assert any(line.startswith(" ") for line in raw_lines), "the long description must be folded"
    for line in raw_lines:
        assert len(line.encode("utf-8")) <= 75, line
        line.encode("utf-8").decode("utf-8")  # no multi-byte character cut in half
    description = event_values(text)["DESCRIPTION"]
    assert unescape(description).endswith("é" * 80)


def test_times_must_be_aware_and_an_unknown_zone_falls_back_to_utc():
    with pytest.raises(ValueError):
        ics.calendar([_event(starts_at=datetime.datetime(2027, 7, 1, 8, 0))])
    vancouver = zoneinfo.ZoneInfo("America/Vancouver")
    start = datetime.datetime(2027, 7, 1, 8, 0, tzinfo=vancouver)
    text = ics.calendar(
        [_event(starts_at=start, ends_at=start + datetime.timedelta(hours=1), time_zone="Nowhere/Else")]
    )
    assert event_values(text)["DTSTART"] == "20270701T150000Z"


def test_cancel_method_and_status():
    text = ics.calendar([_event(status="CANCELLED", sequence=1)], method="CANCEL")
    values = event_values(text)
    assert (values["METHOD"], values["STATUS"], values["SEQUENCE"]) == ("CANCEL", "CANCELLED", "1")
    assert "VALARM" not in text  # no reminder for something that is not happening


def test_parameter_values_never_break_out_of_quotes():
    attendee = ics.Attendee(email="x@y.example", name='Evil" ;ROLE=CHAIR\r\nX-INJECT:1')
    text = ics.calendar([_event(attendees=(attendee,))])
    names = [name for name, _, _ in parse_ics(text)]
    assert "X-INJECT" not in names
    assert event_values(text)["ATTENDEE:params"]["ROLE"] == "REQ-PARTICIPANT"


def test_raw_values_cannot_start_a_new_property():
    text = ics.calendar([_event(uid="x\r\nX-EVIL:1", url="https://a.example/\r\nX-EVIL:2")])
    assert "X-EVIL" not in [name for name, _, _ in parse_ics(text)]


def test_parses_back_with_icalendar_uid_sequence_tzid_and_alarm():
    """What calendar programs read: the library parses the file back to the same UID, SEQUENCE, zone and alarm."""
    text = ics.calendar([_event(sequence=3)], method="REQUEST")
    cal = icalendar.Calendar.from_ical(text)
    assert cal["METHOD"] == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "booking-7@tmw.example"
    assert int(event["SEQUENCE"]) == 3
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert event.decoded("DTSTART") == datetime.datetime(2027, 3, 8, 9, 0, tzinfo=zoneinfo.ZoneInfo("America/Chicago"))
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/Chicago"
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm.decoded("TRIGGER") == -datetime.timedelta(minutes=30)
    assert str(event["ORGANIZER"]) == "mailto:dana@tmw.example"
    assert str(event["ATTENDEE"]) == "mailto:ceo@acme.example"


def test_a_feed_has_no_method_and_one_vtimezone_per_zone():
    toronto = zoneinfo.ZoneInfo("America/Toronto")
    start = datetime.datetime(2027, 5, 3, 10, 0, tzinfo=toronto)
    text = ics.calendar(
        [
            _event(),
            _event(uid="e2", starts_at=start, ends_at=start + datetime.timedelta(hours=1), time_zone="America/Toronto"),
            _event(uid="e3"),
        ],
        method=None,
        name="Dana's TMW calendar",
    )
    cal = icalendar.Calendar.from_ical(text)
    assert "METHOD" not in cal
    assert str(cal["X-WR-CALNAME"]) == "Dana's TMW calendar"
    assert sorted(str(z["TZID"]) for z in cal.walk("VTIMEZONE")) == ["America/Chicago", "America/Toronto"]
    assert len(cal.walk("VEVENT")) == 3
