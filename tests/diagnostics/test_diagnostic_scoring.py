"""Scores computed by hand, gates, the decision rules, the Phase Two option and status transitions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from diagnostics import selectors, services
from diagnostics.models import Criterion, Decision, Diagnostic, RubricVersion
from diagnostics.selectors import weighted_score
from tests.diagnostics.objects_core import SENTINEL_LEVELS, THESIS, make_complete, score_all, start_diagnostic
from tmw.accounts import policy
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError


@pytest.fixture(autouse=True)
def _operator_scope():
    with operator_scope():
        yield


def _small_rubric(world) -> RubricVersion:
    """Two product criteria (weights 3 and 1, one a gate at 2) and one readiness criterion (weight 2)."""
    base = services.rubric_current(actor=policy.SYSTEM)
    levels = [f"level {i}" for i in range(6)]
    return services.rubric_version_create(
        base=base,
        actor=world.partner,
        notes="small",
        criteria=[
            {"key": "fit", "group": "product", "title": "Fit", "weight": Decimal("3"), "levels": levels,
             "is_gate": True, "gate_min_level": 2},
            {"key": "console", "group": "product", "title": "Console", "weight": Decimal("1"), "levels": levels},
            {"key": "runway", "group": "readiness", "title": "Runway", "weight": Decimal("2"), "levels": levels},
        ],
    )  # fmt: skip


def _score(diagnostic, key, level, actor):
    criterion = Criterion.objects.get(rubric=diagnostic.rubric, key=key)
    return services.criterion_score_set(diagnostic=diagnostic, criterion=criterion, level=level, actor=actor)


def test_weighted_score_by_hand():
    # (3x4 + 1x0) / (3x5 + 1x5) = 12/20 = 60.0
    assert weighted_score([(Decimal("3"), 4), (Decimal("1"), 0)]) == Decimal("60.0")
    # (1.5x3 + 2.5x5) / (1.5x5 + 2.5x5) = 17/20 = 85.0
    assert weighted_score([(Decimal("1.5"), 3), (Decimal("2.5"), 5)]) == Decimal("85.0")
    # 2/3 of the maximum: 66.666... rounds half up to 66.7
    assert weighted_score([(Decimal("1"), 2), (Decimal("2"), 4)]) == Decimal("66.7")
    # 81.25 rounds half up to 81.3
    assert weighted_score([(Decimal("3"), 4), (Decimal("2"), 5), (Decimal("1.5"), 4), (Decimal("1.5"), 3)]) == Decimal(
        "81.3"
    )
    assert weighted_score([]) is None
    assert weighted_score([(Decimal("0"), 5)]) is None


def test_group_and_overall_scores_on_a_small_rubric(world):
    _small_rubric(world)
    diagnostic = start_diagnostic(world)
    assert diagnostic.rubric.criteria.count() == 3
    _score(diagnostic, "fit", 4, world.partner)
    card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
    # Only "fit" scored: product = 3x4 / 3x5 = 80.0; readiness has nothing scored.
    groups = {g.key: g for g in card.groups}
    assert groups["product"].score == Decimal("80.0")
    assert groups["readiness"].score is None
    assert card.overall == Decimal("80.0")
    assert not card.all_scored
    assert [r.criterion.key for r in card.pending_gates] == []

    _score(diagnostic, "console", 1, world.partner)
    _score(diagnostic, "runway", 3, world.partner)
    card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
    groups = {g.key: g for g in card.groups}
    # product = (3x4 + 1x1) / (4x5) = 13/20 = 65.0; readiness = 2x3 / 2x5 = 60.0
    assert groups["product"].score == Decimal("65.0")
    assert groups["readiness"].score == Decimal("60.0")
    # overall = (12 + 1 + 6) / (15 + 5 + 10) = 19/30 = 63.333 -> 63.3
    assert card.overall == Decimal("63.3")
    assert card.all_scored
    assert card.failed_gates == []


def test_default_rubric_scores_by_hand(world):
    diagnostic = start_diagnostic(world)
    score_all(diagnostic, world.partner, SENTINEL_LEVELS)
    card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
    groups = {g.key: g.score for g in card.groups}
    # Product: weights 3, 2, 1.5, 1.5 at levels 4, 5, 4, 3 -> 32.5 / 40 = 81.25 -> 81.3
    assert groups["product"] == Decimal("81.3")
    # Business model: 2.5, 2, 2, 1 at 4, 5, 4, 4 -> 32 / 37.5 = 85.33 -> 85.3
    assert groups["business_model"] == Decimal("85.3")
    # Readiness: 1.5, 1.5, 1, 2 at 4, 3, 4, 5 -> 24.5 / 30 = 81.67 -> 81.7
    assert groups["readiness"] == Decimal("81.7")
    # Overall: 89 / 107.5 = 82.79 -> 82.8
    assert card.overall == Decimal("82.8")
    assert selectors.overall_scores(diagnostics=[diagnostic]) == {diagnostic.pk: Decimal("82.8")}


def test_rescoring_replaces_the_score(world):
    diagnostic = start_diagnostic(world)
    _score(diagnostic, "runway", 1, world.partner)
    _score(diagnostic, "runway", 4, world.partner)
    assert diagnostic.scores.count() == 1
    assert diagnostic.scores.get().level == 4


def test_level_out_of_range_and_foreign_criterion_are_refused(world):
    diagnostic = start_diagnostic(world)
    criterion = diagnostic.rubric.criteria.first()
    with pytest.raises(ApplicationError):
        services.criterion_score_set(diagnostic=diagnostic, criterion=criterion, level=6, actor=world.partner)
    other = _small_rubric(world).criteria.first()
    with pytest.raises(ApplicationError, match="not part of this diagnostic"):
        services.criterion_score_set(diagnostic=diagnostic, criterion=other, level=3, actor=world.partner)


def test_due_date_defaults_to_six_weeks_and_overdue_flag(world):
    diagnostic = start_diagnostic(world, started_on=datetime.date(2026, 1, 5))
    assert diagnostic.due_on == datetime.date(2026, 2, 16)
    assert diagnostic.is_overdue
    fresh = start_diagnostic(world)
    assert not fresh.is_overdue
    done = make_complete(start_diagnostic(world, started_on=datetime.date(2026, 1, 5)), world.partner)
    assert not done.is_overdue


def test_a_failed_gate_blocks_go_unless_overridden_with_a_reason(world):
    diagnostic = start_diagnostic(world)
    score_all(diagnostic, world.partner, {**SENTINEL_LEVELS, "runway": 1})
    card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
    assert [r.criterion.key for r in card.failed_gates] == ["runway"]
    for outcome in ("go", "go_with_conditions"):
        with pytest.raises(ApplicationError) as exc:
            services.decision_record(
                diagnostic=diagnostic, outcome=outcome, rationale="Fit", conditions="Raise money", actor=world.partner
            )
        assert exc.value.status == 409
        assert "gate_override_reason" in exc.value.extra
    # no-go needs no override
    decision = services.decision_record(diagnostic=diagnostic, outcome="no_go", rationale="Runway", actor=world.partner)
    assert decision.outcome == Decision.Outcome.NO_GO
    decision = services.decision_record(
        diagnostic=diagnostic,
        outcome="go",
        rationale="Fit",
        gate_override_reason="Term sheet signed last week",
        actor=world.partner,
    )
    assert decision.outcome == Decision.Outcome.GO
    assert decision.gate_override_reason == "Term sheet signed last week"


def test_override_reason_is_dropped_when_no_gate_failed(world):
    diagnostic = start_diagnostic(world)
    score_all(diagnostic, world.partner, SENTINEL_LEVELS)
    decision = services.decision_record(
        diagnostic=diagnostic, outcome="go", rationale="Fit", gate_override_reason="not needed", actor=world.partner
    )
    assert decision.gate_override_reason == ""


def test_decision_needs_rationale_and_conditions(world):
    diagnostic = start_diagnostic(world)
    with pytest.raises(ApplicationError) as exc:
        services.decision_record(diagnostic=diagnostic, outcome="go_with_conditions", rationale="", actor=world.partner)
    assert set(exc.value.extra) == {"rationale", "conditions"}
    with pytest.raises(ApplicationError):
        services.decision_record(diagnostic=diagnostic, outcome="maybe", rationale="x", actor=world.partner)


@pytest.mark.parametrize(
    ("sales", "marketing", "channel", "expected"),
    [(True, True, True, "A"), (True, True, False, "B"), (False, True, True, "B"), (False, False, False, "B")],
)
def test_option_recommendation_follows_the_us_teams(world, sales, marketing, channel, expected):
    diagnostic = start_diagnostic(world)
    diagnostic = services.diagnostic_update(
        diagnostic=diagnostic,
        actor=world.partner,
        has_us_sales=sales,
        has_us_marketing=marketing,
        has_us_channel=channel,
    )
    assert diagnostic.recommended_option == expected
    decision = services.decision_record(diagnostic=diagnostic, outcome="no_go", rationale="x", actor=world.partner)
    assert decision.recommended_option == expected
    assert decision.option == expected
    assert not decision.option_overridden


def test_option_override_needs_a_reason(world):
    diagnostic = start_diagnostic(world)  # no US teams: Option B recommended
    with pytest.raises(ApplicationError) as exc:
        services.decision_record(diagnostic=diagnostic, outcome="no_go", rationale="x", option="A", actor=world.partner)
    assert "option_override_reason" in exc.value.extra
    decision = services.decision_record(
        diagnostic=diagnostic,
        outcome="no_go",
        rationale="x",
        option="A",
        option_override_reason="US team hired next month",
        actor=world.partner,
    )
    assert decision.recommended_option == "B"
    assert decision.option == "A"
    assert decision.option_overridden


def test_status_transitions_are_validated(world):
    diagnostic = start_diagnostic(world)
    with pytest.raises(ApplicationError, match="Score every criterion"):
        services.diagnostic_transition(diagnostic=diagnostic, to="in_review", actor=world.partner)
    with pytest.raises(ApplicationError, match="cannot go from draft to complete"):
        services.diagnostic_transition(diagnostic=diagnostic, to="complete", actor=world.partner)
    score_all(diagnostic, world.partner, SENTINEL_LEVELS)
    diagnostic = services.diagnostic_transition(diagnostic=diagnostic, to="in_review", actor=world.partner)
    assert diagnostic.status == Diagnostic.Status.IN_REVIEW
    with pytest.raises(ApplicationError) as exc:
        services.diagnostic_transition(diagnostic=diagnostic, to="complete", actor=world.partner)
    assert exc.value.status == 409
    assert any("thesis" in p for p in exc.value.extra["status"])
    assert any("decision" in p for p in exc.value.extra["status"])
    diagnostic = services.diagnostic_transition(diagnostic=diagnostic, to="draft", actor=world.partner)
    assert diagnostic.status == Diagnostic.Status.DRAFT
    services.thesis_save(diagnostic=diagnostic, actor=world.partner, **THESIS)
    services.decision_record(diagnostic=diagnostic, outcome="go", rationale="Fit", actor=world.partner)
    services.diagnostic_transition(diagnostic=diagnostic, to="in_review", actor=world.partner)
    diagnostic = services.diagnostic_complete(diagnostic=diagnostic, actor=world.partner)
    assert diagnostic.status == Diagnostic.Status.COMPLETE
    assert diagnostic.completed_at is not None
    # A complete diagnostic is frozen.
    for attempt in (
        lambda: services.diagnostic_transition(diagnostic=diagnostic, to="draft", actor=world.partner),
        lambda: services.criterion_score_set(
            diagnostic=diagnostic, criterion=diagnostic.rubric.criteria.first(), level=0, actor=world.partner
        ),
        lambda: services.thesis_save(diagnostic=diagnostic, actor=world.partner, key_risks="new"),
        lambda: services.decision_record(diagnostic=diagnostic, outcome="no_go", rationale="x", actor=world.partner),
    ):
        with pytest.raises(ApplicationError):
            attempt()


def test_incomplete_thesis_blocks_completion(world):
    diagnostic = start_diagnostic(world)
    score_all(diagnostic, world.partner, SENTINEL_LEVELS)
    services.thesis_save(diagnostic=diagnostic, actor=world.partner, **{**THESIS, "key_risks": "  "})
    services.decision_record(diagnostic=diagnostic, outcome="go", rationale="Fit", actor=world.partner)
    services.diagnostic_transition(diagnostic=diagnostic, to="in_review", actor=world.partner)
    with pytest.raises(ApplicationError, match="channel thesis"):
        services.diagnostic_complete(diagnostic=diagnostic, actor=world.partner)


def test_start_refuses_non_vendors_and_non_partners(world):
    with pytest.raises(ApplicationError):
        services.diagnostic_start(vendor=world.a.msp, lead_partner=world.partner, actor=world.partner)
    with pytest.raises(ApplicationError):
        services.diagnostic_start(vendor=world.a.vendor, lead_partner=world.finance, actor=world.partner)
