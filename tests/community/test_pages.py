"""Every community page: a permission matrix, what each side sees, htmx partials, constant queries as data grows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community import services
from community.models import RSVP, Event, EventInvitation, PitchSlot
from tests.community.conftest import answer, invite, make_event, make_msp
from tmw.accounts import policy

ANON, OTHER_VENDOR, OWN_VENDOR, MSP, OTHER_MSP, PARTNER, FINANCE = (
    "anonymous",
    "other vendor",
    "own vendor",
    "MSP",
    "other MSP",
    "partner",
    "finance",
)


def users(world) -> dict:
    return {
        ANON: None,
        OTHER_VENDOR: world.b.vendor_admin,
        OWN_VENDOR: world.a.vendor_member,
        MSP: world.a.msp_member,
        OTHER_MSP: world.b.msp_member,
        PARTNER: world.partner,
        FINANCE: world.finance,
    }


@pytest.fixture
def scene(world):
    """A pitch session where vendor A pitches and MSP A is invited and going, plus a dinner."""
    event = make_event(world.partner, kind=Event.Kind.PITCH, capacity=10, title="Security pitch night")
    slot = services.pitch_slot_add(event=event, vendor=world.a.vendor, actor=world.partner, topic="Backup in 15")
    invitation = invite(event, world.a.msp, name="Mia Member", email=world.a.msp_member.email)
    rsvp = answer(invitation)
    return {"event": event, "slot": slot, "invitation": invitation, "rsvp": rsvp}


PARTNER_ONLY = {ANON: 302, OTHER_VENDOR: 403, OWN_VENDOR: 403, MSP: 403, OTHER_MSP: 403, PARTNER: 200, FINANCE: 403}
MSP_LIST = {ANON: 302, OTHER_VENDOR: 403, OWN_VENDOR: 403, MSP: 200, OTHER_MSP: 200, PARTNER: 403, FINANCE: 403}
MSP_OBJECT = {**MSP_LIST, OTHER_MSP: 404}
VENDOR_LIST = {ANON: 302, OTHER_VENDOR: 200, OWN_VENDOR: 200, MSP: 403, OTHER_MSP: 403, PARTNER: 403, FINANCE: 403}
VENDOR_OBJECT = {**VENDOR_LIST, OTHER_VENDOR: 404}

PAGES = [
    ("/community/events/", PARTNER_ONLY),
    ("/community/events/?view=calendar", PARTNER_ONLY),
    ("/community/events/new/", PARTNER_ONLY),
    ("/community/events/{event}/", PARTNER_ONLY),
    ("/community/events/{event}/edit/", PARTNER_ONLY),
    ("/community/events/{event}/event.ics", PARTNER_ONLY),
    ("/community/events/{event}/invite/", PARTNER_ONLY),
    ("/community/events/{event}/check-in/", PARTNER_ONLY),
    ("/community/portal/invitations/", MSP_LIST),
    ("/community/portal/invitations/{invitation}/", MSP_OBJECT),
    ("/community/portal/invitations/{invitation}/event.ics", MSP_OBJECT),
    ("/community/vendor/events/", VENDOR_LIST),
    ("/community/vendor/pitches/{slot}/", VENDOR_OBJECT),
]


@pytest.mark.parametrize(("template", "expected"), PAGES)
def test_permission_matrix(world, scene, client_for, template, expected):
    path = template.format(event=scene["event"].pk, invitation=scene["invitation"].pk, slot=scene["slot"].pk)
    for who, user in users(world).items():
        response = client_for(user).get(path)
        assert response.status_code == expected[who], f"{who} GET {path} -> {response.status_code}"
        if expected[who] == 302:
            assert "/login/" in response["Location"]


POSTS = [
    "/community/events/{event}/pitches/add/",
    "/community/pitches/{slot}/move/",
    "/community/pitches/{slot}/remove/",
    "/community/events/{event}/walk-in/",
    "/community/events/{event}/no-shows/",
    "/community/rsvps/{rsvp}/check-in/",
]


@pytest.mark.parametrize("template", POSTS)
def test_partner_actions_are_refused_to_everyone_else(world, scene, client_for, template):
    path = template.format(event=scene["event"].pk, slot=scene["slot"].pk, rsvp=scene["rsvp"].pk)
    for who in (OTHER_VENDOR, OWN_VENDOR, MSP, FINANCE):
        assert client_for(users(world)[who]).post(path).status_code == 403, who
    assert client_for(None).post(path).status_code == 302


def test_msp_portal_actions_refuse_another_msps_invitation(world, scene, client_for):
    client = client_for(world.b.msp_member)
    for suffix in ("rsvp/", "cancel/", "feedback/"):
        path = f"/community/portal/invitations/{scene['invitation'].pk}/{suffix}"
        assert client.post(path, {"answer": "not_going"}).status_code == 404
    assert RSVP.objects.get(pk=scene["rsvp"].pk).status == RSVP.Status.GOING


def test_partner_creates_an_event_in_its_own_time_zone(world, client_for):
    response = client_for(world.partner).post(
        "/community/events/new/",
        {
            "kind": "dinner",
            "title": "Vancouver dinner",
            "time_zone": "America/Vancouver",
            "starts_at": "2027-03-04T18:30",
            "ends_at": "2027-03-04T21:00",
            "venue": "Gastown",
            "capacity": "12",
            "access": "invite_only",
            "host": world.partner.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(title="Vancouver dinner")
    assert event.starts_at == datetime.datetime(2027, 3, 5, 2, 30, tzinfo=datetime.UTC)


def test_msp_answers_and_cancels_in_the_portal(world, client_for):
    event = make_event(world.partner, capacity=1, kind=Event.Kind.DINNER)
    invitation = invite(event, world.a.msp, email=world.a.msp_member.email)
    client = client_for(world.a.msp_member)
    response = client.post(
        f"/community/portal/invitations/{invitation.pk}/rsvp/", {"answer": "going", "dietary": "Nuts"}
    )
    assert response.status_code == 302
    rsvp = RSVP.objects.get(invitation=invitation)
    assert (rsvp.status, rsvp.dietary) == ("going", "Nuts")
    client.post(f"/community/portal/invitations/{invitation.pk}/cancel/")
    rsvp.refresh_from_db()
    assert rsvp.status == RSVP.Status.CANCELLED


def test_vendor_sees_attendance_and_feedback_for_its_own_pitch_only(world, scene, client_for):
    Event.objects.filter(pk=scene["event"].pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=3), ends_at=timezone.now() - datetime.timedelta(hours=1)
    )
    other_slot = PitchSlot.objects.create(event=scene["event"], vendor=world.b.vendor, order=2, minutes=10)
    services.rsvp_check_in(rsvp=scene["rsvp"], actor=world.partner)
    services.feedback_submit(
        rsvp=scene["rsvp"], pitch_slot=scene["slot"], interest="not_now", comment="Too early", actor=policy.VISITOR
    )
    services.feedback_submit(
        rsvp=scene["rsvp"], pitch_slot=other_slot, interest="not_now", comment="Zebra words", actor=policy.VISITOR
    )
    detail = client_for(world.partner).get(f"/community/events/{scene['event'].pk}/").content.decode()
    assert "0 pilot" in detail and "1 not now" in detail
    page = client_for(world.a.vendor_admin).get(f"/community/vendor/pitches/{scene['slot'].pk}/").content.decode()
    assert "Too early" in page and world.a.msp.name in page and "Zebra words" not in page
    listing = client_for(world.a.vendor_admin).get("/community/vendor/events/").content.decode()
    assert "Security pitch night" in listing and world.b.vendor.name not in listing
    assert client_for(world.a.vendor_admin).get(f"/community/vendor/pitches/{other_slot.pk}/").status_code == 404


def test_check_in_search_and_one_tap(world, scene, client_for):
    Event.objects.filter(pk=scene["event"].pk).update(
        starts_at=timezone.now() + datetime.timedelta(hours=1), ends_at=timezone.now() + datetime.timedelta(hours=3)
    )
    client = client_for(world.partner)
    response = client.get(f"/community/events/{scene['event'].pk}/check-in/?q=mia", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Mia Member" in response.content.decode()
    assert "<html" not in response.content.decode()
    response = client.get(f"/community/events/{scene['event'].pk}/check-in/?q=nobody", HTTP_HX_REQUEST="true")
    assert "Mia Member" not in response.content.decode()
    response = client.post(f"/community/rsvps/{scene['rsvp'].pk}/check-in/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "✓" in response.content.decode()
    assert RSVP.objects.get(pk=scene["rsvp"].pk).attended


def test_event_detail_shows_the_funnel(world, scene, client_for):
    page = client_for(world.partner).get(f"/community/events/{scene['event'].pk}/").content.decode()
    assert 'data-chart="funnel-data"' in page and '"labels": ["Invited", "Going", "Attended", "Opportunity"]' in page


def test_invite_page_filters_and_sends(world, client_for):
    from tests.directory.tenant_objects import msp_profile_for
    from tmw.directory.models import MSPContact

    event = make_event(world.partner)
    msp = make_msp("Ontario MSP")
    profile = msp_profile_for(msp, region="ON", country="CA", community_member=True)
    contact = MSPContact.all_objects.create(msp=profile, name="Olive Owner", email="olive@ontario.example")
    client = client_for(world.partner)
    page = client.get(f"/community/events/{event.pk}/invite/?region=ON&community=on", HTTP_HX_REQUEST="true")
    assert "Olive Owner" in page.content.decode()
    page = client.get(f"/community/events/{event.pk}/invite/?region=BC")
    assert "Olive Owner" not in page.content.decode()
    response = client.post(f"/community/events/{event.pk}/invite/", {"contacts": [contact.pk], "send": "1"})
    assert response.status_code == 302
    assert EventInvitation.objects.filter(event=event, email="olive@ontario.example").exists()


def _grow(world, event, n):
    for _ in range(n):
        answer(invite(event, world.a.msp))


@pytest.mark.parametrize(
    "path",
    [
        "/community/events/",
        "/community/events/{event}/",
        "/community/events/{event}/check-in/",
        "/community/events/?view=calendar",
    ],
)
def test_partner_pages_keep_a_constant_number_of_queries(world, scene, client_for, django_assert_num_queries, path):
    path = path.format(event=scene["event"].pk)
    client = client_for(world.partner)
    _grow(world, scene["event"], 2)
    make_event(world.partner)
    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    _grow(world, scene["event"], 8)
    for _ in range(4):
        answer(invite(make_event(world.partner), world.a.msp))
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("who", "path"), [("msp", "/community/portal/invitations/"), ("vendor", "/community/vendor/events/")]
)
def test_portal_pages_keep_a_constant_number_of_queries(world, client_for, django_assert_num_queries, who, path):
    user = world.a.msp_member if who == "msp" else world.a.vendor_admin

    def add(n):
        for _ in range(n):
            event = make_event(world.partner, kind=Event.Kind.PITCH)
            PitchSlot.objects.create(event=event, vendor=world.a.vendor, order=1, minutes=10)
            answer(invite(event, world.a.msp))

    add(1)
    client = client_for(user)
    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    add(6)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200


def test_invite_page_keeps_a_constant_number_of_queries(world, client_for, django_assert_num_queries):
    from tests.directory.tenant_objects import msp_profile_for
    from tmw.directory.models import MSPContact

    event = make_event(world.partner, kind=Event.Kind.PITCH)
    services.pitch_slot_add(event=event, vendor=world.a.vendor, actor=world.partner)

    def grow(n):
        for _ in range(n):
            profile = msp_profile_for(make_msp())
            MSPContact.all_objects.create(msp=profile, name="Pat", email=f"pat{profile.pk}@msp.example")

    grow(2)
    client = client_for(world.partner)
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"/community/events/{event.pk}/invite/").status_code == 200
    grow(8)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(f"/community/events/{event.pk}/invite/").status_code == 200
