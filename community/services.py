"""Business actions of the community app: events, invitations, RSVPs with a waitlist, check-in and feedback."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone

from tmw.accounts import policy
from tmw.accounts.models import Organisation, User
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record
from tmw.directory.models import MSPContact
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

from . import webhook_events
from .models import RSVP, Event, EventInvitation, EventQuestion, PitchFeedback, PitchSlot, RSVPAnswer
from .selectors import invitees_not_declined

EVENT_FIELDS = (
    "kind",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "time_zone",
    "venue",
    "virtual_link",
    "capacity",
    "access",
    "host",
    "rsvp_deadline",
)


# --- Events and pitch slots -----------------------------------------------------------------------


@transaction.atomic
def event_create(*, actor: Actor, **fields: Any) -> Event:
    """Create a community event hosted by a TMW partner."""
    policy.require(actor, "event.manage")
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown event fields: {', '.join(sorted(unknown))}")
    fields.setdefault("host", policy.user_of(actor))
    event = Event(**fields)
    event.full_clean()
    event.save()
    audit_record(actor=actor, verb="event.created", obj=event)
    return event


# A change to any of these moves the event in invitees' calendars: they are emailed an updated .ics.
TIME_AND_PLACE = ("starts_at", "ends_at", "time_zone", "venue", "virtual_link")


@transaction.atomic
def event_update(*, event: Event, actor: Actor, **fields: Any) -> Event:
    """Change an event's details; capacity may not drop below the people already going.

    When the time or the place changes, SEQUENCE goes up by one and every invitee who has not
    declined (or cancelled) is emailed the updated invitation (same UID, METHOD:REQUEST).
    """
    policy.require(actor, "event.manage")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_cancelled:
        raise ApplicationError("This event is cancelled; it can no longer be changed.", status=409)
    before = {name: getattr(event, name) for name in TIME_AND_PLACE}
    for name, value in fields.items():
        if name not in EVENT_FIELDS:
            raise TypeError(f"Unknown event field: {name}")
        setattr(event, name, value)
    event.full_clean()
    # unscoped: shared (other tenants' rows this action needs by design)
    going = RSVP.all_objects.filter(event=event, status=RSVP.Status.GOING).count()
    if event.capacity < going:
        raise ApplicationError(
            f"{going} people are already going; capacity cannot drop below that.",
            extra={"capacity": [f"At least {going}."]},
        )
    moved = sorted(name for name in TIME_AND_PLACE if getattr(event, name) != before[name])
    if moved:
        event.sequence += 1
    event.save()
    _fill_from_waitlist(event=event, actor=actor)
    audit_record(actor=actor, verb="event.updated", obj=event, data={"fields": sorted(fields), "moved": moved})
    if moved:
        for invitation_id in invitees_not_declined(event=event):
            enqueue_on_commit("community.send_event_change_email", invitation_id, "changed", event.sequence)
    return event


@transaction.atomic
def event_cancel(*, event: Event, actor: Actor, reason: str = "") -> Event:
    """Call an event off: every invitee who had not declined is emailed a METHOD:CANCEL .ics, once.

    Cancelling twice changes nothing and sends nothing again. Answers and the waitlist are
    kept as they were (nobody is promoted into an event that will not happen).
    """
    policy.require(actor, "event.cancel", "cancel events")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_cancelled:
        return event
    if event.has_ended:
        raise ApplicationError("This event is over; it can no longer be cancelled.", status=409)
    reason = " ".join(reason.split())
    if len(reason) > 300:
        raise ApplicationError(
            "Reason: keep it to 300 characters.", extra={"reason": [f"At most 300 characters (it has {len(reason)})."]}
        )
    event.cancelled_at = timezone.now()
    event.cancel_reason = reason
    event.sequence += 1
    event.save(update_fields=["cancelled_at", "cancel_reason", "sequence"])
    audit_record(actor=actor, verb="event.cancelled", obj=event, data={"reason": reason})
    for invitation_id in invitees_not_declined(event=event):
        enqueue_on_commit("community.send_event_change_email", invitation_id, "cancelled", event.sequence)
    return event


# --- RSVP questions -------------------------------------------------------------------------------

QUESTION_LABEL_MAX = 200
ANSWER_MAX = 1000
CHOICES_MAX = 20


def _question_fields(*, label: str, kind: str, choices: str | list[str], required: bool) -> dict[str, Any]:
    label = " ".join((label or "").split())
    if not label:
        raise ApplicationError("Question: write the question.", extra={"label": ["Write the question."]})
    if len(label) > QUESTION_LABEL_MAX:
        raise ApplicationError(
            f"Question: keep it to {QUESTION_LABEL_MAX} characters.",
            extra={"label": [f"At most {QUESTION_LABEL_MAX} characters (it has {len(label)})."]},
        )
    if kind not in EventQuestion.Kind.values:
        raise ApplicationError("Kind: choose text or choice.", extra={"kind": ["Choose text or choice."]})
    items = choices.splitlines() if isinstance(choices, str) else list(choices)
    cleaned: list[str] = []
    for item in items:
        item = " ".join(str(item).split())
        if item and item not in cleaned:
            cleaned.append(item[:200])
    if kind == EventQuestion.Kind.CHOICE and len(cleaned) < 2:
        raise ApplicationError(
            "Choices: give at least two, one per line.", extra={"choices": ["At least two choices, one per line."]}
        )
    if len(cleaned) > CHOICES_MAX:
        raise ApplicationError(
            f"Choices: at most {CHOICES_MAX}.", extra={"choices": [f"At most {CHOICES_MAX} choices."]}
        )
    return {
        "label": label,
        "kind": kind,
        "choices": "\n".join(cleaned) if kind == EventQuestion.Kind.CHOICE else "",
        "required": bool(required),
    }


@transaction.atomic
def event_question_add(
    *, event: Event, actor: Actor, label: str, kind: str = "text", choices: str | list[str] = "", required: bool = False
) -> EventQuestion:
    """Ask invitees one more question on the event's RSVP form (text, or one of a list of choices)."""
    policy.require(actor, "event.questions", "manage RSVP questions")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_cancelled or event.has_ended:
        raise ApplicationError("This event is cancelled or over; its questions are closed.", status=409)
    data = _question_fields(label=label, kind=kind, choices=choices, required=required)
    order = (EventQuestion.objects.filter(event=event).aggregate(m=Max("order"))["m"] or 0) + 1
    question = EventQuestion.objects.create(event=event, order=order, **data)
    audit_record(actor=actor, verb="event_question.added", obj=question, data={"event": event.pk})
    return question


@transaction.atomic
def event_question_update(
    *, question: EventQuestion, actor: Actor, label: str, kind: str, choices: str | list[str] = "", required: bool
) -> EventQuestion:
    """Change a question of an open event; a choice that answers already use cannot be taken away."""
    policy.require(actor, "event.questions", "manage RSVP questions")
    question = EventQuestion.objects.select_for_update().select_related("event").get(pk=question.pk)
    if question.event.is_cancelled or question.event.has_ended:
        raise ApplicationError("This event is cancelled or over; its questions are closed.", status=409)
    data = _question_fields(label=label, kind=kind, choices=choices, required=required)
    # unscoped: shared (other tenants' rows this action needs by design)
    used = set(RSVPAnswer.all_objects.filter(question=question).exclude(value="").values_list("value", flat=True))
    if used and (
        data["kind"] != question.kind or (question.kind == "choice" and used - set(data["choices"].split("\n")))
    ):
        missing = sorted(used - set(data["choices"].split("\n"))) if data["kind"] == "choice" else []
        message = (
            "Choices: invitees already answered "
            + (", ".join(f'"{m}"' for m in missing) if missing else "this question")
            + "; keep those choices (and the kind)."
        )
        raise ApplicationError(message, extra={"choices": [message]}, status=409)
    for name, value in data.items():
        setattr(question, name, value)
    question.save()
    audit_record(actor=actor, verb="event_question.changed", obj=question, data={"event": question.event_id})
    return question


@transaction.atomic
def event_question_remove(*, question: EventQuestion, actor: Actor) -> None:
    """Stop asking a question; the answers already given go with it."""
    policy.require(actor, "event.questions", "manage RSVP questions")
    audit_record(actor=actor, verb="event_question.removed", obj=question, data={"event": question.event_id})
    question.delete()


def clean_answers(*, event: Event, answers: dict[Any, Any] | None, going: bool) -> dict[int, str]:
    """The answers to an event's questions, checked: question id -> value. Raises naming each bad field.

    Keys are question ids (or ``q<id>`` as the form names them). A required question must be
    answered when the person says they are going; a choice must be one of the question's choices.
    """
    answers = answers or {}
    by_id: dict[int, Any] = {}
    for key, value in answers.items():
        text = str(key)[1:] if str(key).startswith("q") else str(key)
        if not text.isdigit():
            raise ApplicationError(f"Unknown question {key}.", extra={str(key): ["Not a question of this event."]})
        by_id[int(text)] = value
    questions = list(EventQuestion.objects.filter(event=event).order_by("order", "pk"))
    known = {q.pk for q in questions}
    errors: dict[str, list[str]] = {}
    for pk in sorted(set(by_id) - known):
        errors[f"q{pk}"] = ["Not a question of this event."]
    cleaned: dict[int, str] = {}
    for question in questions:
        raw = by_id.get(question.pk, "")
        value = (
            " ".join(str(raw if raw is not None else "").split())
            if question.kind == "choice"
            else str(raw if raw is not None else "").replace("\r\n", "\n").strip()
        )
        if not value:
            if question.required and going:
                errors[question.field_name] = [f"{question.label}: this question needs an answer."]
            cleaned[question.pk] = ""
            continue
        if question.kind == EventQuestion.Kind.CHOICE and value not in question.choice_list:
            errors[question.field_name] = [f"{question.label}: choose one of {', '.join(question.choice_list)}."]
            continue
        if len(value) > ANSWER_MAX:
            errors[question.field_name] = [
                f"{question.label}: at most {ANSWER_MAX:,} characters (it has {len(value):,})."
            ]
            continue
        cleaned[question.pk] = value
    if errors:
        first = next(iter(errors.values()))[0]
        raise ApplicationError(first if len(errors) == 1 else "Answer the questions marked below.", extra=errors)
    return cleaned


def _answers_save(*, rsvp: RSVP, answers: dict[int, str]) -> None:
    """Keep the answers given; an answer left empty removes the one given before."""
    for question_id, value in answers.items():
        if not value:
            # unscoped: lock (lock a row the caller already holds)
            RSVPAnswer.all_objects.filter(rsvp=rsvp, question_id=question_id).delete()
            continue
        # unscoped: lock (lock a row the caller already holds)
        RSVPAnswer.all_objects.update_or_create(rsvp=rsvp, question_id=question_id, defaults={"value": value})


@transaction.atomic
def pitch_slot_add(
    *, event: Event, vendor: Organisation, actor: Actor, minutes: int = 15, topic: str = ""
) -> PitchSlot:
    """Give a vendor the next pitch slot of a pitch session."""
    policy.require(actor, "event.manage")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.is_pitch:
        raise ApplicationError("Only pitch sessions have pitch slots.")
    if not vendor.is_vendor:
        raise ApplicationError("Pitch slots are for vendors.", extra={"vendor": ["Choose a vendor."]})
    # unscoped: unique (the check must see every tenant's rows)
    if PitchSlot.all_objects.filter(event=event, vendor=vendor).exists():
        raise ApplicationError(f"{vendor} already pitches here.", extra={"vendor": ["Already has a slot."]}, status=409)
    # unscoped: unique (the check must see every tenant's rows)
    order = (PitchSlot.all_objects.filter(event=event).aggregate(m=Max("order"))["m"] or 0) + 1
    slot = PitchSlot(event=event, vendor=vendor, order=order, minutes=minutes, topic=topic)
    slot.full_clean()
    slot.save()
    audit_record(actor=actor, verb="pitch_slot.added", obj=slot, organisation=vendor)
    return slot


@transaction.atomic
def pitch_slot_move(*, slot: PitchSlot, direction: int, actor: Actor) -> PitchSlot:
    """Swap a pitch slot with its neighbour (``direction`` -1 earlier, +1 later)."""
    policy.require(actor, "event.manage")
    Event.objects.select_for_update().get(pk=slot.event_id)
    # unscoped: shared (other tenants' rows this action needs by design)
    slots = list(PitchSlot.all_objects.filter(event_id=slot.event_id).order_by("order", "pk"))
    index = next(i for i, s in enumerate(slots) if s.pk == slot.pk)
    other_index = index + (1 if direction > 0 else -1)
    if not 0 <= other_index < len(slots):
        return slots[index]
    mine, other = slots[index], slots[other_index]
    mine_order, other_order = mine.order, other.order
    # unscoped: shared (other tenants' rows this action needs by design)
    PitchSlot.all_objects.filter(pk=mine.pk).update(order=0)
    # unscoped: shared (other tenants' rows this action needs by design)
    PitchSlot.all_objects.filter(pk=other.pk).update(order=mine_order)
    # unscoped: shared (other tenants' rows this action needs by design)
    PitchSlot.all_objects.filter(pk=mine.pk).update(order=other_order)
    mine.order = other_order
    return mine


@transaction.atomic
def pitch_slot_remove(*, slot: PitchSlot, actor: Actor) -> None:
    """Take a vendor off a pitch session (only while nobody has given feedback on it)."""
    policy.require(actor, "event.manage")
    # unscoped: shared (other tenants' rows this action needs by design)
    if PitchFeedback.all_objects.filter(pitch_slot=slot).exists():
        raise ApplicationError("MSPs have given feedback on this pitch; it stays.", status=409)
    audit_record(actor=actor, verb="pitch_slot.removed", obj=slot, organisation=slot.vendor)
    slot.delete()


# --- Invitations ----------------------------------------------------------------------------------


def competitor_warnings(*, event: Event, msp_ids: Iterable[int]) -> dict[int, str]:
    """MSPs that already work with a competitor of a vendor pitching at ``event``: msp id -> warning.

    A competitor is another vendor in the same category, with an opportunity at stage
    signed or live for that MSP.
    """
    from engagements.models import Opportunity

    # unscoped: shared (other tenants' rows this action needs by design)
    slots = list(PitchSlot.all_objects.filter(event=event).select_related("vendor"))
    categories = {s.vendor.category: s.vendor for s in slots if s.vendor.category}
    if not categories:
        return {}
    pitching = [s.vendor_id for s in slots]
    rows = (
        # unscoped: shared (other tenants' rows this action needs by design)
        Opportunity.all_objects.filter(
            msp_id__in=list(msp_ids),
            stage__in=[Opportunity.Stage.SIGNED, Opportunity.Stage.LIVE],
            vendor__category__in=list(categories),
        )
        .exclude(vendor_id__in=pitching)
        .values_list("msp_id", "vendor__name", "vendor__category")
        .order_by("msp_id", "vendor__name")
    )
    warnings: dict[int, list[str]] = {}
    for msp_id, vendor_name, category in rows:
        warnings.setdefault(msp_id, []).append(
            f"works with {vendor_name}, a competitor of {categories[category].name} ({category})"
        )
    return {msp_id: "; ".join(items)[:400] for msp_id, items in warnings.items()}


def _invitation_create(
    *,
    event: Event,
    msp: Organisation,
    name: str,
    email: str,
    actor: Actor,
    contact: MSPContact | None = None,
    warning: str = "",
    **extra: Any,
) -> EventInvitation:
    invitation = EventInvitation(
        event=event,
        msp=msp,
        contact=contact,
        name=name.strip(),
        email=email.strip().lower(),
        invited_by=policy.user_of(actor),
        competitor_warning=warning,
        **extra,
    )
    invitation.full_clean(validate_constraints=False)  # the one-per-email rule is checked by the callers
    invitation.save()
    audit_record(actor=actor, verb="event_invitation.created", obj=invitation, organisation=msp)
    return invitation


@transaction.atomic
def invitations_send(
    *, event: Event, contacts: list[MSPContact], actor: Actor, confirm_competitors: bool = False
) -> list[EventInvitation]:
    """Invite MSP contacts to an event and email each a signed RSVP link; skips people already invited.

    When an MSP already works with a competitor of a pitching vendor, nothing is sent
    until the partner confirms (``confirm_competitors``).
    """
    policy.require(actor, "event.manage")
    if event.has_ended:
        raise ApplicationError("This event is over.", status=409)
    if event.is_cancelled:
        raise ApplicationError("This event is cancelled.", status=409)
    contacts = [c for c in contacts if c.email]
    if not contacts:
        raise ApplicationError("Pick at least one contact with an email address.", extra={"contacts": ["Pick one."]})
    warnings = competitor_warnings(event=event, msp_ids={c.msp_id for c in contacts})
    if warnings and not confirm_competitors:
        raise ApplicationError(
            "Some MSPs already work with a competitor of a vendor pitching here. Confirm to invite them anyway.",
            extra={"competitors": sorted(set(warnings.values()))},
            status=409,
        )
    already = set(
        # unscoped: unique (the check must see every tenant's rows)
        EventInvitation.all_objects.filter(event=event, email__in=[c.email.lower() for c in contacts]).values_list(
            "email", flat=True
        )
    )
    created = []
    for contact in contacts:
        if contact.email.lower() in already:
            continue
        already.add(contact.email.lower())
        invitation = _invitation_create(
            event=event,
            # unscoped: shared (other tenants' rows this action needs by design)
            msp=Organisation.all_objects.get(pk=contact.msp_id),
            name=contact.name,
            email=contact.email,
            actor=actor,
            contact=contact,
            warning=warnings.get(contact.msp_id, ""),
        )
        created.append(invitation)
    for invitation in created:
        enqueue_on_commit("community.send_invitation_email", invitation.pk)
    return created


@transaction.atomic
def invitation_create(
    *, event: Event, msp: Organisation, name: str, email: str, actor: Actor, confirm_competitors: bool = False
) -> EventInvitation:
    """Invite one person at an MSP by name and email (the API's way in) and email the RSVP link."""
    policy.require(actor, "event.manage")
    if not msp.is_msp:
        raise ApplicationError("Invitations go to MSPs.", extra={"msp": ["Choose an MSP."]})
    if event.has_ended:
        raise ApplicationError("This event is over.", status=409)
    if event.is_cancelled:
        raise ApplicationError("This event is cancelled.", status=409)
    # unscoped: unique (the check must see every tenant's rows)
    if EventInvitation.all_objects.filter(event=event, email=email.strip().lower()).exists():
        raise ApplicationError("This person is already invited.", extra={"email": ["Already invited."]}, status=409)
    warning = competitor_warnings(event=event, msp_ids=[msp.pk]).get(msp.pk, "")
    if warning and not confirm_competitors:
        raise ApplicationError(
            f"{msp} {warning}. Confirm to invite anyway.", extra={"competitors": [warning]}, status=409
        )
    invitation = _invitation_create(event=event, msp=msp, name=name, email=email, actor=actor, warning=warning)
    enqueue_on_commit("community.send_invitation_email", invitation.pk)
    return invitation


@transaction.atomic
def event_join(*, event: Event, actor: Actor) -> EventInvitation:
    """An MSP user signs up for an event open to community MSPs (an invitation to themselves)."""
    policy.require(actor, "event.join", "join community events")
    assert isinstance(actor, User)  # event.join is for MSP members, who are users
    user = actor
    if event.access != Event.Access.OPEN:
        raise ApplicationError("This event is by invitation only.", status=403)
    if event.is_cancelled:
        raise ApplicationError("This event is cancelled.", status=409)
    from .selectors import is_community_member

    if not is_community_member(user.organisation_id):
        raise ApplicationError("Open events are for TMW community members.", status=403)
    # unscoped: unique (the check must see every tenant's rows)
    existing = EventInvitation.all_objects.filter(event=event, email=user.email.lower()).first()
    if existing is not None:
        return existing
    if not event.is_open_for_answers:
        raise ApplicationError("Answers for this event have closed.", status=409)
    return _invitation_create(
        event=event,
        msp=user.organisation,
        name=user.get_full_name(),
        email=user.email,
        actor=actor,
        self_registered=True,
        sent_at=timezone.now(),
    )


# --- RSVPs and the waitlist -----------------------------------------------------------------------


def _require_own_msp(actor: Actor, msp_id: int) -> None:
    """An MSP member answers, cancels and gives feedback only for their own MSP's invitations."""
    if not policy.may_answer_for_msp(actor, msp_id):
        raise ApplicationError("This invitation is for another MSP.", status=403)


def _lock_event(event_id: int) -> Event:
    """Lock the event row: every change to who is going runs one at a time per event."""
    return Event.objects.select_for_update().get(pk=event_id)


def _next_waitlist_position(event: Event) -> int:
    # unscoped: unique (the check must see every tenant's rows)
    top = RSVP.all_objects.filter(event=event, status=RSVP.Status.WAITLISTED).aggregate(m=Max("waitlist_position"))
    return (top["m"] or 0) + 1


def _going_count(event: Event) -> int:
    # unscoped: shared (other tenants' rows this action needs by design)
    return RSVP.all_objects.filter(event=event, status=RSVP.Status.GOING).count()


def _fill_from_waitlist(*, event: Event, actor: Actor) -> list[RSVP]:
    """Promote waitlisted people, first in line first, while seats are free (the event row is locked)."""
    free = event.capacity - _going_count(event)
    promoted: list[RSVP] = []
    if free <= 0 or event.starts_at <= timezone.now() or event.is_cancelled:
        return promoted
    queue = list(
        # unscoped: lock (lock a row the caller already holds)
        RSVP.all_objects.select_for_update()
        .filter(event=event, status=RSVP.Status.WAITLISTED)
        .order_by("waitlist_position", "pk")[:free]
    )
    for rsvp in queue:
        rsvp.status = RSVP.Status.GOING
        rsvp.waitlist_position = None
        rsvp.promoted_at = timezone.now()
        rsvp.save(update_fields=["status", "waitlist_position", "promoted_at"])
        audit_record(actor=actor, verb="rsvp.promoted", obj=rsvp, organisation=rsvp.msp)
        webhook_events.rsvp_changed(rsvp, previous=RSVP.Status.WAITLISTED)
        enqueue_on_commit("community.send_rsvp_email", rsvp.pk, "promoted")
        promoted.append(rsvp)
    return promoted


@transaction.atomic
def rsvp_respond(
    *,
    invitation: EventInvitation,
    going: bool,
    actor: Actor,
    dietary: str = "",
    answers: dict[Any, Any] | None = None,
) -> RSVP:
    """Answer an invitation: going (a seat, or the waitlist when full) or not going.

    The event row is locked for the whole answer, so the count of people going never
    passes capacity however many answer at once. Giving up a seat promotes the next
    person on the waitlist.
    """
    policy.require(actor, "rsvp.respond", "answer invitations")
    _require_own_msp(actor, invitation.msp_id)
    event = _lock_event(invitation.event_id)
    if event.is_cancelled:
        raise ApplicationError("This event is cancelled.", extra={"event": ["Cancelled."]}, status=409)
    if not event.is_open_for_answers:
        raise ApplicationError(
            "Answers for this event closed on the RSVP deadline.", extra={"deadline": ["Passed."]}, status=409
        )
    dietary = dietary.strip()[:300] if event.is_dinner else ""
    checked = clean_answers(event=event, answers=answers, going=going)
    # unscoped: lock (lock a row the caller already holds)
    rsvp = RSVP.all_objects.select_for_update().filter(invitation_id=invitation.pk).first()
    previous = rsvp.status if rsvp is not None else None
    if rsvp is None:
        rsvp = RSVP(invitation_id=invitation.pk, event=event, msp_id=invitation.msp_id)
    rsvp.dietary = dietary
    email_kind = None
    if going:
        if previous in (RSVP.Status.GOING, RSVP.Status.WAITLISTED):
            pass  # already has a seat or a place in line; only the details change
        elif _going_count(event) < event.capacity:
            rsvp.status = RSVP.Status.GOING
            email_kind = "confirmed"
        else:
            rsvp.status = RSVP.Status.WAITLISTED
            rsvp.waitlist_position = _next_waitlist_position(event)
            email_kind = "waitlisted"
    else:
        rsvp.status = RSVP.Status.NOT_GOING
        rsvp.waitlist_position = None
    if previous != rsvp.status:
        rsvp.responded_at = timezone.now()
    rsvp.full_clean(exclude=["invitation"], validate_constraints=False)
    rsvp.save()
    _answers_save(rsvp=rsvp, answers=checked)
    audit_record(
        actor=actor,
        verb="rsvp.answered",
        obj=rsvp,
        organisation=rsvp.msp,
        data={"status": rsvp.status, "was": previous},
    )
    webhook_events.rsvp_changed(rsvp, previous=previous)
    if previous == RSVP.Status.GOING and rsvp.status != RSVP.Status.GOING:
        _fill_from_waitlist(event=event, actor=actor)
    if email_kind:
        enqueue_on_commit("community.send_rsvp_email", rsvp.pk, email_kind)
    return rsvp


@transaction.atomic
def rsvp_cancel(*, rsvp: RSVP, actor: Actor) -> RSVP:
    """Cancel a seat or a place on the waitlist; a freed seat goes to the next person, exactly once."""
    policy.require(actor, "rsvp.respond", "cancel RSVPs")
    _require_own_msp(actor, rsvp.msp_id)
    event = _lock_event(rsvp.event_id)
    # unscoped: lock (lock a row the caller already holds)
    rsvp = RSVP.all_objects.select_for_update().get(pk=rsvp.pk)
    if event.starts_at <= timezone.now():
        raise ApplicationError("This event has started; it can no longer be cancelled.", status=409)
    if rsvp.status not in (RSVP.Status.GOING, RSVP.Status.WAITLISTED):
        return rsvp  # cancelling twice changes nothing and promotes nobody
    was_going = rsvp.status == RSVP.Status.GOING
    rsvp.status = RSVP.Status.CANCELLED
    rsvp.waitlist_position = None
    rsvp.responded_at = timezone.now()
    rsvp.save(update_fields=["status", "waitlist_position", "responded_at"])
    audit_record(actor=actor, verb="rsvp.cancelled", obj=rsvp, organisation=rsvp.msp)
    webhook_events.rsvp_changed(rsvp, previous=RSVP.Status.GOING if was_going else RSVP.Status.WAITLISTED)
    if was_going:
        _fill_from_waitlist(event=event, actor=actor)
    return rsvp


# --- At the event ---------------------------------------------------------------------------------


def _when(moment: datetime.datetime) -> str:
    """A moment in the current (the viewer's) time zone, with the zone's name."""
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'D j M Y, H:i')} ({timezone.get_current_timezone_name()})"


def require_check_in_open(event: Event, *, now: datetime.datetime | None = None) -> None:
    """People are checked in from a day before an event starts until a day after it ends, not weeks ahead."""
    now = now or timezone.now()
    if now < event.check_in_opens_at:
        raise ApplicationError(
            f"Check-in for {event.title} opens {_when(event.check_in_opens_at)}, a day before it starts.",
            extra={"check_in": ["Not open yet."]},
            status=409,
        )
    if now >= event.check_in_closes_at:
        raise ApplicationError(
            f"Check-in for {event.title} closed {_when(event.check_in_closes_at)}, a day after it ended.",
            extra={"check_in": ["Closed."]},
            status=409,
        )


@transaction.atomic
def rsvp_check_in(*, rsvp: RSVP, actor: Actor) -> RSVP:
    """Mark a person as arrived (one tap at the door), while check-in is open."""
    policy.require(actor, "event.check_in", "check people in at events")
    require_check_in_open(Event.objects.get(pk=rsvp.event_id))
    # unscoped: lock (lock a row the caller already holds)
    rsvp = RSVP.all_objects.select_for_update().get(pk=rsvp.pk)
    if rsvp.attendance == RSVP.Attendance.ATTENDED:
        return rsvp
    rsvp.attendance = RSVP.Attendance.ATTENDED
    rsvp.checked_in_at = timezone.now()
    rsvp.save(update_fields=["attendance", "checked_in_at"])
    audit_record(actor=actor, verb="rsvp.checked_in", obj=rsvp, organisation=rsvp.msp)
    return rsvp


@transaction.atomic
def rsvp_check_in_undo(*, rsvp: RSVP, actor: Actor) -> RSVP:
    """Take back a check-in tapped by mistake, while check-in is open."""
    policy.require(actor, "event.check_in", "check people in at events")
    require_check_in_open(Event.objects.get(pk=rsvp.event_id))
    # unscoped: lock (lock a row the caller already holds)
    rsvp = RSVP.all_objects.select_for_update().get(pk=rsvp.pk)
    rsvp.attendance = RSVP.Attendance.UNKNOWN
    rsvp.checked_in_at = None
    rsvp.save(update_fields=["attendance", "checked_in_at"])
    audit_record(actor=actor, verb="rsvp.check_in_undone", obj=rsvp, organisation=rsvp.msp)
    return rsvp


@transaction.atomic
def no_shows_record(*, event: Event, actor: Actor) -> int:
    """After the event, everyone who was going and did not check in is a no-show; returns how many."""
    policy.require(actor, "event.check_in", "check people in at events")
    event = _lock_event(event.pk)
    if event.starts_at > timezone.now():
        raise ApplicationError("No-shows are recorded once the event has started.", status=409)
    # unscoped: shared (other tenants' rows this action needs by design)
    count = RSVP.all_objects.filter(event=event, status=RSVP.Status.GOING, attendance=RSVP.Attendance.UNKNOWN).update(
        attendance=RSVP.Attendance.NO_SHOW
    )
    audit_record(actor=actor, verb="event.no_shows_recorded", obj=event, data={"count": count})
    return count


@transaction.atomic
def walk_in_add(
    *, event: Event, msp: Organisation, name: str, email: str, actor: Actor, contact: MSPContact | None = None
) -> RSVP:
    """Someone turned up without a seat: record them as going and attended (the door is not the RSVP form)."""
    policy.require(actor, "event.check_in", "check people in at events")
    event = _lock_event(event.pk)
    require_check_in_open(event)
    if not msp.is_msp:
        raise ApplicationError("Walk-ins come from an MSP.", extra={"msp": ["Choose an MSP."]})
    email = email.strip().lower()
    # unscoped: unique (the check must see every tenant's rows)
    invitation = EventInvitation.all_objects.filter(event=event, email=email).first()
    if invitation is None:
        invitation = _invitation_create(
            event=event, msp=msp, name=name, email=email, actor=actor, contact=contact, walk_in=True
        )
    # unscoped: lock (lock a row the caller already holds)
    rsvp = RSVP.all_objects.select_for_update().filter(invitation=invitation).first()
    if rsvp is None:
        rsvp = RSVP(invitation=invitation, event=event, msp_id=invitation.msp_id)
    rsvp.status = RSVP.Status.GOING
    rsvp.waitlist_position = None
    rsvp.attendance = RSVP.Attendance.ATTENDED
    rsvp.checked_in_at = timezone.now()
    rsvp.save()
    audit_record(actor=actor, verb="rsvp.walk_in", obj=rsvp, organisation=rsvp.msp)
    return rsvp


# --- After a pitch session ------------------------------------------------------------------------


def _feedback_source_detail(event: Event) -> str:
    day = timezone.localtime(event.starts_at, event.zone).date()
    return f"Pitch session: {event.title} ({day.isoformat()})"[:200]


COMMENT_MAX = PitchFeedback._meta.get_field("comment").max_length or 2000


def feedback_version(feedback: PitchFeedback | None) -> str:
    """What a feedback form remembers of the feedback it was opened on ("" when there was none yet)."""
    if feedback is None or feedback.pk is None or feedback.updated_at is None:
        return ""
    return feedback.updated_at.astimezone(datetime.UTC).isoformat()


@transaction.atomic
def feedback_submit(
    *,
    rsvp: RSVP,
    pitch_slot: PitchSlot,
    interest: str,
    actor: Actor,
    comment: str = "",
    version: str | None = None,
) -> PitchFeedback:
    """Record an attending MSP's interest in one pitch; follow-up or pilot creates or advances pipeline.

    ``version`` is ``feedback_version`` of the feedback the form was opened on: when the feedback
    has changed since (another tab or window sent it), nothing is written. A comment longer than
    the limit is refused, never cut.
    """
    policy.require(actor, "feedback.give", "give feedback on pitches")
    _require_own_msp(actor, rsvp.msp_id)
    # unscoped: lock (lock a row the caller already holds)
    rsvp = RSVP.all_objects.select_for_update().select_related("event", "msp").get(pk=rsvp.pk)
    event = rsvp.event
    if pitch_slot.event_id != event.pk:
        raise ApplicationError("That pitch was not at this event.", extra={"pitch_slot": ["Not at this event."]})
    if not event.is_pitch or event.starts_at > timezone.now():
        raise ApplicationError("Feedback opens once the pitch session has started.", status=409)
    if not rsvp.attended:
        raise ApplicationError("Only people who attended can give feedback.", status=403)
    if interest not in PitchFeedback.Interest.values:
        raise ApplicationError("Choose how interested you are.", extra={"interest": ["Choose one."]})
    comment = comment.replace("\r\n", "\n").strip()
    if len(comment) > COMMENT_MAX:
        raise ApplicationError(
            f"Keep the comment to {COMMENT_MAX:,} characters; it has {len(comment):,}.",
            extra={"comment": [f"At most {COMMENT_MAX:,} characters (it has {len(comment):,})."]},
        )
    # unscoped: unique (the check must see every tenant's rows)
    existing = PitchFeedback.all_objects.filter(rsvp=rsvp, pitch_slot=pitch_slot).first()
    if version is not None and version != feedback_version(existing):
        raise ApplicationError(
            f"Your feedback on {pitch_slot.vendor} was changed in another tab/window since you opened it. "
            "Nothing was saved: check what it says now and send again.",
            extra={"version": ["Changed in another tab/window since you opened it."]},
            status=409,
        )
    feedback = existing or PitchFeedback(rsvp=rsvp, pitch_slot=pitch_slot)
    feedback.interest = interest
    feedback.comment = comment
    feedback.full_clean(validate_constraints=False)
    if interest in (PitchFeedback.Interest.FOLLOW_UP, PitchFeedback.Interest.PILOT):
        from engagements.services import opportunity_from_feedback

        opportunity = opportunity_from_feedback(
            vendor=pitch_slot.vendor,
            msp=rsvp.msp,
            interest=interest,
            source_detail=_feedback_source_detail(event),
            actor=actor,
        )
        if opportunity is not None:
            feedback.opportunity = opportunity
    feedback.save()
    audit_record(
        actor=actor, verb="pitch_feedback.submitted", obj=feedback, organisation=rsvp.msp, data={"interest": interest}
    )
    return feedback


# --- Periodic jobs --------------------------------------------------------------------------------

REMINDERS = (("48h", datetime.timedelta(hours=48)), ("2h", datetime.timedelta(hours=2)))


def reminders_send_due(*, actor: Actor, now: datetime.datetime | None = None) -> int:
    """Send each due 48-hour and 2-hour reminder exactly once; safe to run twice at once.

    Each RSVP is claimed with ``select_for_update(skip_locked=True)`` and its sent-at
    stamp is set in the same transaction, so a second run finds nothing to send. A
    person who said yes inside the 48-hour window gets only the 2-hour reminder.
    """
    policy.require(actor, "event.notify", "send event reminders")
    now = now or timezone.now()
    sent = 0
    for kind, ahead in REMINDERS:
        field = f"reminder_{kind}_sent_at"
        with transaction.atomic():
            due = list(
                # unscoped: lock (lock a row the caller already holds)
                RSVP.all_objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    status=RSVP.Status.GOING,
                    event__cancelled_at__isnull=True,
                    event__starts_at__gt=now,
                    event__starts_at__lte=now + ahead,
                    **{f"{field}__isnull": True},
                )
                .select_related("event")
                .order_by("pk")
            )
            for rsvp in due:
                setattr(rsvp, field, now)
                update = [field]
                if kind == "48h" and rsvp.event.starts_at - now <= REMINDERS[1][1]:
                    continue  # the 2-hour reminder covers it
                if kind == "2h" and rsvp.reminder_48h_sent_at is None:
                    rsvp.reminder_48h_sent_at = now
                    update.append("reminder_48h_sent_at")
                rsvp.save(update_fields=update)
                enqueue_on_commit("community.send_rsvp_email", rsvp.pk, f"reminder_{kind}")
                sent += 1
    return sent


def feedback_requests_send_due(*, actor: Actor, now: datetime.datetime | None = None) -> int:
    """Ask every attendee of a pitch session that has ended for feedback, exactly once."""
    policy.require(actor, "event.notify", "send feedback requests")
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            # unscoped: lock (lock a row the caller already holds)
            RSVP.all_objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                event__kind=Event.Kind.PITCH,
                event__cancelled_at__isnull=True,
                event__ends_at__lte=now,
                event__ends_at__gt=now - datetime.timedelta(days=14),
                attendance=RSVP.Attendance.ATTENDED,
                feedback_requested_at__isnull=True,
            )
            .order_by("pk")
        )
        for rsvp in due:
            rsvp.feedback_requested_at = now
            rsvp.save(update_fields=["feedback_requested_at"])
            enqueue_on_commit("community.send_rsvp_email", rsvp.pk, "feedback")
    return len(due)
