"""Pitch feedback: the comment limit shown before it bites and never cut, and no silent overwrite from a second tab."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from community import services
from community.models import Event, PitchFeedback
from community.tokens import rsvp_token
from tests.community.conftest import answer, invite, make_event
from tmw.accounts import policy
from tmw.errors import ApplicationError


@pytest.fixture
def session(world):
    """A pitch session under way that MSP A's member attended."""
    event = make_event(world.partner, kind=Event.Kind.PITCH, capacity=10)
    slot = services.pitch_slot_add(event=event, vendor=world.a.vendor, actor=world.partner)
    invitation = invite(event, world.a.msp, name="Mia Member", email=world.a.msp_member.email)
    rsvp = answer(invitation)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1), ends_at=timezone.now() + datetime.timedelta(hours=1)
    )
    services.rsvp_check_in(rsvp=rsvp, actor=world.partner)
    return {"event": event, "slot": slot, "invitation": invitation, "rsvp": rsvp}


def _post(slot, **fields):
    data = {"pitch_slot": slot.pk}
    data.update({f"slot{slot.pk}-{k}": v for k, v in fields.items()})
    return data


def _version(page: str, slot) -> str:
    match = re.search(rf'<input type="hidden" name="slot{slot.pk}-version"(?: value="([^"]*)")?', page)
    assert match, "the feedback form carries the version it was opened on"
    return match.group(1) or ""


def test_the_form_shows_the_limit_and_a_counter_before_it_bites(session, client_for):
    page = client_for(None).get(f"/community/r/{rsvp_token(session['invitation'])}/").content.decode()
    (textarea,) = re.findall(rf'<textarea name="slot{session["slot"].pk}-comment"[^>]*>', page)
    assert 'maxlength="2000"' in textarea and "data-maxlength-counter" in textarea
    assert "Up to 2,000 characters." in page


def test_a_longer_comment_is_refused_with_its_message_and_the_text_kept(session, client_for):
    slot, path = session["slot"], f"/community/r/{rsvp_token(session['invitation'])}/feedback/"
    text = "word " * 450  # 2,250 characters
    response = client_for(None).post(path, _post(slot, interest="pilot", comment=text, version=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "At most 2000 characters (it has 2249)." in page
    assert text.strip() in page  # nothing typed is lost
    assert not PitchFeedback.objects.filter(rsvp=session["rsvp"]).exists()


def test_the_service_refuses_rather_than_cuts(session):
    with pytest.raises(ApplicationError) as refused:
        services.feedback_submit(
            rsvp=session["rsvp"], pitch_slot=session["slot"], interest="pilot", comment="x" * 2001, actor=policy.VISITOR
        )
    assert "comment" in refused.value.extra and "2,001" in refused.value.message
    assert not PitchFeedback.objects.filter(rsvp=session["rsvp"]).exists()


def test_line_breaks_count_once_as_the_browser_counts_them(session, client_for):
    slot, path = session["slot"], f"/community/r/{rsvp_token(session['invitation'])}/feedback/"
    text = ("a" * 99 + "\r\n") * 20  # 2,000 characters in the browser, 2,020 as sent
    response = client_for(None).post(path, _post(slot, interest="follow_up", comment=text, version=""))
    assert response.status_code == 302
    assert len(PitchFeedback.objects.get(rsvp=session["rsvp"]).comment) == 1999  # the last line break is stripped


@pytest.mark.parametrize("via", ["link", "portal"])
def test_a_second_tab_does_not_silently_overwrite_the_first(world, session, client_for, via):
    slot = session["slot"]
    if via == "link":
        client = client_for(None)
        page_path = f"/community/r/{rsvp_token(session['invitation'])}/"
        post_path = page_path + "feedback/"
    else:
        client = client_for(world.a.msp_member)
        page_path = f"/community/portal/invitations/{session['invitation'].pk}/"
        post_path = page_path + "feedback/"
    first_tab = _version(client.get(page_path).content.decode(), slot)
    second_tab = _version(client.get(page_path).content.decode(), slot)
    assert first_tab == second_tab == ""
    sent = client.post(post_path, _post(slot, interest="pilot", comment="From the first tab", version=first_tab))
    assert sent.status_code == 302
    saved = PitchFeedback.objects.get(rsvp=session["rsvp"])
    stale = client.post(post_path, _post(slot, interest="not_now", comment="From the second tab", version=second_tab))
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "changed in another tab/window since you opened it" in page
    assert "From the second tab" in page and "Saved now: Pilot" in page
    again = PitchFeedback.objects.get(pk=saved.pk)
    assert (again.interest, again.comment, again.updated_at) == ("pilot", "From the first tab", saved.updated_at)
    # The refused form now carries what is saved, so sending it again is a deliberate choice.
    assert _version(page, slot) == services.feedback_version(again)
    resent = client.post(
        post_path, _post(slot, interest="not_now", comment="From the second tab", version=_version(page, slot))
    )
    assert resent.status_code == 302
    assert PitchFeedback.objects.get(pk=saved.pk).comment == "From the second tab"


def test_the_service_refuses_a_stale_version(session):
    rsvp, slot = session["rsvp"], session["slot"]
    first = services.feedback_submit(rsvp=rsvp, pitch_slot=slot, interest="pilot", actor=policy.VISITOR, version="")
    with pytest.raises(ApplicationError) as refused:
        services.feedback_submit(rsvp=rsvp, pitch_slot=slot, interest="not_now", actor=policy.VISITOR, version="")
    assert refused.value.status == 409 and "version" in refused.value.extra
    assert PitchFeedback.objects.get(pk=first.pk).interest == "pilot"
    later = services.feedback_submit(
        rsvp=rsvp, pitch_slot=slot, interest="not_now", actor=policy.VISITOR, version=services.feedback_version(first)
    )
    assert later.interest == "not_now"
