"""The community API: events, invitations and RSVPs; MSP users RSVP through it and see only their own."""

from __future__ import annotations

from rest_framework.test import APIClient

from community.models import RSVP, Event, PitchSlot
from tests.community.conftest import answer, invite, make_event, make_member


def api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_msp_rsvps_through_the_api_and_sees_only_its_own(world):
    event = make_event(world.partner, capacity=1)
    mine = invite(event, world.a.msp)
    theirs = invite(event, world.b.msp)
    answer(theirs)
    client = api(world.a.msp_member)
    response = client.post("/api/v1/rsvps/", {"invitation": mine.pk, "going": True}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "waitlisted" and response.json()["waitlist_position"] == 1
    rsvps = client.get("/api/v1/rsvps/").json()["results"]
    invitations = client.get("/api/v1/event-invitations/").json()["results"]
    assert mine.pk in {r["invitation"] for r in rsvps} and theirs.pk not in {r["invitation"] for r in rsvps}
    assert {r["msp"] for r in rsvps} == {world.a.msp.pk} == {i["msp"] for i in invitations}
    assert mine.pk in {i["id"] for i in invitations}
    other_rsvp = RSVP.objects.get(invitation=theirs)
    assert client.get(f"/api/v1/rsvps/{other_rsvp.pk}/").status_code == 404
    assert client.post(f"/api/v1/rsvps/{other_rsvp.pk}/cancel/").status_code == 404
    refused = client.post("/api/v1/rsvps/", {"invitation": theirs.pk, "going": False}, format="json")
    assert refused.status_code == 400
    assert RSVP.objects.get(invitation=theirs).status == RSVP.Status.GOING


def test_answer_and_cancel_actions(world):
    event = make_event(world.partner, capacity=1)
    mine = invite(event, world.a.msp)
    client = api(world.a.msp_member)
    response = client.post(f"/api/v1/event-invitations/{mine.pk}/rsvp/", {"going": True}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "going"
    rsvp_id = response.json()["id"]
    assert client.post(f"/api/v1/rsvps/{rsvp_id}/cancel/").json()["status"] == "cancelled"


def test_business_errors_have_one_shape(world):
    from datetime import timedelta

    from django.utils import timezone

    event = make_event(world.partner, rsvp_deadline=timezone.now() - timedelta(minutes=5), days=2)
    mine = invite(event, world.a.msp)
    response = api(world.a.msp_member).post("/api/v1/rsvps/", {"invitation": mine.pk, "going": True}, format="json")
    assert response.status_code == 409
    assert set(response.json()) == {"message", "extra"}
    bad = api(world.a.msp_member).post("/api/v1/rsvps/", {"going": "maybe"}, format="json")
    assert bad.status_code == 400 and "going" in bad.json()["extra"]


def test_events_are_filtered_per_role(world):
    invited = make_event(world.partner, title="Invited dinner")
    invite(invited, world.a.msp)
    open_event = make_event(world.partner, title="Open working group", access=Event.Access.OPEN)
    pitch = make_event(world.partner, title="A pitch", kind=Event.Kind.PITCH)
    PitchSlot.objects.create(event=pitch, vendor=world.a.vendor, order=1, minutes=10)
    hidden = make_event(world.partner, title="Hidden dinner")

    def titles(user):
        return {e["title"] for e in api(user).get("/api/v1/events/").json()["results"]}

    make_member(world.b.msp, False)
    make_member(world.a.msp)
    assert {"Invited dinner", "Open working group"} <= titles(world.a.msp_member)
    assert "Open working group" not in titles(world.b.msp_member)
    assert not {"A pitch", "Hidden dinner"} & titles(world.a.msp_member)
    # vendors follow the events they pitch at through their pitch slots; the event API is for partners and MSPs
    assert api(world.a.vendor_admin).get("/api/v1/events/").status_code == 403
    assert api(world.a.vendor_admin).get(f"/api/v1/events/{pitch.pk}/").status_code == 403

    def pitched(user):
        return {s["event"]["title"] for s in api(user).get("/api/v1/pitch-slots/").json()["results"]}

    assert "A pitch" in pitched(world.a.vendor_member) and "A pitch" not in pitched(world.b.vendor_admin)
    for user in (world.partner, world.finance, world.a.msp_member):
        assert api(user).get("/api/v1/pitch-slots/").status_code == 403
    assert {"Invited dinner", "Open working group", "A pitch", "Hidden dinner"} <= titles(world.partner)
    assert api(world.b.msp_member).get(f"/api/v1/events/{hidden.pk}/").status_code == 404
    assert open_event.pk


def test_vendors_and_anonymous_get_no_invitations_or_rsvps(world):
    for path in ("/api/v1/rsvps/", "/api/v1/event-invitations/"):
        assert api(world.a.vendor_admin).get(path).status_code == 403
        assert api(None).get(path).status_code in (401, 403)


def test_partners_invite_through_the_api(world):
    event = make_event(world.partner)
    response = api(world.partner).post(
        "/api/v1/event-invitations/",
        {"event": event.pk, "msp": world.a.msp.pk, "name": "Ann", "email": "ann@msp.example"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    refused = api(world.a.msp_member).post(
        "/api/v1/event-invitations/",
        {"event": event.pk, "msp": world.a.msp.pk, "name": "Bo", "email": "bo@msp.example"},
        format="json",
    )
    assert refused.status_code == 403


def test_api_lists_keep_a_constant_number_of_queries(world, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(n):
        for _ in range(n):
            answer(invite(make_event(world.partner), world.a.msp))

    client = api(world.a.msp_member)
    for path in ("/api/v1/events/", "/api/v1/event-invitations/", "/api/v1/rsvps/"):
        grow(1)
        with CaptureQueriesContext(connection) as small:
            assert client.get(path).status_code == 200
        grow(5)
        with django_assert_num_queries(len(small.captured_queries)):
            assert client.get(path).status_code == 200


# --- the schema says what the answers are ---------------------------------------------------------


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node, components):
    """An OpenAPI 3.0 schema as JSON Schema: references resolved, ``nullable`` as a null alternative."""
    if isinstance(node, list):
        return [_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {k: _json_schema(v, components) for k, v in node.items() if k not in ("nullable", "readOnly", "writeOnly")}
    if "oneOf" in out:  # a blank URL is "" or a URI; without a URI format checker here "" would match both
        out["anyOf"] = out.pop("oneOf")
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _check(schema, path, method, status, body):
    import jsonschema

    components = schema["components"]["schemas"]
    responses = schema["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which its schema does not list"
    declared = responses[str(status)]["content"]["application/json"]["schema"]
    jsonschema.validate(body, _json_schema(declared, components), format_checker=jsonschema.FormatChecker())


def test_answers_agree_with_the_schema_nulls_times_and_errors(world):
    from datetime import timedelta

    from django.utils import timezone

    schema = _schema()
    event = make_event(world.partner, capacity=1, rsvp_deadline=None)
    closed = make_event(world.partner, rsvp_deadline=timezone.now() - timedelta(minutes=5), days=2)
    answer(invite(event, world.b.msp))
    mine, late = invite(event, world.a.msp), invite(closed, world.a.msp)
    msp, partner = api(world.a.msp_member), api(world.partner)

    listed = partner.get("/api/v1/events/")
    assert any(e["rsvp_deadline"] is None for e in listed.json()["results"])
    _check(schema, "/api/v1/events/", "get", 200, listed.json())
    _check(schema, "/api/v1/event-invitations/", "get", 200, msp.get("/api/v1/event-invitations/").json())
    waitlisted = msp.post("/api/v1/rsvps/", {"invitation": mine.pk, "going": True}, format="json")
    assert waitlisted.json()["checked_in_at"] is None and waitlisted.json()["waitlist_position"] == 1
    _check(schema, "/api/v1/rsvps/", "post", 201, waitlisted.json())
    cancelled = msp.post(f"/api/v1/rsvps/{waitlisted.json()['id']}/cancel/")
    assert cancelled.json()["waitlist_position"] is None
    _check(schema, "/api/v1/rsvps/{id}/cancel/", "post", 200, cancelled.json())
    _check(schema, "/api/v1/rsvps/", "post", 400, msp.post("/api/v1/rsvps/", {"going": "maybe"}, format="json").json())
    too_late = msp.post("/api/v1/rsvps/", {"invitation": late.pk, "going": True}, format="json")
    _check(schema, "/api/v1/rsvps/", "post", too_late.status_code, too_late.json())
    refused = msp.post("/api/v1/event-invitations/", {}, format="json")
    _check(schema, "/api/v1/event-invitations/", "post", refused.status_code, refused.json())
    missing = msp.post("/api/v1/event-invitations/999999/rsvp/", {"going": True}, format="json")
    _check(schema, "/api/v1/event-invitations/{id}/rsvp/", "post", missing.status_code, missing.json())
    twice = partner.post(
        "/api/v1/event-invitations/",
        {"event": event.pk, "msp": world.a.msp.pk, "name": "Again", "email": mine.email},
        format="json",
    )
    assert twice.status_code == 409
    _check(schema, "/api/v1/event-invitations/", "post", 409, twice.json())


def test_a_vendors_pitch_slots_keep_a_constant_number_of_queries(world, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(n):
        for _ in range(n):
            event = make_event(world.partner, kind=Event.Kind.PITCH)
            PitchSlot.objects.create(event=event, vendor=world.a.vendor, order=1, minutes=10)
            answer(invite(event, world.a.msp))

    client = api(world.a.vendor_admin)
    grow(1)
    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/pitch-slots/")
    assert first.status_code == 200 and first.json()["results"][0]["event"]["kind"] == "pitch"
    grow(4)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get("/api/v1/pitch-slots/").json()["results"]) >= 5
