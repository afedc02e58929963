"""Business rules of Phase Two desks: lifecycle, plan, team, pipeline stages and attribution."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from diagnostics.models import Decision, Diagnostic
from engagements import selectors, services
from engagements.models import (
    Attribution,
    Engagement,
    Milestone,
    Opportunity,
    OpportunityStageChange,
    PlanTemplate,
    TeamMember,
    Workstream,
)
from tests.factories import OrganisationFactory, UserFactory
from tmw.accounts import policy
from tmw.accounts.models import AuditEvent, Organisation, Role
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError


def today() -> datetime.date:
    """Today where the desk is (TIME_ZONE), read when a test runs, not when the module loads."""
    return timezone.localdate()


@pytest.fixture
def op(world):
    """Run the test body as operators' background code does: inside the operator scope."""
    with operator_scope():
        yield world


def new_msp(name: str) -> Organisation:
    return OrganisationFactory(kind=Organisation.Kind.MSP, name=name, city="Denver", region="CO", country="US")


def new_vendor(name: str, category: str = "Backup and disaster recovery") -> Organisation:
    return OrganisationFactory(name=name, category=category)


def running_engagement(world, *, vendor=None, option="B", start=None) -> Engagement:
    vendor = vendor or new_vendor("Fresh Vendor")
    engagement = services.engagement_create(
        vendor=vendor, option=option, lead_partner=world.partner, actor=world.partner
    )
    return services.engagement_start(
        engagement=engagement, actor=world.partner, on=start or today() - datetime.timedelta(days=30)
    )


# --- lifecycle and plan -----------------------------------------------------------------------


def test_start_sets_the_date_and_builds_the_option_plan(op):
    world = op
    b = running_engagement(op, option="B")
    assert b.status == "active" and b.start_date == today() - datetime.timedelta(days=30)
    names = set(Workstream.all_objects.filter(engagement=b).values_list("name", flat=True))
    assert {"Channel strategy guidance", "Community introductions", "Reference MSPs", "Quarterly reviews"} <= names
    assert {
        "Desk staffing",
        "Partner program and pricing",
        "Onboarding kit",
        "Recruitment campaigns",
        "Enablement",
    } <= names
    first = Milestone.all_objects.filter(engagement=b).order_by("due_on").first()
    assert first.due_on == b.start_date + datetime.timedelta(days=7)
    a = running_engagement(world, vendor=new_vendor("Option A Vendor"), option="A")
    a_names = set(Workstream.all_objects.filter(engagement=a).values_list("name", flat=True))
    assert "Desk staffing" not in a_names and "Quarterly reviews" in a_names
    # Starting again does not duplicate the plan; templates are seeded once.
    assert PlanTemplate.objects.filter(is_active=True).count() == 2
    services.ensure_default_plan_templates()
    assert PlanTemplate.objects.count() == 2


def test_plan_templates_are_editable_data(op):
    world = op
    services.ensure_default_plan_templates()
    template = PlanTemplate.objects.get(option="A", is_active=True)
    template.items.create(workstream="Custom", title="Vendor-specific milestone", offset_days=10, order=99)
    engagement = running_engagement(world, vendor=new_vendor("Custom Vendor"), option="A")
    assert Milestone.all_objects.filter(engagement=engagement, title="Vendor-specific milestone").exists()


def test_status_transitions_are_validated_and_keep_dates(op):
    world = op
    engagement = running_engagement(world)
    with pytest.raises(ApplicationError) as exc:
        services.engagement_transition(engagement=engagement, status="proposed", actor=world.partner)
    assert exc.value.status == 409
    engagement = services.engagement_transition(engagement=engagement, status="paused", actor=world.partner)
    engagement = services.engagement_transition(engagement=engagement, status="active", actor=world.partner)
    with pytest.raises(ApplicationError, match="why"):
        services.engagement_transition(engagement=engagement, status="terminated", actor=world.partner)
    engagement = services.engagement_transition(
        engagement=engagement, status="terminated", actor=world.partner, on=today(), reason="Vendor ran out of runway"
    )
    assert engagement.terminated_on == today() and engagement.stop_date == today()
    with pytest.raises(ApplicationError):
        services.engagement_transition(engagement=engagement, status="active", actor=world.partner)
    assert AuditEvent.all_objects.filter(verb="engagement.terminated", object_id=str(engagement.pk)).exists()


def test_only_partners_run_engagements(op):
    world = op
    with pytest.raises(ApplicationError):
        services.engagement_create(
            vendor=world.a.vendor, option="A", lead_partner=world.partner, actor=world.a.vendor_admin
        )


def test_engagement_from_a_go_diagnostic_takes_its_option(op):
    world = op
    vendor = new_vendor("Diagnosed Vendor")
    from diagnostics.services import diagnostic_start

    diagnostic = diagnostic_start(vendor=vendor, lead_partner=world.partner, actor=world.partner)
    with pytest.raises(ApplicationError, match="go"):
        services.engagement_create(
            vendor=vendor, diagnostic=diagnostic, lead_partner=world.partner, actor=world.partner
        )
    Decision.all_objects.create(
        diagnostic=diagnostic, outcome="go_with_conditions", rationale="ok", recommended_option="B", option="A"
    )
    diagnostic = Diagnostic.all_objects.get(pk=diagnostic.pk)
    engagement = services.engagement_create(
        vendor=vendor, diagnostic=diagnostic, lead_partner=world.partner, actor=world.partner
    )
    assert engagement.option == "A" and engagement.diagnostic == diagnostic
    with pytest.raises(ApplicationError) as exc:
        services.engagement_create(vendor=vendor, option="B", lead_partner=world.partner, actor=world.partner)
    assert exc.value.status == 409


# --- team -------------------------------------------------------------------------------------


def test_desk_staff_allocation_is_validated_and_overallocation_shows(op):
    world = op
    cam = UserFactory(organisation=world.operator, role=Role.PARTNER, full_name="Casey Manager")
    first = running_engagement(world, vendor=new_vendor("Desk One"))
    second = running_engagement(world, vendor=new_vendor("Desk Two"))
    for bad in (0, 101):
        with pytest.raises(ApplicationError):
            services.team_member_add(
                engagement=first,
                side="tmw",
                user=cam,
                role="channel_account_manager",
                allocation_percent=bad,
                actor=world.partner,
            )
    services.team_member_add(
        engagement=first,
        side="tmw",
        user=cam,
        role="channel_account_manager",
        allocation_percent=70,
        actor=world.partner,
    )
    services.team_member_add(
        engagement=second, side="tmw", user=cam, role="partner_recruiter", allocation_percent=50, actor=world.partner
    )
    assert selectors.staff_allocations(user_ids=[cam.pk]) == {cam.pk: 120}
    team = selectors.team_for(engagement=first)
    assert team["staff"][0].over_allocated and team["staff"][0].total_allocation == 120
    contact = services.team_member_add(
        engagement=first, side="vendor", name="Jo Vendor", title="VP Channel", email="jo@v.example", actor=world.partner
    )
    assert contact.allocation_percent is None and contact.role == TeamMember.Role.VENDOR_CONTACT
    option_a = running_engagement(world, vendor=new_vendor("Desk A"), option="A")
    with pytest.raises(ApplicationError, match="Option B"):
        services.team_member_add(
            engagement=option_a, side="tmw", user=cam, role="advisor", allocation_percent=10, actor=world.partner
        )


# --- pipeline and attribution -----------------------------------------------------------------


def test_stage_moves_keep_history_and_lost_needs_a_reason(op):
    world = op
    engagement = running_engagement(world)
    opp = services.opportunity_create(
        engagement=engagement, msp=new_msp("Peak IT"), source="tmw", actor=world.partner, expected_mrr=Decimal("900")
    )
    assert opp.vendor_id == engagement.vendor_id
    opp = services.opportunity_move(opportunity=opp, stage="introduced", actor=world.partner)
    with pytest.raises(ApplicationError, match="lost"):
        services.opportunity_move(opportunity=opp, stage="lost", actor=world.partner)
    opp = services.opportunity_move(
        opportunity=opp, stage="lost", lost_reason="Chose a competitor", actor=world.partner
    )
    assert opp.lost_on == today() and opp.lost_reason == "Chose a competitor"
    history = list(
        OpportunityStageChange.all_objects.filter(opportunity=opp).order_by("pk").values_list("from_stage", "to_stage")
    )
    assert history == [("", "target"), ("target", "introduced"), ("introduced", "lost")]
    with pytest.raises(ApplicationError) as exc:
        services.opportunity_create(engagement=engagement, msp=opp.msp, source="tmw", actor=world.partner)
    assert exc.value.status == 409


def test_tmw_sourced_signed_in_term_is_attributed_from_the_signing_date(op):
    world = op
    engagement = running_engagement(world, start=today() - datetime.timedelta(days=100))
    opp = services.opportunity_create(
        engagement=engagement, msp=new_msp("Signed MSP"), source="tmw", actor=world.partner
    )
    signed = today() - datetime.timedelta(days=10)
    services.opportunity_move(opportunity=opp, stage="signed", actor=world.partner, on=signed)
    attribution = Attribution.all_objects.get(engagement=engagement, msp=opp.msp)
    assert attribution.starts_on == signed and attribution.ended_on is None and attribution.opportunity_id == opp.pk
    # Going live later does not attribute twice.
    services.opportunity_move(opportunity=opp, stage="live", actor=world.partner)
    assert Attribution.all_objects.filter(engagement=engagement, msp=opp.msp).count() == 1
    assert (
        selectors.attributions_for_period(engagement=engagement, period_start=signed, period_end=today()).count() == 1
    )
    assert not selectors.attributions_for_period(
        engagement=engagement,
        period_start=signed - datetime.timedelta(days=40),
        period_end=signed - datetime.timedelta(days=1),
    ).exists()


def test_signed_before_the_start_or_after_termination_is_not_attributed(op):
    world = op
    proposed = services.engagement_create(
        vendor=new_vendor("Not Yet Started"), option="B", lead_partner=world.partner, actor=world.partner
    )
    early = services.opportunity_create(
        engagement=proposed, msp=new_msp("Early MSP"), source="tmw", actor=world.partner
    )
    services.opportunity_move(opportunity=early, stage="signed", actor=world.partner)
    assert not Attribution.all_objects.filter(engagement=proposed).exists()
    engagement = running_engagement(world, start=today() - datetime.timedelta(days=100))
    late = services.opportunity_create(
        engagement=engagement, msp=new_msp("Late MSP"), source="tmw", actor=world.partner
    )
    engagement = services.engagement_transition(
        engagement=engagement,
        status="terminated",
        on=today() - datetime.timedelta(days=5),
        reason="Contract ended early",
        actor=world.partner,
    )
    services.opportunity_move(
        opportunity=late, stage="signed", actor=world.partner, on=today() - datetime.timedelta(days=4)
    )
    assert not Attribution.all_objects.filter(engagement=engagement).exists()
    late.refresh_from_db()
    assert late.stage == "signed" and late.signed_on == today() - datetime.timedelta(days=4)


def test_signed_on_the_termination_day_is_attributed(op):
    world = op
    engagement = running_engagement(world, start=today() - datetime.timedelta(days=100))
    opp = services.opportunity_create(
        engagement=engagement, msp=new_msp("Last Day MSP"), source="tmw", actor=world.partner
    )
    stop = today() - datetime.timedelta(days=5)
    services.engagement_transition(
        engagement=engagement, status="terminated", on=stop, reason="Ended", actor=world.partner
    )
    services.opportunity_move(opportunity=opp, stage="signed", actor=world.partner, on=stop)
    assert Attribution.all_objects.get(engagement=engagement).starts_on == stop


def test_vendor_sourced_is_attributed_only_when_a_partner_says_so(op):
    world = op
    engagement = running_engagement(world)
    opp = services.opportunity_create(
        engagement=engagement, msp=new_msp("Vendor Found"), source="vendor", actor=world.partner
    )
    services.opportunity_move(opportunity=opp, stage="signed", actor=world.partner)
    assert not Attribution.all_objects.filter(engagement=engagement).exists()
    with pytest.raises(ApplicationError, match="reason"):
        services.attribution_add(engagement=engagement, msp=opp.msp, starts_on=today(), reason=" ", actor=world.partner)
    with pytest.raises(ApplicationError) as exc:
        services.attribution_add(engagement=engagement, msp=opp.msp, starts_on=today(), reason="x", actor=world.finance)
    assert exc.value.status == 403
    attribution = services.attribution_add(
        engagement=engagement,
        msp=opp.msp,
        starts_on=today(),
        reason="TMW introduced the owner at the community dinner",
        opportunity=opp,
        actor=world.partner,
    )
    assert attribution.reason.startswith("TMW introduced")
    with pytest.raises(ApplicationError) as exc:
        services.attribution_add(
            engagement=engagement, msp=opp.msp, starts_on=today(), reason="again", actor=world.partner
        )
    assert exc.value.status == 409
    # Ending keeps the row as history; a new attribution can follow.
    with pytest.raises(ApplicationError, match="reason"):
        services.attribution_end(attribution=attribution, ended_on=today(), reason="", actor=world.partner)
    ended = services.attribution_end(
        attribution=attribution, ended_on=today(), reason="MSP churned", actor=world.partner
    )
    assert ended.ended_on == today() and ended.end_reason == "MSP churned"
    with pytest.raises(ApplicationError):
        services.attribution_end(attribution=attribution, ended_on=today(), reason="twice", actor=world.partner)
    assert Attribution.all_objects.filter(engagement=engagement).count() == 1
    assert AuditEvent.all_objects.filter(verb__startswith="engagement.attribution").count() == 2


def test_vendor_users_add_vendor_sourced_and_move_only_those(op):
    world = op
    engagement = world.a.objects[Engagement]
    msp = new_msp("Vendor Pick")
    opp = services.opportunity_create(engagement=engagement, msp=msp, source="tmw", actor=world.a.vendor_member)
    assert opp.source == "vendor"
    services.opportunity_move(opportunity=opp, stage="meeting", actor=world.a.vendor_member)
    tmw_opp = world.a.objects[Opportunity]
    with pytest.raises(ApplicationError) as exc:
        services.opportunity_move(opportunity=tmw_opp, stage="live", actor=world.a.vendor_member)
    assert exc.value.status == 403
    with pytest.raises(ApplicationError) as exc:
        services.opportunity_move(opportunity=opp, stage="signed", actor=world.b.vendor_member)
    assert exc.value.status == 403


def test_tier_a_targets_are_added_in_one_step(op):
    world = op
    engagement = Engagement.all_objects.create(
        vendor=world.a.vendor,
        diagnostic=world.a.objects[Diagnostic],
        option="A",
        status="active",
        lead_partner=world.partner,
        start_date=today(),
    )
    assert selectors.tier_a_targets_missing(engagement=engagement) == 1
    created = services.opportunities_add_from_target_list(engagement=engagement, actor=world.partner)
    assert [o.msp.name for o in created] == [f"{world.a.marker} Target MSP"]
    assert created[0].source == "tmw" and created[0].stage == "target"
    assert services.opportunities_add_from_target_list(engagement=engagement, actor=world.partner) == []
    assert selectors.tier_a_targets_missing(engagement=engagement) == 0


def test_competing_vendor_in_the_same_category_is_flagged(op):
    world = op
    a_engagement = world.a.objects[Engagement]
    b_engagement = world.b.objects[Engagement]
    shared = new_msp("Contested MSP")
    services.opportunity_create(engagement=a_engagement, msp=shared, source="tmw", actor=world.partner)
    b_opp = services.opportunity_create(engagement=b_engagement, msp=shared, source="tmw", actor=world.partner)
    # A target is not active pipeline yet.
    assert shared.pk not in selectors.competing_pipelines(engagement=a_engagement)
    services.opportunity_move(opportunity=b_opp, stage="meeting", actor=world.partner)
    assert selectors.competing_pipelines(engagement=a_engagement)[shared.pk] == [world.b.vendor.name]
    other = new_vendor("Other Category Vendor", category="Email security")
    other_engagement = running_engagement(world, vendor=other)
    services.opportunity_create(
        engagement=other_engagement, msp=shared, source="tmw", stage="meeting", actor=world.partner
    )
    assert selectors.competing_pipelines(engagement=a_engagement)[shared.pk] == [world.b.vendor.name]


def test_pitch_feedback_creates_or_advances_a_tmw_opportunity(op):
    world = op
    engagement = running_engagement(world, vendor=new_vendor("Pitched Vendor"))
    msp = new_msp("Pitch Listener")
    opp = services.opportunity_from_feedback(
        vendor=engagement.vendor, msp=msp, interest="follow_up", source_detail="Pitch night", actor=world.partner
    )
    assert opp.stage == "meeting" and opp.source == "tmw"
    opp = services.opportunity_from_feedback(
        vendor=engagement.vendor, msp=msp, interest="pilot", source_detail="Pitch night", actor=world.partner
    )
    assert opp.stage == "evaluation"
    opp = services.opportunity_from_feedback(
        vendor=engagement.vendor, msp=msp, interest="follow_up", source_detail="Pitch night", actor=world.partner
    )
    assert opp.stage == "evaluation"
    assert (
        services.opportunity_from_feedback(
            vendor=new_vendor("Idle Vendor"), msp=msp, interest="pilot", source_detail="x", actor=world.partner
        )
        is None
    )
    assert (
        services.opportunity_from_feedback(
            vendor=engagement.vendor, msp=msp, interest="not_interested", source_detail="x", actor=world.partner
        )
        is None
    )


def test_portfolio_summary(op):
    world = op
    summary = selectors.portfolio_summary()
    assert summary["active_by_option"]["B"] == Engagement.all_objects.filter(status="active", option="B").count() >= 2
    assert summary["attributed_accounts"] == Attribution.all_objects.filter(ended_on__isnull=True).count()
    signed = next(s for s in summary["pipeline_by_stage"] if s["stage"] == "signed")
    assert signed["count"] == Opportunity.all_objects.filter(stage="signed").count()
    assert signed["mrr"]["USD"] >= Decimal("2400.00")  # per currency
    assert summary["won_mrr"]["USD"] >= signed["mrr"]["USD"]
    assert summary["chart"]["labels"][0] == "Target"
    assert world


def test_pitch_feedback_from_an_msp_request_scope(world):
    from tmw.accounts.tenancy import tenant_scope

    msp = world.a.msp
    with tenant_scope((msp.pk,)):
        opp = services.opportunity_from_feedback(
            vendor=world.a.vendor, msp=msp, interest="pilot", source_detail="Pitch night", actor=world.a.msp_member
        )
    assert opp.stage == "evaluation" and opp.created_by is None
    assert opp.engagement_id == world.a.objects[Engagement].pk


# --- who may do what --------------------------------------------------------------------------


def test_finance_reads_desks_but_writes_nothing(op):
    world = op
    engagement = world.a.objects[Engagement]
    opp = world.a.objects[Opportunity]
    milestone = world.a.objects[Milestone]
    msp = new_msp("Finance Pick")
    writes = [
        lambda: services.engagement_create(
            vendor=new_vendor("Finance Vendor"), option="A", lead_partner=world.partner, actor=world.finance
        ),
        lambda: services.engagement_transition(engagement=engagement, status="paused", actor=world.finance),
        lambda: services.team_member_add(engagement=engagement, side="vendor", name="X", actor=world.finance),
        lambda: services.milestone_update(milestone=milestone, status="done", actor=world.finance),
        lambda: services.opportunity_create(engagement=engagement, msp=msp, source="tmw", actor=world.finance),
        lambda: services.opportunity_move(opportunity=opp, stage="live", actor=world.finance),
        lambda: services.opportunity_update(opportunity=opp, expected_mrr=Decimal("1"), actor=world.finance),
        lambda: services.opportunities_add_from_target_list(engagement=engagement, actor=world.finance),
        lambda: services.activity_create(engagement=engagement, kind="note", summary="x", actor=world.finance),
        lambda: services.attribution_add(
            engagement=engagement, msp=msp, starts_on=today(), reason="x", actor=world.finance
        ),
    ]
    for write in writes:
        with pytest.raises(ApplicationError) as exc:
            write()
        assert exc.value.status == 403
    opp.refresh_from_db()
    assert opp.stage == "signed" and opp.expected_mrr == Decimal("1200.00")
    assert not Opportunity.all_objects.filter(msp=msp).exists()


def test_admins_run_desks_like_partners(op):
    world = op
    engagement = running_engagement(world, vendor=new_vendor("Admin Desk"), option="A")
    opp = services.opportunity_create(engagement=engagement, msp=new_msp("Admin Pick"), source="tmw", actor=world.admin)
    opp = services.opportunity_move(
        opportunity=opp, stage="signed", actor=world.admin, on=today() - datetime.timedelta(days=3)
    )
    assert opp.signed_on == today() - datetime.timedelta(days=3)
    activity = services.activity_create(engagement=engagement, kind="note", summary="Admin note", actor=world.admin)
    assert activity.created_by == world.admin
    assert Attribution.all_objects.get(engagement=engagement).created_by == world.admin


def test_the_system_actor_takes_no_desk_actions(op):
    world = op
    engagement = world.a.objects[Engagement]
    with pytest.raises(ApplicationError) as exc:
        services.opportunity_move(opportunity=world.a.objects[Opportunity], stage="live", actor=policy.SYSTEM)
    assert exc.value.status == 403
    with pytest.raises(ApplicationError):
        services.activity_create(engagement=engagement, kind="note", summary="x", actor=policy.SYSTEM)


def test_vendor_users_cannot_add_to_another_vendors_pipeline(op):
    world = op
    with pytest.raises(ApplicationError) as exc:
        services.opportunity_create(
            engagement=world.b.objects[Engagement], msp=new_msp("Sneaky"), source="vendor", actor=world.a.vendor_admin
        )
    assert exc.value.status == 403
    assert not Opportunity.all_objects.filter(msp__name="Sneaky").exists()


def test_vendor_users_edit_only_their_teams_opportunities(op):
    world = op
    engagement = world.a.objects[Engagement]
    own = services.opportunity_create(
        engagement=engagement, msp=new_msp("Own Lead"), source="vendor", actor=world.a.vendor_member
    )
    services.opportunity_update(opportunity=own, expected_mrr=Decimal("300.00"), actor=world.a.vendor_member)
    own.refresh_from_db()
    assert own.expected_mrr == Decimal("300.00")
    with pytest.raises(ApplicationError) as exc:
        services.opportunity_update(
            opportunity=world.a.objects[Opportunity], expected_mrr=Decimal("1"), actor=world.a.vendor_member
        )
    assert exc.value.status == 403
    with pytest.raises(ApplicationError) as exc:
        services.opportunity_update(opportunity=own, expected_mrr=Decimal("1"), actor=world.b.vendor_admin)
    assert exc.value.status == 403


# --- dating a stage move ----------------------------------------------------------------------


def test_vendor_users_move_only_on_the_day_itself(op):
    world = op
    engagement = world.a.objects[Engagement]
    opp = services.opportunity_create(
        engagement=engagement, msp=new_msp("Today Only"), source="vendor", actor=world.a.vendor_admin
    )
    for day in (today() - datetime.timedelta(days=1), datetime.date(1999, 1, 1), today() + datetime.timedelta(days=1)):
        with pytest.raises(ApplicationError) as exc:
            services.opportunity_move(opportunity=opp, stage="meeting", actor=world.a.vendor_admin, on=day)
        assert exc.value.status == 403 and "on" in exc.value.extra and "“on”" in exc.value.message
    opp.refresh_from_db()
    assert opp.stage == "target"
    moved = services.opportunity_move(opportunity=opp, stage="meeting", actor=world.a.vendor_admin, on=today())
    assert moved.stage == "meeting"
    assert OpportunityStageChange.all_objects.filter(opportunity=opp, to_stage="meeting").get().changed_on == today()


def test_partners_backdate_within_the_engagement_only(op):
    world = op
    start = today() - datetime.timedelta(days=30)
    engagement = running_engagement(world, vendor=new_vendor("Dated Desk"), start=start)
    opp = services.opportunity_create(
        engagement=engagement, msp=new_msp("Dated MSP"), source="tmw", actor=world.partner
    )
    for day, words in (
        (start - datetime.timedelta(days=1), "before the engagement started"),
        (datetime.date(1999, 1, 1), "before the engagement started"),
        (today() + datetime.timedelta(days=1), "future"),
    ):
        with pytest.raises(ApplicationError, match=words) as exc:
            services.opportunity_move(opportunity=opp, stage="signed", actor=world.partner, on=day)
        assert exc.value.status == 400 and list(exc.value.extra) == ["on"]
    opp.refresh_from_db()
    assert opp.stage == "target" and opp.signed_on is None
    assert not Attribution.all_objects.filter(engagement=engagement).exists()
    opp = services.opportunity_move(opportunity=opp, stage="signed", actor=world.partner, on=start)
    assert opp.signed_on == start
    assert Attribution.all_objects.get(engagement=engagement).starts_on == start


def test_a_proposed_engagement_takes_no_backdated_moves(op):
    world = op
    proposed = services.engagement_create(
        vendor=new_vendor("Proposed Desk"), option="A", lead_partner=world.partner, actor=world.partner
    )
    opp = services.opportunity_create(engagement=proposed, msp=new_msp("Early Bird"), source="tmw", actor=world.partner)
    with pytest.raises(ApplicationError, match="before the engagement started") as exc:
        services.opportunity_move(
            opportunity=opp, stage="meeting", actor=world.partner, on=today() - datetime.timedelta(days=1)
        )
    assert exc.value.extra == {"on": ["Before the engagement started."]}


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_through_a_signed_link_creates_the_opportunity(op):
    world = op
    engagement = running_engagement(world, vendor=new_vendor("Linked Vendor"))
    msp = new_msp("Link Clicker")
    opp = services.opportunity_from_feedback(
        vendor=engagement.vendor, msp=msp, interest="pilot", source_detail="Pitch night", actor=policy.VISITOR
    )
    assert opp is not None and opp.stage == "evaluation" and opp.created_by is None
    change = OpportunityStageChange.all_objects.get(opportunity=opp)
    assert change.changed_by is None


def test_feedback_is_refused_to_vendor_users_and_the_system(op):
    world = op
    engagement = running_engagement(world, vendor=new_vendor("Refused Vendor"))
    for actor in (world.a.vendor_admin, world.finance, policy.SYSTEM):
        with pytest.raises(ApplicationError) as exc:
            services.opportunity_from_feedback(
                vendor=engagement.vendor,
                msp=new_msp(f"Nobody {actor}"),
                interest="pilot",
                source_detail="x",
                actor=actor,
            )
        assert exc.value.status == 403
