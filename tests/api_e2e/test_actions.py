"""The desk actions the API gained: each goes through its service, behind its policy action, in the one error
shape, and a retried write with the same ``Idempotency-Key`` changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from community.models import RSVP, Event
from engagements.models import Engagement
from tmw.accounts.tenancy import operator_scope


@pytest.fixture
def api():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def event_body(world, **changes) -> dict:
    starts = timezone.now() + datetime.timedelta(days=20)
    return {
        "kind": "pitch",
        "title": "Backup vendors' evening",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + datetime.timedelta(hours=2)).isoformat(),
        "time_zone": "America/Toronto",
        "venue": "The Drake, Toronto",
        "capacity": 2,
        **changes,
    }


def test_a_partner_creates_changes_and_fills_an_event_through_the_api(world, api):
    partner = api(world.partner)
    body = event_body(world)
    created = partner.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="ev-1")
    assert created.status_code == 201, created.content
    event = created.json()
    assert event["host"] == world.partner.get_full_name()
    again = partner.post("/api/v1/events/", body, format="json", HTTP_IDEMPOTENCY_KEY="ev-1")
    assert again.status_code == 201 and again.json()["id"] == event["id"]
    moved = {**body, "title": "Another evening"}
    assert partner.post("/api/v1/events/", moved, format="json", HTTP_IDEMPOTENCY_KEY="ev-1").status_code == 409
    with operator_scope():
        assert Event.objects.filter(title="Backup vendors' evening").count() == 1

    changed = partner.patch(f"/api/v1/events/{event['id']}/", {"capacity": 40}, format="json")
    assert changed.status_code == 200 and changed.json()["capacity"] == 40
    bad = partner.patch(f"/api/v1/events/{event['id']}/", {"ends_at": event["starts_at"]}, format="json")
    assert bad.status_code == 400 and "ends_at" in bad.json()["extra"]

    slot = partner.post("/api/v1/pitch-slots/", {"event": event["id"], "vendor": world.a.vendor.pk}, format="json")
    assert slot.status_code == 201 and slot.json()["order"] == 1
    twice = partner.post("/api/v1/pitch-slots/", {"event": event["id"], "vendor": world.a.vendor.pk}, format="json")
    assert twice.status_code == 409
    assert partner.delete(f"/api/v1/pitch-slots/{slot.json()['id']}/").status_code == 204

    for user in (world.finance, world.a.vendor_admin, world.a.msp_member):
        assert api(user).post("/api/v1/events/", event_body(world), format="json").status_code == 403


def test_a_partner_checks_people_in_through_the_api(world, api, django_capture_on_commit_callbacks):
    partner = api(world.partner)
    soon = timezone.now() + datetime.timedelta(hours=6)  # check-in opens a day before the start
    body = event_body(world, starts_at=soon.isoformat(), ends_at=(soon + datetime.timedelta(hours=2)).isoformat())
    event = partner.post("/api/v1/events/", body, format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        invited = partner.post(
            "/api/v1/event-invitations/",
            {"event": event["id"], "msp": world.a.msp.pk, "name": "Sam Ortiz", "email": "sam@msp-a.example"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="invite-sam",
        )
    assert invited.status_code == 201, invited.content
    seat = api(world.a.msp_member).post(
        "/api/v1/rsvps/", {"invitation": invited.json()["id"], "going": True}, format="json"
    )
    assert seat.status_code == 201 and seat.json()["status"] == "going"
    rsvp = seat.json()["id"]
    checked = partner.post(f"/api/v1/rsvps/{rsvp}/check-in/", {}, format="json", HTTP_IDEMPOTENCY_KEY="door-1")
    assert checked.status_code == 200 and checked.json()["attendance"] == "attended"
    undone = partner.post(f"/api/v1/rsvps/{rsvp}/check-in/undo/", {}, format="json")
    assert undone.status_code == 200 and undone.json()["attendance"] == "unknown"
    # The same key replays the first answer; it does not check the person in a second time.
    replay = partner.post(f"/api/v1/rsvps/{rsvp}/check-in/", {}, format="json", HTTP_IDEMPOTENCY_KEY="door-1")
    assert replay["Idempotent-Replayed"] == "true"
    with operator_scope():
        assert RSVP.objects.get(pk=rsvp).attendance == RSVP.Attendance.UNKNOWN
    assert api(world.a.msp_member).post(f"/api/v1/rsvps/{rsvp}/check-in/", {}).status_code == 403

    # Weeks ahead, check-in is not open yet: 409 naming it.
    later = timezone.now() + datetime.timedelta(days=20)
    far = partner.post(
        "/api/v1/events/",
        event_body(world, starts_at=later.isoformat(), ends_at=(later + datetime.timedelta(hours=1)).isoformat()),
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        far_invitation = partner.post(
            "/api/v1/event-invitations/",
            {"event": far["id"], "msp": world.a.msp.pk, "name": "Sam Ortiz", "email": "sam@msp-a.example"},
            format="json",
        ).json()
    far_seat = (
        api(world.a.msp_member)
        .post("/api/v1/rsvps/", {"invitation": far_invitation["id"], "going": True}, format="json")
        .json()
    )
    early = partner.post(f"/api/v1/rsvps/{far_seat['id']}/check-in/", {}, format="json")
    assert early.status_code == 409 and "check_in" in early.json()["extra"]


def test_engagement_transitions_and_attributions_go_through_the_services(world, api):
    partner = api(world.partner)
    with operator_scope():
        engagement = Engagement.objects.filter(vendor=world.a.vendor).order_by("pk").first()
        assert engagement is not None
        status = engagement.status
    # An unknown field is refused by name, and so is a termination without a reason.
    unknown = partner.post(f"/api/v1/engagements/{engagement.pk}/terminate/", {"on": None, "why": "x"}, format="json")
    assert unknown.status_code == 400 and "why" in unknown.json()["extra"]
    no_reason = partner.post(f"/api/v1/engagements/{engagement.pk}/terminate/", {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["extra"]
    assert api(world.finance).post(f"/api/v1/engagements/{engagement.pk}/end/", {}, format="json").status_code == 403
    if status in (Engagement.Status.ACTIVE, Engagement.Status.PAUSED):
        ended = partner.post(
            f"/api/v1/engagements/{engagement.pk}/terminate/", {"reason": "The vendor was acquired."}, format="json"
        )
        assert ended.status_code == 200 and ended.json()["status"] == "terminated"
        again = partner.post(f"/api/v1/engagements/{engagement.pk}/start/", {}, format="json")
        assert again.status_code == 409
    # Another vendor's engagement is not there for side A's vendor admin.
    with operator_scope():
        other = Engagement.objects.filter(vendor=world.b.vendor).first()
    assert other is not None
    assert api(world.a.vendor_admin).get(f"/api/v1/engagements/{other.pk}/").status_code == 404


def test_statement_runs_are_finance_s_and_a_future_month_names_the_period(world, api):
    finance = api(world.finance)
    future = (timezone.localdate() + datetime.timedelta(days=40)).strftime("%Y-%m")
    refused = finance.post("/api/v1/statement-runs/", {"period": future}, format="json")
    assert refused.status_code == 400 and "period" in refused.json()["extra"]
    assert finance.post("/api/v1/statement-runs/", {"period": "2026-13"}, format="json").status_code == 400
    for user in (world.partner, world.a.vendor_admin):
        assert api(user).get("/api/v1/statement-runs/").status_code == 403
    assert finance.get("/api/v1/statement-runs/").status_code == 200
