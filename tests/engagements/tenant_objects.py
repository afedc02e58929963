"""Builders of one object per tenant-owned engagements model (see tests/factories.py).

Side X's engagement is an active Option B desk of side X's vendor, started from side X's
diagnostic; its pipeline holds "<marker> Target MSP" (the MSP on side X's target list),
so the vendor sees that MSP and no other side's MSP.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from engagements.models import (
    Activity,
    Attribution,
    Engagement,
    Milestone,
    NextStep,
    Opportunity,
    OpportunityStageChange,
    TeamMember,
    Workstream,
)
from tests.diagnostics.objects_targeting import target_msp_for
from tests.factories import Side, World, tenant_object


def engagement_for(world: World, side: Side) -> Engagement:
    """The side's active engagement, created on first use (other builders hang their objects on it)."""
    existing = side.objects.get(Engagement)
    if existing is not None:
        return existing
    from diagnostics.models import Diagnostic

    engagement = Engagement.all_objects.create(
        vendor=side.vendor,
        diagnostic=side.objects.get(Diagnostic),
        option=Engagement.Option.B,
        status=Engagement.Status.ACTIVE,
        lead_partner=world.partner,
        start_date=datetime.date.today() - datetime.timedelta(days=90),
        notes=f"{side.marker} desk notes",
    )
    side.objects[Engagement] = engagement
    return engagement


def opportunity_for(world: World, side: Side) -> Opportunity:
    """The side's opportunity with its target-list MSP, created on first use."""
    existing = side.objects.get(Opportunity)
    if existing is not None:
        return existing
    engagement = engagement_for(world, side)
    msp = target_msp_for(side).organisation
    opportunity = Opportunity.all_objects.create(
        engagement=engagement,
        vendor=side.vendor,
        msp=msp,
        stage=Opportunity.Stage.SIGNED,
        source=Opportunity.Source.TMW,
        source_detail=f"{side.marker} referral",
        expected_mrr=Decimal("1200.00"),
        signed_on=datetime.date.today() - datetime.timedelta(days=30),
    )
    side.objects[Opportunity] = opportunity
    return opportunity


def workstream_for(world: World, side: Side) -> Workstream:
    existing = side.objects.get(Workstream)
    if existing is not None:
        return existing
    workstream = Workstream.all_objects.create(engagement=engagement_for(world, side), name=f"{side.marker} staffing")
    side.objects[Workstream] = workstream
    return workstream


@tenant_object(Engagement)
def _engagement(world: World, side: Side):
    return engagement_for(world, side)


@tenant_object(TeamMember)
def _team_member(world: World, side: Side):
    return TeamMember.all_objects.create(
        engagement=engagement_for(world, side),
        side=TeamMember.Side.VENDOR,
        role=TeamMember.Role.VENDOR_CONTACT,
        name=f"{side.marker} Channel Chief",
        email=f"chief@{side.key}-vendor.example",
    )


@tenant_object(Workstream)
def _workstream(world: World, side: Side):
    return workstream_for(world, side)


@tenant_object(Milestone)
def _milestone(world: World, side: Side):
    engagement = engagement_for(world, side)
    return Milestone.all_objects.create(
        engagement=engagement,
        workstream=workstream_for(world, side),
        title=f"{side.marker} onboarding kit",
        due_on=engagement.start_date + datetime.timedelta(days=60),
    )


@tenant_object(Opportunity)
def _opportunity(world: World, side: Side):
    return opportunity_for(world, side)


@tenant_object(OpportunityStageChange)
def _stage_change(world: World, side: Side):
    return OpportunityStageChange.all_objects.create(
        opportunity=opportunity_for(world, side),
        from_stage=Opportunity.Stage.EVALUATION,
        to_stage=Opportunity.Stage.SIGNED,
        note=f"{side.marker} signed",
    )


@tenant_object(Attribution)
def _attribution(world: World, side: Side):
    opportunity = opportunity_for(world, side)
    return Attribution.all_objects.create(
        engagement=opportunity.engagement,
        vendor=side.vendor,
        msp=opportunity.msp,
        opportunity=opportunity,
        starts_on=opportunity.signed_on,
        reason=f"{side.marker} TMW-sourced signing",
        created_by=world.partner,
    )


@tenant_object(Activity)
def _activity(world: World, side: Side):
    return Activity.all_objects.create(
        engagement=engagement_for(world, side),
        kind=Activity.Kind.MEETING,
        visibility=Activity.Visibility.SHARED,
        summary=f"{side.marker} kick-off meeting",
        created_by=world.partner,
    )


@tenant_object(NextStep)
def _next_step(world: World, side: Side):
    return NextStep.all_objects.create(
        engagement=engagement_for(world, side),
        opportunity=opportunity_for(world, side),
        title=f"{side.marker} send the pilot plan",
        owner=world.partner,
        due_on=datetime.date.today() + datetime.timedelta(days=3),
        created_by=world.partner,
    )
