"""Pages of the desk in depth: the vendor's acknowledgement of attributions, stage probabilities and next steps.

Beside ``views.py`` (which had reached the size at which a room is split); the desk page and the
pipeline board in ``views.py`` show what these pages write.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.web import htmx_redirect

from . import selectors, services
from .forms import AttributionDisputeForm, AttributionResolveForm, NextStepForm, StageProbabilityForm
from .models import Attribution, Engagement, NextStep, Opportunity


def _first_error(form) -> str:
    for name, errors in form.errors.items():
        if errors:
            field = form.fields.get(name)
            label = field.label if field is not None and field.label else name
            return f"{label} ({name}): {errors[0]}"
    return "Check the form."


def _detail_url(engagement_id: int, anchor: str) -> str:
    return reverse("engagements:engagement_detail", args=[engagement_id]) + anchor


# --- the vendor's acknowledgement -------------------------------------------------------------


def _portal_attribution(request, attribution_pk: int) -> Attribution:
    return get_object_or_404(
        Attribution.objects.filter(vendor_id=request.user.organisation_id).select_related("msp", "engagement"),
        pk=attribution_pk,
    )


@allow("attribution.acknowledge")
@require_POST
def portal_attribution_acknowledge(request, attribution_pk: int):
    """The vendor acknowledges that TMW sourced an attributed account."""
    attribution = _portal_attribution(request, attribution_pk)
    try:
        services.attribution_acknowledge(attribution=attribution, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"You acknowledged {attribution.msp} as sourced by TMW.")
    return htmx_redirect(request, reverse("engagements:portal") + "#attributions")


@allow("attribution.acknowledge")
@require_POST
def portal_attribution_dispute(request, attribution_pk: int):
    """The vendor disputes an attribution within its window, with a reason; the partner is told."""
    attribution = _portal_attribution(request, attribution_pk)
    form = AttributionDisputeForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(_first_error(form), extra=dict(form.errors))
        services.attribution_dispute(attribution=attribution, reason=form.cleaned_data["reason"], actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return htmx_redirect(request, reverse("engagements:portal") + "#attributions")
    messages.success(request, f"Your dispute of {attribution.msp} was sent to TMW.")
    return htmx_redirect(request, reverse("engagements:portal") + "#attributions")


@allow("attribution.resolve")
@require_POST
def attribution_resolve(request, attribution_pk: int):
    """A partner resolves a disputed attribution: kept, or ended from a date, with a reason."""
    attribution = get_object_or_404(Attribution.objects.select_related("engagement", "msp"), pk=attribution_pk)
    form = AttributionResolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.attribution_resolve(
                attribution=attribution,
                outcome=data["outcome"],
                reason=data["reason"],
                ended_on=data["ended_on"],
                actor=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            verb = "kept" if data["outcome"] == "kept" else "ended"
            messages.success(request, f"Dispute of {attribution.msp} resolved: attribution {verb}.")
    else:
        messages.error(request, _first_error(form))
    return htmx_redirect(request, _detail_url(attribution.engagement_id, "#attributions"))


# --- stage probabilities ----------------------------------------------------------------------


@allow("pipeline.probabilities")
@require_POST
def stage_probabilities(request, engagement_pk: int):
    """Save the desk's probability per stage (whole percent, 0-100)."""
    engagement = get_object_or_404(Engagement.objects.select_related("vendor"), pk=engagement_pk)
    form = StageProbabilityForm(request.POST, engagement=engagement)
    values = {name: request.POST.get(name, "") for name in form.fields}
    try:
        services.stage_probabilities_set(engagement=engagement, probabilities=values, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Stage probabilities saved; the weighted pipeline uses them now.")
    return htmx_redirect(request, _detail_url(engagement.pk, "#probabilities"))


# --- next steps -------------------------------------------------------------------------------


@allow("step.manage")
@require_POST
def next_step_add(request, engagement_pk: int):
    """Add a next step to the engagement or one of its opportunities; back to where it was added."""
    engagement = get_object_or_404(Engagement.objects.select_related("vendor"), pk=engagement_pk)
    form = NextStepForm(request.POST, engagement=engagement)
    back = _detail_url(engagement.pk, "#steps")
    opportunity_raw = request.POST.get("opportunity", "")
    if request.POST.get("back") == "opportunity" and form.is_valid() and form.cleaned_data.get("opportunity"):
        back = reverse("engagements:opportunity_detail", args=[form.cleaned_data["opportunity"].pk]) + "#steps"
    if not form.is_valid():
        messages.error(request, _first_error(form))
        if opportunity_raw.isdigit() and request.POST.get("back") == "opportunity":
            opp = Opportunity.objects.filter(engagement=engagement, pk=int(opportunity_raw[:18])).first()
            if opp is not None:
                back = reverse("engagements:opportunity_detail", args=[opp.pk]) + "#steps"
        return htmx_redirect(request, back)
    data = form.cleaned_data
    try:
        step = services.next_step_create(
            engagement=engagement,
            title=data["title"],
            owner=data["owner"],
            due_on=data["due_on"],
            opportunity=data.get("opportunity"),
            actor=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Next step “{step.title}” added for {step.owner}.")
    return htmx_redirect(request, back)


@allow("step.manage")
@require_POST
def next_step_done(request, next_step_pk: int):
    """Mark a next step done, or open it again (``done=0``)."""
    step = get_object_or_404(NextStep.objects.select_related("engagement"), pk=next_step_pk)
    done = request.POST.get("done", "1") != "0"
    try:
        services.next_step_complete(step=step, done=done, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{step.title}” {'done' if done else 'open again'}.")
    nxt = request.POST.get("next", "")
    allowed = {
        "list": reverse("engagements:next_step_list"),
        "home": reverse("dashboard:partner"),
        "opportunity": reverse("engagements:opportunity_detail", args=[step.opportunity_id])
        if step.opportunity_id
        else "",
    }
    return htmx_redirect(request, allowed.get(nxt) or _detail_url(step.engagement_id, "#steps"))


@allow("step.view")
def next_step_list(request):
    """Every open next step: one's own by default, everyone's with ``?owner=all``; overdue first."""
    everyone = request.GET.get("owner") == "all"
    steps = selectors.steps_open(owner=None if everyone else request.user)
    page = Paginator(steps, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "everyone": everyone,
        "today": timezone.localdate(),
        "summary": selectors.steps_summary(owner=request.user),
    }
    return render(request, "engagements/next_step_list.html", context)
