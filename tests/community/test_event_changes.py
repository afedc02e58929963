"""Changing an event's time or place emails an updated .ics; cancelling sends METHOD:CANCEL once; RSVP questions."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.core import mail

from community import services
from community.models import RSVP, EventQuestion, RSVPAnswer
from tests.community.conftest import answer, invite, make_event
from tmw.accounts import policy
from tmw.errors import ApplicationError


def _calendars(outbox) -> dict[str, icalendar.Calendar]:
    """Recipient -> the parsed .ics attached to their email."""
    found = {}
    for message in outbox:
        for part in message.message().walk():
            if part.get_content_type() == "text/calendar":
                found[message.to[0]] = icalendar.Calendar.from_ical(part.get_payload(decode=True).decode())
    return found


@pytest.fixture
def party(partner):
    """A Chicago event with four invitees: going, waitlisted, declined, and one who has not answered."""
    event = make_event(partner, capacity=1, tz="America/Chicago")
    going, waiting, declined, silent = (
        invite(event, email=f"{n}@msp.example") for n in ("going", "wait", "no", "quiet")
    )
    answer(going)
    answer(waiting)
    answer(declined, going=False)
    return event, going, waiting, declined, silent


def test_changing_the_time_emails_an_updated_ics_to_everyone_who_has_not_declined(
    party, partner, django_capture_on_commit_callbacks
):
    event, going, waiting, declined, silent = party
    mail.outbox.clear()
    new_start = event.starts_at + datetime.timedelta(days=1, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        event = services.event_update(
            event=event, actor=partner, starts_at=new_start, ends_at=new_start + datetime.timedelta(hours=2)
        )
    assert event.sequence == 1
    calendars = _calendars(mail.outbox)
    assert sorted(calendars) == sorted([going.email, waiting.email, silent.email])  # not the one who declined
    assert all(m.subject.startswith("Changed: ") for m in mail.outbox)
    for cal in calendars.values():
        assert cal["METHOD"] == "REQUEST"
        (vevent,) = cal.walk("VEVENT")
        assert str(vevent["UID"]) == f"community-event-{event.pk}@127.0.0.1"
        assert int(vevent["SEQUENCE"]) == 1
        assert vevent["DTSTART"].params["TZID"] == "America/Chicago"
        assert vevent.decoded("DTSTART") == new_start
        assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["America/Chicago"]
        assert vevent.walk("VALARM")
    # A change of the title alone moves nothing in calendars: no email, same SEQUENCE.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        event = services.event_update(event=event, actor=partner, title="A new name")
    assert event.sequence == 1 and mail.outbox == []


def test_a_change_of_place_is_a_change_too_and_a_repeated_task_sends_nothing_twice(
    party, partner, django_capture_on_commit_callbacks
):
    from community import tasks

    event, going, *_ = party
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        event = services.event_update(event=event, actor=partner, venue="The Rooftop, 1 Main St")
    assert event.sequence == 1 and len(mail.outbox) == 3
    assert tasks.send_event_change_email(going.pk, "changed", 1) == "skipped"
    assert len(mail.outbox) == 3


def test_cancelling_sends_method_cancel_once_and_frees_nothing(party, partner, django_capture_on_commit_callbacks):
    event, going, waiting, declined, silent = party
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        event = services.event_cancel(event=event, actor=partner, reason="The venue closed")
    assert event.is_cancelled and event.sequence == 1
    calendars = _calendars(mail.outbox)
    assert sorted(calendars) == sorted([going.email, waiting.email, silent.email])
    for cal in calendars.values():
        assert cal["METHOD"] == "CANCEL"
        (vevent,) = cal.walk("VEVENT")
        assert (vevent["STATUS"], int(vevent["SEQUENCE"])) == ("CANCELLED", 1)
    assert "The venue closed" in mail.outbox[0].body
    # Again: nothing changes and nobody is emailed a second time; the waitlist was not run.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.event_cancel(event=event, actor=partner)
    assert again.sequence == 1 and mail.outbox == []
    assert RSVP.objects.get(invitation=waiting).status == RSVP.Status.WAITLISTED
    # Giving up the seat of a cancelled event promotes nobody; answers and changes are refused.
    services.rsvp_cancel(rsvp=RSVP.objects.get(invitation=going), actor=policy.VISITOR)
    assert RSVP.objects.get(invitation=waiting).status == RSVP.Status.WAITLISTED
    with pytest.raises(ApplicationError, match="cancelled"):
        answer(silent)
    with pytest.raises(ApplicationError, match="cancelled"):
        services.event_update(event=event, actor=partner, venue="Elsewhere")


def test_only_partners_change_or_cancel(party, world):
    event, *_ = party
    with pytest.raises(Exception, match="(?i)not allowed|may not|permission"):
        services.event_cancel(event=event, actor=world.a.vendor_admin)


def _questions(event, partner):
    psa = services.event_question_add(
        event=event,
        actor=partner,
        label="Which PSA do you run?",
        kind="choice",
        choices="ConnectWise\nAutotask\nHalo",
        required=True,
    )
    topic = services.event_question_add(event=event, actor=partner, label="What should we cover?")
    return psa, topic


def test_a_required_question_blocks_an_rsvp_without_an_answer_and_nothing_is_written(partner):
    event = make_event(partner)
    psa, topic = _questions(event, partner)
    invitation = invite(event)
    with pytest.raises(ApplicationError) as refused:
        answer(invitation, answers={})
    assert refused.value.extra == {psa.field_name: ["Which PSA do you run?: this question needs an answer."]}
    assert not RSVP.objects.filter(invitation=invitation).exists()
    with pytest.raises(ApplicationError) as bad_choice:
        answer(invitation, answers={psa.field_name: "Kaseya"})
    assert "choose one of ConnectWise, Autotask, Halo" in bad_choice.value.extra[psa.field_name][0]
    assert not RSVP.objects.filter(invitation=invitation).exists()
    assert not RSVPAnswer.objects.filter(question__event=event).exists()
    # Saying no needs no answer.
    declined = invite(event)
    assert answer(declined, going=False).status == RSVP.Status.NOT_GOING
    rsvp = answer(invitation, answers={psa.field_name: "Halo", str(topic.pk): "Billing for AI tools"})
    assert {a.question_id: a.value for a in rsvp.answers.all()} == {psa.pk: "Halo", topic.pk: "Billing for AI tools"}


def test_questions_are_checked_when_managed(partner):
    event = make_event(partner)
    with pytest.raises(ApplicationError) as few:
        services.event_question_add(event=event, actor=partner, label="Pick", kind="choice", choices="Only one")
    assert "choices" in few.value.extra
    with pytest.raises(ApplicationError) as empty:
        services.event_question_add(event=event, actor=partner, label="  ")
    assert "label" in empty.value.extra
    psa, _ = _questions(event, partner)
    answer(invite(event), answers={psa.field_name: "Halo"})
    with pytest.raises(ApplicationError, match='"Halo"'):
        services.event_question_update(
            question=psa, actor=partner, label=psa.label, kind="choice", choices="ConnectWise\nAutotask", required=True
        )
    assert EventQuestion.objects.get(pk=psa.pk).choice_list == ["ConnectWise", "Autotask", "Halo"]


def test_the_rsvp_form_asks_the_questions_and_names_the_missing_one(partner, client_for):
    from community.tokens import rsvp_token

    event = make_event(partner)
    psa, _ = _questions(event, partner)
    invitation = invite(event)
    client = client_for(None)
    url = f"/community/r/{rsvp_token(invitation)}/"
    page = client.get(url).content.decode()
    assert "Which PSA do you run?" in page and "What should we cover? (optional)" in page
    refused = client.post(url, {"answer": "going"})
    assert refused.status_code == 400
    assert "Which PSA do you run?: this question needs an answer." in refused.content.decode()
    assert not RSVP.objects.filter(invitation=invitation).exists()
    refused = client.post(url, {"answer": "going", psa.field_name: "Kaseya"})
    assert refused.status_code == 400 and "choose one of" in refused.content.decode()
    ok = client.post(url, {"answer": "going", psa.field_name: "Autotask"})
    assert ok.status_code == 302
    assert RSVPAnswer.objects.get(rsvp__invitation=invitation).value == "Autotask"


def test_the_event_page_manages_questions_shows_answers_and_the_csv_has_them(partner, client_for):
    event = make_event(partner)
    client = client_for(partner)
    added = client.post(
        f"/community/events/{event.pk}/questions/",
        {"label": "Which PSA do you run?", "kind": "choice", "choices": "ConnectWise\nHalo", "required": "on"},
    )
    assert added.status_code == 302
    question = EventQuestion.objects.get(event=event)
    assert question.required and question.choice_list == ["ConnectWise", "Halo"]
    bad = client.post(f"/community/events/{event.pk}/questions/", {"label": "Pick", "kind": "choice", "choices": "A"})
    assert bad.status_code == 400 and "At least two choices, one per line." in bad.content.decode()
    invitation = invite(event, name="Robin Park")
    answer(invitation, answers={question.field_name: "Halo"})
    page = client.get(f"/community/events/{event.pk}/").content.decode()
    assert "Which PSA do you run?" in page and "Halo" in page
    csv = b"".join(client.get(f"/community/events/{event.pk}/guests.csv").streaming_content).decode()
    header, row = csv.strip().splitlines()[:2]
    assert header.endswith("Which PSA do you run?") and row.startswith("Robin Park") and row.endswith("Halo")
    removed = client.post(f"/community/questions/{question.pk}/remove/")
    assert removed.status_code == 302 and not EventQuestion.objects.filter(event=event).exists()


def test_a_partner_edits_a_question_on_its_page_and_answered_choices_stay(partner, client_for):
    event = make_event(partner)
    psa, topic = _questions(event, partner)
    answer(invite(event, name="Robin Park"), answers={psa.field_name: "Halo"})
    answer(invite(event, name="Sam Lee"), answers={psa.field_name: "Halo"})
    client = client_for(partner)
    detail = client.get(f"/community/events/{event.pk}/").content.decode()
    url = f"/community/questions/{psa.pk}/edit/"
    assert f'href="{url}"' in detail
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # The form holds the question as it is; the answers so far, per choice, sit beside it.
    assert 'value="Which PSA do you run?"' in html and "ConnectWise\nAutotask\nHalo" in html
    assert "2 invitees answered." in html and 'aria-label="Halo: 2 of 2"' in html

    # Taking away a choice someone chose is refused on the page, naming it; nothing changes.
    fields = {"label": "Which PSA runs your tickets?", "kind": "choice", "choices": "ConnectWise\nAutotask"}
    refused = client.post(url, {**fields, "required": "on"})
    assert refused.status_code == 400
    assert "invitees already answered &quot;Halo&quot;" in refused.content.decode()
    assert EventQuestion.objects.get(pk=psa.pk).label == "Which PSA do you run?"

    saved = client.post(url, {**fields, "choices": "ConnectWise\nAutotask\nHalo\nSyncro"})
    assert saved.status_code == 302 and saved["Location"].endswith(f"/community/events/{event.pk}/#questions")
    question = EventQuestion.objects.get(pk=psa.pk)
    assert question.label == "Which PSA runs your tickets?" and not question.required
    assert question.choice_list == ["ConnectWise", "Autotask", "Halo", "Syncro"]
    assert client.get(f"/community/questions/{topic.pk}/edit/").content.decode().count("Nobody has answered yet") == 1


def test_questions_of_a_cancelled_event_cannot_be_edited(partner, client_for):
    event = make_event(partner)
    psa, _ = _questions(event, partner)
    services.event_cancel(event=event, actor=partner, reason="")
    client = client_for(partner)
    assert f"/community/questions/{psa.pk}/edit/" not in client.get(f"/community/events/{event.pk}/").content.decode()
    refused = client.post(
        f"/community/questions/{psa.pk}/edit/", {"label": "New wording", "kind": "choice", "choices": "A\nB"}
    )
    assert refused.status_code == 400 and "its questions are closed" in refused.content.decode()
    assert EventQuestion.objects.get(pk=psa.pk).label == "Which PSA do you run?"


def test_the_event_page_cancels_once(party, partner, client_for, django_capture_on_commit_callbacks):
    event, *_ = party
    client = client_for(partner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/community/events/{event.pk}/cancel/", {"reason": "Snowstorm"}, follow=True)
    assert "is cancelled. 3 invitees are emailed the cancellation." in response.content.decode()
    assert len(mail.outbox) == 3
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/community/events/{event.pk}/cancel/", {}, follow=True)
    assert "already cancelled" in again.content.decode() and len(mail.outbox) == 3


def test_the_api_changes_cancels_and_manages_questions(party, partner):
    from rest_framework.test import APIClient

    event, going, *_ = party
    api = APIClient()
    api.force_authenticate(partner)
    new_start = (event.starts_at + datetime.timedelta(hours=3)).isoformat()
    changed = api.patch(
        f"/api/v1/events/{event.pk}/",
        {"starts_at": new_start, "ends_at": (event.ends_at + datetime.timedelta(hours=3)).isoformat()},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["sequence"] == 1
    bad = api.patch(f"/api/v1/events/{event.pk}/", {"ends_at": event.starts_at.isoformat()}, format="json")
    assert bad.status_code == 400 and "ends_at" in bad.json()["extra"]
    question = api.post(
        "/api/v1/event-questions/",
        {
            "event": event.pk,
            "label": "Which RMM?",
            "kind": "choice",
            "choices": ["NinjaOne", "Datto"],
            "required": True,
        },
        format="json",
    )
    assert question.status_code == 201, question.content
    qid = question.json()["id"]
    refused = api.post(
        f"/api/v1/event-invitations/{going.pk}/rsvp/", {"going": True, "answers": {str(qid): "Kaseya"}}, format="json"
    )
    assert refused.status_code == 400 and f"q{qid}" in refused.json()["extra"]
    assert not RSVPAnswer.objects.filter(question_id=qid).exists()
    cancelled = api.post(f"/api/v1/events/{event.pk}/cancel/", {"reason": "Weather"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_at"]
    assert api.post(f"/api/v1/events/{event.pk}/cancel/", {}, format="json").json()["sequence"] == 2
