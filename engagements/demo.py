"""Demo desks: the Option A and Option B vendors get running engagements with plans, pipelines and attributions."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import TypedDict

from django.db.models import F
from django.utils import timezone

from . import services
from .models import Activity, Engagement, Milestone, NextStep, Opportunity, TeamMember


class DeskSpec(TypedDict):
    option: str
    lead: str
    days_ago: int
    msps: slice
    seed: int


DESKS: dict[str, DeskSpec] = {
    "Option A desk": {"option": "A", "lead": "marcus.okafor", "days_ago": 425, "msps": slice(0, 28), "seed": 11},
    "Option B desk": {"option": "B", "lead": "dana.whitfield", "days_ago": 243, "msps": slice(20, 50), "seed": 23},
}
# Final stage of each opportunity, cycled over the MSPs of a desk.
STAGE_PATTERN = [
    "signed",
    "target",
    "introduced",
    "live",
    "meeting",
    "evaluation",
    "lost",
    "signed",
    "introduced",
    "target",
    "live",
    "meeting",
]
LOST_REASONS = [
    "Standardised on a competing product last year.",
    "No budget until the next fiscal year.",
    "Owner sold the MSP; the new owner paused new vendors.",
]
STAFF = [
    ("priya.raman", "channel_account_manager", 60),
    ("marcus.okafor", "partner_recruiter", 30),
    ("admin", "marketing_operations", 25),
]


def _go_diagnostic(vendor):
    from diagnostics.models import Diagnostic

    diagnostic = (
        Diagnostic.objects.filter(vendor=vendor, decision__outcome__in=["go", "go_with_conditions"])
        .order_by("-pk")
        .first()
    )
    return diagnostic


def _engagement(vendor, spec: DeskSpec, lead, today: datetime.date) -> Engagement:
    existing = Engagement.objects.filter(vendor=vendor).order_by("pk").first()
    if existing is not None:
        return existing
    engagement = services.engagement_create(
        vendor=vendor, option=spec["option"], diagnostic=_go_diagnostic(vendor), lead_partner=lead, actor=lead
    )
    if engagement.option != spec["option"]:
        engagement.option = spec["option"]
        engagement.save(update_fields=["option"])
    return services.engagement_start(
        engagement=engagement, actor=lead, on=today - datetime.timedelta(days=spec["days_ago"])
    )


def _team(engagement: Engagement, staff: dict, lead) -> None:
    if TeamMember.objects.filter(engagement=engagement).exists():
        return
    if engagement.option == Engagement.Option.B:
        for username, role, percent in STAFF:
            user = staff.get(username)
            if user is not None:
                services.team_member_add(
                    engagement=engagement, side="tmw", user=user, role=role, allocation_percent=percent, actor=lead
                )
    for user in engagement.vendor.users.order_by("pk")[:2]:
        services.team_member_add(
            engagement=engagement,
            side="vendor",
            name=user.full_name or user.email,
            title="Vendor admin" if user.is_vendor_admin else "Channel lead",
            email=user.email,
            actor=lead,
        )


def _plan_progress(engagement: Engagement, today: datetime.date) -> None:
    """Milestones due well before today are done (on their due date); two recent ones stay open and overdue."""
    milestones = Milestone.objects.filter(engagement=engagement)
    if milestones.filter(status=Milestone.Status.DONE).exists():
        return
    milestones.filter(due_on__lt=today - datetime.timedelta(days=45)).update(
        status=Milestone.Status.DONE, completed_on=F("due_on")
    )
    recent = milestones.filter(due_on__lt=today, status=Milestone.Status.PLANNED).order_by("-due_on")
    for milestone in recent[:3]:
        milestone.status = Milestone.Status.IN_PROGRESS
        milestone.save(update_fields=["status"])
    milestones.filter(due_on__lt=today, status=Milestone.Status.PLANNED).update(
        status=Milestone.Status.DONE, completed_on=F("due_on")
    )


def _pipeline(engagement: Engagement, msps: list, lead, rng: random.Random, today: datetime.date) -> None:
    if Opportunity.objects.filter(engagement=engagement).exists():
        return
    start = engagement.start_date
    assert start is not None  # every demo desk has started
    first_signing = max(start + datetime.timedelta(days=45), today - datetime.timedelta(days=360))
    window = max((today - first_signing).days, 1)
    order = Opportunity.ORDER
    for index, msp in enumerate(msps):
        final = STAGE_PATTERN[index % len(STAGE_PATTERN)]
        source = "vendor" if index % 4 == 3 else "tmw"
        mrr = Decimal(rng.randrange(600, 7200, 50))
        opp = services.opportunity_create(
            engagement=engagement,
            msp=msp,
            source=source,
            actor=lead,
            expected_mrr=mrr,
            source_detail="Community introduction" if source == "tmw" else "Vendor's own lead",
        )
        if final == "target":
            continue
        if final in ("signed", "live"):
            signed_on = first_signing + datetime.timedelta(days=rng.randrange(0, window))
        else:
            signed_on = today - datetime.timedelta(days=rng.randrange(5, 60))
        path = order[1 : order.index(final) + 1] if final != "lost" else order[1 : rng.randrange(2, 5)]
        before_live = len([s for s in path if s != "live"])
        for step, stage in enumerate(path):
            on = signed_on - datetime.timedelta(days=14 * (before_live - step - 1))
            if stage == "live":
                on = min(signed_on + datetime.timedelta(days=30), today)
            opp = services.opportunity_move(opportunity=opp, stage=stage, actor=lead, on=max(on, start))
        if final == "lost":
            services.opportunity_move(
                opportunity=opp,
                stage="lost",
                lost_reason=rng.choice(LOST_REASONS),
                actor=lead,
                on=max(signed_on, start),
            )
    # A partner attributes one vendor-sourced signing that TMW demonstrably introduced.
    vendor_signed = (
        Opportunity.objects.filter(engagement=engagement, source="vendor", stage__in=["signed", "live"])
        .order_by("signed_on")
        .first()
    )
    if vendor_signed is not None and not vendor_signed.attributions.exists():
        assert vendor_signed.signed_on is not None  # a signed or live opportunity has its signing date
        services.attribution_add(
            engagement=engagement,
            msp=vendor_signed.msp,
            starts_on=vendor_signed.signed_on,
            reason="TMW introduced the owner at the community roundtable before the vendor's rep followed up.",
            opportunity=vendor_signed,
            actor=lead,
        )


def _activity(engagement: Engagement, lead, today: datetime.date) -> None:
    if Activity.objects.filter(engagement=engagement).exists():
        return
    opportunities = list(Opportunity.objects.filter(engagement=engagement).select_related("msp").order_by("pk")[:6])
    entries = [
        ("meeting", "shared", 300, "Kick-off with the vendor's channel team", "Agreed the first-quarter plan."),
        ("pitch", "shared", 120, "Pitch at the TMW community roundtable", "Twelve MSP owners attended."),
        ("note", "internal", 90, "Pricing concern raised by two MSP owners", "Margin below 30% is a blocker."),
        ("meeting", "shared", 60, "Quarterly business review", "Pipeline and enablement reviewed."),
        ("note", "internal", 20, "Vendor's CRO pushing for faster signings", "Keep expectations on pilots."),
    ]
    start = engagement.start_date
    assert start is not None  # every demo desk has started
    for kind, visibility, days, summary, body in entries:
        if (today - datetime.timedelta(days=days)) < start:
            days = (today - start).days
        services.activity_create(
            engagement=engagement,
            kind=kind,
            visibility=visibility,
            summary=summary,
            body=body,
            occurred_on=today - datetime.timedelta(days=days),
            actor=lead,
        )
    for index, opp in enumerate(opportunities):
        services.activity_create(
            engagement=engagement,
            kind="introduction",
            visibility="shared" if index % 2 == 0 else "internal",
            summary=f"Introduced {opp.msp.name}" if index % 2 == 0 else f"Background call on {opp.msp.name}",
            occurred_on=today - datetime.timedelta(days=10 + 15 * index),
            opportunity=opp,
            actor=lead,
        )


def _next_steps(engagement: Engagement, lead, rng: random.Random, today: datetime.date) -> None:
    """Expected close dates on the open pipeline, and the lead's next steps (one of them overdue)."""
    if NextStep.objects.filter(engagement=engagement).exists():
        return
    open_opps = list(
        Opportunity.objects.filter(engagement=engagement, stage__in=Opportunity.OPEN_STAGES)
        .select_related("msp")
        .order_by("pk")
    )
    for opp in open_opps:
        if opp.stage != Opportunity.Stage.TARGET:
            services.opportunity_update(
                opportunity=opp, actor=lead, expected_close_on=today + datetime.timedelta(days=rng.randrange(20, 150))
            )
    titles = ["Send the pilot success criteria", "Book the owner's reference call", "Share the PSA integration guide"]
    for index, opp in enumerate(open_opps[: len(titles)]):
        services.next_step_create(
            engagement=engagement,
            opportunity=opp,
            title=titles[index],
            owner=lead,
            due_on=today + datetime.timedelta(days=2 + 5 * index),
            actor=lead,
        )
    services.next_step_create(
        engagement=engagement, title="Prepare the quarterly review deck", owner=lead, due_on=today, actor=lead
    )
    # A step that fell behind: written as it was when it was still due (a new step is never due in the past).
    NextStep.objects.create(
        engagement=engagement,
        title="Chase the signed reseller agreement",
        owner=lead,
        due_on=today - datetime.timedelta(days=3),
        created_by=lead,
    )


def seed(context: dict) -> None:
    """Create the demo desks; running it again changes nothing."""
    services.ensure_default_plan_templates()
    today = timezone.localdate()
    staff = context["staff"]
    msps = list(context["msps"])
    for label, spec in DESKS.items():
        vendor = context["vendors"].get(label)
        if vendor is None:
            continue
        lead = staff[spec["lead"]]
        engagement = _engagement(vendor, spec, lead, today)
        _team(engagement, staff, lead)
        _plan_progress(engagement, today)
        _pipeline(engagement, msps[spec["msps"]], lead, random.Random(spec["seed"]), today)
        _activity(engagement, lead, today)
        _next_steps(engagement, lead, random.Random(spec["seed"] + 1), today)
