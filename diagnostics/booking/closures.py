"""Days on which TMW takes no channel reviews by default: US and Canadian public holidays and TMW's own closures.

Which country's holidays apply follows the partner's time zone (a Canadian zone: Canada's; a US
zone: the United States'); any other zone, and TMW as a whole, closes on both. A partner opens
one of these days for reviews on the availability page (a ``BlackoutDate`` with ``opened``).
"""

from __future__ import annotations

import datetime
from functools import lru_cache

import holidays

__all__ = ["TMW_CLOSURES", "closed_days", "holiday_countries"]

# TMW's own closures, every year: (month, day) -> name.
TMW_CLOSURES: dict[tuple[int, int], str] = {(12, 24): "Christmas Eve (TMW closed)"}

CANADIAN_ZONES = frozenset(
    {
        "America/Atikokan",
        "America/Blanc-Sablon",
        "America/Cambridge_Bay",
        "America/Creston",
        "America/Dawson",
        "America/Dawson_Creek",
        "America/Edmonton",
        "America/Fort_Nelson",
        "America/Glace_Bay",
        "America/Goose_Bay",
        "America/Halifax",
        "America/Inuvik",
        "America/Iqaluit",
        "America/Moncton",
        "America/Montreal",
        "America/Nipigon",
        "America/Pangnirtung",
        "America/Rainy_River",
        "America/Rankin_Inlet",
        "America/Regina",
        "America/Resolute",
        "America/St_Johns",
        "America/Swift_Current",
        "America/Thunder_Bay",
        "America/Toronto",
        "America/Vancouver",
        "America/Whitehorse",
        "America/Winnipeg",
        "America/Yellowknife",
    }
)
US_ZONE_PREFIXES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Anchorage",
    "America/Juneau",
    "America/Sitka",
    "America/Yakutat",
    "America/Nome",
    "America/Metlakatla",
    "America/Adak",
    "America/Boise",
    "America/Detroit",
    "America/Menominee",
    "America/Indiana/",
    "America/Kentucky/",
    "America/North_Dakota/",
    "America/Indianapolis",
    "America/Louisville",
    "Pacific/Honolulu",
)


def holiday_countries(time_zone: str | None) -> tuple[str, ...]:
    """The countries whose public holidays close a partner working in this time zone."""
    zone = time_zone or ""
    if zone in CANADIAN_ZONES:
        return ("CA",)
    if zone.startswith(US_ZONE_PREFIXES):
        return ("US",)
    return ("US", "CA")


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> dict[datetime.date, str]:
    return dict(holidays.country_holidays(country, years=year).items())


def closed_days(time_zone: str | None, first: datetime.date, last: datetime.date) -> dict[datetime.date, str]:
    """Every closed day from ``first`` to ``last`` (inclusive) for a partner in this zone, with its name."""
    names: dict[datetime.date, list[str]] = {}
    countries = holiday_countries(time_zone)
    for year in range(first.year, last.year + 1):
        for country in countries:
            for day, name in _public_holidays(country, year).items():
                if first <= day <= last and name not in names.setdefault(day, []):
                    names[day].append(name)
        for (month, dom), name in TMW_CLOSURES.items():
            day = datetime.date(year, month, dom)
            if first <= day <= last:
                names.setdefault(day, []).append(name)
    return {day: "; ".join(names[day]) for day in sorted(names)}
