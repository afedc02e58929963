"""Each user picks a 24- or 12-hour clock on the profile; every time shown through ``local_time`` follows it."""

import datetime

from django.template import Context, Template
from django.utils import timezone

from tmw.accounts import clock

EVENT = datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC)  # 21:00 the day before in New York


def _render(value) -> str:
    return Template("{{ value|local_time }}").render(Context({"value": value}))


def test_local_time_follows_the_active_clock():
    with timezone.override("America/New_York"):
        assert _render(EVENT) == "21:00 EST"
        clock.activate("12h")
        try:
            assert _render(EVENT) == "9:00 PM EST"
        finally:
            clock.deactivate()
        assert _render(EVENT) == "21:00 EST"
    clock.activate("nonsense")
    assert clock.time_format() == "H:i T"
    clock.deactivate()


def test_the_profile_saves_the_clock_and_pages_then_use_it(world, client_for):
    user = world.partner
    client = client_for(user)
    response = client.post(
        "/accounts/profile/", {"full_name": "Pat Partner", "time_zone": "America/Chicago", "clock": "12h"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.clock == "12h" and user.time_zone == "America/Chicago"
    page = client.get("/accounts/profile/").content.decode()
    assert "12-hour (9:00 PM)" in page
    refused = client.post("/accounts/profile/", {"full_name": "Pat", "time_zone": "America/Chicago", "clock": "13h"})
    assert refused.status_code in (200, 400) and "Select a valid choice" in refused.content.decode()
    user.refresh_from_db()
    assert user.clock == "12h"
