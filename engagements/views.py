"""Partner pages of Phase Two desks (engagement, team, plan, pipeline, attribution, activity) and the vendor portal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from tmw.accounts import policy
from tmw.accounts.models import Organisation
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.pagecache import cached_page
from tmw.tables import Column, Table
from tmw.web import add_application_error, bounded_int, htmx_redirect, search_options

from . import selectors, services
from .filters import OpportunityFilterSet
from .forms import (
    ActivityForm,
    AttributionAddForm,
    AttributionDisputeForm,
    AttributionEndForm,
    AttributionResolveForm,
    EngagementCreateForm,
    MilestoneForm,
    MoveForm,
    NextStepForm,
    OpportunityAddForm,
    OpportunityEditForm,
    StageProbabilityForm,
    TeamMemberForm,
    TransitionForm,
)
from .models import Attribution, Engagement, Milestone, Opportunity, TeamMember

NEXT_STATUSES = {
    "proposed": [("active", "Start")],
    "active": [("paused", "Pause"), ("ended", "End"), ("terminated", "Terminate")],
    "paused": [("active", "Resume"), ("ended", "End"), ("terminated", "Terminate")],
}


def _form_error_message(form) -> str:
    errors = [e for field_errors in form.errors.values() for e in field_errors]
    return errors[0] if errors else "Check the form."


def _filter_error_message(form) -> str:
    for name, errors in form.errors.items():
        if errors:
            label = form.fields[name].label if name in form.fields and form.fields[name].label else name
            return f"{label} ({name}): {errors[0]}"
    return "Check the filters."


def _id_param(data, name: str) -> int | None:
    """An id from the query string or a form (None when absent); a 400 naming the field otherwise."""
    raw = str(data.get(name) or "").strip()
    if not raw:
        return None
    number = bounded_int(raw, minimum=1)
    if number is None:
        raise ApplicationError(f"“{name}” must be the id of a record.", extra={name: ["Enter a whole number id."]})
    return number


# --- engagements ------------------------------------------------------------------------------


@allow("engagement.workspace")
def engagement_list(request):
    """Every desk with its option, status, dates, lead, pipeline size and attributed accounts."""
    engagements = selectors.engagement_list()
    status = request.GET.get("status", "")
    if status in Engagement.Status.values:
        engagements = engagements.filter(status=status)
    context = {
        "engagements": engagements,
        "status": status,
        "statuses": Engagement.Status.choices,
        "summary": selectors.portfolio_summary(),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "engagements/partials/engagement_table.html", context)
    return render(request, "engagements/engagement_list.html", context)


@allow("engagement.manage")
def engagement_create(request):
    """Propose an engagement; from a go diagnostic the vendor and option are prefilled from its decision."""
    initial = {"lead_partner": request.user.pk}
    status = 200
    try:
        diagnostic_id = _id_param(request.GET, "diagnostic")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        diagnostic_id, status = None, 400
    if diagnostic_id is not None:
        from diagnostics.models import Diagnostic

        diagnostic = Diagnostic.objects.filter(pk=diagnostic_id).select_related("vendor").first()
        if diagnostic is not None:
            initial.update(
                diagnostic=diagnostic.pk, vendor=diagnostic.vendor_id, lead_partner=diagnostic.lead_partner_id
            )
            decision = getattr(diagnostic, "decision", None)
            if decision is not None:
                initial["option"] = decision.option or decision.recommended_option
    form = EngagementCreateForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                engagement = services.engagement_create(
                    vendor=data["vendor"],
                    diagnostic=data["diagnostic"],
                    option=data["option"],
                    lead_partner=data["lead_partner"],
                    notes=data["notes"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, f"Engagement for {engagement.vendor} proposed.")
                return redirect("engagements:engagement_detail", engagement_pk=engagement.pk)
        status = 400
    return render(request, "engagements/engagement_create.html", {"form": form}, status=status)


def _engagement(pk: int) -> Engagement:
    return get_object_or_404(Engagement.objects.select_related("vendor", "lead_partner", "diagnostic"), pk=pk)


def _msp_options_url(engagement: Engagement) -> str:
    return reverse("engagements:msp_options", args=[engagement.pk])


def _detail_context(request, engagement: Engagement, **forms) -> dict:
    plan = selectors.plan_progress(engagement=engagement)
    msp_qs = selectors.msp_choices(engagement=engagement, user=request.user)
    stages = selectors.pipeline_by_stage(engagement=engagement)
    attributions = list(selectors.attributions_for(engagement=engagement))
    return {
        "engagement": engagement,
        "transitions": NEXT_STATUSES.get(engagement.status, []),
        "team": selectors.team_for(engagement=engagement),
        "plan": plan,
        "plan_totals": selectors.plan_totals(plan),
        "stages": stages,
        "stage_chart": {
            "type": "bar",
            "labels": [s["label"] for s in stages],
            "values": [float(s["mrr"]) for s in stages],
        },
        "attributions": attributions,
        "disputed": [a for a in attributions if a.is_disputed],
        "activities": selectors.activities_for(engagement=engagement, user=request.user)[:30],
        "tier_a_missing": selectors.tier_a_targets_missing(engagement=engagement),
        "transition_form": forms.get("transition_form") or TransitionForm(),
        "team_form": forms.get("team_form") or TeamMemberForm(),
        "attribution_form": forms.get("attribution_form")
        or AttributionAddForm(msp_queryset=msp_qs, search_url=_msp_options_url(engagement)),
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "milestone_statuses": Milestone.Status.choices,
        "weighted": selectors.weighted_totals(stages),
        "probability_form": StageProbabilityForm(engagement=engagement),
        "resolve_form": AttributionResolveForm(),
        "next_steps": selectors.steps_for(engagement=engagement),
        "step_form": NextStepForm(engagement=engagement, initial={"owner": request.user.pk}),
    }


@allow("engagement.workspace")
@cached_page
def engagement_detail(request, engagement_pk: int):
    """An engagement: status and dates, team, plan progress, pipeline totals, attributions and activity."""
    engagement = _engagement(engagement_pk)
    return render(request, "engagements/engagement_detail.html", _detail_context(request, engagement))


def _detail_error(request, engagement, message: str, **forms):
    messages.error(request, message)
    return render(
        request, "engagements/engagement_detail.html", _detail_context(request, engagement, **forms), status=400
    )


@allow("engagement.manage")
@require_POST
def engagement_transition(request, engagement_pk: int):
    """Start, pause, resume, end or terminate an engagement."""
    engagement = _engagement(engagement_pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _detail_error(request, engagement, _form_error_message(form), transition_form=form)
    try:
        engagement = services.engagement_transition(
            engagement=engagement,
            status=form.cleaned_data["status"],
            on=form.cleaned_data["on"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except ApplicationError as exc:
        return _detail_error(request, engagement, exc.message, transition_form=form)
    messages.success(request, f"Engagement is now {engagement.get_status_display().lower()}.")
    return htmx_redirect(request, reverse("engagements:engagement_detail", args=[engagement.pk]))


# --- team -------------------------------------------------------------------------------------


@allow("engagement.manage")
@require_POST
def team_add(request, engagement_pk: int):
    """Add desk staff (with an allocation, warning above 100% across desks) or a vendor contact."""
    engagement = _engagement(engagement_pk)
    form = TeamMemberForm(request.POST)
    if not form.is_valid():
        return _detail_error(request, engagement, _form_error_message(form), team_form=form)
    try:
        member = services.team_member_add(engagement=engagement, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _detail_error(request, engagement, exc.message, team_form=form)
    messages.success(request, f"{member.display_name} added to the team.")
    if member.user_id:
        total = selectors.staff_allocations(user_ids=[member.user_id]).get(member.user_id, 0)
        if total > 100:
            messages.warning(request, f"{member.display_name} is now allocated {total}% across desks.")
    return htmx_redirect(request, reverse("engagements:engagement_detail", args=[engagement.pk]) + "#team")


@allow("engagement.manage")
@require_POST
def team_remove(request, team_member_pk: int):
    """Take a person off the team."""
    member = get_object_or_404(TeamMember.objects.select_related("engagement__vendor"), pk=team_member_pk)
    engagement_pk = member.engagement_id
    services.team_member_remove(member=member, actor=request.user)
    messages.success(request, "Removed from the team.")
    return htmx_redirect(request, reverse("engagements:engagement_detail", args=[engagement_pk]) + "#team")


# --- plan -------------------------------------------------------------------------------------


@allow("engagement.manage")
@require_POST
def milestone_update(request, milestone_pk: int):
    """Change a milestone's status or due date; htmx gets the updated plan back."""
    milestone = get_object_or_404(Milestone.objects.select_related("engagement__vendor"), pk=milestone_pk)
    form = MilestoneForm(request.POST)
    engagement = milestone.engagement
    if form.is_valid():
        try:
            services.milestone_update(
                milestone=milestone,
                status=form.cleaned_data["status"],
                due_on=form.cleaned_data["due_on"],
                actor=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _form_error_message(form))
    if request.htmx:
        plan = selectors.plan_progress(engagement=engagement)
        context = {
            "engagement": engagement,
            "plan": plan,
            "plan_totals": selectors.plan_totals(plan),
            "milestone_statuses": Milestone.Status.choices,
            "editable": policy.can(request.user, "engagement.manage"),
        }
        return render(request, "engagements/partials/plan.html", context, status=200 if form.is_valid() else 400)
    return redirect(reverse("engagements:engagement_detail", args=[engagement.pk]) + "#plan")


# --- pipeline ---------------------------------------------------------------------------------


def _board_context(request, engagement: Engagement, *, portal: bool = False) -> dict:
    board = selectors.pipeline_board(engagement=engagement, user=request.user)
    for column in board["columns"]:
        # The stage picker's options with this column's stage selected, built once per column, not per card.
        column["stage_options"] = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (value, " selected" if value == column["stage"] else "", label)
                for value, label in Opportunity.Stage.choices
            ),
        )
        for opp in column["cards"]:
            opp.can_move = policy.may_move_opportunity(request.user, opp)
    return {
        "engagement": engagement,
        "board": board,
        "portal": portal,
        "stage_choices": Opportunity.Stage.choices,
    }


@allow("engagement.workspace")
@cached_page
def pipeline_board(request, engagement_pk: int):
    """The kanban board of an engagement's pipeline, with htmx stage moves."""
    engagement = _engagement(engagement_pk)
    context = _board_context(request, engagement)
    if request.htmx and not request.htmx.boosted:
        return render(request, "engagements/partials/board.html", context)
    context["tier_a_missing"] = selectors.tier_a_targets_missing(engagement=engagement)
    return render(request, "engagements/board.html", context)


STAGE_RANK = Case(
    *(When(stage=value, then=Value(rank)) for rank, value in enumerate(Opportunity.Stage.values)),
    output_field=IntegerField(),
)
OPPORTUNITY_COLUMNS = (
    Column("msp", "MSP", ("msp__name",), value=lambda o: o.msp.name),
    Column("stage", "Stage", ("stage_rank",), value=lambda o: o.get_stage_display()),
    Column("source", "Source", ("source",), value=lambda o: o.get_source_display()),
    Column("tier", "Tier", ("tier",), value=lambda o: o.tier or ""),
    Column("mrr", "Expected MRR", ("expected_mrr",), value=lambda o: o.expected_mrr),
    Column("currency", "Currency", value=lambda o: o.engagement.currency),
    Column("signed", "Signed", ("signed_on",), value=lambda o: o.signed_on or ""),
    Column("updated", "Updated", ("stage_changed_at",), value=lambda o: o.stage_changed_at.date()),
    Column("lost_reason", "Lost reason", value=lambda o: o.lost_reason),
)


@allow("engagement.workspace")
def opportunity_list(request, engagement_pk: int):
    """The pipeline as a filterable, paginated list (stage, source, tier, search).

    A filter that cannot be read (an unknown stage, an id that is not a number) answers 400
    with the list unfiltered and a message naming the field.
    """
    engagement = _engagement(engagement_pk)
    filterset = OpportunityFilterSet(
        request.GET or None, queryset=selectors.opportunities_for(engagement=engagement).order_by("msp__name", "pk")
    )
    status = 200
    if filterset.is_bound and filterset.is_valid():
        qs = filterset.qs
    else:
        qs = filterset.queryset
        if filterset.is_bound:
            status = 400
            messages.error(request, _filter_error_message(filterset.form))
    table = Table(request, OPPORTUNITY_COLUMNS, default="msp")
    if table.error:
        status = 400
        messages.error(request, table.error)
    qs = table.order(qs.annotate(stage_rank=STAGE_RANK))
    if table.wants_csv and status == 200:
        return table.csv_response(qs, f"pipeline-{slugify(engagement.vendor.name)}-{timezone.localdate()}.csv")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    competition = selectors.competing_pipelines(engagement=engagement, msp_ids=[o.msp_id for o in page.object_list])
    for opp in page.object_list:
        opp.competitors = competition.get(opp.msp_id, [])
    query = table.query_without("page", "format")
    context = {
        "engagement": engagement,
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        "table": table,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "engagements/partials/opportunity_table.html", context, status=status)
    return render(request, "engagements/opportunity_list.html", context, status=status)


@allow("engagement.manage")
def opportunity_add(request, engagement_pk: int):
    """Add an MSP to the pipeline; warns when a competing vendor has it in its active pipeline."""
    engagement = _engagement(engagement_pk)
    msp_qs = selectors.msp_choices(engagement=engagement, user=request.user)
    status = 200
    try:
        msp_id = _id_param(request.POST if request.method == "POST" else request.GET, "msp")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        msp_id, status = None, 400
    form = OpportunityAddForm(
        request.POST or None, msp_queryset=msp_qs, search_url=_msp_options_url(engagement), initial={"msp": msp_id}
    )
    # Choosing an MSP asks this page whether a competitor has it (the partial below the select).
    form.fields["msp"].widget.attrs.update(
        {
            "hx-get": reverse("engagements:opportunity_add", args=[engagement.pk]),
            "hx-target": "#competition",
            "hx-swap": "outerHTML",
            "hx-trigger": "change",
        }
    )
    competitors = []
    if msp_id is not None:
        competitors = selectors.competing_pipelines(engagement=engagement, msp_ids=[msp_id]).get(msp_id, [])
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                opp = services.opportunity_create(
                    engagement=engagement,
                    msp=data["msp"],
                    source=data["source"],
                    stage=data["stage"],
                    expected_mrr=data["expected_mrr"],
                    source_detail=data["source_detail"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, f"{opp.msp} added to the pipeline.")
                if competitors:
                    messages.warning(
                        request, f"{opp.msp} is in the active pipeline of {', '.join(competitors)} (same category)."
                    )
                return htmx_redirect(request, reverse("engagements:pipeline_board", args=[engagement.pk]))
        status = 400
    context = {"engagement": engagement, "form": form, "competitors": competitors}
    if request.htmx and request.method == "GET":
        return render(request, "engagements/partials/competition_warning.html", context, status=status)
    return render(request, "engagements/opportunity_add.html", context, status=status)


@allow("opportunity.import")
@require_POST
def opportunities_from_targets(request, engagement_pk: int):
    """Add every tier-A MSP of the diagnostic's target list that is not yet in the pipeline."""
    engagement = _engagement(engagement_pk)
    try:
        created = services.opportunities_add_from_target_list(engagement=engagement, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{len(created)} tier-A MSP(s) added to the pipeline.")
    return htmx_redirect(request, reverse("engagements:pipeline_board", args=[engagement.pk]))


@allow("opportunity.move")
@require_POST
def opportunity_move(request, opportunity_pk: int):
    """Move an opportunity to a stage; answers the updated board (htmx) or goes back to it.

    Who may move which card, and on which day, is the service's rule (vendor users: their
    team's cards, today only).
    """
    opportunity = get_object_or_404(Opportunity.objects.select_related("engagement__vendor"), pk=opportunity_pk)
    engagement = opportunity.engagement
    portal = policy.can(request.user, "engagement.portal")
    form = MoveForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.opportunity_move(
                opportunity=opportunity,
                stage=form.cleaned_data["stage"],
                lost_reason=form.cleaned_data["lost_reason"],
                on=form.cleaned_data["on"],
                actor=request.user,
            )
        except ApplicationError as exc:
            status = exc.status
            messages.error(request, exc.message)
        else:
            opportunity.refresh_from_db()
            messages.success(request, f"{opportunity.msp} moved to {opportunity.get_stage_display()}.")
    else:
        status = 400
        messages.error(request, _form_error_message(form))
    if request.htmx:
        return render(
            request,
            "engagements/partials/board.html",
            _board_context(request, engagement, portal=portal),
            status=status,
        )
    url = reverse("engagements:portal") if portal else reverse("engagements:pipeline_board", args=[engagement.pk])
    return redirect(url)


@allow("engagement.workspace")
def opportunity_detail(request, opportunity_pk: int):
    """One opportunity: its stage history, attributions and activity."""
    opportunity = get_object_or_404(
        selectors.opportunities_for().select_related("engagement__lead_partner"), pk=opportunity_pk
    )
    context = {
        "opportunity": opportunity,
        "engagement": opportunity.engagement,
        "history": opportunity.stage_changes.select_related("changed_by").order_by("-created_at", "-pk"),
        "attributions": opportunity.attributions.order_by("-starts_on"),
        "activities": opportunity.activities.select_related("created_by").order_by("-occurred_on", "-pk"),
        "competitors": selectors.competing_pipelines(
            engagement=opportunity.engagement, msp_ids=[opportunity.msp_id]
        ).get(opportunity.msp_id, []),
        "stage_choices": Opportunity.Stage.choices,
        "can_move": policy.may_move_opportunity(request.user, opportunity),
        "can_edit": policy.may_edit_opportunity(request.user, opportunity),
        "next_steps": selectors.steps_for(engagement=opportunity.engagement, opportunity=opportunity),
        "step_form": NextStepForm(engagement=opportunity.engagement, initial={"owner": request.user.pk}),
        "probability": opportunity.engagement.probabilities.get(opportunity.stage, 0),
    }
    return render(request, "engagements/opportunity_detail.html", context)


@allow("opportunity.edit")
@require_POST
def opportunity_edit(request, opportunity_pk: int):
    """Change an opportunity's expected MRR or source detail."""
    opportunity = get_object_or_404(Opportunity.objects.select_related("engagement__vendor"), pk=opportunity_pk)
    form = OpportunityEditForm(request.POST)
    if form.is_valid():
        try:
            services.opportunity_update(opportunity=opportunity, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, "Opportunity saved.")
    else:
        messages.error(request, _form_error_message(form))
    if not policy.can(request.user, "engagement.workspace"):
        return htmx_redirect(request, reverse("engagements:portal") + "#pipeline")
    return htmx_redirect(request, reverse("engagements:opportunity_detail", args=[opportunity.pk]))


@allow("engagement.manage")
def msp_options(request, engagement_pk: int):
    """The MSPs matching what a partner types in a desk's MSP picker (``tmw.web.SearchSelect``)."""
    engagement = _engagement(engagement_pk)
    return search_options(request, selectors.msp_choices(engagement=engagement, user=request.user))


# --- attribution ------------------------------------------------------------------------------


@allow("attribution.manage")
@require_POST
def attribution_add(request, engagement_pk: int):
    """A partner attributes an MSP account (e.g. a vendor-sourced one) with a reason."""
    engagement = _engagement(engagement_pk)
    form = AttributionAddForm(
        request.POST,
        msp_queryset=selectors.msp_choices(engagement=engagement, user=request.user),
        search_url=_msp_options_url(engagement),
    )
    if not form.is_valid():
        return _detail_error(request, engagement, _form_error_message(form), attribution_form=form)
    data = form.cleaned_data
    opportunity = Opportunity.objects.filter(engagement=engagement, msp=data["msp"]).first()
    try:
        attribution = services.attribution_add(
            engagement=engagement,
            msp=data["msp"],
            starts_on=data["starts_on"],
            reason=data["reason"],
            opportunity=opportunity,
            actor=request.user,
        )
    except ApplicationError as exc:
        return _detail_error(request, engagement, exc.message, attribution_form=form)
    messages.success(request, f"{attribution.msp} attributed from {attribution.starts_on:%d %b %Y}.")
    return htmx_redirect(request, reverse("engagements:engagement_detail", args=[engagement.pk]) + "#attributions")


@allow("attribution.manage")
@require_POST
def attribution_end(request, attribution_pk: int):
    """A partner ends an attribution with a reason; it stays in the history."""
    attribution = get_object_or_404(Attribution.objects.select_related("engagement", "msp"), pk=attribution_pk)
    form = AttributionEndForm(request.POST)
    if form.is_valid():
        try:
            services.attribution_end(
                attribution=attribution,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Attribution of {attribution.msp} ended.")
    else:
        messages.error(request, _form_error_message(form))
    return htmx_redirect(
        request, reverse("engagements:engagement_detail", args=[attribution.engagement_id]) + "#attributions"
    )


# --- activity ---------------------------------------------------------------------------------


@allow("activity.log")
@require_POST
def activity_add(request, engagement_pk: int):
    """Log an activity, internal to TMW or shared with the vendor."""
    engagement = _engagement(engagement_pk)
    form = ActivityForm(request.POST)
    if not form.is_valid():
        return _detail_error(request, engagement, _form_error_message(form), activity_form=form)
    try:
        services.activity_create(engagement=engagement, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return _detail_error(request, engagement, exc.message, activity_form=form)
    messages.success(request, "Activity logged.")
    return htmx_redirect(request, reverse("engagements:engagement_detail", args=[engagement.pk]) + "#activity")


# --- vendor portal ----------------------------------------------------------------------------


@allow("engagement.portal")
def portal(request):
    """The vendor's desk: engagement, plan progress, pipeline board and the activity shared with it."""
    engagement = selectors.portal_engagement(user=request.user)
    context: dict[str, Any] = {"engagement": engagement}
    if engagement is not None:
        plan = selectors.plan_progress(engagement=engagement)
        context.update(_board_context(request, engagement, portal=True))
        context.update(
            {
                "plan": plan,
                "plan_totals": selectors.plan_totals(plan),
                "activities": selectors.activities_for(engagement=engagement, user=request.user)[:30],
                "attributions": selectors.attributions_for(engagement=engagement),
                "dispute_form": AttributionDisputeForm(),
                "team": selectors.team_for(engagement=engagement),
                "add_form": OpportunityAddForm(
                    msp_queryset=selectors.msp_choices(engagement=engagement, user=request.user),
                    search_url=reverse("engagements:portal_msp_options"),
                    vendor_user=True,
                ),
            }
        )
        if request.htmx and not request.htmx.boosted:
            return render(request, "engagements/partials/board.html", context)
    return render(request, "engagements/portal.html", context)


@allow("engagement.portal")
def portal_msp_options(request):
    """The MSPs visible to the vendor that match what a vendor user types in the portal's MSP picker."""
    engagement = selectors.portal_engagement(user=request.user)
    if engagement is None:
        return search_options(request, Organisation.objects.none())
    return search_options(request, selectors.msp_choices(engagement=engagement, user=request.user))


@allow("engagement.portal")
@require_POST
def portal_opportunity_add(request):
    """A vendor user adds a vendor-sourced opportunity with an MSP visible to the vendor."""
    engagement = selectors.portal_engagement(user=request.user)
    if engagement is None:
        messages.error(request, "You have no engagement yet.")
        return htmx_redirect(request, reverse("engagements:portal"))
    form = OpportunityAddForm(
        request.POST,
        msp_queryset=selectors.msp_choices(engagement=engagement, user=request.user),
        search_url=reverse("engagements:portal_msp_options"),
        vendor_user=True,
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            opp = services.opportunity_create(
                engagement=engagement,
                msp=data["msp"],
                source=Opportunity.Source.VENDOR,
                stage=data["stage"],
                expected_mrr=data["expected_mrr"],
                source_detail=data["source_detail"],
                actor=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{opp.msp} added to your pipeline.")
    else:
        messages.error(request, _form_error_message(form))
    return htmx_redirect(request, reverse("engagements:portal") + "#pipeline")
