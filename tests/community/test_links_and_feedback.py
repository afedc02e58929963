"""Signed RSVP links (expiry, tampering), time zones, invitations with the competitor warning, feedback → pipeline."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail, signing
from django.utils import timezone

from community import services
from community.models import RSVP, Event, EventInvitation, PitchFeedback
from community.selectors import rsvp_url
from community.tokens import SALT, LinkError, invitation_for_token, rsvp_token
from tests.community.conftest import answer, invite, make_event, make_member, make_msp
from tests.directory.tenant_objects import msp_profile_for
from tests.factories import OrganisationFactory
from tmw.accounts import policy
from tmw.accounts.models import Organisation
from tmw.directory.models import MSPContact
from tmw.errors import ApplicationError


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_link_opens_its_invitation_without_a_password(world, client_for):
    event = make_event(world.partner)
    invitation = invite(event, name="Robin Guest")
    assert invitation_for_token(rsvp_token(invitation)) == invitation
    response = client_for(None).get(_path(rsvp_url(invitation)))
    assert response.status_code == 200
    assert "Robin Guest" in response.content.decode()


def test_a_tampered_link_is_refused(world, client_for):
    invitation = invite(make_event(world.partner))
    token = rsvp_token(invitation)
    forged = signing.dumps({"i": invitation.pk + 1}, salt="another-salt")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, "garbage"):
        with pytest.raises(LinkError) as exc:
            invitation_for_token(bad)
        assert not exc.value.expired
    response = client_for(None).get(f"/community/r/{token[:-1]}x/")
    assert response.status_code == 404
    other = invite(make_event(world.partner))
    payload, rest = token.split(":", 1)
    swapped = signing.dumps({"i": other.pk}, salt=SALT).split(":", 1)[0] + ":" + rest
    with pytest.raises(LinkError):
        invitation_for_token(swapped)


def test_a_link_expires_when_the_event_ends(world, client_for):
    event = make_event(world.partner, days=1)
    invitation = invite(event)
    token = rsvp_token(invitation)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=3), ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(LinkError) as exc:
        invitation_for_token(token)
    assert exc.value.expired
    response = client_for(None).get(f"/community/r/{token}/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_an_event_in_vancouver_seen_from_new_york_and_from_the_link(world, client_for):
    vancouver = datetime.timezone(datetime.timedelta(hours=-8))  # PST in late November
    starts = datetime.datetime(2027, 11, 25, 18, 0, tzinfo=vancouver)
    event = Event.objects.create(
        kind=Event.Kind.DINNER,
        title="West coast dinner",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        time_zone="America/Vancouver",
        venue="Gastown",
        capacity=10,
        host=world.partner,
    )
    member = world.a.msp_member
    member.time_zone = "America/New_York"
    member.save(update_fields=["time_zone"])
    invitation = invite(event, world.a.msp, name="Vancouver Guest")
    portal = client_for(member).get(f"/community/portal/invitations/{invitation.pk}/").content.decode()
    when = portal.split('id="event-when">', 1)[1].split("</span>", 1)[0]
    assert "21:00" in when and "18:00" not in when and "(America/New_York)" in portal
    assert "At the event: Thu 25 Nov, 18:00 – 20:00 (America/Vancouver)" in portal
    public = client_for(None).get(_path(rsvp_url(invitation))).content.decode()
    assert "18:00" in public and "America/Vancouver" in public and "21:00" not in public
    assert event.starts_at == datetime.datetime(2027, 11, 26, 2, 0, tzinfo=datetime.UTC)


def test_answering_through_the_link_and_downloading_the_ics(world, client_for):
    event = make_event(world.partner, capacity=1)
    invitation = invite(event)
    client = client_for(None)
    path = _path(rsvp_url(invitation))
    response = client.post(path, {"answer": "going"})
    assert response.status_code == 302
    assert RSVP.all_objects.get(invitation=invitation).status == RSVP.Status.GOING
    ics = client.get(path + "event.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content
    response = client.post(path + "cancel/")
    assert RSVP.all_objects.get(invitation=invitation).status == RSVP.Status.CANCELLED


def _contact(msp: Organisation, email: str) -> MSPContact:
    profile = msp_profile_for(msp)
    return MSPContact.all_objects.create(msp=profile, name=f"Contact {email}", email=email)


def test_invitations_email_a_signed_link_and_skip_people_already_invited(world, django_capture_on_commit_callbacks):
    event = make_event(world.partner)
    contacts = [_contact(make_msp(), f"c{i}@msp.example") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.invitations_send(event=event, contacts=contacts, actor=world.partner)
    assert len(sent) == 3 and len(mail.outbox) == 3
    link = next(line for line in mail.outbox[0].body.splitlines() if "/community/r/" in line).split(": ", 1)[1]
    assert invitation_for_token(link.rstrip("/").rsplit("/", 1)[1]).email == mail.outbox[0].to[0]
    with django_capture_on_commit_callbacks(execute=True):
        again = services.invitations_send(event=event, contacts=contacts, actor=world.partner)
    assert again == [] and len(mail.outbox) == 3


def _active_engagement(world, vendor):
    from engagements.services import engagement_create, engagement_start

    engagement = engagement_create(vendor=vendor, lead_partner=world.partner, actor=world.partner, option="A")
    return engagement_start(engagement=engagement, actor=world.partner)


def test_a_warning_before_inviting_an_msp_that_works_with_a_competitor(world):
    from engagements.models import Opportunity

    pitching = OrganisationFactory(name="Pitching Backup Co", category="Backup and disaster recovery")
    rival = OrganisationFactory(name="Rival Backup Co", category="Backup and disaster recovery")
    event = make_event(world.partner, kind=Event.Kind.PITCH)
    services.pitch_slot_add(event=event, vendor=pitching, actor=world.partner)
    msp = make_msp("Loyal MSP")
    engagement = _active_engagement(world, rival)
    Opportunity.all_objects.create(
        engagement=engagement, vendor=rival, msp=msp, stage=Opportunity.Stage.LIVE, source=Opportunity.Source.TMW
    )
    contact = _contact(msp, "owner@loyal.example")
    with pytest.raises(ApplicationError) as exc:
        services.invitations_send(event=event, contacts=[contact], actor=world.partner)
    assert exc.value.status == 409 and "Rival Backup Co" in exc.value.extra["competitors"][0]
    (invitation,) = services.invitations_send(
        event=event, contacts=[contact], actor=world.partner, confirm_competitors=True
    )
    assert "Rival Backup Co" in invitation.competitor_warning


def _pitch_session_attended(world, vendor, msp):
    event = make_event(world.partner, kind=Event.Kind.PITCH, days=2, title="Backup pitch night")
    slot = services.pitch_slot_add(event=event, vendor=vendor, actor=world.partner, minutes=15)
    rsvp = answer(invite(event, msp))
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=2), ends_at=timezone.now() - datetime.timedelta(hours=1)
    )
    services.rsvp_check_in(rsvp=rsvp, actor=world.partner)
    return event, slot, rsvp


def test_follow_up_feedback_creates_an_opportunity_with_the_event_as_its_source(world):
    vendor = OrganisationFactory(name="Feedback Vendor", category="Identity")
    _active_engagement(world, vendor)
    msp = make_msp("Curious MSP")
    event, slot, rsvp = _pitch_session_attended(world, vendor, msp)
    feedback = services.feedback_submit(
        rsvp=rsvp, pitch_slot=slot, interest="follow_up", comment="Call us", actor=policy.VISITOR
    )
    opportunity = feedback.opportunity
    assert opportunity is not None and opportunity.vendor == vendor and opportunity.msp == msp
    assert opportunity.stage == "meeting" and opportunity.source == "tmw"
    day = timezone.localtime(Event.objects.get(pk=event.pk).starts_at, event.zone).date().isoformat()
    assert opportunity.source_detail == f"Pitch session: Backup pitch night ({day})"
    again = services.feedback_submit(rsvp=rsvp, pitch_slot=slot, interest="pilot", actor=policy.VISITOR)
    assert again.pk == feedback.pk and again.opportunity.stage == "evaluation"
    assert PitchFeedback.all_objects.filter(rsvp=rsvp).count() == 1


def test_not_now_feedback_makes_no_pipeline_and_only_attendees_give_feedback(world):
    vendor = OrganisationFactory(name="Quiet Vendor", category="Identity")
    _active_engagement(world, vendor)
    event, slot, rsvp = _pitch_session_attended(world, vendor, make_msp())
    assert (
        services.feedback_submit(rsvp=rsvp, pitch_slot=slot, interest="not_now", actor=policy.VISITOR).opportunity
        is None
    )
    absent = RSVP.all_objects.create(invitation=invite(event), event=event, msp=make_msp(), status=RSVP.Status.GOING)
    with pytest.raises(ApplicationError):
        services.feedback_submit(rsvp=absent, pitch_slot=slot, interest="pilot", actor=policy.VISITOR)


def test_msp_users_join_open_events(world):
    event = make_event(world.partner, access=Event.Access.OPEN)
    make_member(world.a.msp, False)
    with pytest.raises(ApplicationError, match="community members"):
        services.event_join(event=event, actor=world.a.msp_member)
    make_member(world.a.msp)
    invitation = services.event_join(event=event, actor=world.a.msp_member)
    assert invitation.msp == world.a.msp and invitation.self_registered
    assert services.event_join(event=event, actor=world.a.msp_member) == invitation
    closed = make_event(world.partner)
    with pytest.raises(ApplicationError):
        services.event_join(event=closed, actor=world.a.msp_member)
    assert EventInvitation.all_objects.filter(event=closed).count() == 0


def test_the_feedback_link_outlives_the_rsvp_link_and_is_not_interchangeable(world, client_for):
    from community.selectors import feedback_url
    from community.tokens import FEEDBACK_WINDOW, feedback_token, invitation_for_feedback_token

    vendor = OrganisationFactory(name="Late Feedback Vendor", category="Identity")
    event, slot, rsvp = _pitch_session_attended(world, vendor, make_msp())
    invitation = rsvp.invitation
    with pytest.raises(LinkError):
        invitation_for_token(rsvp_token(invitation))  # the RSVP link ended with the event
    with pytest.raises(LinkError):
        invitation_for_token(feedback_token(invitation))  # a feedback token is no RSVP token
    with pytest.raises(LinkError):
        invitation_for_feedback_token(rsvp_token(invitation))
    client = client_for(None)
    path = _path(feedback_url(invitation))
    page = client.get(path)
    assert page.status_code == 200 and "Your feedback on the pitches" in page.content.decode()
    response = client.post(path, {"pitch_slot": slot.pk, f"slot{slot.pk}-interest": "follow_up"})
    assert response.status_code == 302
    assert PitchFeedback.objects.get(rsvp=rsvp, pitch_slot=slot).interest == "follow_up"
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - FEEDBACK_WINDOW - datetime.timedelta(hours=3),
        ends_at=timezone.now() - FEEDBACK_WINDOW - datetime.timedelta(hours=1),
    )
    assert client.get(path).status_code == 410
