"""Builders for diagnostics core models: one diagnostic per side, with a score, a thesis and a decision."""

from __future__ import annotations

import datetime

from diagnostics import services
from diagnostics.models import ChannelThesis, Criterion, CriterionScore, Decision, Diagnostic
from tests.factories import Side, World, tenant_object


def diagnostic_for(world: World, side: Side) -> Diagnostic:
    """The side's diagnostic, created on first use (other builders hang their objects on it)."""
    existing = side.objects.get(Diagnostic)
    if existing is not None:
        return existing
    diagnostic = services.diagnostic_start(
        vendor=side.vendor,
        lead_partner=world.partner,
        actor=world.partner,
        started_on=datetime.date.today() - datetime.timedelta(days=7),
    )
    side.objects[Diagnostic] = diagnostic
    return diagnostic


@tenant_object(Diagnostic)
def _diagnostic(world: World, side: Side):
    return diagnostic_for(world, side)


@tenant_object(CriterionScore)
def _criterion_score(world: World, side: Side):
    diagnostic = diagnostic_for(world, side)
    criterion = Criterion.objects.filter(rubric=diagnostic.rubric).order_by("order").first()
    return CriterionScore.all_objects.create(
        diagnostic=diagnostic,
        criterion=criterion,
        level=3,
        evidence=f"{side.marker} demo call",
        scored_by=world.partner,
    )


@tenant_object(ChannelThesis)
def _channel_thesis(world: World, side: Side):
    diagnostic = diagnostic_for(world, side)
    return ChannelThesis.all_objects.create(
        diagnostic=diagnostic,
        target_segment=f"{side.marker} target segment: MSPs with 10-50 technicians",
        category_positioning="Backup for MSPs",
        msp_reason_to_buy="Margin",
        pricing_margin="Per seat",
        key_risks="Runway",
    )


@tenant_object(Decision)
def _decision(world: World, side: Side):
    diagnostic = diagnostic_for(world, side)
    return Decision.all_objects.create(
        diagnostic=diagnostic,
        outcome=Decision.Outcome.GO,
        rationale=f"{side.marker} fits the MSP channel",
        recommended_option="B",
        option="B",
        decided_by=world.partner,
    )
