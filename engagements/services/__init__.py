"""Business rules of Phase Two desks: engagement lifecycle, team, plan, pipeline, attribution and activity."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.models import Organisation, User
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError, validation_extra
from tmw.tasks import enqueue_on_commit

from .. import webhook_events
from ..models import (
    Activity,
    Attribution,
    Engagement,
    Milestone,
    Opportunity,
    OpportunityStageChange,
    PlanTemplate,
    PlanTemplateItem,
    TeamMember,
    Workstream,
)
from ..plan_templates import DEFAULT_PLAN_TEMPLATES
from .desk import (  # the desk's acknowledgement, probabilities and next steps, re-exported
    ATTRIBUTION_EMAIL as ATTRIBUTION_EMAIL,
)
from .desk import (
    acknowledgement_deadline as acknowledgement_deadline,
)
from .desk import (
    acknowledgement_window_set as acknowledgement_window_set,
)
from .desk import (
    attribution_acknowledge as attribution_acknowledge,
)
from .desk import (
    attribution_dispute as attribution_dispute,
)
from .desk import (
    attribution_resolve as attribution_resolve,
)
from .desk import (
    attributions_deem_acknowledged as attributions_deem_acknowledged,
)
from .desk import (
    next_step_complete as next_step_complete,
)
from .desk import (
    next_step_create as next_step_create,
)
from .desk import (
    overdue_digest_claim as overdue_digest_claim,
)
from .desk import (
    stage_probabilities_set as stage_probabilities_set,
)

if TYPE_CHECKING:
    from diagnostics.models import Diagnostic

# Allowed engagement status moves.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Engagement.Status.PROPOSED: (Engagement.Status.ACTIVE, Engagement.Status.TERMINATED),
    Engagement.Status.ACTIVE: (Engagement.Status.PAUSED, Engagement.Status.ENDED, Engagement.Status.TERMINATED),
    Engagement.Status.PAUSED: (Engagement.Status.ACTIVE, Engagement.Status.ENDED, Engagement.Status.TERMINATED),
    Engagement.Status.ENDED: (),
    Engagement.Status.TERMINATED: (),
}

#: "Leave as it is", for an optional argument whose None means "clear it".
UNCHANGED: object = object()

FEEDBACK_STAGES = {"follow_up": Opportunity.Stage.MEETING, "pilot": Opportunity.Stage.EVALUATION}


def _validate(obj: models.Model) -> None:
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean()
    except ValidationError as exc:
        extra = validation_extra(exc)
        first = next(iter(extra.values()), ["The data is not valid."])
        raise ApplicationError(first[0] if first else "The data is not valid.", extra=extra) from exc


# --- plan templates ---------------------------------------------------------------------------


@transaction.atomic
def ensure_default_plan_templates() -> list[PlanTemplate]:
    """Create the default Option A and B plan templates unless an active one exists for the option."""
    templates = []
    for option, spec in DEFAULT_PLAN_TEMPLATES.items():
        template = PlanTemplate.objects.filter(option=option, is_active=True).first()
        if template is None:
            template = PlanTemplate.objects.create(option=option, name=spec["name"])
            PlanTemplateItem.objects.bulk_create(
                PlanTemplateItem(
                    template=template,
                    workstream=workstream,
                    title=title,
                    owner_role=owner_role,
                    offset_days=offset,
                    order=index,
                )
                for index, (workstream, title, owner_role, offset) in enumerate(spec["items"])
            )
        templates.append(template)
    return templates


def _plan_instantiate(*, engagement: Engagement) -> int:
    """Copy the option's active plan template into the engagement's workstreams and milestones (once)."""
    if Milestone.objects.filter(engagement=engagement).exists():
        return 0
    ensure_default_plan_templates()
    template = PlanTemplate.objects.filter(option=engagement.option, is_active=True).first()
    if template is None:
        return 0
    start = engagement.start_date or timezone.localdate()
    owners = {
        m.role: m.user for m in TeamMember.objects.filter(engagement=engagement, side="tmw").select_related("user")
    }
    streams: dict[str, Workstream] = {}
    milestones = []
    for item in template.items.order_by("order", "pk"):
        if item.workstream not in streams:
            streams[item.workstream] = Workstream.objects.create(
                engagement=engagement, name=item.workstream, order=len(streams)
            )
        milestones.append(
            Milestone(
                engagement=engagement,
                workstream=streams[item.workstream],
                title=item.title,
                owner_role=item.owner_role,
                owner=owners.get(item.owner_role) or (engagement.lead_partner if not item.owner_role else None),
                due_on=start + datetime.timedelta(days=item.offset_days),
                order=item.order,
            )
        )
    Milestone.objects.bulk_create(milestones)
    return len(milestones)


# --- engagements ------------------------------------------------------------------------------


@transaction.atomic
def engagement_create(
    *,
    vendor: Organisation,
    lead_partner: User,
    actor: Actor,
    option: str | None = None,
    diagnostic: Diagnostic | None = None,
    notes: str = "",
) -> Engagement:
    """Propose a Phase Two engagement, normally from a diagnostic whose decision is go (with conditions)."""
    policy.require(actor, "engagement.manage", "propose engagements")
    if diagnostic is not None:
        if diagnostic.vendor_id != vendor.pk:
            raise ApplicationError("The diagnostic is of another vendor.", extra={"diagnostic": ["Wrong vendor."]})
        decision = getattr(diagnostic, "decision", None)
        if decision is None or not decision.is_go:
            raise ApplicationError(
                "An engagement starts from a diagnostic decided go or go with conditions.",
                extra={"diagnostic": ["No go decision."]},
            )
        option = option or decision.option or decision.recommended_option
    if not option:
        raise ApplicationError("Choose Option A or B.", extra={"option": ["Required."]})
    # unscoped: unique (the check must see every tenant's rows)
    if Engagement.all_objects.filter(vendor=vendor, status__in=["proposed", "active", "paused"]).exists():
        raise ApplicationError("This vendor already has an open engagement.", status=409)
    engagement = Engagement(vendor=vendor, lead_partner=lead_partner, option=option, diagnostic=diagnostic, notes=notes)
    _validate(engagement)
    engagement.save()
    audit_record(actor=actor, verb="engagement.create", obj=engagement, organisation=vendor, data={"option": option})
    return engagement


@transaction.atomic
def engagement_transition(
    *, engagement: Engagement, status: str, actor: Actor, on: datetime.date | None = None, reason: str = ""
) -> Engagement:
    """Move an engagement along proposed → active → paused → ended or terminated, keeping the dates."""
    policy.require(actor, "engagement.manage", "change an engagement's status")
    # unscoped: lock (lock a row the caller already holds)
    engagement = Engagement.all_objects.select_for_update().get(pk=engagement.pk)
    if status not in TRANSITIONS:
        raise ApplicationError("Unknown status.", extra={"status": ["Unknown status."]})
    if status not in TRANSITIONS[engagement.status]:
        raise ApplicationError(
            f"A {engagement.get_status_display().lower()} engagement cannot become {status}.",
            extra={"status": ["Not allowed from the current status."]},
            status=409,
        )
    day = on or timezone.localdate()
    previous = engagement.status
    if status == Engagement.Status.ACTIVE and engagement.start_date is None:
        engagement.start_date = day
    elif status == Engagement.Status.ENDED:
        engagement.end_date = day
    elif status == Engagement.Status.TERMINATED:
        if not reason.strip():
            raise ApplicationError("Say why the engagement is terminated.", extra={"reason": ["Required."]})
        engagement.terminated_on = day
    engagement.status = status
    _validate(engagement)
    engagement.save()
    if status == Engagement.Status.ACTIVE:
        _plan_instantiate(engagement=engagement)
    audit_record(
        actor=actor,
        verb=f"engagement.{status}",
        obj=engagement,
        organisation=engagement.vendor,
        data={"from": previous, "on": day.isoformat(), "reason": reason},
    )
    return engagement


def engagement_start(*, engagement: Engagement, actor: Actor, on: datetime.date | None = None) -> Engagement:
    """Start a proposed engagement: it becomes active and its plan is created from the option's template."""
    return engagement_transition(engagement=engagement, status=Engagement.Status.ACTIVE, actor=actor, on=on)


# --- team -------------------------------------------------------------------------------------


@transaction.atomic
def team_member_add(
    *,
    engagement: Engagement,
    side: str,
    actor: Actor,
    user: User | None = None,
    role: str = TeamMember.Role.OTHER,
    allocation_percent: int | None = None,
    name: str = "",
    title: str = "",
    email: str = "",
    phone: str = "",
) -> TeamMember:
    """Add TMW desk staff (with an allocation) or a vendor contact to an engagement's team."""
    policy.require(actor, "engagement.manage", "change a desk's team")
    if side == TeamMember.Side.TMW and engagement.option != Engagement.Option.B:
        raise ApplicationError("Desk staff are provided on Option B engagements.", extra={"side": ["Option B only."]})
    if side == TeamMember.Side.VENDOR:
        allocation_percent = None
        role = TeamMember.Role.VENDOR_CONTACT
    member = TeamMember(
        engagement=engagement,
        side=side,
        user=user,
        role=role,
        allocation_percent=allocation_percent,
        name=name,
        title=title,
        email=email,
        phone=phone,
    )
    _validate(member)
    member.save()
    audit_record(actor=actor, verb="engagement.team_add", obj=member, organisation=engagement.vendor)
    return member


@transaction.atomic
def team_member_remove(*, member: TeamMember, actor: Actor) -> None:
    """Take a person off an engagement's team."""
    policy.require(actor, "engagement.manage", "change a desk's team")
    audit_record(actor=actor, verb="engagement.team_remove", obj=member, organisation=member.engagement.vendor)
    member.delete()


# --- plan -------------------------------------------------------------------------------------


@transaction.atomic
def milestone_update(
    *,
    milestone: Milestone,
    actor: Actor,
    status: str | None = None,
    due_on: datetime.date | None = None,
    owner: User | None = None,
) -> Milestone:
    """Change a milestone's status, due date or owner; done milestones remember the day."""
    policy.require(actor, "engagement.manage", "change a desk's plan")
    if status is not None:
        milestone.status = status
        milestone.completed_on = timezone.localdate() if status == Milestone.Status.DONE else None
    if due_on is not None:
        milestone.due_on = due_on
    if owner is not None:
        milestone.owner = owner
    _validate(milestone)
    milestone.save()
    audit_record(
        actor=actor,
        verb="engagement.milestone_update",
        obj=milestone,
        organisation=milestone.engagement.vendor,
        data={"status": milestone.status},
    )
    return milestone


# --- pipeline ---------------------------------------------------------------------------------


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, status=403)


def _stage_dates(opportunity: Opportunity, stage: str, day: datetime.date) -> None:
    if stage == Opportunity.Stage.INTRODUCED and opportunity.introduced_on is None:
        opportunity.introduced_on = day
    if stage in (Opportunity.Stage.SIGNED, Opportunity.Stage.LIVE) and opportunity.signed_on is None:
        opportunity.signed_on = day
    if stage == Opportunity.Stage.LIVE and opportunity.live_on is None:
        opportunity.live_on = day
    if stage == Opportunity.Stage.LOST:
        opportunity.lost_on = day
    elif opportunity.lost_on is not None:
        opportunity.lost_on = None


def _apply_attribution_rules(*, opportunity: Opportunity, actor: Actor, by: User | None) -> Attribution | None:
    """A TMW-sourced opportunity signed within the engagement's term attributes the MSP from that day."""
    engagement = opportunity.engagement
    if opportunity.source != Opportunity.Source.TMW or opportunity.signed_on is None:
        return None
    if not engagement.in_term(opportunity.signed_on):
        return None
    # unscoped: unique (the check must see every tenant's rows)
    if Attribution.all_objects.filter(engagement=engagement, msp_id=opportunity.msp_id, ended_on__isnull=True).exists():
        return None
    attribution = Attribution(
        engagement=engagement,
        vendor_id=engagement.vendor_id,
        msp_id=opportunity.msp_id,
        opportunity=opportunity,
        starts_on=opportunity.signed_on,
        reason=f"TMW-sourced opportunity signed on {opportunity.signed_on:%d %b %Y}.",
        created_by=by,
        acknowledge_by=acknowledgement_deadline(engagement=engagement, recorded_on=timezone.localdate()),
    )
    _validate(attribution)
    attribution.save()
    enqueue_on_commit(ATTRIBUTION_EMAIL, attribution.pk, "new")
    audit_record(
        actor=actor,
        verb="engagement.attribution_auto",
        obj=attribution,
        organisation=engagement.vendor,
        data={"opportunity": opportunity.pk, "starts_on": attribution.starts_on.isoformat()},
    )
    webhook_events.attribution_created(attribution)
    return attribution


@transaction.atomic
def opportunity_create(
    *,
    engagement: Engagement,
    msp: Organisation,
    source: str,
    actor: Actor,
    stage: str = "target",
    expected_mrr: Decimal | None = None,
    source_detail: str = "",
    expected_close_on: datetime.date | None = None,
) -> Opportunity:
    """Put an MSP in an engagement's pipeline; vendor users add vendor-sourced opportunities only."""
    policy.require(actor, "opportunity.create", "add opportunities")
    if not policy.may_add_opportunity(actor, engagement):
        raise _forbidden("You cannot change this pipeline.")
    if getattr(actor, "role", None) in policy.VENDORS:
        source = Opportunity.Source.VENDOR
    return _create(
        engagement=engagement,
        msp=msp,
        source=source,
        actor=actor,
        by=policy.user_of(actor),
        stage=stage,
        expected_mrr=expected_mrr,
        source_detail=source_detail,
        expected_close_on=expected_close_on,
    )


def _create(
    *,
    engagement: Engagement,
    msp: Organisation,
    source: str,
    actor: Actor,
    by: User | None,
    stage: str,
    expected_mrr: Decimal | None,
    source_detail: str,
    expected_close_on: datetime.date | None = None,
) -> Opportunity:
    if engagement.status in (Engagement.Status.ENDED, Engagement.Status.TERMINATED):
        raise ApplicationError("The engagement has stopped; its pipeline is closed.", status=409)
    if stage not in Opportunity.Stage.values:
        raise ApplicationError("Unknown stage.", extra={"stage": ["Unknown stage."]})
    if stage == Opportunity.Stage.LOST:
        raise ApplicationError("A new opportunity cannot start lost.", extra={"stage": ["Not allowed."]})
    # unscoped: unique (the check must see every tenant's rows)
    if Opportunity.all_objects.filter(engagement=engagement, msp=msp).exists():
        raise ApplicationError(
            f"{msp} is already in this pipeline.", extra={"msp": ["Already in the pipeline."]}, status=409
        )
    day = timezone.localdate()
    opportunity = Opportunity(
        engagement=engagement,
        vendor_id=engagement.vendor_id,
        msp=msp,
        source=source,
        stage=stage,
        expected_mrr=expected_mrr if expected_mrr is not None else Decimal("0.00"),
        source_detail=source_detail,
        expected_close_on=expected_close_on,
        created_by=by,
    )
    _stage_dates(opportunity, stage, day)
    _validate(opportunity)
    try:
        with transaction.atomic():
            opportunity.save()
    except IntegrityError as exc:
        raise ApplicationError(f"{msp} is already in this pipeline.", status=409) from exc
    OpportunityStageChange.objects.create(
        opportunity=opportunity, from_stage="", to_stage=stage, changed_on=day, changed_by=by
    )
    _apply_attribution_rules(opportunity=opportunity, actor=actor, by=by)
    audit_record(
        actor=actor,
        verb="engagement.opportunity_create",
        obj=opportunity,
        organisation=engagement.vendor,
        data={"stage": stage, "source": source},
    )
    return opportunity


def _move_day(*, actor: Actor, engagement: Engagement, on: datetime.date | None) -> datetime.date:
    """The day a stage move is recorded on: today, or (partners only) a day since the engagement started."""
    today = timezone.localdate()
    if on is None or on == today:
        return today
    if not policy.can(actor, "opportunity.backdate"):
        raise ApplicationError(
            "You may record a stage move only on the day it happens: leave out “on” or send today's date.",
            extra={"on": ["Only today's date is allowed."]},
            status=403,
        )
    if on > today:
        raise ApplicationError("A stage move cannot be dated in the future.", extra={"on": ["In the future."]})
    if engagement.start_date is None or on < engagement.start_date:
        started = f" on {engagement.start_date:%d %b %Y}" if engagement.start_date else ""
        raise ApplicationError(
            f"A stage move cannot be dated before the engagement started{started}.",
            extra={"on": ["Before the engagement started."]},
        )
    return on


@transaction.atomic
def opportunity_move(
    *,
    opportunity: Opportunity,
    stage: str,
    actor: Actor,
    lost_reason: str = "",
    on: datetime.date | None = None,
) -> Opportunity:
    """Move an opportunity to another stage, keep the history, and attribute TMW-sourced signings in term.

    Vendor users move the opportunities their team sourced, on the day itself; partners move any,
    and may date the move back to a day since the engagement started (never into the future).
    """
    policy.require(actor, "opportunity.move", "move opportunities")
    # unscoped: lock (lock a row the caller already holds)
    opportunity = Opportunity.all_objects.select_for_update().select_related("engagement").get(pk=opportunity.pk)
    if not policy.may_move_opportunity(actor, opportunity):
        raise _forbidden("TMW moves the opportunities it sourced; you move the ones your team sourced.")
    day = _move_day(actor=actor, engagement=opportunity.engagement, on=on)
    return _move(
        opportunity=opportunity, stage=stage, actor=actor, by=policy.user_of(actor), lost_reason=lost_reason, day=day
    )


def _move(
    *, opportunity: Opportunity, stage: str, actor: Actor, by: User | None, lost_reason: str, day: datetime.date
) -> Opportunity:
    if stage not in Opportunity.Stage.values:
        raise ApplicationError("Unknown stage.", extra={"stage": ["Unknown stage."]})
    if stage == opportunity.stage:
        return opportunity
    if stage == Opportunity.Stage.LOST and not lost_reason.strip():
        raise ApplicationError("Say why the opportunity was lost.", extra={"lost_reason": ["Required."]})
    previous = opportunity.stage
    opportunity.stage = stage
    opportunity.lost_reason = lost_reason.strip() if stage == Opportunity.Stage.LOST else ""
    opportunity.stage_changed_at = timezone.now()
    _stage_dates(opportunity, stage, day)
    _validate(opportunity)
    opportunity.save()
    OpportunityStageChange.objects.create(
        opportunity=opportunity,
        from_stage=previous,
        to_stage=stage,
        changed_on=day,
        changed_by=by,
        note=opportunity.lost_reason,
    )
    if stage in (Opportunity.Stage.SIGNED, Opportunity.Stage.LIVE):
        _apply_attribution_rules(opportunity=opportunity, actor=actor, by=by)
    audit_record(
        actor=actor,
        verb="engagement.opportunity_move",
        obj=opportunity,
        organisation=opportunity.engagement.vendor,
        data={"from": previous, "to": stage, "on": day.isoformat()},
    )
    webhook_events.opportunity_stage_changed(opportunity, previous=previous, on=day)
    return opportunity


@transaction.atomic
def opportunity_update(
    *,
    opportunity: Opportunity,
    actor: Actor,
    expected_mrr: Decimal | None = None,
    source_detail: str | None = None,
    expected_close_on: datetime.date | None | object = UNCHANGED,
) -> Opportunity:
    """Change an opportunity's expected MRR, source detail or expected close date (None clears the date)."""
    policy.require(actor, "opportunity.edit", "edit opportunities")
    if not policy.may_edit_opportunity(actor, opportunity):
        raise _forbidden("TMW edits the opportunities it sourced; you edit the ones your team sourced.")
    if expected_mrr is not None:
        opportunity.expected_mrr = expected_mrr
    if source_detail is not None:
        opportunity.source_detail = source_detail
    if expected_close_on is not UNCHANGED:
        if expected_close_on is not None and not isinstance(expected_close_on, datetime.date):
            raise ApplicationError(
                "Give the expected close date as a date.", extra={"expected_close_on": ["Not a date."]}
            )
        opportunity.expected_close_on = expected_close_on
    _validate(opportunity)
    opportunity.save()
    audit_record(actor=actor, verb="engagement.opportunity_update", obj=opportunity, organisation=opportunity.vendor)
    return opportunity


@transaction.atomic
def opportunities_add_from_target_list(*, engagement: Engagement, actor: Actor) -> list[Opportunity]:
    """Add the tier-A MSPs of the diagnostic's latest target list as TMW-sourced targets (skipping those present)."""
    from diagnostics.selectors import latest_target_list

    policy.require(actor, "opportunity.import", "add MSPs from the target list")
    diagnostic = engagement.diagnostic
    if diagnostic is None:
        raise ApplicationError("This engagement has no diagnostic, so no target list.", status=409)
    target_list = latest_target_list(diagnostic=diagnostic)
    if target_list is None:
        raise ApplicationError("The diagnostic has no target list yet.", status=409)
    present = set(Opportunity.objects.filter(engagement=engagement).values_list("msp_id", flat=True))
    created = []
    from diagnostics.models import TargetEntry

    entries = (
        TargetEntry.objects.filter(target_list=target_list, tier="A", excluded=False, msp__isnull=False)
        .select_related("msp__organisation")
        .order_by("rank")
    )
    for entry in entries:
        assert entry.msp is not None  # the query keeps only entries with an MSP
        msp = entry.msp.organisation
        if msp.pk in present:
            continue
        created.append(
            opportunity_create(
                engagement=engagement,
                msp=msp,
                source=Opportunity.Source.TMW,
                actor=actor,
                source_detail=f"Tier A on target list #{target_list.number} (rank {entry.rank})",
            )
        )
        present.add(msp.pk)
    return created


@transaction.atomic
def opportunity_from_feedback(
    *, vendor: Organisation, msp: Organisation, interest: str, source_detail: str, actor: Actor
) -> Opportunity | None:
    """Turn community pitch feedback into a TMW-sourced opportunity (follow-up → meeting, pilot → evaluation).

    Creates the opportunity in the vendor's active engagement or advances an existing one
    (never backwards); returns None when the vendor has no active engagement or the
    interest asks for nothing. The actor is whoever gave the feedback (an MSP member, or a
    visitor with a signed link); the rows it writes name no MSP user as their author.
    """
    policy.require(actor, "opportunity.from_feedback", "turn feedback into opportunities")
    target = FEEDBACK_STAGES.get(interest)
    if target is None:
        return None
    engagement = (
        # unscoped: shared (an MSP's pitch feedback, in the MSP's scope, reaches the vendor's engagement)
        Engagement.all_objects.filter(vendor=vendor, status=Engagement.Status.ACTIVE).order_by("-start_date").first()
    )
    if engagement is None:
        return None
    by = policy.user_of(actor) if policy.can(actor, "engagement.workspace") else None
    # unscoped: shared (as above: the vendor's opportunity, asked from the MSP's scope)
    existing = Opportunity.all_objects.filter(engagement=engagement, msp=msp).first()
    if existing is None:
        return _create(
            engagement=engagement,
            msp=msp,
            source=Opportunity.Source.TMW,
            actor=actor,
            by=by,
            stage=target,
            expected_mrr=None,
            source_detail=source_detail,
        )
    order = Opportunity.ORDER
    if existing.stage == Opportunity.Stage.LOST or order.index(existing.stage) < order.index(target):
        # unscoped: lock (lock a row the caller already holds)
        locked = Opportunity.all_objects.select_for_update().select_related("engagement").get(pk=existing.pk)
        return _move(opportunity=locked, stage=target, actor=actor, by=by, lost_reason="", day=timezone.localdate())
    return existing


# --- attribution ------------------------------------------------------------------------------


@transaction.atomic
def attribution_add(
    *,
    engagement: Engagement,
    msp: Organisation,
    starts_on: datetime.date,
    reason: str,
    actor: Actor,
    opportunity: Opportunity | None = None,
) -> Attribution:
    """A partner attributes an MSP account to an engagement from a date, with a reason."""
    policy.require(actor, "attribution.manage", "attribute accounts")
    if not (reason or "").strip():
        raise ApplicationError("Give the reason for the attribution.", extra={"reason": ["Required."]})
    if not msp.is_msp:
        raise ApplicationError("Choose an MSP.", extra={"msp": ["Not an MSP."]})
    if opportunity is not None and (opportunity.engagement_id != engagement.pk or opportunity.msp_id != msp.pk):
        raise ApplicationError("The opportunity is not this MSP's in this engagement.")
    # unscoped: unique (the check must see every tenant's rows)
    if Attribution.all_objects.filter(engagement=engagement, msp=msp, ended_on__isnull=True).exists():
        raise ApplicationError(f"{msp} is already attributed to this engagement.", status=409)
    attribution = Attribution(
        engagement=engagement,
        vendor_id=engagement.vendor_id,
        msp=msp,
        opportunity=opportunity,
        starts_on=starts_on,
        reason=reason.strip(),
        created_by=policy.user_of(actor),
        acknowledge_by=acknowledgement_deadline(engagement=engagement, recorded_on=timezone.localdate()),
    )
    _validate(attribution)
    attribution.save()
    enqueue_on_commit(ATTRIBUTION_EMAIL, attribution.pk, "new")
    audit_record(
        actor=actor,
        verb="engagement.attribution_add",
        obj=attribution,
        organisation=engagement.vendor,
        data={"starts_on": starts_on.isoformat(), "reason": attribution.reason},
    )
    webhook_events.attribution_created(attribution)
    return attribution


@transaction.atomic
def attribution_end(*, attribution: Attribution, ended_on: datetime.date, reason: str, actor: Actor) -> Attribution:
    """A partner ends an attribution from a date, with a reason; the row stays as history."""
    policy.require(actor, "attribution.manage", "end attributions")
    # unscoped: lock (lock a row the caller already holds)
    attribution = Attribution.all_objects.select_for_update().get(pk=attribution.pk)
    if attribution.ended_on is not None:
        raise ApplicationError("This attribution has already ended.", status=409)
    if not (reason or "").strip():
        raise ApplicationError("Give the reason for ending the attribution.", extra={"reason": ["Required."]})
    if ended_on < attribution.starts_on:
        raise ApplicationError("The end cannot be before the start.", extra={"ended_on": ["Before the start."]})
    attribution.ended_on = ended_on
    attribution.end_reason = reason.strip()
    _validate(attribution)
    attribution.save()
    audit_record(
        actor=actor,
        verb="engagement.attribution_end",
        obj=attribution,
        organisation=attribution.vendor,
        data={"ended_on": ended_on.isoformat(), "reason": attribution.end_reason},
    )
    return attribution


# --- activity ---------------------------------------------------------------------------------


@transaction.atomic
def activity_create(
    *,
    engagement: Engagement,
    kind: str,
    summary: str,
    actor: Actor,
    visibility: str = Activity.Visibility.INTERNAL,
    body: str = "",
    occurred_on: datetime.date | None = None,
    msp: Organisation | None = None,
    opportunity: Opportunity | None = None,
) -> Activity:
    """Log an introduction, meeting, pitch appearance or note, internal to TMW or shared with the vendor."""
    policy.require(actor, "activity.log", "log activity")
    if opportunity is not None and opportunity.engagement_id != engagement.pk:
        raise ApplicationError("The opportunity is of another engagement.")
    activity = Activity(
        engagement=engagement,
        kind=kind,
        visibility=visibility,
        summary=summary,
        body=body,
        occurred_on=occurred_on or timezone.localdate(),
        msp=msp or (opportunity.msp if opportunity else None),
        opportunity=opportunity,
        created_by=policy.user_of(actor),
    )
    _validate(activity)
    activity.save()
    audit_record(actor=actor, verb="engagement.activity_create", obj=activity, organisation=engagement.vendor)
    return activity
