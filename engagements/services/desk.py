"""The desk in depth: the vendor's acknowledgement of attributions, stage probabilities and next steps."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.models import User
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

from ..models import (
    DEFAULT_STAGE_PROBABILITIES,
    MAX_ACKNOWLEDGEMENT_DAYS,
    Attribution,
    Engagement,
    NextStep,
    Opportunity,
    OverdueDigest,
)

__all__ = [
    "acknowledgement_deadline",
    "acknowledgement_window_set",
    "attribution_acknowledge",
    "attribution_dispute",
    "attribution_resolve",
    "attributions_deem_acknowledged",
    "next_step_complete",
    "next_step_create",
    "overdue_digest_claim",
    "stage_probabilities_set",
]

ATTRIBUTION_EMAIL = "engagements.send_attribution_email"


def _reason(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ApplicationError(message, extra={field: ["Required."]})
    return text


# --- the vendor's acknowledgement of attributions ---------------------------------------------


def acknowledgement_deadline(*, engagement: Engagement, recorded_on: datetime.date) -> datetime.date:
    """The last day the vendor may acknowledge or dispute an attribution recorded on ``recorded_on``."""
    return recorded_on + datetime.timedelta(days=engagement.acknowledgement_days)


@transaction.atomic
def acknowledgement_window_set(*, engagement: Engagement, days: Any, actor: Actor) -> Engagement:
    """Set how many days the vendor has to answer a new attribution (1-90); existing windows keep their date."""
    policy.require(actor, "attribution.window", "set the acknowledgement window")
    try:
        number = int(str(days).strip())
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_ACKNOWLEDGEMENT_DAYS:
        raise ApplicationError(
            f"The acknowledgement window is a whole number of days from 1 to {MAX_ACKNOWLEDGEMENT_DAYS}.",
            extra={"acknowledgement_days": [f"Enter 1 to {MAX_ACKNOWLEDGEMENT_DAYS}."]},
        )
    # unscoped: lock (lock a row the caller already holds)
    engagement = Engagement.all_objects.select_for_update().get(pk=engagement.pk)
    previous = engagement.acknowledgement_days
    engagement.acknowledgement_days = number
    engagement.save(update_fields=["acknowledgement_days", "updated_at"])
    audit_record(
        actor=actor,
        verb="engagement.acknowledgement_window",
        obj=engagement,
        organisation=engagement.vendor,
        data={"from": previous, "to": number},
    )
    return engagement


def _locked(attribution: Attribution) -> Attribution:
    # unscoped: lock (lock a row the caller already holds)
    return Attribution.all_objects.select_for_update().select_related("engagement", "msp").get(pk=attribution.pk)


def _own_vendor(actor: Actor, attribution: Attribution) -> None:
    user = policy.user_of(actor)
    if user is not None and user.is_vendor_user and user.organisation_id != attribution.vendor_id:
        raise ApplicationError("No such attribution.", status=404)


@transaction.atomic
def attribution_acknowledge(*, attribution: Attribution, actor: Actor) -> Attribution:
    """The vendor acknowledges that TMW sourced an attributed account."""
    policy.require(actor, "attribution.acknowledge", "acknowledge attributions")
    attribution = _locked(attribution)
    _own_vendor(actor, attribution)
    if not attribution.is_pending:
        raise ApplicationError(
            f"This attribution is already {attribution.get_acknowledgement_display().lower()}.",
            extra={"acknowledgement": ["Already answered."]},
            status=409,
        )
    attribution.acknowledgement = Attribution.Acknowledgement.ACKNOWLEDGED
    attribution.acknowledged_at = timezone.now()
    attribution.acknowledged_by = policy.user_of(actor)
    attribution.save(update_fields=["acknowledgement", "acknowledged_at", "acknowledged_by"])
    audit_record(
        actor=actor, verb="engagement.attribution_acknowledge", obj=attribution, organisation=attribution.vendor
    )
    return attribution


@transaction.atomic
def attribution_dispute(
    *, attribution: Attribution, reason: str, actor: Actor, today: datetime.date | None = None
) -> Attribution:
    """The vendor disputes an attribution within its window, with a reason; the partner is told."""
    policy.require(actor, "attribution.acknowledge", "dispute attributions")
    text = _reason(reason, "reason", "Say why you dispute the attribution (reason).")
    attribution = _locked(attribution)
    _own_vendor(actor, attribution)
    if not attribution.is_pending:
        raise ApplicationError(
            f"This attribution is already {attribution.get_acknowledgement_display().lower()}.",
            extra={"acknowledgement": ["Already answered."]},
            status=409,
        )
    day = today or timezone.localdate()
    if attribution.acknowledge_by is not None and day > attribution.acknowledge_by:
        raise ApplicationError(
            f"The window to dispute this attribution closed on {attribution.acknowledge_by:%d %b %Y} "
            "(acknowledge_by); it counts as acknowledged.",
            extra={"acknowledge_by": [f"Closed on {attribution.acknowledge_by.isoformat()}."]},
        )
    attribution.acknowledgement = Attribution.Acknowledgement.DISPUTED
    attribution.dispute_reason = text
    attribution.disputed_at = timezone.now()
    attribution.disputed_by = policy.user_of(actor)
    attribution.save(update_fields=["acknowledgement", "dispute_reason", "disputed_at", "disputed_by"])
    audit_record(
        actor=actor,
        verb="engagement.attribution_dispute",
        obj=attribution,
        organisation=attribution.vendor,
        data={"reason": text},
    )
    enqueue_on_commit(ATTRIBUTION_EMAIL, attribution.pk, "disputed")
    return attribution


RESOLUTIONS = {"kept": Attribution.Acknowledgement.KEPT, "ended": Attribution.Acknowledgement.ENDED}


@transaction.atomic
def attribution_resolve(
    *,
    attribution: Attribution,
    outcome: str,
    reason: str,
    actor: Actor,
    ended_on: datetime.date | None = None,
) -> Attribution:
    """A partner resolves a dispute with a reason: the attribution is kept, or ended from a date."""
    policy.require(actor, "attribution.resolve", "resolve disputed attributions")
    if outcome not in RESOLUTIONS:
        raise ApplicationError(
            "Choose whether the attribution is kept or ended (outcome).", extra={"outcome": ["Kept or ended."]}
        )
    text = _reason(reason, "reason", "Give the reason for the resolution (reason).")
    attribution = _locked(attribution)
    if not attribution.is_disputed:
        raise ApplicationError(
            "Only a disputed attribution is resolved.", extra={"acknowledgement": ["Not disputed."]}, status=409
        )
    fields = ["acknowledgement", "resolution_reason", "resolved_at", "resolved_by"]
    if outcome == "ended":
        if ended_on is None:
            raise ApplicationError("Give the day the attribution ends (ended_on).", extra={"ended_on": ["Required."]})
        if ended_on < attribution.starts_on:
            raise ApplicationError(
                "The end cannot be before the attribution's start (ended_on).",
                extra={"ended_on": ["Before the start."]},
            )
        if attribution.ended_on is None:
            attribution.ended_on = ended_on
            attribution.end_reason = text
            fields += ["ended_on", "end_reason"]
    attribution.acknowledgement = RESOLUTIONS[outcome]
    attribution.resolution_reason = text
    attribution.resolved_at = timezone.now()
    attribution.resolved_by = policy.user_of(actor)
    attribution.save(update_fields=fields)
    audit_record(
        actor=actor,
        verb="engagement.attribution_resolve",
        obj=attribution,
        organisation=attribution.vendor,
        data={"outcome": outcome, "reason": text, "ended_on": ended_on.isoformat() if ended_on else None},
    )
    enqueue_on_commit(ATTRIBUTION_EMAIL, attribution.pk, "resolved")
    return attribution


@transaction.atomic
def attributions_deem_acknowledged(*, actor: Actor, today: datetime.date | None = None) -> int:
    """Beat: every attribution still awaiting the vendor after its window is acknowledged by silence.

    Claims the rows with ``skip_locked`` and only moves pending ones, so a second run (or two at
    once) changes nothing. Call inside the operator scope.
    """
    policy.require(actor, "attribution.deem", "record silent acknowledgements")
    day = today or timezone.localdate()
    due = list(
        Attribution.objects.select_for_update(skip_locked=True)
        .filter(acknowledgement=Attribution.Acknowledgement.PENDING, acknowledge_by__lt=day)
        .select_related("vendor")
        .order_by("pk")
    )
    now = timezone.now()
    for attribution in due:
        attribution.acknowledgement = Attribution.Acknowledgement.DEEMED
        attribution.acknowledged_at = now
        attribution.save(update_fields=["acknowledgement", "acknowledged_at"])
        audit_record(
            actor=actor,
            verb="engagement.attribution_deemed",
            obj=attribution,
            organisation=attribution.vendor,
            data={"acknowledge_by": attribution.acknowledge_by.isoformat() if attribution.acknowledge_by else None},
        )
    return len(due)


# --- stage probabilities ----------------------------------------------------------------------


@transaction.atomic
def stage_probabilities_set(*, engagement: Engagement, probabilities: dict[str, Any], actor: Actor) -> Engagement:
    """Set the desk's probability per stage in percent (whole numbers 0-100); a stage left out keeps its value."""
    policy.require(actor, "pipeline.probabilities", "change stage probabilities")
    current = dict(engagement.probabilities)
    errors: dict[str, list[str]] = {}
    for stage, raw in (probabilities or {}).items():
        if stage not in DEFAULT_STAGE_PROBABILITIES:
            errors[str(stage)] = ["Not a stage with a probability (lost is always 0)."]
            continue
        text = str(raw).strip()
        value = int(text) if text.isdigit() and len(text) <= 3 else None
        if isinstance(raw, bool) or value is None or not 0 <= value <= 100:
            label = Opportunity.Stage(stage).label
            errors[stage] = [f"{label}: enter a whole percent from 0 to 100."]
            continue
        current[stage] = value
    if errors:
        field, messages = next(iter(errors.items()))
        raise ApplicationError(f"Probability for “{field}”: {messages[0]}", extra=errors)
    # unscoped: lock (lock a row the caller already holds)
    engagement = Engagement.all_objects.select_for_update().get(pk=engagement.pk)
    previous = engagement.probabilities
    engagement.stage_probabilities = {s: current[s] for s in DEFAULT_STAGE_PROBABILITIES}
    engagement.save(update_fields=["stage_probabilities", "updated_at"])
    audit_record(
        actor=actor,
        verb="engagement.stage_probabilities",
        obj=engagement,
        organisation=engagement.vendor,
        data={"from": previous, "to": engagement.stage_probabilities},
    )
    return engagement


# --- next steps -------------------------------------------------------------------------------


@transaction.atomic
def next_step_create(
    *,
    engagement: Engagement,
    title: str,
    owner: User | None,
    due_on: datetime.date | None,
    actor: Actor,
    opportunity: Opportunity | None = None,
) -> NextStep:
    """Add a next step (title, TMW owner, due date) to an engagement or one of its opportunities."""
    policy.require(actor, "step.manage", "add next steps")
    text = _reason(title, "title", "Say what the next step is (title).")
    if len(text) > 200:
        raise ApplicationError("The title is at most 200 characters.", extra={"title": ["At most 200 characters."]})
    if owner is None:
        raise ApplicationError("Choose the step's owner (owner).", extra={"owner": ["Required."]})
    if not owner.is_operator or not owner.is_active:
        raise ApplicationError("The owner is an active TMW person (owner).", extra={"owner": ["A TMW person."]})
    if due_on is None:
        raise ApplicationError("Give the due date (due_on).", extra={"due_on": ["Required."]})
    today = timezone.localdate()
    if due_on < today:
        raise ApplicationError(
            f"The due date {due_on:%d %b %Y} is in the past (due_on): a new step is due today or later.",
            extra={"due_on": ["In the past."]},
        )
    if opportunity is not None and opportunity.engagement_id != engagement.pk:
        raise ApplicationError(
            "The opportunity is of another engagement.", extra={"opportunity": ["Another engagement."]}
        )
    step = NextStep.objects.create(
        engagement=engagement,
        opportunity=opportunity,
        title=text,
        owner=owner,
        due_on=due_on,
        created_by=policy.user_of(actor),
    )
    audit_record(
        actor=actor,
        verb="engagement.next_step_create",
        obj=step,
        organisation=engagement.vendor,
        data={"owner": owner.pk, "due_on": due_on.isoformat(), "opportunity": opportunity.pk if opportunity else None},
    )
    return step


@transaction.atomic
def next_step_complete(*, step: NextStep, actor: Actor, done: bool = True) -> NextStep:
    """Mark a next step done (or open again)."""
    policy.require(actor, "step.manage", "change next steps")
    # unscoped: lock (lock a row the caller already holds)
    step = NextStep.all_objects.select_for_update().select_related("engagement__vendor").get(pk=step.pk)
    if step.done == done:
        return step
    step.done = done
    step.done_at = timezone.now() if done else None
    step.done_by = policy.user_of(actor) if done else None
    step.save(update_fields=["done", "done_at", "done_by"])
    audit_record(
        actor=actor,
        verb="engagement.next_step_done" if done else "engagement.next_step_reopen",
        obj=step,
        organisation=step.engagement.vendor,
    )
    return step


def overdue_digest_claim(*, owner: User, day: datetime.date, steps: int, actor: Actor) -> bool:
    """Claim the owner's one overdue-steps email of ``day``: True the first time, False ever after."""
    policy.require(actor, "step.notify", "send overdue step emails")
    try:
        with transaction.atomic():
            OverdueDigest.objects.create(owner=owner, day=day, steps=steps)
    except IntegrityError:
        return False
    return True
