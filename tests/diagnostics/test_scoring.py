"""Target scoring, computed by hand: a pure function over plain rows, no database."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from diagnostics.models.targeting import DEFAULT_WEIGHTS, FACTORS
from diagnostics.scoring import Scorer, make_row, row_list, score_rows, tier_for
from tmw.directory.models import PSATool, RMMTool, ServiceLine, Vertical

WEIGHTS = {f: str(w) for f, w in DEFAULT_WEIGHTS.items()}  # 20/15/15/20/15/5/10: they sum to 100


def spec(**overrides) -> dict:
    base = {
        "countries": ["CA"],
        "regions": ["ON"],
        "size": {"employees": [None, None], "technicians": [10, 50], "endpoints": [None, None]},
        "verticals": ["healthcare", "legal"],
        "required_service_lines": ["managed_it"],
        "preferred_service_lines": ["soc_mdr", "backup_dr"],
        "psa_integrations": ["autotask"],
        "rmm_integrations": ["ninjaone"],
        "pe_preference": "avoid",
        "weights": dict(WEIGHTS),
    }
    base.update(overrides)
    return base


def parts(scored) -> dict[str, tuple[str, str]]:
    return {p["factor"]: (p["points"], p["max_points"]) for p in scored.breakdown}


def why(scored, factor: str) -> str:
    return next(p["why"] for p in scored.breakdown if p["factor"] == factor)


def test_a_strong_fit_in_ontario_scores_77_5_by_hand():
    row = make_row(
        pk=1,
        legal_name="Maple IT",
        city="Toronto",
        region="ON",
        country="CA",
        technicians=30,
        verticals=["healthcare"],
        service_lines=["managed_it", "soc_mdr"],
        psa_tools=["autotask"],
        rmm_tools=["datto_rmm"],
        pe_backed=False,
        relationship=2,
        community_member=True,
    )
    [scored] = score_rows(spec(), [row])
    # geography 20/20 (Ontario is targeted); size 15/15 (30 techs in 10-50); verticals 1 of 2 = 7.5/15;
    # service lines: required present, 1 of 2 preferred = (2+1)/4 x 20 = 15; stack: PSA yes, RMM no = 7.5/15;
    # ownership: independent, PE avoided = 5/5; relationship (warm 2 + member 1)/4 x 10 = 7.5.
    assert parts(scored) == {
        "geography": ("20.0", "20.0"),
        "size": ("15.0", "15.0"),
        "verticals": ("7.5", "15.0"),
        "service_lines": ("15.0", "20.0"),
        "stack": ("7.5", "15.0"),
        "ownership": ("5.0", "5.0"),
        "relationship": ("7.5", "10.0"),
    }
    assert scored.score == Decimal("77.5")
    assert scored.tier == "A"
    assert scored.rank == 1
    assert why(scored, "geography") == "in Ontario, a target province"
    assert why(scored, "size") == "30 technicians, in the 10–50 band"
    assert why(scored, "verticals") == "serves Healthcare (1 of 2 target verticals)"
    assert why(scored, "service_lines") == "has every required line; 1 of 2 preferred lines (SOC / MDR)"
    assert why(scored, "stack") == "runs Autotask, an integrated PSA; runs Datto RMM, no integrated RMM"
    assert why(scored, "ownership") == "independent, as preferred"
    assert why(scored, "relationship") == "warm relationship with TMW, TMW community member"


def test_a_weak_fit_in_quebec_scores_35_by_hand():
    row = make_row(
        pk=2,
        legal_name="Québec Tech",
        city="Montréal",
        region="QC",
        country="CA",
        technicians=70,
        verticals=["retail"],
        service_lines=["managed_it"],
        psa_tools=["connectwise_psa"],
        rmm_tools=["ninjaone"],
        pe_backed=True,
        relationship=0,
        community_member=False,
    )
    [scored] = score_rows(spec(), [row])
    # geography: Canada targeted, Quebec not = 1/2 x 20 = 10; size: 70 > 50 but <= 75 (1.5 x 50) = near, 7.5;
    # verticals 0; service lines (2+0)/4 x 20 = 10; stack: RMM only = 7.5; ownership: PE avoided = 0; relationship 0.
    assert parts(scored) == {
        "geography": ("10.0", "20.0"),
        "size": ("7.5", "15.0"),
        "verticals": ("0.0", "15.0"),
        "service_lines": ("10.0", "20.0"),
        "stack": ("7.5", "15.0"),
        "ownership": ("0.0", "5.0"),
        "relationship": ("0.0", "10.0"),
    }
    assert scored.score == Decimal("35.0")
    assert scored.tier == "C"
    assert why(scored, "geography") == "in Quebec: Canada is targeted, Quebec is not"
    assert why(scored, "size") == "70 technicians, near the 10–50 band"
    assert why(scored, "ownership") == "PE-backed / platform, to be avoided"


def test_a_missing_required_service_line_scores_nothing_for_service_lines():
    row = make_row(pk=3, legal_name="SecOnly", region="ON", country="CA", service_lines=["soc_mdr", "backup_dr"])
    [scored] = score_rows(spec(), [row])
    assert parts(scored)["service_lines"] == ("0.0", "20.0")
    assert why(scored, "service_lines") == "lacks required Managed IT"


def test_factors_the_profile_leaves_open_share_no_points():
    # Only countries are set: geography (20) and relationship (10) share 100 -> 66.7 and 33.3.
    open_spec = {"countries": ["US"], "weights": dict(WEIGHTS)}
    us = make_row(pk=1, legal_name="A", region="TX", country="US", relationship=3, community_member=True)
    ca = make_row(pk=2, legal_name="B", region="ON", country="CA", relationship=1)
    first, second = score_rows(open_spec, [ca, us])
    assert first.pk == us["pk"] and first.score == Decimal("100.0")
    assert parts(first)["geography"] == ("66.7", "66.7")
    assert parts(first)["size"] == ("0.0", "0.0")
    assert why(first, "size") == "not scored"
    # 33.3 x 1/4 = 8.325 -> 8.3 (tenths, half up)
    assert second.score == Decimal("8.3")
    assert why(second, "geography") == "in Canada, not a target country"


def test_a_zero_weight_takes_a_factor_out():
    zero = spec(weights={**WEIGHTS, "geography": "0"})
    scorer = Scorer(zero)
    assert "geography" not in scorer.active
    # the other six share 100 in proportion to 15/15/20/15/5/10 (80): size 18.75 -> 18.8
    assert scorer.max_points["size"] == Decimal("18.8")
    assert scorer.max_points["geography"] == Decimal("0.0")


def test_pe_preference_prefer_and_neutral():
    pe = make_row(pk=1, legal_name="PE", region="ON", country="CA", pe_backed=True)
    indie = make_row(pk=2, legal_name="Indie", region="ON", country="CA")
    prefer = {s.row["pk"]: parts(s)["ownership"] for s in score_rows(spec(pe_preference="prefer"), [pe, indie])}
    assert prefer == {1: ("5.0", "5.0"), 2: ("0.0", "5.0")}
    assert "ownership" not in Scorer(spec(pe_preference="neutral")).active


def test_tiers_at_their_edges():
    assert tier_for(Decimal("70.0")) == "A"
    assert tier_for(Decimal("69.9")) == "B"
    assert tier_for(Decimal("45.0")) == "B"
    assert tier_for(Decimal("44.9")) == "C"


def test_ranks_best_first_and_ties_by_name():
    rows = [
        make_row(pk=1, legal_name="Zeta", region="ON", country="CA"),
        make_row(pk=2, legal_name="Alpha", region="ON", country="CA"),
        make_row(pk=3, legal_name="Best", region="ON", country="CA", relationship=3, community_member=True),
    ]
    ranked = score_rows(spec(), rows)
    assert [(s.rank, s.row["legal_name"]) for s in ranked] == [(1, "Best"), (2, "Alpha"), (3, "Zeta")]


def test_row_lists_read_back_from_the_tag_index():
    row = make_row(verticals=["legal"], psa_tools=["halopsa"], rmm_tools=["n_able", "datto_rmm"])
    assert row_list(row, "rmm_tools") == ["n_able", "datto_rmm"]
    assert row_list(row, "service_lines") == []


@pytest.mark.parametrize("seed", range(5))
def test_the_fast_score_always_equals_the_sum_of_the_breakdown(seed):
    rng = random.Random(seed)

    def sample(values, k):
        return rng.sample(values, rng.randint(0, k))

    profile = {
        "countries": sample(["US", "CA"], 2),
        "regions": sample(["ON", "QC", "TX", "FL", "BC"], 3),
        "size": {
            "employees": [rng.choice([None, 10]), rng.choice([None, 200])],
            "technicians": [rng.choice([None, 5]), rng.choice([None, 60])],
            "endpoints": [None, rng.choice([None, 9000])],
        },
        "verticals": sample(Vertical.values, 3),
        "required_service_lines": sample(ServiceLine.values, 1),
        "preferred_service_lines": sample(ServiceLine.values, 3),
        "psa_integrations": sample(PSATool.values, 2),
        "rmm_integrations": sample(RMMTool.values, 2),
        "pe_preference": rng.choice(["prefer", "avoid", "neutral"]),
        "weights": {f: str(rng.choice([0, 1, 2.5, 7, 10])) for f in FACTORS},
    }
    rows = [
        make_row(
            pk=i,
            legal_name=f"MSP {i}",
            region=rng.choice(["ON", "QC", "TX", "FL", "BC", "NY"]),
            country=rng.choice(["US", "CA"]),
            employees=rng.choice([None, 5, 50, 150, 400]),
            technicians=rng.choice([None, 2, 4, 30, 70, 95]),
            endpoints=rng.choice([None, 500, 8000, 13000, 20000]),
            verticals=sample(Vertical.values, 3),
            service_lines=sample(ServiceLine.values, 4),
            psa_tools=sample(PSATool.values, 1),
            rmm_tools=sample(RMMTool.values, 2),
            pe_backed=rng.random() < 0.3,
            community_member=rng.random() < 0.4,
            relationship=rng.randint(0, 3),
        )
        for i in range(200)
    ]
    for scored in score_rows(profile, rows):
        total = sum(Decimal(p["points"]) for p in scored.breakdown)
        assert scored.score == min(total, Decimal("100")), scored.breakdown
        assert Decimal("0") <= scored.score <= Decimal("100")
        assert [p["factor"] for p in scored.breakdown] == list(FACTORS)
