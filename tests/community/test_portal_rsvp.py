"""The MSP portal: each event once per member, whoever from the MSP was invited; and no answer chosen for them."""

from __future__ import annotations

import re

import pytest

from community.models import RSVP, Event
from community.tokens import rsvp_token
from tests.community.conftest import answer, invite, make_event, make_member
from tests.factories import UserFactory
from tmw.accounts.models import Role


@pytest.fixture
def colleagues(world):
    """Two members of MSP A, both invited to the same dinner; a third member invited to nothing."""
    event = make_event(world.partner, kind=Event.Kind.DINNER, title="Harbour dinner")
    first = world.a.msp_member
    second = UserFactory(organisation=world.a.msp, role=Role.MSP_MEMBER, full_name="Sam Second")
    third = UserFactory(organisation=world.a.msp, role=Role.MSP_MEMBER, full_name="Tia Third")
    mine = invite(event, world.a.msp, name="Mia Member", email=first.email)
    theirs = invite(event, world.a.msp, name="Sam Second", email=second.email)
    return {"event": event, "users": (first, second, third), "invitations": (mine, theirs)}


def _rows(page: str, title: str) -> list[str]:
    return [row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if title in row]


def test_each_member_sees_the_event_once_with_their_own_invitation(colleagues, client_for):
    first, second, _ = colleagues["users"]
    mine, theirs = colleagues["invitations"]
    for user, own, other in ((first, mine, "Sam Second"), (second, theirs, "Mia Member")):
        page = client_for(user).get("/community/portal/invitations/").content.decode()
        (row,) = _rows(page, "Harbour dinner")
        assert f"/community/portal/invitations/{own.pk}/" in row
        assert "<td>You" in row and f"Also invited: {other}" in row
        detail = client_for(user).get(f"/community/portal/invitations/{own.pk}/").content.decode()
        assert "Your invitation." in detail and "Invitation for" not in detail
        assert f"Also invited from {own.msp.name}: {other}." in detail


def test_a_member_not_invited_sees_the_msps_invitation_once(colleagues, client_for):
    _, _, third = colleagues["users"]
    mine, _ = colleagues["invitations"]
    page = client_for(third).get("/community/portal/invitations/").content.decode()
    (row,) = _rows(page, "Harbour dinner")
    assert f"/community/portal/invitations/{mine.pk}/" in row
    assert "<td>Mia Member" in row and "Also invited: Sam Second" in row


def test_an_open_event_a_colleague_was_invited_to_is_not_listed_twice(world, colleagues, client_for):
    make_member(world.a.msp)
    Event.objects.filter(pk=colleagues["event"].pk).update(access=Event.Access.OPEN)
    _, _, third = colleagues["users"]
    page = client_for(third).get("/community/portal/invitations/").content.decode()
    assert page.count("Harbour dinner") == 1


def _radios(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="answer"[^>]*>', page)


def test_nothing_is_chosen_for_an_invitee_who_has_not_answered(colleagues, client_for):
    first, _, _ = colleagues["users"]
    mine, _ = colleagues["invitations"]
    for page in (
        client_for(first).get(f"/community/portal/invitations/{mine.pk}/").content.decode(),
        client_for(None).get(f"/community/r/{rsvp_token(mine)}/").content.decode(),
    ):
        radios = _radios(page)
        assert len(radios) == 2 and not any("checked" in r for r in radios)


def test_the_answer_given_is_shown_chosen(colleagues, client_for):
    first, _, _ = colleagues["users"]
    mine, _ = colleagues["invitations"]
    answer(mine, going=False)
    radios = _radios(client_for(first).get(f"/community/portal/invitations/{mine.pk}/").content.decode())
    assert [("checked" in r) for r in radios] == [False, True]


@pytest.mark.parametrize("via", ["portal", "link"])
def test_sending_without_a_choice_is_refused_beside_the_field_and_writes_nothing(colleagues, client_for, via):
    first, _, _ = colleagues["users"]
    mine, _ = colleagues["invitations"]
    if via == "portal":
        client, path = client_for(first), f"/community/portal/invitations/{mine.pk}/rsvp/"
    else:
        client, path = client_for(None), f"/community/r/{rsvp_token(mine)}/"
    response = client.post(path, {"dietary": "Vegan"})
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'<ul class="errorlist" id="id_answer_error"><li>Choose Going or Not going\.</li></ul>', page)
    assert 'aria-describedby="id_answer_error"' in page
    assert not RSVP.objects.filter(invitation=mine).exists()
    assert client.post(path, {"answer": "maybe"}).status_code == 400
    assert not RSVP.objects.filter(invitation=mine).exists()
