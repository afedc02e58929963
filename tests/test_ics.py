"""The iCalendar writer: CRLF lines folded at 75 octets, escaped text, UTC times, one parseable VEVENT."""

from __future__ import annotations

import datetime
import zoneinfo

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
    """The first value of each property of the (only) VEVENT, plus METHOD."""
    values: dict[str, str] = {}
    for name, params, value in parse_ics(text):
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
    assert values["DTSTART"] == "20270308T150000Z"  # 9:00 CST is 15:00 UTC
    assert values["DTEND"] == "20270308T154500Z"
    assert values["ORGANIZER"] == "mailto:dana@tmw.example"
    assert values["ORGANIZER:params"]["CN"] == "Dana Whitfield"
    assert values["ATTENDEE"] == "mailto:ceo@acme.example"
    assert values["ATTENDEE:params"]["CN"] == "Lee, CEO"  # quoted because of the comma
    assert values["ATTENDEE:params"]["RSVP"] == "TRUE"
    assert [n for n, _, _ in parse_ics(text)].count("BEGIN") == 2


def test_text_is_escaped_and_round_trips():
    values = event_values(ics.calendar([_event()]))
    assert values["SUMMARY"] == "Channel review: Acme\\, Inc. with Dana\\; follow-up"
    assert unescape(values["SUMMARY"]) == "Channel review: Acme, Inc. with Dana; follow-up"
    assert unescape(values["DESCRIPTION"]).startswith("Line one\nLine two with a backslash \\ and")
    assert ics.escape_text("a\r\nb") == "a\\nb"


def test_long_lines_are_folded_at_75_octets_without_splitting_characters():
    text = ics.calendar([_event()])
    raw_lines = text.split("\r\n")
    assert any(line.startswith(" ") for line in raw_lines), "the long description must be folded"
    for line in raw_lines:
        assert len(line.encode("utf-8")) <= 75, line
        line.encode("utf-8").decode("utf-8")  # no multi-byte character cut in half
    description = event_values(text)["DESCRIPTION"]
    assert unescape(description).endswith("é" * 80)


def test_fold_keeps_short_lines_and_counts_the_continuation_space():
    assert ics.fold("SUMMARY:short") == "SUMMARY:short"
    folded = ics.fold("X:" + "a" * 200)
    parts = folded.split("\r\n")
    assert len(parts[0]) == 75 and all(len(p) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert folded.replace("\r\n ", "") == "X:" + "a" * 200


def test_times_must_be_aware_and_are_written_in_utc():
    vancouver = zoneinfo.ZoneInfo("America/Vancouver")
    assert ics.format_utc(datetime.datetime(2027, 7, 1, 8, 0, tzinfo=vancouver)) == "20270701T150000Z"
    with pytest.raises(ValueError):
        ics.format_utc(datetime.datetime(2027, 7, 1, 8, 0))


def test_cancel_method_and_status():
    text = ics.calendar([_event(status="CANCELLED", sequence=1)], method="CANCEL")
    values = event_values(text)
    assert (values["METHOD"], values["STATUS"], values["SEQUENCE"]) == ("CANCEL", "CANCELLED", "1")


def test_parameter_values_never_break_out_of_quotes():
    attendee = ics.Attendee(email="x@y.example", name='Evil" ;ROLE=CHAIR\r\nX-INJECT:1')
    line = attendee.line()
    assert "\r" not in line and "\n" not in line
    params = parse_ics(f"{line}\r\n")[0][1]
    assert params["ROLE"] == "REQ-PARTICIPANT"


def test_raw_values_cannot_start_a_new_property():
    text = ics.calendar([_event(uid="x\r\nX-EVIL:1", url="https://a.example/\r\nX-EVIL:2")])
    assert "X-EVIL" not in [name for name, _, _ in parse_ics(text)]
