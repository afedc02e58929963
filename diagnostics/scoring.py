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
from decimal import ROUND_HALF_UP, Decimal

from tmw.directory.models import (
    CA_PROVINCES,
    LIST_FIELDS,
    REGION_NAMES,
    PSATool,
    Relationship,
    RMMTool,
    ServiceLine,
    Vertical,
    tag_index_for,
)

from .models.targeting import FACTOR_LABELS, FACTORS

TIER_A = Decimal("70")
TIER_B = Decimal("45")
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")
ZERO = Decimal("0.0")

# The row keys the scorer reads: MSPProfile columns, with the four list fields as ``tag_index``
# (``|v:healthcare|s:soc_mdr|...``), which reads far faster than four JSON columns.
ROW_FIELDS = (
    "pk",
    "legal_name",
    "city",
    "region",
    "country",
    "employees",
    "technicians",
    "endpoints",
    "pe_backed",
    "community_member",
    "relationship",
    "tag_index",
)

FIELD_INDEX = {name: i for i, name in enumerate(ROW_FIELDS)}

COUNTRY_NAMES = {"US": "the US", "CA": "Canada"}
VERTICAL_LABELS = dict(Vertical.choices)
SERVICE_LABELS = dict(ServiceLine.choices)
TOOL_LABELS = {**dict(PSATool.choices), **dict(RMMTool.choices)}
# How a scored row explains the relationship factor, in words a vendor reads on its target list.
RELATIONSHIP_WHY: dict[int, str] = {
    Relationship.NONE: "no relationship with TMW yet",
    Relationship.AWARE: "aware of TMW",
    Relationship.WARM: "warm relationship with TMW",
    Relationship.STRONG: "strong relationship with TMW",
}
PREFIX = {name: prefix for name, (_c, prefix) in LIST_FIELDS.items()}


def make_row(**fields) -> dict:
    """A scorer row from profile-like fields (list fields given as lists); missing facts are unknown."""
    row = {
        "pk": fields.get("pk", 0),
        "legal_name": fields.get("legal_name", ""),
        "city": fields.get("city", ""),
        "region": fields.get("region", ""),
        "country": fields.get("country", "US"),
        "employees": fields.get("employees"),
        "technicians": fields.get("technicians"),
        "endpoints": fields.get("endpoints"),
        "pe_backed": fields.get("pe_backed", False),
        "community_member": fields.get("community_member", False),
        "relationship": fields.get("relationship", 0),
    }
    row["tag_index"] = tag_index_for(**{name: fields.get(name) or [] for name in LIST_FIELDS})
    return row


def row_list(row: Mapping, field: str) -> list[str]:
    """A list field of a row, read back from its ``tag_index``."""
    prefix = PREFIX[field] + ":"
    return [tag[len(prefix) :] for tag in row["tag_index"].split("|") if tag.startswith(prefix)]


def _needle(field: str, value: str) -> str:
    return f"|{PREFIX[field]}:{value}|"


def tier_for(score: Decimal) -> str:
    """A from 70, B from 45, else C."""
    if score >= TIER_A:
        return "A"
    if score >= TIER_B:
        return "B"
    return "C"


def _labels(values: Iterable[str], labels: Mapping[str, str]) -> str:
    return ", ".join(labels.get(v, v) for v in values)


def _fmt(n: int) -> str:
    return f"{n:,}"


class Scored:
    """One MSP's score against a profile; its breakdown is worked out when first read."""

    __slots__ = ("_breakdown", "_row", "_scorer", "rank", "tenths", "values")

    def __init__(self, scorer: Scorer, values: tuple, tenths: int, rank: int = 0) -> None:
        self._scorer = scorer
        self.values = values
        self.tenths = tenths
        self.rank = rank
        self._row: dict | None = None
        self._breakdown: list[dict] | None = None

    @property
    def pk(self):
        return self.values[0]  # ROW_FIELDS starts with "pk"

    @property
    def row(self) -> dict:
        """The MSP's row as a dict keyed by ``ROW_FIELDS``."""
        if self._row is None:
            self._row = dict(zip(ROW_FIELDS, self.values, strict=True))
        return self._row

    @property
    def score(self) -> Decimal:
        return Decimal(self.tenths).scaleb(-1)

    @property
    def tier(self) -> str:
        return "A" if self.tenths >= 700 else "B" if self.tenths >= 450 else "C"

    @property
    def breakdown(self) -> list[dict]:
        """[{"factor", "points", "max_points", "why"}] for every factor, the unscored ones with 0 of 0."""
        if self._breakdown is None:
            self._breakdown = self._scorer.explain(self.row)
        return self._breakdown


class Scorer:
    """A profile turned into fast per-row scoring: factor maxima and the points of each fraction are cached."""

    def __init__(self, spec: Mapping) -> None:
        self.countries = set(spec.get("countries") or ())
        self.regions = set(spec.get("regions") or ())
        self.region_countries = {("CA" if r in CA_PROVINCES else "US") for r in self.regions}
        self.target_countries = self.countries or self.region_countries
        self.bands = [
            (label, lo, hi) for label, (lo, hi) in (spec.get("size") or {}).items() if lo is not None or hi is not None
        ]
        self.verticals = list(dict.fromkeys(spec.get("verticals") or ()))
        self.required = list(dict.fromkeys(spec.get("required_service_lines") or ()))
        self.preferred = [s for s in dict.fromkeys(spec.get("preferred_service_lines") or ()) if s not in self.required]
        self.psa = list(dict.fromkeys(spec.get("psa_integrations") or ()))
        self.rmm = list(dict.fromkeys(spec.get("rmm_integrations") or ()))
        self.pe_preference = spec.get("pe_preference") or "neutral"
        self._vertical_needles = [_needle("verticals", v) for v in self.verticals]
        self._required_needles = [_needle("service_lines", v) for v in self.required]
        self._preferred_needles = [_needle("service_lines", v) for v in self.preferred]
        self._psa_needles = [_needle("psa_tools", v) for v in self.psa]
        self._rmm_needles = [_needle("rmm_tools", v) for v in self.rmm]
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
        self._tenths: dict[tuple[str, int, int], int] = {}
        self.row_tenths = self._compile()

    # --- factors: each returns (numerator, denominator), plus the why when ``explain`` is set

    def _geography(self, row, explain: bool = False):
        region, country = row["region"], row["country"]
        if self.regions:
            if region in self.regions:
                num, den = 1, 1
            elif country in self.target_countries:
                num, den = 1, 2
            else:
                num, den = 0, 1
        else:
            num, den = (1, 1) if country in self.target_countries else (0, 1)
        if not explain:
            return num, den
        where = REGION_NAMES.get(region, region)
        word = "province" if country == "CA" else "state"
        nation = COUNTRY_NAMES.get(country, country)
        if self.regions:
            if num == den:
                why = f"in {where}, a target {word}"
            elif num:
                why = f"in {where}: {nation} is targeted, {where} is not"
            else:
                why = f"in {where}, outside the target {word}s"
        else:
            why = f"in {nation}, a target country" if num else f"in {nation}, not a target country"
        return num, den, why

    def _size(self, row, explain: bool = False):
        halves = 0
        notes = []
        for label, lo, hi in self.bands:
            value = row[label]
            if value is None:
                state = "unknown"
            elif (lo is None or value >= lo) and (hi is None or value <= hi):
                halves += 2
                state = "in"
            elif (lo is not None and value < lo and 2 * value >= lo) or (
                hi is not None and value > hi and 2 * value <= 3 * hi
            ):
                halves += 1
                state = "near"
            else:
                state = "outside"
            if explain:
                band = f"{_fmt(lo) if lo is not None else '0'}–{_fmt(hi) if hi is not None else '∞'}"
                notes.append(
                    f"{label} unknown" if state == "unknown" else f"{_fmt(value)} {label}, {state} the {band} band"
                )
        if not explain:
            return halves, 2 * len(self.bands)
        return halves, 2 * len(self.bands), "; ".join(notes)

    def _verticals(self, row, explain: bool = False):
        tags = row["tag_index"]
        hits = sum(1 for needle in self._vertical_needles if needle in tags)
        if not explain:
            return hits, len(self.verticals)
        served = [v for v, needle in zip(self.verticals, self._vertical_needles, strict=True) if needle in tags]
        if not served:
            return 0, len(self.verticals), "serves none of the target verticals"
        why = f"serves {_labels(served, VERTICAL_LABELS)} ({len(served)} of {len(self.verticals)} target verticals)"
        return hits, len(self.verticals), why

    def _service_lines(self, row, explain: bool = False):
        tags = row["tag_index"]
        missing = [s for s, needle in zip(self.required, self._required_needles, strict=True) if needle not in tags]
        n_pref = len(self.preferred)
        matched = 0 if missing else sum(1 for needle in self._preferred_needles if needle in tags)
        if missing:
            num, den = 0, 1
        elif not n_pref:
            num, den = 1, 1
        elif self.required:
            num, den = n_pref + matched, 2 * n_pref
        else:
            num, den = matched, n_pref
        if not explain:
            return num, den
        if missing:
            return num, den, f"lacks required {_labels(missing, SERVICE_LABELS)}"
        if not n_pref:
            return num, den, f"offers every required line ({_labels(self.required, SERVICE_LABELS)})"
        offered = [s for s, needle in zip(self.preferred, self._preferred_needles, strict=True) if needle in tags]
        pref = f"{len(offered)} of {n_pref} preferred lines"
        if offered:
            pref += f" ({_labels(offered, SERVICE_LABELS)})"
        return num, den, (f"has every required line; {pref}" if self.required else f"offers {pref}")

    def _stack(self, row, explain: bool = False):
        tags = row["tag_index"]
        num = den = 0
        notes = []
        for needles, field, kind in ((self._psa_needles, "psa_tools", "PSA"), (self._rmm_needles, "rmm_tools", "RMM")):
            if not needles:
                continue
            den += 1
            hit = any(needle in tags for needle in needles)
            num += hit
            if explain:
                wanted = self.psa if kind == "PSA" else self.rmm
                tools = row_list(row, field)
                hits = [t for t in tools if t in wanted]
                if hits:
                    notes.append(f"runs {_labels(hits, TOOL_LABELS)}, an integrated {kind}")
                elif tools:
                    notes.append(f"runs {_labels(tools, TOOL_LABELS)}, no integrated {kind}")
                else:
                    notes.append(f"{kind} unknown")
        if not explain:
            return num, den
        return num, den, "; ".join(notes)

    def _ownership(self, row, explain: bool = False):
        pe = bool(row["pe_backed"])
        good = pe if self.pe_preference == "prefer" else not pe
        if not explain:
            return int(good), 1
        if self.pe_preference == "prefer":
            why = "PE-backed / platform, as preferred" if pe else "independent; PE-backed preferred"
        else:
            why = "PE-backed / platform, to be avoided" if pe else "independent, as preferred"
        return int(good), 1, why

    def _relationship(self, row, explain: bool = False):
        strength = row["relationship"] or 0
        member = 1 if row["community_member"] else 0
        if not explain:
            return strength + member, 4
        why = RELATIONSHIP_WHY.get(strength, f"relationship {strength}")
        why += ", TMW community member" if member else ", not in the TMW community"
        return strength + member, 4, why

    # --- scoring

    def tenths(self, factor: str, num: int, den: int) -> int:
        """Maximum points x num/den in tenths of a point, rounded half up (cached: few fractions occur)."""
        key = (factor, num, den)
        value = self._tenths.get(key)
        if value is None:
            points = (self.max_points[factor] * num / den).quantize(TENTH, ROUND_HALF_UP) if den else ZERO
            value = self._tenths[key] = int(points * 10)
        return value

    def _compile(self):
        """The per-row scoring function: each factor's points for every numerator are looked up, not computed.

        Gives the same points as ``explain`` (a test holds them together); it only avoids
        building the why for the thousands of rows that do not make the list.
        """
        active = set(self.active)
        t = self.tenths

        def table(factor: str, den: int, top: int | None = None) -> list[int]:
            return [t(factor, num, den) for num in range((den if top is None else top) + 1)]

        geo = "geography" in active
        regions, countries = self.regions, self.target_countries
        geo_in, geo_half, geo_out = t("geography", 1, 1), t("geography", 1, 2), 0
        if not regions:
            geo_half = geo_in
        bands = self.bands if "size" in active else []
        size_table = table("size", 2 * len(bands)) if bands else []
        vertical_needles = self._vertical_needles if "verticals" in active else []
        vertical_table = table("verticals", len(vertical_needles)) if vertical_needles else []
        services = "service_lines" in active
        required, preferred = self._required_needles, self._preferred_needles
        n_pref = len(preferred)
        if not n_pref:
            service_table = [t("service_lines", 1, 1)]
        elif required:
            service_table = [t("service_lines", n_pref + m, 2 * n_pref) for m in range(n_pref + 1)]
        else:
            service_table = table("service_lines", n_pref)
        stack = "stack" in active
        psa, rmm = self._psa_needles, self._rmm_needles
        stack_table = table("stack", int(bool(psa)) + int(bool(rmm))) if stack else []
        ownership = "ownership" in active
        prefer_pe = self.pe_preference == "prefer"
        own_good = t("ownership", 1, 1) if ownership else 0
        relationship = "relationship" in active
        rel_table = table("relationship", 4, top=4) if relationship else []

        bands = [(FIELD_INDEX[label], lo, hi) for label, lo, hi in bands]
        i_region, i_country, i_tags = FIELD_INDEX["region"], FIELD_INDEX["country"], FIELD_INDEX["tag_index"]
        i_pe, i_rel, i_member = FIELD_INDEX["pe_backed"], FIELD_INDEX["relationship"], FIELD_INDEX["community_member"]

        def row_tenths(row: tuple) -> int:
            """The score of one row (a tuple in ``ROW_FIELDS`` order) in tenths of a point, 0-1000."""
            total = 0
            if geo:
                if regions and row[i_region] in regions:
                    total += geo_in
                elif row[i_country] in countries:
                    total += geo_half
                else:
                    total += geo_out
            if bands:
                halves = 0
                for index, lo, hi in bands:
                    value = row[index]
                    if value is None:
                        continue
                    if (lo is None or value >= lo) and (hi is None or value <= hi):
                        halves += 2
                    elif (lo is not None and value < lo and 2 * value >= lo) or (
                        hi is not None and value > hi and 2 * value <= 3 * hi
                    ):
                        halves += 1
                total += size_table[halves]
            tags = row[i_tags]
            if vertical_needles:
                total += vertical_table[sum(1 for needle in vertical_needles if needle in tags)]
            if services:
                for needle in required:
                    if needle not in tags:
                        break
                else:
                    total += service_table[sum(1 for needle in preferred if needle in tags) if n_pref else 0]
            if stack:
                hits = 0
                if psa:
                    for needle in psa:
                        if needle in tags:
                            hits += 1
                            break
                if rmm:
                    for needle in rmm:
                        if needle in tags:
                            hits += 1
                            break
                total += stack_table[hits]
            if ownership and bool(row[i_pe]) == prefer_pe:
                total += own_good
            if relationship:
                total += rel_table[(row[i_rel] or 0) + (1 if row[i_member] else 0)]
            return total if total < 1000 else 1000

        return row_tenths

    def score(self, row: Mapping | tuple) -> Scored:
        """Score one row (a dict, or a tuple in ``ROW_FIELDS`` order)."""
        values = as_values(row)
        return Scored(self, values, self.row_tenths(values))

    def explain(self, row: Mapping) -> list[dict]:
        """The breakdown of one row's score: points, maximum and why for every factor, in a fixed order."""
        parts = []
        for factor in FACTORS:
            if factor not in self.active:
                parts.append({"factor": factor, "points": "0.0", "max_points": "0.0", "why": "not scored"})
                continue
            num, den, why = getattr(self, f"_{factor}")(row, explain=True)
            points = Decimal(self.tenths(factor, num, den)).scaleb(-1)
            parts.append(
                {"factor": factor, "points": str(points), "max_points": str(self.max_points[factor]), "why": why}
            )
        return parts


def as_values(row: Mapping | tuple) -> tuple:
    """A row as a tuple in ``ROW_FIELDS`` order (tuples pass through)."""
    if isinstance(row, tuple):
        return row
    return tuple(row[field] for field in ROW_FIELDS)


def score_rows(spec: Mapping, rows: Iterable[Mapping | tuple]) -> list[Scored]:
    """Score every row against a profile spec; best first, ranked 1..n (ties by legal name, then id).

    Rows are dicts keyed by ``ROW_FIELDS`` or, faster, tuples in that order (what ``directory_rows`` gives).
    """
    scorer = Scorer(spec)
    row_tenths = scorer.row_tenths
    i_name, i_pk = FIELD_INDEX["legal_name"], FIELD_INDEX["pk"]
    rows = rows if isinstance(rows, list) and (not rows or isinstance(rows[0], tuple)) else list(map(as_values, rows))
    # Sort on (-score, name, id) alone: ids are unique, so the rows themselves are never compared.
    keyed = [((-row_tenths(row), row[i_name], row[i_pk]), row) for row in rows]
    keyed.sort()
    scored: list[Scored] = []
    append = scored.append
    for rank, (key, row) in enumerate(keyed, start=1):
        append(Scored(scorer, row, -key[0], rank))
    return scored


def factor_label(factor: str) -> str:
    return FACTOR_LABELS.get(factor, factor)
