"""Reads of Phase Two desks shared by pages, the API and the dashboards."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.models import Organisation, User

from .models import (
    DEFAULT_CURRENCY,
    Activity,
    Attribution,
    Engagement,
    Milestone,
    NextStep,
    Opportunity,
    TeamMember,
    Workstream,
)

RUNNING = (Engagement.Status.PROPOSED, Engagement.Status.ACTIVE, Engagement.Status.PAUSED)


def engagement_list() -> QuerySet[Engagement]:
    """Engagements in scope with their vendor, lead and pipeline totals (one query)."""
    return (
        Engagement.objects.select_related("vendor", "lead_partner")
        .annotate(
            opportunity_count=Count("opportunities", distinct=True),
            open_attributions=Count("attributions", filter=Q(attributions__ended_on__isnull=True), distinct=True),
        )
        .order_by("status", "-start_date", "-pk")
    )


def portal_engagement(*, user: User) -> Engagement | None:
    """The vendor user's current engagement: the running one, else the most recent."""
    qs = Engagement.objects.filter(vendor_id=user.organisation_id).select_related("vendor", "lead_partner")
    return qs.filter(status__in=RUNNING).order_by("-start_date", "-pk").first() or qs.order_by("-pk").first()


# --- plan -------------------------------------------------------------------------------------


def plan_progress(*, engagement: Engagement) -> list[dict[str, Any]]:
    """Workstreams with their milestones, done/total, percent complete and overdue count (two queries)."""
    today = timezone.localdate()
    milestones = Milestone.objects.filter(engagement=engagement).select_related("owner").order_by("due_on", "order")
    by_stream: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in milestones:
        by_stream[milestone.workstream_id].append(milestone)
    rows = []
    for stream in Workstream.objects.filter(engagement=engagement).order_by("order", "pk"):
        items = by_stream.get(stream.pk, [])
        done = sum(1 for m in items if m.is_done)
        overdue = sum(1 for m in items if not m.is_done and m.due_on and m.due_on < today)
        rows.append(
            {
                "workstream": stream,
                "milestones": items,
                "done": done,
                "total": len(items),
                "percent": round(100 * done / len(items)) if items else 0,
                "overdue": overdue,
            }
        )
    return rows


def plan_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Done, total, percent and overdue over a whole plan."""
    done = sum(r["done"] for r in rows)
    total = sum(r["total"] for r in rows)
    return {
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 0,
        "overdue": sum(r["overdue"] for r in rows),
    }


# --- team -------------------------------------------------------------------------------------


def team_for(*, engagement: Engagement) -> dict[str, Any]:
    """The engagement's TMW staff (with each person's total allocation across running desks) and vendor contacts."""
    members = list(TeamMember.objects.filter(engagement=engagement).select_related("user"))
    staff = [m for m in members if m.side == TeamMember.Side.TMW]
    totals = staff_allocations(user_ids=[m.user_id for m in staff])
    for member in staff:
        member.total_allocation = totals.get(member.user_id, 0) if member.user_id is not None else 0
        member.over_allocated = member.total_allocation > 100
    return {"staff": staff, "contacts": [m for m in members if m.side == TeamMember.Side.VENDOR]}


def staff_allocations(*, user_ids: Iterable[int | None] | None = None) -> dict[int, int]:
    """Each TMW person's total allocation in percent across running (proposed, active, paused) desks."""
    qs = TeamMember.objects.filter(side=TeamMember.Side.TMW, engagement__status__in=RUNNING, user__isnull=False)
    if user_ids is not None:
        qs = qs.filter(user_id__in=list(user_ids))
    return {
        row["user_id"]: row["total"] or 0
        for row in qs.order_by().values("user_id").annotate(total=Sum("allocation_percent"))
    }


# --- pipeline ---------------------------------------------------------------------------------


def _tier_subquery() -> Subquery:
    from diagnostics.models import TargetEntry

    # The tier on the newest target list of the engagement's own diagnostic; the outer row is already scoped.
    return Subquery(
        TargetEntry.objects.filter(
            target_list__diagnostic_id=OuterRef("engagement__diagnostic_id"),
            msp_id=OuterRef("msp_id"),
            excluded=False,
        )
        .order_by("-target_list__number")
        .values("tier")[:1]
    )


def opportunities_for(*, engagement: Engagement | None = None) -> QuerySet[Opportunity]:
    """Opportunities in scope (of one engagement if given) with MSP, vendor and target-list tier."""
    qs = Opportunity.objects.select_related("msp", "vendor", "engagement").annotate(tier=_tier_subquery())
    if engagement is not None:
        qs = qs.filter(engagement=engagement)
    return qs


def competing_pipelines(*, engagement: Engagement, msp_ids: Iterable[Any] | None = None) -> dict[int, list[str]]:
    """MSP id → names of competing vendors (same category) with that MSP in their active pipeline.

    Reads through the scoped manager, so only operators see other vendors' pipelines;
    a vendor user always gets an empty answer.
    """
    category = engagement.vendor.category
    if not category:
        return {}
    if msp_ids is None:
        msp_ids = Opportunity.objects.filter(engagement=engagement).values("msp_id")
    rows = (
        Opportunity.objects.filter(
            msp_id__in=msp_ids, stage__in=Opportunity.ACTIVE_STAGES, vendor__category__iexact=category
        )
        .exclude(vendor_id=engagement.vendor_id)
        .order_by("vendor__name")
        .values_list("msp_id", "vendor__name")
    )
    found: dict[int, list[str]] = defaultdict(list)
    for msp_id, vendor_name in rows:
        if vendor_name not in found[msp_id]:
            found[msp_id].append(vendor_name)
    return dict(found)


def pipeline_board(
    *, engagement: Engagement, user: User, queryset: QuerySet[Opportunity] | None = None
) -> dict[str, Any]:
    """The kanban board: a column per stage with its cards and totals, competition warnings on the cards."""
    qs = queryset if queryset is not None else opportunities_for(engagement=engagement)
    opportunities = list(qs.order_by("-stage_changed_at", "-pk"))
    competition = competing_pipelines(engagement=engagement) if policy.can(user, "engagement.workspace") else {}
    columns: dict[str, dict[str, Any]] = {
        stage: {"stage": stage, "label": label, "cards": [], "mrr": Decimal("0")}
        for stage, label in Opportunity.Stage.choices
    }
    for opp in opportunities:
        opp.competitors = competition.get(opp.msp_id, [])
        column = columns[opp.stage]
        column["cards"].append(opp)
        column["mrr"] += opp.expected_mrr
    probabilities = engagement.probabilities
    for column in columns.values():
        column["probability"] = probabilities.get(column["stage"], 0)
        column["weighted"] = weighted_mrr(column["mrr"], column["probability"])
    return {
        "columns": list(columns.values()),
        "count": len(opportunities),
        "currency": engagement.currency,
        "weighted_open": sum(
            (c["weighted"] for c in columns.values() if c["stage"] in Opportunity.OPEN_STAGES), Decimal("0.00")
        ),
        "weighted_total": sum((c["weighted"] for c in columns.values()), Decimal("0.00")),
    }


CENT = Decimal("0.01")


def weighted_mrr(mrr: Decimal, probability: int) -> Decimal:
    """MRR weighted by a probability in percent, rounded half-up to the cent."""
    return (Decimal(mrr) * Decimal(probability) / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


def weighted_totals(stages: list[dict[str, Any]]) -> dict[str, Decimal]:
    """The weighted MRR of the open pipeline (before signing) and of every stage, from ``pipeline_by_stage`` rows."""
    return {
        "open": sum((s["weighted"] for s in stages if s["stage"] in Opportunity.OPEN_STAGES), Decimal("0.00")),
        "total": sum((s["weighted"] for s in stages), Decimal("0.00")),
    }


def open_pipeline(*, engagement: Engagement) -> list[dict[str, Any]]:
    """The TMW-sourced opportunities before signing, with the probability of their stage (one query).

    What the revenue-share forecast weighs: only a TMW-sourced signing is attributed to the desk.
    """
    probabilities = engagement.probabilities
    rows = (
        Opportunity.objects.filter(
            engagement=engagement, stage__in=Opportunity.OPEN_STAGES, source=Opportunity.Source.TMW
        )
        .order_by("expected_close_on", "msp__name", "pk")
        .values("pk", "msp__name", "stage", "expected_mrr", "expected_close_on")
    )
    return [
        {
            "id": row["pk"],
            "name": row["msp__name"],
            "stage": row["stage"],
            "mrr": row["expected_mrr"],
            "expected_close_on": row["expected_close_on"],
            "probability": probabilities.get(row["stage"], 0),
        }
        for row in rows
    ]


def pipeline_by_stage(*, engagement: Engagement) -> list[dict[str, Any]]:
    """Count and expected MRR per stage of one engagement."""
    rows = {
        r["stage"]: r
        for r in Opportunity.objects.filter(engagement=engagement)
        .order_by()
        .values("stage")
        .annotate(n=Count("pk"), mrr=Sum("expected_mrr"))
    }
    probabilities = engagement.probabilities
    result = []
    for s, label in Opportunity.Stage.choices:
        mrr = rows.get(s, {}).get("mrr") or Decimal("0")
        probability = probabilities.get(s, 0)
        result.append(
            {
                "stage": s,
                "label": label,
                "count": rows.get(s, {}).get("n", 0),
                "mrr": mrr,
                "probability": probability,
                "weighted": weighted_mrr(mrr, probability),
            }
        )
    return result


def msp_choices(*, engagement: Engagement, user: User) -> QuerySet[Organisation]:
    """MSPs a user may add to a pipeline: partners the whole directory; vendors the MSPs visible to them.

    A vendor sees an MSP through the directory's fail-closed manager (its target lists)
    or because it is already in the vendor's pipeline.
    """
    from tmw.directory.models import MSPProfile

    # unscoped: shared (other tenants' rows this action needs by design)
    msps = Organisation.all_objects.filter(kind=Organisation.Kind.MSP)
    if policy.can(user, "engagement.workspace"):
        return msps.order_by("name")
    visible = Q(pk__in=MSPProfile.objects.values("organisation_id")) | Q(
        pk__in=Opportunity.objects.filter(vendor_id=engagement.vendor_id).values("msp_id")
    )
    return msps.filter(visible).order_by("name")


def tier_a_targets_missing(*, engagement: Engagement) -> int:
    """How many tier-A MSPs of the diagnostic's latest target list are not yet in the pipeline."""
    diagnostic = engagement.diagnostic
    if diagnostic is None:
        return 0
    from diagnostics.selectors import latest_target_list

    target_list = latest_target_list(diagnostic=diagnostic)
    if target_list is None:
        return 0
    present = Opportunity.objects.filter(engagement=engagement).values("msp_id")
    return target_list.entries.filter(tier="A", excluded=False, msp__isnull=False).exclude(msp_id__in=present).count()


# --- activity and attribution -----------------------------------------------------------------


def activities_for(*, engagement: Engagement, user: User) -> QuerySet[Activity]:
    """The activity log a user may read: operators everything, vendors only what is shared with them."""
    qs = Activity.objects.filter(engagement=engagement).select_related("msp", "created_by")
    if not policy.can(user, "engagement.workspace"):
        qs = qs.filter(visibility=Activity.Visibility.SHARED)
    return qs.order_by("-occurred_on", "-pk")


def visible_activities(*, user: User) -> QuerySet[Activity]:
    """Every activity in scope that the user may read (the API list)."""
    qs = Activity.objects.select_related("msp", "engagement")
    if not policy.can(user, "engagement.workspace"):
        qs = qs.filter(visibility=Activity.Visibility.SHARED)
    return qs.order_by("-occurred_on", "-pk")


def attributions_for(*, engagement: Engagement) -> QuerySet[Attribution]:
    """The engagement's attributions, open and ended, newest first."""
    return (
        Attribution.objects.filter(engagement=engagement)
        .select_related("msp", "created_by", "opportunity", "disputed_by")
        .order_by("ended_on", "-starts_on", "-pk")
    )


def attributions_for_period(
    *, engagement: Engagement, period_start: datetime.date, period_end: datetime.date
) -> QuerySet[Attribution]:
    """Attributions of an engagement that overlap the period (start ≤ period end, not ended before its start)."""
    return (
        Attribution.objects.filter(engagement=engagement, starts_on__lte=period_end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=period_start))
        .select_related("msp")
        .order_by("msp__name", "starts_on")
    )


# --- dashboard --------------------------------------------------------------------------------


def _currency_chart(stages: list[dict[str, Any]], currencies: list[str]) -> dict[str, Any]:
    """A bar chart of MRR by stage: one series per currency, never added together."""
    labels = [s["label"] for s in stages]
    if len(currencies) <= 1:
        code = currencies[0] if currencies else DEFAULT_CURRENCY
        return {
            "type": "bar",
            "labels": labels,
            "label": code,
            "values": [float(s["mrr"].get(code, 0)) for s in stages],
        }
    datasets = [{"label": code, "data": [float(s["mrr"].get(code, 0)) for s in stages]} for code in currencies]
    return {"type": "bar", "labels": labels, "datasets": datasets}


def _add(total: dict[str, Decimal], amounts: dict[str, Decimal]) -> None:
    for code, amount in amounts.items():
        total[code] = total.get(code, Decimal("0")) + amount


def portfolio_summary() -> dict[str, Any]:
    """Active desks by option, MRR by stage per currency and attributed accounts, across the scope.

    Money is kept per currency (an engagement's is its agreement's, US dollars without one): the open
    pipeline counts the stages before signing, won MRR the signed and live accounts, lost counts in neither.
    """
    by_option = {
        row["option"]: row["n"]
        for row in Engagement.objects.filter(status=Engagement.Status.ACTIVE)
        .order_by()
        .values("option")
        .annotate(n=Count("pk"))
    }
    counts: dict[str, int] = defaultdict(int)
    mrr: dict[str, dict[str, Decimal]] = defaultdict(dict)
    currencies: set[str] = set()
    for row in (
        Opportunity.objects.filter(engagement__status__in=RUNNING)
        .order_by()
        .values("stage", "engagement__agreement__currency")
        .annotate(n=Count("pk"), mrr=Coalesce(Sum("expected_mrr"), Value(Decimal("0")), output_field=DecimalField()))
    ):
        code = row["engagement__agreement__currency"] or DEFAULT_CURRENCY
        counts[row["stage"]] += row["n"]
        mrr[row["stage"]][code] = mrr[row["stage"]].get(code, Decimal("0")) + (row["mrr"] or Decimal("0"))
        currencies.add(code)
    stages: list[dict[str, Any]] = [
        {"stage": stage, "label": label, "count": counts.get(stage, 0), "mrr": mrr.get(stage, {})}
        for stage, label in Opportunity.Stage.choices
    ]
    pipeline: dict[str, Decimal] = {}
    won: dict[str, Decimal] = {}
    for stage in Opportunity.OPEN_STAGES:
        _add(pipeline, mrr.get(stage, {}))
    for stage in Opportunity.WON_STAGES:
        _add(won, mrr.get(stage, {}))
    attributed = Attribution.objects.filter(ended_on__isnull=True).count()
    return {
        "active_by_option": {"A": by_option.get("A", 0), "B": by_option.get("B", 0)},
        "active_total": sum(by_option.values()),
        "pipeline_by_stage": stages,
        "pipeline_mrr": pipeline,
        "unsigned_mrr": pipeline,
        "won_mrr": won,
        "currencies": sorted(currencies),
        "attributed_accounts": attributed,
        "chart": _currency_chart(stages, sorted(currencies)),
    }


# --- the vendor's acknowledgement -------------------------------------------------------------


def disputed_attributions() -> QuerySet[Attribution]:
    """Attributions the vendor disputed and no partner has resolved yet, oldest dispute first."""
    return (
        Attribution.objects.filter(acknowledgement=Attribution.Acknowledgement.DISPUTED)
        .select_related("msp", "vendor", "engagement__lead_partner", "disputed_by")
        .order_by("disputed_at", "pk")
    )


# --- next steps -------------------------------------------------------------------------------


def steps_for(*, engagement: Engagement, opportunity: Opportunity | None = None) -> QuerySet[NextStep]:
    """An engagement's next steps (or one opportunity's): open ones soonest due first, then done ones."""
    qs = NextStep.objects.filter(engagement=engagement).select_related("owner", "opportunity__msp")
    if opportunity is not None:
        qs = qs.filter(opportunity=opportunity)
    return qs.order_by("done", "due_on", "pk")


def steps_open(*, owner: User | None = None) -> QuerySet[NextStep]:
    """Open next steps in scope (of one owner if given), overdue and soonest due first, with their desk and MSP."""
    qs = NextStep.objects.filter(done=False).select_related("owner", "engagement__vendor", "opportunity__msp")
    if owner is not None:
        qs = qs.filter(owner=owner)
    return qs.order_by("due_on", "pk")


def steps_summary(*, owner: User, today: datetime.date | None = None) -> dict[str, int]:
    """How many of an owner's open steps are overdue, due today and due later (one query)."""
    today = today or timezone.localdate()
    counts = NextStep.objects.filter(owner=owner, done=False).aggregate(
        overdue=Count("pk", filter=Q(due_on__lt=today)),
        today=Count("pk", filter=Q(due_on=today)),
        later=Count("pk", filter=Q(due_on__gt=today)),
    )
    return {key: value or 0 for key, value in counts.items()}


def overdue_steps_by_owner(*, today: datetime.date | None = None) -> dict[int, list[NextStep]]:
    """Owner id → their open steps due before ``today``, across the scope (one query)."""
    today = today or timezone.localdate()
    found: dict[int, list[NextStep]] = defaultdict(list)
    for step in (
        NextStep.objects.filter(done=False, due_on__lt=today, owner__is_active=True)
        .select_related("owner", "engagement__vendor", "opportunity__msp")
        .order_by("owner_id", "due_on", "pk")
    ):
        found[step.owner_id].append(step)
    return dict(found)
