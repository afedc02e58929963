"""Retainer tiers and agreements: terms versions, the equity layer and the forecast."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from commissions import forecast, imports, selectors, services
from commissions.forms import (
    AcknowledgementWindowForm,
    AgreementCreateForm,
    RetainerTierForm,
    TermsForm,
)
from commissions.models import (
    Agreement,
    AgreementTerms,
    RetainerTier,
    RevenueReport,
    Statement,
)
from engagements import selectors as engagement_selectors
from engagements.models import Engagement
from tmw import months
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.months import format_month, month_label
from tmw.web import add_application_error, htmx_redirect


def current_terms(versions: Iterable[AgreementTerms], today: datetime.date | None = None) -> AgreementTerms | None:
    """The version in force this month among prefetched versions (else the earliest future one)."""
    versions = list(versions)
    if not versions:
        return None
    return selectors.terms_in_force(
        agreement=versions[0].agreement, period=months.this_month(today), versions=versions, or_upcoming=True
    )


def _versions_prefetch():
    return Prefetch(
        "versions",
        queryset=AgreementTerms.objects.select_related("retainer_tier", "created_by")
        .prefetch_related("steps")
        .order_by("-effective_month"),
    )


# --- Retainer tiers


def _tier_fields(form) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "monthly_fee_usd": data["monthly_fee_usd"],
        "monthly_fee_cad": data["monthly_fee_cad"],
        "description": data.get("description", ""),
        "active": data.get("active", False),
    }


@allow(GET="terms.view", POST="terms.manage")
def tier_list(request):
    """Retainer tiers: monthly fee per currency and what each includes; operators add and edit them."""
    tiers = RetainerTier.objects.annotate(uses=Count("terms"))
    form = RetainerTierForm(request.POST or None, prefix="new")
    if request.method == "POST":
        if form.is_valid():
            try:
                tier = services.retainer_tier_save(actor=request.user, **_tier_fields(form))
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, f"Retainer tier “{tier}” added.")
                return htmx_redirect(request, reverse("commissions:tier_list"))
        return render(request, "commissions/tier_list.html", {"tiers": tiers, "form": form}, status=400)
    return render(request, "commissions/tier_list.html", {"tiers": tiers, "form": form})


@allow(GET="terms.view", POST="terms.manage")
def tier_edit(request, retainertier_pk: int):
    """Edit one retainer tier; agreements using it bill the new fee from the next statement computed."""
    tier = get_object_or_404(RetainerTier, pk=retainertier_pk)
    form = RetainerTierForm(request.POST or None, instance=tier)
    if request.method == "POST":
        if form.is_valid():
            try:
                tier = services.retainer_tier_save(actor=request.user, tier=tier, **_tier_fields(form))
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, f"Retainer tier “{tier}” saved.")
                return htmx_redirect(request, reverse("commissions:tier_list"))
        return render(request, "commissions/tier_edit.html", {"tier": tier, "form": form}, status=400)
    return render(request, "commissions/tier_edit.html", {"tier": tier, "form": form})


# --- Agreements


@allow("terms.view")
def agreement_list(request):
    """Every agreement with its engagement, currency and the terms in force this month."""
    agreements = list(
        Agreement.objects.select_related("vendor", "engagement__lead_partner")
        .prefetch_related(_versions_prefetch())
        .order_by("vendor__name", "pk")
    )
    for agreement in agreements:
        agreement.terms_now = current_terms(agreement.versions.all())
    without = Engagement.objects.filter(agreement__isnull=True).select_related("vendor").order_by("vendor__name")
    context = {
        "agreements": agreements,
        "without_agreement": list(without),
    }
    return render(request, "commissions/agreement_list.html", context)


@allow("terms.manage")
def agreement_create(request, engagement_pk: int):
    """Set up the agreement of an engagement that has none: currency and its first terms."""
    engagement = get_object_or_404(
        Engagement.objects.select_related("vendor").filter(agreement__isnull=True), pk=engagement_pk
    )
    initial = {**TermsForm.initial_from(None), "currency": "USD"}
    if engagement.start_date:
        initial["effective_month"] = f"{format_month(engagement.start_date)}"
    form = AgreementCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        kwargs.pop("note", None)
        try:
            agreement = services.agreement_create(engagement=engagement, actor=request.user, **kwargs)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Agreement with {engagement.vendor} set up.")
            return htmx_redirect(request, reverse("commissions:agreement_detail", args=[agreement.pk]))
    status = 400 if request.method == "POST" else 200
    context = {"engagement": engagement, "form": form}
    return render(request, "commissions/agreement_create.html", context, status=status)


def _agreement(pk: int) -> Agreement:
    return get_object_or_404(
        Agreement.objects.select_related("vendor", "engagement__lead_partner", "created_by").prefetch_related(
            _versions_prefetch()
        ),
        pk=pk,
    )


def agreement_forecast(agreement: Agreement, terms, today: datetime.date | None = None) -> dict:
    """The 12-month revenue-share projection and the tail-if-stopped-today estimate of an agreement."""
    today = today or timezone.localdate()
    this_month = months.this_month(today)
    attributions = list(
        imports.attributions_in_period(this_month).filter(engagement_id=agreement.engagement_id).order_by("msp__name")
    )
    latest: dict[int, Decimal] = {}
    for report in (
        RevenueReport.objects.filter(attribution__in=attributions, period__lte=this_month)
        .order_by("attribution_id", "-period")
        .only("attribution_id", "amount", "period")
    ):
        latest.setdefault(report.attribution_id, report.amount)
    accounts = [
        forecast.ForecastAccount(
            name=a.msp.name, starts_on=a.starts_on, mrr=latest.get(a.pk, Decimal("0.00")), ended_on=a.ended_on
        )
        for a in attributions
    ]
    stopped = agreement.engagement.stop_date
    # Only a running desk's pipeline can still become attributed accounts.
    open_pipeline = [] if stopped is not None else engagement_selectors.open_pipeline(engagement=agreement.engagement)
    opportunities = [
        forecast.PipelineOpportunity(
            name=o["name"], mrr=o["mrr"], probability=o["probability"], closes_on=o["expected_close_on"]
        )
        for o in open_pipeline
    ]
    undated = sum(1 for o in opportunities if o.closes_on is None)
    if terms is None:
        return {
            "accounts": accounts,
            "months": [],
            "tail": None,
            "chart": None,
            "total": Decimal("0.00"),
            "pipeline": opportunities,
            "pipeline_months": [],
            "pipeline_total": Decimal("0.00"),
            "pipeline_undated": undated,
        }
    schedule = [s.rate for s in sorted(terms.steps.all(), key=lambda s: s.year)]
    projection = forecast.project_revenue_share(
        accounts=accounts, schedule=schedule, first_period=months.add_months(this_month, 1)
    )
    pipeline = forecast.project_pipeline_share(
        opportunities=opportunities, schedule=schedule, first_period=months.add_months(this_month, 1)
    )
    tail = None
    if stopped is None:
        tail = forecast.tail_if_stopped(
            accounts=accounts,
            schedule=schedule,
            stop_on=today,
            tail_months=terms.tail_months,
            tail_rate=terms.tail_rate,
        )
    return {
        "accounts": accounts,
        "months": projection,
        "tail": tail,
        "total": sum((m.total for m in projection), Decimal("0.00")),
        "pipeline": opportunities,
        "pipeline_months": pipeline,
        "pipeline_total": sum((m.total for m in pipeline), Decimal("0.00")),
        "pipeline_undated": undated,
        "chart": forecast.chart_data(projection=projection, tail=tail, pipeline=pipeline),
    }


def _equity_summary(agreement: Agreement, terms) -> dict | None:
    if terms is None or terms.equity_kind == AgreementTerms.EquityKind.NONE:
        return None
    accrued = selectors.equity_accrued(agreement=agreement)
    return {"accrued": accrued, "running_principal": selectors.convertible_running_principal(agreement=agreement)}


def _agreement_context(request, agreement: Agreement, form: TermsForm | None = None) -> dict:
    versions = list(agreement.versions.all())
    terms = current_terms(versions)
    statements = list(
        Statement.objects.filter(agreement=agreement).select_related("credit_note_for").order_by("-period", "-pk")[:24]
    )
    return {
        "agreement": agreement,
        "versions": versions,
        "terms": terms,
        "equity": _equity_summary(agreement, terms),
        "forecast": agreement_forecast(agreement, terms),
        "statements": statements,
        "form": form or TermsForm(initial=TermsForm.initial_from(terms)),
        "window_form": AcknowledgementWindowForm(
            initial={"acknowledgement_days": agreement.engagement.acknowledgement_days}
        ),
    }


@allow("terms.view")
def agreement_detail(request, agreement_pk: int):
    """One agreement: terms in force, version history, equity layer, forecast chart and statements."""
    agreement = _agreement(agreement_pk)
    return render(request, "commissions/agreement_detail.html", _agreement_context(request, agreement))


@allow(POST="terms.manage")
@require_POST
def agreement_terms_add(request, agreement_pk: int):
    """Add a terms version effective from a month; statements already locked keep their terms."""
    agreement = _agreement(agreement_pk)
    form = TermsForm(request.POST)
    if form.is_valid():
        try:
            services.agreement_terms_change(agreement=agreement, actor=request.user, **form.service_kwargs())
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request,
                f"New terms from {month_label(form.cleaned_data['effective_month'])} saved for {agreement.vendor}.",
            )
            return htmx_redirect(request, reverse("commissions:agreement_detail", args=[agreement.pk]))
    context = _agreement_context(request, agreement, form=form)
    return render(request, "commissions/agreement_detail.html", context, status=400)


@allow(POST="attribution.window")
@require_POST
def agreement_acknowledgement_window(request, agreement_pk: int):
    """Set the days the vendor has to acknowledge or dispute a new attribution (kept on the engagement)."""
    from engagements import services as engagement_services

    agreement = _agreement(agreement_pk)
    form = AcknowledgementWindowForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(
                "The acknowledgement window is a whole number of days from 1 to 90.",
                extra={"acknowledgement_days": ["Enter 1 to 90."]},
            )
        engagement_services.acknowledgement_window_set(
            engagement=agreement.engagement, days=form.cleaned_data["acknowledgement_days"], actor=request.user
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        messages.error(request, exc.message)
        context = _agreement_context(request, agreement)
        context["window_form"] = form
        return render(request, "commissions/agreement_detail.html", context, status=400)
    messages.success(
        request,
        f"{agreement.vendor} now has {form.cleaned_data['acknowledgement_days']} days to answer an attribution.",
    )
    return htmx_redirect(request, reverse("commissions:agreement_detail", args=[agreement.pk]) + "#acknowledgement")


# --- Revenue intake (finance)
