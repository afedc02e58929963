"""Reads shared by the diagnostic and target-list pages, the vendor portal, the report and the API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connections
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value, When

from tmw.accounts import policy
from tmw.directory.models import MSPProfile

from .models import ChannelThesis, Criterion, CriterionScore, Decision, Diagnostic, TargetEntry, TargetList
from .models.core import MAX_LEVEL
from .scoring import ROW_FIELDS

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal("100")


def weighted_score(pairs: Iterable[tuple[Decimal | int, int]]) -> Decimal | None:
    """Score 0-100 of (weight, level) pairs: sum(weight x level) / sum(weight x 5) x 100, to one decimal.

    Unscored criteria are left out; None when nothing with a weight is scored.
    """
    earned = Decimal("0")
    possible = Decimal("0")
    for weight, level in pairs:
        earned += Decimal(weight) * level
        possible += Decimal(weight) * MAX_LEVEL
    if not possible:
        return None
    return (earned / possible * HUNDRED).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass
class CriterionRow:
    """One criterion with its score (or None when not scored yet)."""

    criterion: Criterion
    score: CriterionScore | None

    @property
    def level(self) -> int | None:
        return self.score.level if self.score else None

    @property
    def gate_failed(self) -> bool:
        return self.criterion.is_gate and self.score is not None and self.score.level < self.criterion.gate_min_level

    @property
    def level_description(self) -> str:
        if self.score is None:
            return ""
        levels = self.criterion.levels or []
        return levels[self.score.level] if self.score.level < len(levels) else ""


@dataclass
class GroupScore:
    """The weighted score of one criterion group."""

    key: str
    label: str
    score: Decimal | None
    scored: int
    total: int
    rows: list[CriterionRow] = field(default_factory=list)


@dataclass
class Scorecard:
    """Everything computed from a diagnostic's scores: per group, overall, gates."""

    rows: list[CriterionRow]
    groups: list[GroupScore]
    overall: Decimal | None
    failed_gates: list[CriterionRow]
    pending_gates: list[CriterionRow]

    @property
    def all_scored(self) -> bool:
        return all(r.score is not None for r in self.rows)

    @property
    def scored_count(self) -> int:
        return sum(1 for r in self.rows if r.score is not None)

    @property
    def chart(self) -> dict[str, Any]:
        """Chart data for the group scores (Chart.js on pages, bars in the PDF)."""
        return {
            "type": "bar",
            "labels": [g.label for g in self.groups],
            "values": [float(g.score) if g.score is not None else 0 for g in self.groups],
            "options": {"scales": {"y": {"min": 0, "max": 100}}},
        }


def scorecard_build(*, criteria: list[Criterion], scores: list[CriterionScore]) -> Scorecard:
    """Compute group and overall scores and gates from already loaded criteria and scores."""
    by_criterion = {s.criterion_id: s for s in scores}
    rows = [CriterionRow(criterion=c, score=by_criterion.get(c.pk)) for c in criteria]
    groups = []
    for key, label in Criterion.Group.choices:
        group_rows = [r for r in rows if r.criterion.group == key]
        if not group_rows:
            continue
        scored = [(r.criterion.weight, r.score.level) for r in group_rows if r.score is not None]
        groups.append(
            GroupScore(
                key=key,
                label=label,
                score=weighted_score(scored),
                scored=len(scored),
                total=len(group_rows),
                rows=group_rows,
            )
        )
    overall = weighted_score([(r.criterion.weight, r.score.level) for r in rows if r.score is not None])
    return Scorecard(
        rows=rows,
        groups=groups,
        overall=overall,
        failed_gates=[r for r in rows if r.gate_failed],
        pending_gates=[r for r in rows if r.criterion.is_gate and r.score is None],
    )


def diagnostic_scorecard(*, diagnostic: Diagnostic) -> Scorecard:
    """The scorecard of one diagnostic (two queries)."""
    criteria = list(diagnostic.rubric.criteria.all())
    scores = list(CriterionScore.objects.filter(diagnostic=diagnostic).select_related("scored_by"))
    return scorecard_build(criteria=criteria, scores=scores)


def diagnostic_list(*, status: str | None = None) -> QuerySet[Diagnostic]:
    """Diagnostics in scope with what the list shows loaded."""
    qs = Diagnostic.objects.select_related("vendor", "lead_partner", "rubric", "decision").order_by(
        "status", "due_on", "pk"
    )
    if status in Diagnostic.Status.values:
        qs = qs.filter(status=status)
    return qs


def overall_scores(*, diagnostics: list[Diagnostic]) -> dict[int, Decimal | None]:
    """Overall score per diagnostic id, in one query whatever the number of diagnostics."""
    pairs: dict[int, list[tuple[Decimal | int, int]]] = defaultdict(list)
    ids = [d.pk for d in diagnostics]
    if ids:
        for diagnostic_id, weight, level in CriterionScore.objects.filter(diagnostic_id__in=ids).values_list(
            "diagnostic_id", "criterion__weight", "level"
        ):
            pairs[diagnostic_id].append((weight, level))
    return {pk: weighted_score(pairs.get(pk, [])) for pk in ids}


def diagnostic_thesis(*, diagnostic: Diagnostic) -> ChannelThesis | None:
    """The diagnostic's channel thesis, or None when none is written yet."""
    return ChannelThesis.objects.filter(diagnostic=diagnostic).first()


def diagnostic_decision(*, diagnostic: Diagnostic) -> Decision | None:
    """The diagnostic's decision, or None when none is recorded yet."""
    return Decision.objects.filter(diagnostic=diagnostic).select_related("decided_by").first()


def vendor_diagnostic(*, vendor_id: int) -> Diagnostic | None:
    """The vendor's latest diagnostic (through the scoped manager)."""
    return (
        Diagnostic.objects.filter(vendor_id=vendor_id)
        .select_related("vendor", "lead_partner", "rubric")
        .order_by("-started_on", "-pk")
        .first()
    )


def top_targets(
    *, diagnostic: Diagnostic, user: object, limit: int = 25
) -> tuple[TargetList | None, list[TargetEntry]]:
    """The latest target list of a diagnostic the user may see and its top non-excluded entries by rank.

    Returns ``(None, [])`` when no target list exists, or when the user may not see it yet (a
    vendor, before the diagnostic is complete).
    """
    target_list = latest_target_list(diagnostic=diagnostic, user=user)
    if target_list is None:
        return None, []
    entries = list(with_list_rank(target_list.entries.filter(excluded=False)).order_by("rank", "pk")[:limit])
    return target_list, entries


# --- Target lists


def target_lists_shared_later(*, diagnostic: Diagnostic, user: object) -> bool:
    """Whether the user is waiting for the diagnostic's target list: a vendor, before it is complete."""
    return not policy.sees_draft(user) and diagnostic.status != Diagnostic.Status.COMPLETE


def visible_target_lists(*, user: object) -> QuerySet[TargetList]:
    """The target lists the user may see: partners all of them; vendors those of completed diagnostics.

    The one rule the target-list page, its CSV, the report, the portal and the API share
    (tenancy has already narrowed a vendor to its own diagnostics).
    """
    lists = TargetList.objects.all()
    if not policy.sees_draft(user):
        lists = lists.filter(diagnostic__status=Diagnostic.Status.COMPLETE)
    return lists


def latest_target_list(*, diagnostic: Diagnostic, user: object = policy.SYSTEM) -> TargetList | None:
    """The newest target-list snapshot of a diagnostic the user may see, or None before the first build."""
    lists = TargetList.objects.all() if user is policy.SYSTEM else visible_target_lists(user=user)
    return lists.filter(diagnostic=diagnostic).order_by("-number").first()


def msp_on_target_list(vendor_ids: tuple[int, ...], msp_ref: str) -> Exists:
    """The directory's visibility rule of Phase One: a vendor sees the MSPs on the target lists (not excluded)
    of its own completed diagnostics; a draft's list is TMW's working state and shows the vendor nothing."""
    return Exists(
        # unscoped: shared (the visibility rule of the directory's manager itself)
        TargetEntry.all_objects.filter(
            msp=OuterRef(msp_ref),
            excluded=False,
            target_list__diagnostic__vendor__in=vendor_ids,
            target_list__diagnostic__status=Diagnostic.Status.COMPLETE,
        )
    )


def directory_rows() -> list[tuple[Any, ...]]:
    """Every MSP in the directory as the plain rows the scorer reads: tuples in ``scoring.ROW_FIELDS`` order.

    A target list scores the whole directory, TMW's own data, whoever asks; what the
    caller then sees of the result is scoped as usual. This is the one place that reads
    the directory across tenants for scoring. The ORM writes the query; the rows are read
    straight from the cursor (booleans may come back as 0/1), which keeps 20,000 rows fast.
    """
    # unscoped: shared (a target list scores the whole directory, whoever asks)
    queryset = MSPProfile.all_objects.order_by().values_list(*ROW_FIELDS)
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def with_list_rank(entries: QuerySet[TargetEntry]) -> QuerySet[TargetEntry]:
    """Entries annotated with ``list_rank``: their place among the list's included (not excluded) entries.

    The stored ``rank`` keeps the score order of every scored MSP; once some are excluded it has
    gaps, so readers are shown ``list_rank`` (1..N without gaps, None on an excluded entry). It is
    counted over the whole list, so a tier filter or a page of the list keeps each entry's place.
    """
    ahead = (
        TargetEntry.objects.filter(target_list=OuterRef("target_list"), excluded=False, rank__lte=OuterRef("rank"))
        .order_by()
        .values("target_list")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return entries.annotate(
        list_rank=Case(
            When(excluded=True, then=Value(None)),
            default=Subquery(ahead, output_field=IntegerField()),
            output_field=IntegerField(),
        )
    )


def visible_entries(*, user: object, target_list: TargetList | None = None) -> QuerySet[TargetEntry]:
    """Target-list entries the user may see, in rank order (of one list, or of all).

    Vendors see neither the MSPs TMW excluded nor any entry of a diagnostic that is not complete.
    """
    entries = TargetEntry.objects.order_by("target_list", "rank", "pk")
    if target_list is not None:
        entries = entries.filter(target_list=target_list).order_by("rank", "pk")
    if not policy.sees_draft(user):
        entries = entries.filter(target_list__diagnostic__status=Diagnostic.Status.COMPLETE)
    if not policy.can(user, "targets.manage"):
        entries = entries.filter(excluded=False)
    return with_list_rank(entries)


def tier_distribution(*, entries: QuerySet[TargetEntry]) -> dict[str, int]:
    """How many entries sit in each tier, A to C."""
    counts = {"A": 0, "B": 0, "C": 0}
    for tier, n in entries.order_by().values_list("tier").annotate(n=Count("pk")):
        counts[tier] = n
    return counts
