"""Who may take which community action: the services check the policy, and an MSP member acts only for its own MSP."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from community import services
from community.models import RSVP, Event, PitchFeedback
from tests.community.conftest import answer, invite, make_event, make_member
from tmw.accounts import policy
from tmw.errors import ApplicationError

HUGE = "99999999999999999999"
BAD_NUMBERS = [HUGE, "-9.83e+34", "-1", "0", "1.5", "²", "9" * 5000]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _event_fields(host) -> dict:
    starts = timezone.now() + datetime.timedelta(days=5)
    return {
        "kind": Event.Kind.DINNER,
        "title": "Policy dinner",
        "starts_at": starts,
        "ends_at": starts + datetime.timedelta(hours=2),
        "time_zone": "America/Toronto",
        "venue": "The Loft",
        "capacity": 10,
        "host": host,
    }


# --- the services ---------------------------------------------------------------------------------


def test_only_partners_and_admins_manage_events(world):
    for actor in (world.finance, world.a.vendor_admin, world.a.msp_member, policy.SYSTEM, policy.VISITOR):
        with pytest.raises(ApplicationError) as refused:
            services.event_create(actor=actor, **_event_fields(world.partner))
        assert refused.value.status == 403
    event = services.event_create(actor=world.admin, **_event_fields(world.partner))
    assert services.event_update(event=event, actor=world.admin, capacity=12).capacity == 12
    with pytest.raises(ApplicationError) as refused:
        services.event_update(event=event, actor=world.a.vendor_admin, capacity=1)
    assert refused.value.status == 403
    event.refresh_from_db()
    assert event.capacity == 12


def test_the_host_defaults_to_the_partner_creating_the_event(world):
    fields = _event_fields(world.partner)
    del fields["host"]
    assert services.event_create(actor=world.partner, **fields).host == world.partner


def test_check_in_is_for_partners(world):
    event = make_event(world.partner)
    rsvp = answer(invite(event, world.a.msp))
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now(), ends_at=timezone.now() + datetime.timedelta(hours=2)
    )
    for actor in (world.finance, world.a.msp_member, policy.VISITOR):
        with pytest.raises(ApplicationError) as refused:
            services.rsvp_check_in(rsvp=rsvp, actor=actor)
        assert refused.value.status == 403
    assert services.rsvp_check_in(rsvp=rsvp, actor=world.admin).attended


def test_an_msp_member_answers_only_its_own_msps_invitations(world):
    event = make_event(world.partner)
    mine, theirs = invite(event, world.a.msp), invite(event, world.b.msp)
    with pytest.raises(ApplicationError) as refused:
        services.rsvp_respond(invitation=theirs, going=True, actor=world.a.msp_member)
    assert refused.value.status == 403
    assert not RSVP.all_objects.filter(invitation=theirs).exists()
    assert services.rsvp_respond(invitation=mine, going=True, actor=world.a.msp_member).status == RSVP.Status.GOING
    # the signed link (a visitor) and a partner may answer any invitation
    assert services.rsvp_respond(invitation=theirs, going=False, actor=policy.VISITOR).status == "not_going"
    assert services.rsvp_respond(invitation=theirs, going=True, actor=world.partner).status == RSVP.Status.GOING


@pytest.mark.parametrize("who", ["finance", "vendor", "system"])
def test_people_outside_the_policy_may_not_answer(world, who):
    actor = {"finance": world.finance, "vendor": world.a.vendor_admin, "system": policy.SYSTEM}[who]
    invitation = invite(make_event(world.partner), world.a.msp)
    with pytest.raises(ApplicationError) as refused:
        services.rsvp_respond(invitation=invitation, going=True, actor=actor)
    assert refused.value.status == 403


def test_an_msp_member_cancels_only_its_own_msps_rsvps(world):
    event = make_event(world.partner)
    theirs = answer(invite(event, world.b.msp))
    with pytest.raises(ApplicationError) as refused:
        services.rsvp_cancel(rsvp=theirs, actor=world.a.msp_member)
    assert refused.value.status == 403
    assert RSVP.all_objects.get(pk=theirs.pk).status == RSVP.Status.GOING
    assert services.rsvp_cancel(rsvp=theirs, actor=world.b.msp_member).status == RSVP.Status.CANCELLED


def _attended_pitch(world):
    event = make_event(world.partner, kind=Event.Kind.PITCH, days=-1)
    slot = services.pitch_slot_add(event=event, vendor=world.a.vendor, actor=world.partner)
    invitation = invite(event, world.a.msp)
    rsvp = RSVP.all_objects.create(
        invitation=invitation,
        event=event,
        msp=world.a.msp,
        status=RSVP.Status.GOING,
        attendance=RSVP.Attendance.ATTENDED,
    )
    return rsvp, slot


def test_feedback_comes_from_the_attending_msp_or_its_signed_link(world):
    rsvp, slot = _attended_pitch(world)
    for actor in (world.partner, world.a.vendor_admin, world.b.msp_member, policy.SYSTEM):
        with pytest.raises(ApplicationError) as refused:
            services.feedback_submit(rsvp=rsvp, pitch_slot=slot, interest="not_now", actor=actor)
        assert refused.value.status == 403
    assert not PitchFeedback.all_objects.filter(rsvp=rsvp).exists()
    feedback = services.feedback_submit(rsvp=rsvp, pitch_slot=slot, interest="not_now", actor=world.a.msp_member)
    assert feedback.pk and feedback.interest == "not_now"


def test_joining_an_open_event_is_for_msp_members(world):
    make_member(world.a.msp)
    event = make_event(world.partner, access=Event.Access.OPEN)
    for actor in (world.partner, world.a.vendor_admin, policy.VISITOR):
        with pytest.raises(ApplicationError) as refused:
            services.event_join(event=event, actor=actor)
        assert refused.value.status == 403
    assert services.event_join(event=event, actor=world.a.msp_member).self_registered


def test_the_sweeps_run_as_the_scheduled_job_only(world):
    for actor in (world.partner, world.admin, policy.VISITOR):
        with pytest.raises(ApplicationError):
            services.reminders_send_due(actor=actor)
        with pytest.raises(ApplicationError):
            services.feedback_requests_send_due(actor=actor)
    assert services.reminders_send_due(actor=policy.SYSTEM) >= 0
    assert services.feedback_requests_send_due(actor=policy.SYSTEM) >= 0


def test_invitations_are_sent_by_partners_only(world):
    event = make_event(world.partner)
    with pytest.raises(ApplicationError) as refused:
        services.invitation_create(event=event, msp=world.a.msp, name="Ann", email="ann@x.example", actor=world.finance)
    assert refused.value.status == 403
    invitation = services.invitation_create(
        event=event, msp=world.a.msp, name="Ann", email="ann@x.example", actor=world.admin
    )
    assert invitation.invited_by == world.admin


# --- the API --------------------------------------------------------------------------------------


def test_events_are_read_by_partners_and_msp_members_only(world):
    make_event(world.partner, title="Read me")
    assert api(world.admin).get("/api/v1/events/").status_code == 200
    for user in (world.finance, world.a.vendor_admin, world.a.vendor_member):
        response = api(user).get("/api/v1/events/")
        assert response.status_code == 403, user
        assert response.wsgi_request.refused_by_policy == "event.view"


def test_only_partners_write_events_through_the_api(world):
    event = make_event(world.partner)
    for user in (world.finance, world.a.vendor_admin, world.a.msp_member):
        client = api(user)
        assert client.post("/api/v1/events/", {"title": "x"}, format="json").status_code in (403, 404)
        assert client.patch(f"/api/v1/events/{event.pk}/", {"title": "x"}, format="json").status_code in (403, 404)
    incomplete = api(world.partner).post("/api/v1/events/", {"title": "x"}, format="json")
    assert incomplete.status_code == 400 and "starts_at" in incomplete.json()["extra"]
    event.refresh_from_db()
    assert event.title != "x"


def test_a_partner_answers_for_an_msp_through_the_api_and_an_msp_may_not_invite(world):
    event = make_event(world.partner)
    invitation = invite(event, world.a.msp)
    response = api(world.admin).post(f"/api/v1/event-invitations/{invitation.pk}/rsvp/", {"going": True}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "going"
    refused = api(world.a.msp_member).post(
        "/api/v1/event-invitations/", {"event": event.pk, "msp": world.a.msp.pk, "name": "B", "email": "b@x.example"}
    )
    assert refused.status_code == 403 and refused.wsgi_request.refused_by_policy == "event.manage"
    assert set(refused.json()) == {"message", "extra"}


@pytest.mark.parametrize("value", [HUGE, "-9.83e+34", 2**70, -(2**70), "abc"])
def test_api_ids_in_bodies_answer_400_naming_the_field(world, value):
    event = make_event(world.partner)
    client = api(world.partner)
    created = client.post(
        "/api/v1/event-invitations/",
        {"event": value, "msp": world.a.msp.pk, "name": "Ann", "email": "ann@x.example"},
        format="json",
    )
    assert created.status_code == 400 and "event" in created.json()["extra"]
    rsvp = api(world.a.msp_member).post("/api/v1/rsvps/", {"invitation": value, "going": True}, format="json")
    assert rsvp.status_code == 400 and "invitation" in rsvp.json()["extra"]
    assert event.pk


@pytest.mark.parametrize("value", [HUGE, "-9.83e+34"])
def test_api_ids_and_pages_in_the_path_and_query_never_fail(world, value):
    client = api(world.partner)
    for path in ("/api/v1/events/", "/api/v1/event-invitations/", "/api/v1/rsvps/"):
        assert client.get(f"{path}{value}/").status_code == 404
        assert client.get(path, {"page": value}).status_code == 404
    assert client.post(f"/api/v1/rsvps/{value}/cancel/").status_code == 404


# --- bad input on the pages -----------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_a_bad_contact_id_answers_400_naming_the_field(world, client_for, value):
    event = make_event(world.partner)
    response = client_for(world.partner).post(
        f"/community/events/{event.pk}/invite/", {"contacts": [value], "send": "1"}
    )
    assert response.status_code == 400
    assert "contacts" in response.content.decode()
    assert not event.invitations.exists()


@pytest.mark.parametrize("value", [HUGE, "-9.83e+34", "abc"])
def test_a_bad_vendor_filter_answers_400(world, client_for, value):
    event = make_event(world.partner)
    response = client_for(world.partner).get(f"/community/events/{event.pk}/invite/", {"vendor": value})
    assert response.status_code == 400
    assert response.context["filters"].errors["vendor"]


@pytest.mark.parametrize("value", ["2026-13", "99999999999999999999-01", "-9.83e+34", "1999-12", "next month"])
def test_a_bad_calendar_month_answers_400_naming_the_field(world, client_for, value):
    response = client_for(world.partner).get("/community/events/", {"view": "calendar", "month": value})
    assert response.status_code == 400
    assert response.content.decode().startswith("month:")


def test_a_good_calendar_month_still_answers(world, client_for):
    response = client_for(world.partner).get("/community/events/", {"view": "calendar", "month": "2026-03"})
    assert response.status_code == 200 and response.context["month"] == datetime.date(2026, 3, 1)


@pytest.mark.parametrize("value", BAD_NUMBERS + [""])
def test_a_bad_pitch_id_in_feedback_answers_400_naming_the_field(world, client_for, value):
    rsvp, _slot = _attended_pitch(world)
    invitation = rsvp.invitation
    invitation.email = world.a.msp_member.email
    invitation.save(update_fields=["email"])
    response = client_for(world.a.msp_member).post(
        f"/community/portal/invitations/{invitation.pk}/feedback/", {"pitch_slot": value}
    )
    assert response.status_code == 400
    assert response.content.decode().startswith("pitch_slot:")


@pytest.mark.parametrize("value", [HUGE, "-9.83e+34"])
def test_bad_numbers_in_page_forms_are_form_errors(world, client_for, value):
    event = make_event(world.partner, kind=Event.Kind.PITCH)
    client = client_for(world.partner)
    client.post(f"/community/events/{event.pk}/pitches/add/", {"vendor": value, "minutes": value})
    assert not event.pitch_slots.exists()
    response = client.post(
        f"/community/events/{event.pk}/walk-in/", {"msp": value, "name": "A", "email": "a@x.example"}
    )
    assert response.status_code == 302 and not event.invitations.exists()
    edit = client.post(f"/community/events/{event.pk}/edit/", {"capacity": value, "starts_at": "9999-99-99T99:99"})
    assert edit.status_code == 400
    assert {"capacity", "starts_at"} <= set(edit.context["form"].errors)


def test_an_event_at_the_end_of_time_is_a_form_error(world, client_for):
    response = client_for(world.partner).post(
        "/community/events/new/",
        {
            "kind": "dinner",
            "title": "Late",
            "time_zone": "America/Toronto",
            "starts_at": "9999-12-31T23:00",
            "ends_at": "9999-12-31T23:30",
            "venue": "Here",
            "capacity": "5",
            "access": "invite_only",
            "host": world.partner.pk,
        },
    )
    assert response.status_code == 400
    assert {"starts_at", "ends_at"} <= set(response.context["form"].errors)


# --- what the pages offer -------------------------------------------------------------------------


def test_an_admin_runs_events_as_a_partner_does(world, client_for):
    event = make_event(world.partner, kind=Event.Kind.PITCH)
    page = client_for(world.admin).get(f"/community/events/{event.pk}/").content.decode()
    for url in (f"/community/events/{event.pk}/edit/", f"/community/events/{event.pk}/invite/", "pitches/add/"):
        assert url in page
    assert "/community/events/new/" in client_for(world.admin).get("/community/events/").content.decode()
    assert client_for(world.finance).get(f"/community/events/{event.pk}/").status_code == 403
