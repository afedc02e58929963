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


# --- Helpers for the diagnostics tests

THESIS = {
    "target_segment": "US MSPs with 10-50 technicians",
    "category_positioning": "Backup for MSPs",
    "msp_reason_to_buy": "Margin on restore testing",
    "pricing_margin": "Monthly per device, 35% margin",
    "key_risks": "Crowded category",
}
SENTINEL_LEVELS = {
    "psa-rmm-integration": 4,
    "multi-tenant-console": 5,
    "technician-usability": 4,
    "unbillable-support-load": 3,
    "margin-headroom": 4,
    "monthly-per-seat-pricing": 5,
    "channel-conflict": 4,
    "contract-terms": 4,
    "us-channel-team": 4,
    "partner-program": 3,
    "references": 4,
    "runway": 5,
}


def start_diagnostic(world: World, vendor=None, **kwargs) -> Diagnostic:
    """A fresh draft diagnostic of side A's vendor (or ``vendor``), led by the world's partner."""
    return services.diagnostic_start(
        vendor=vendor or world.a.vendor, lead_partner=world.partner, actor=world.partner, **kwargs
    )


def score_all(diagnostic: Diagnostic, actor, levels: dict[str, int] | None = None, default: int = 3) -> None:
    """Score every criterion of the diagnostic's rubric (``levels`` by key, else ``default``)."""
    levels = levels or {}
    for criterion in Criterion.objects.filter(rubric=diagnostic.rubric):
        services.criterion_score_set(
            diagnostic=diagnostic,
            criterion=criterion,
            level=levels.get(criterion.key, default),
            evidence=f"Evidence for {criterion.key}",
            actor=actor,
        )


def make_complete(diagnostic: Diagnostic, actor, levels: dict[str, int] | None = None) -> Diagnostic:
    """Score, write the thesis, decide go and complete the diagnostic."""
    score_all(diagnostic, actor, levels or SENTINEL_LEVELS)
    services.thesis_save(diagnostic=diagnostic, actor=actor, **THESIS)
    services.decision_record(diagnostic=diagnostic, outcome="go", rationale="Strong fit", actor=actor)
    services.diagnostic_transition(diagnostic=diagnostic, to="in_review", actor=actor)
    return services.diagnostic_transition(diagnostic=diagnostic, to="complete", actor=actor)
