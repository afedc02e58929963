"""Score MSPs against an ideal-partner profile: a pure function over plain rows, no database.

Each factor gives a fraction of its maximum points; the maximum points of the factors the
profile cares about share 100 in proportion to their weights. A factor the profile leaves
open (no target countries, no size band, no verticals...) or weighs 0 scores nothing and
takes no share. Points are rounded to a tenth, half up; the score is the sum of the points
(capped at 100). Tiers: A from 70, B from 45, else C.

Fractions, per factor:
- geography: in a target state/province 1; in a target country but another state/province 1/2
  (1 when no states/provinces are targeted); elsewhere 0.
- size: per band the profile sets (employees, technicians, endpoints): inside 1, within half the
  band's edge (down to half the minimum, up to 1.5 x the maximum) 1/2, unknown or further 0; averaged.
- verticals: target verticals served / target verticals.
- service lines: 0 when a required one is missing; else, with preferred lines, 1/2 + 1/2 x the share
  of preferred lines offered (just the share when nothing is required); else 1.
- stack: for PSA and for RMM (each when the profile lists integrations) 1 when the MSP runs an
  integrated tool; averaged.
- ownership: "prefer" PE-backed: 1 when PE-backed; "avoid": 1 when not; "neutral" is not scored.
- relationship: (relationship strength 0-3 + 1 for a TMW community member) / 4.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from diagnostics.models.directory import (
    CA_PROVINCES,
    REGION_NAMES,
    PSATool,
    Relationship,
    RMMTool,
    ServiceLine,
    Vertical,
)
from diagnostics.models.targeting import FACTOR_LABELS, FACTORS

TIER_A = Decimal("70")
TIER_B = Decimal("45")
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")
ZERO = Decimal("0.0")

# The row keys the scorer reads (values() of MSPProfile with these names).
ROW_FIELDS = (
    "pk",
    "legal_name",
    "city",
    "region",
    "country",
    "employees",
    "technicians",
    "endpoints",
    "verticals",
    "service_lines",
    "psa_tools",
    "rmm_tools",
    "pe_backed",
    "community_member",
    "relationship",
)

COUNTRY_NAMES = {"US": "the US", "CA": "Canada"}
VERTICAL_LABELS = dict(Vertical.choices)
SERVICE_LABELS = dict(ServiceLine.choices)
TOOL_LABELS = {**dict(PSATool.choices), **dict(RMMTool.choices)}
RELATIONSHIP_LABELS = dict(Relationship.choices)


@dataclass(slots=True)
class Scored:
    """One MSP's score against a profile, before it is saved on a target list."""

    row: Mapping
    score: Decimal
    tier: str
    breakdown: list[dict]
    rank: int = 0


def tier_for(score: Decimal) -> str:
    """A from 70, B from 45, else C."""
    if score >= TIER_A:
        return "A"
    if score >= TIER_B:
        return "B"
    return "C"


def _labels(values: Iterable[str], labels: Mapping[str, str]) -> str:
    return ", ".join(labels.get(v, v) for v in values)


def _place_word(country: str) -> str:
    return "province" if country == "CA" else "state"


def _fmt(n: int) -> str:
    return f"{n:,}"


class Scorer:
    """A profile turned into fast per-row scoring: the factor maxima are computed once."""

    def __init__(self, spec: Mapping) -> None:
        self.countries = set(spec.get("countries") or ())
        self.regions = set(spec.get("regions") or ())
        self.region_countries = {("CA" if r in CA_PROVINCES else "US") for r in self.regions}
        self.target_countries = self.countries or self.region_countries
        self.bands = [
            (label, lo, hi) for label, (lo, hi) in (spec.get("size") or {}).items() if lo is not None or hi is not None
        ]
        self.verticals = list(dict.fromkeys(spec.get("verticals") or ()))
        self.vertical_set = set(self.verticals)
        self.required = list(dict.fromkeys(spec.get("required_service_lines") or ()))
        self.preferred = [s for s in dict.fromkeys(spec.get("preferred_service_lines") or ()) if s not in self.required]
        self.psa = set(spec.get("psa_integrations") or ())
        self.rmm = set(spec.get("rmm_integrations") or ())
        self.pe_preference = spec.get("pe_preference") or "neutral"
        weights = {f: Decimal(str((spec.get("weights") or {}).get(f, "0"))) for f in FACTORS}
        specified = {
            "geography": bool(self.target_countries),
            "size": bool(self.bands),
            "verticals": bool(self.verticals),
            "service_lines": bool(self.required or self.preferred),
            "stack": bool(self.psa or self.rmm),
            "ownership": self.pe_preference in ("prefer", "avoid"),
            "relationship": True,
        }
        self.active = [f for f in FACTORS if specified[f] and weights[f] > 0]
        total = sum((weights[f] for f in self.active), Decimal("0"))
        self.max_points = {
            f: ((HUNDRED * weights[f] / total).quantize(TENTH, ROUND_HALF_UP) if f in self.active and total else ZERO)
            for f in FACTORS
        }
        self.max_str = {f: str(v) for f, v in self.max_points.items()}
        self._points: dict[tuple[str, int, int], Decimal] = {}
        self._factor_fns = [(f, getattr(self, f"_{f}")) for f in self.active]
        self._idle = [f for f in FACTORS if f not in self.active]

    # --- factors: each returns (numerator, denominator, why)

    def _geography(self, row) -> tuple[int, int, str]:
        region, country = row["region"], row["country"]
        where = REGION_NAMES.get(region, region)
        word = _place_word(country)
        if self.regions:
            if region in self.regions:
                return 1, 1, f"in {where}, a target {word}"
            if country in self.target_countries:
                return 1, 2, f"in {where}: {COUNTRY_NAMES.get(country, country)} is targeted, {where} is not"
            return 0, 1, f"in {where}, outside the target {word}s"
        if country in self.target_countries:
            return 1, 1, f"in {COUNTRY_NAMES.get(country, country)}, a target country"
        return 0, 1, f"in {COUNTRY_NAMES.get(country, country)}, not a target country"

    def _size(self, row) -> tuple[int, int, str]:
        halves = 0
        notes = []
        for label, lo, hi in self.bands:
            value = row[label]
            band = f"{_fmt(lo) if lo is not None else '0'}–{_fmt(hi) if hi is not None else '∞'}"
            if value is None:
                notes.append(f"{label} unknown")
                continue
            if (lo is None or value >= lo) and (hi is None or value <= hi):
                halves += 2
                notes.append(f"{_fmt(value)} {label}, in the {band} band")
            elif (lo is not None and value < lo and 2 * value >= lo) or (
                hi is not None and value > hi and 2 * value <= 3 * hi
            ):
                halves += 1
                notes.append(f"{_fmt(value)} {label}, near the {band} band")
            else:
                notes.append(f"{_fmt(value)} {label}, outside the {band} band")
        return halves, 2 * len(self.bands), "; ".join(notes)

    def _verticals(self, row) -> tuple[int, int, str]:
        served = [v for v in self.verticals if v in row["verticals"]]
        if not served:
            return 0, len(self.verticals), "serves none of the target verticals"
        return (
            len(served),
            len(self.verticals),
            f"serves {_labels(served, VERTICAL_LABELS)} ({len(served)} of {len(self.verticals)} target verticals)",
        )

    def _service_lines(self, row) -> tuple[int, int, str]:
        offered = row["service_lines"]
        missing = [s for s in self.required if s not in offered]
        if missing:
            return 0, 1, f"lacks required {_labels(missing, SERVICE_LABELS)}"
        matched = [s for s in self.preferred if s in offered]
        if not self.preferred:
            return 1, 1, f"offers every required line ({_labels(self.required, SERVICE_LABELS)})"
        pref = f"{len(matched)} of {len(self.preferred)} preferred lines"
        if matched:
            pref += f" ({_labels(matched, SERVICE_LABELS)})"
        if self.required:
            return len(self.preferred) + len(matched), 2 * len(self.preferred), f"has every required line; {pref}"
        return len(matched), len(self.preferred), f"offers {pref}"

    def _stack(self, row) -> tuple[int, int, str]:
        num = den = 0
        notes = []
        for wanted, tools, kind in ((self.psa, row["psa_tools"], "PSA"), (self.rmm, row["rmm_tools"], "RMM")):
            if not wanted:
                continue
            den += 1
            hits = [t for t in tools if t in wanted]
            if hits:
                num += 1
                notes.append(f"runs {_labels(hits, TOOL_LABELS)}, an integrated {kind}")
            elif tools:
                notes.append(f"runs {_labels(tools, TOOL_LABELS)}, no integrated {kind}")
            else:
                notes.append(f"{kind} unknown")
        return num, den, "; ".join(notes)

    def _ownership(self, row) -> tuple[int, int, str]:
        pe = row["pe_backed"]
        if self.pe_preference == "prefer":
            return (1, 1, "PE-backed / platform, as preferred") if pe else (0, 1, "independent; PE-backed preferred")
        return (0, 1, "PE-backed / platform, to be avoided") if pe else (1, 1, "independent, as preferred")

    def _relationship(self, row) -> tuple[int, int, str]:
        strength = row["relationship"] or 0
        member = 1 if row["community_member"] else 0
        why = f"relationship {RELATIONSHIP_LABELS.get(strength, strength).lower()}"
        why += ", TMW community member" if member else ", not in the TMW community"
        return strength + member, 4, why

    # --- scoring

    def points(self, factor: str, num: int, den: int) -> Decimal:
        """Maximum points x num/den, rounded to a tenth half up (memoised: few distinct fractions occur)."""
        key = (factor, num, den)
        value = self._points.get(key)
        if value is None:
            value = (self.max_points[factor] * num / den).quantize(TENTH, ROUND_HALF_UP) if den else ZERO
            self._points[key] = value
        return value

    def score(self, row: Mapping) -> Scored:
        """Score one row; the breakdown lists every factor, the unscored ones with 0 of 0 points."""
        total = ZERO
        breakdown = []
        for factor, fn in self._factor_fns:
            num, den, why = fn(row)
            pts = self.points(factor, num, den)
            total += pts
            breakdown.append({"factor": factor, "points": str(pts), "max_points": self.max_str[factor], "why": why})
        for factor in self._idle:
            breakdown.append({"factor": factor, "points": "0.0", "max_points": "0.0", "why": "not scored"})
        if total > HUNDRED:
            total = HUNDRED
        return Scored(row=row, score=total, tier=tier_for(total), breakdown=breakdown)


def score_rows(spec: Mapping, rows: Iterable[Mapping]) -> list[Scored]:
    """Score every row against a profile spec; best first, ranked 1..n (ties by name, then id)."""
    scorer = Scorer(spec)
    scored = [scorer.score(row) for row in rows]
    scored.sort(key=lambda s: (-s.score, s.row["legal_name"].lower(), s.row["pk"]))
    for rank, item in enumerate(scored, start=1):
        item.rank = rank
    return scored


def factor_label(factor: str) -> str:
    return FACTOR_LABELS.get(factor, factor)
