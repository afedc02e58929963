"""Partner pages of Phase One diagnostics, the rubric editor, the report, the vendor portal, ideal-partner
profiles and target lists."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from tmw.accounts import policy
from tmw.accounts.permissions import allow
from tmw.directory.imports import write_csv
from tmw.directory.models import MSPProfile
from tmw.errors import ApplicationError
from tmw.pagecache import cached_page
from tmw.web import add_application_error, htmx_redirect, int_param

from . import selectors, services
from .forms import (
    CriterionEditForm,
    CriterionFormSet,
    DecisionForm,
    DiagnosticSettingsForm,
    DiagnosticStartForm,
    EntryFlagForm,
    IdealPartnerProfileForm,
    RubricNotesForm,
    ScoreForm,
    ThesisForm,
)
from .models import Criterion, Diagnostic, IdealPartnerProfile, RubricVersion, TargetEntry, TargetList
from .models.targeting import FACTOR_LABELS, FACTORS
from .params import bad_filter_page, bounded_int

# --- List and start


@allow(GET="diagnostic.workspace")
def diagnostic_list(request):
    """Every diagnostic with its status, lead, due date, overdue flag and overall score."""
    status = request.GET.get("status", "")
    diagnostics = list(selectors.diagnostic_list(status=status))
    scores = selectors.overall_scores(diagnostics=diagnostics)
    for d in diagnostics:
        d.overall = scores.get(d.pk)
    context = {
        "diagnostics": diagnostics,
        "status": status,
        "statuses": Diagnostic.Status.choices,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "diagnostics/partials/diagnostic_table.html", context)
    return render(request, "diagnostics/diagnostic_list.html", context)


@allow("diagnostic.manage")
def diagnostic_create(request):
    """Start a diagnostic of a vendor against the latest rubric."""
    # ?vendor= comes from the New vendor page, which sends the partner here next.
    initial = {"lead_partner": request.user.pk, "vendor": int_param(request, "vendor")}
    form = DiagnosticStartForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                diagnostic = services.diagnostic_start(
                    vendor=form.cleaned_data["vendor"],
                    lead_partner=form.cleaned_data["lead_partner"],
                    started_on=form.cleaned_data["started_on"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, f"Diagnostic of {diagnostic.vendor} started.")
                return redirect("diagnostics:diagnostic_detail", diagnostic_pk=diagnostic.pk)
        status = 400
    return render(request, "diagnostics/diagnostic_create.html", {"form": form}, status=status)


# --- Detail


def _get_diagnostic(pk: int) -> Diagnostic:
    return get_object_or_404(Diagnostic.objects.select_related("vendor", "lead_partner", "rubric"), pk=pk)


def _detail_context(request, diagnostic: Diagnostic, **forms) -> dict:
    card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
    thesis = selectors.diagnostic_thesis(diagnostic=diagnostic)
    decision = selectors.diagnostic_decision(diagnostic=diagnostic)
    target_list, targets = selectors.top_targets(diagnostic=diagnostic, user=request.user, limit=10)
    if "settings_form" not in forms:
        forms["settings_form"] = DiagnosticSettingsForm(
            initial={
                "lead_partner": diagnostic.lead_partner_id,
                "due_on": diagnostic.due_on,
                "has_us_sales": diagnostic.has_us_sales,
                "has_us_marketing": diagnostic.has_us_marketing,
                "has_us_channel": diagnostic.has_us_channel,
            }
        )
    if "thesis_form" not in forms:
        forms["thesis_form"] = ThesisForm(instance=thesis)
    if "decision_form" not in forms:
        initial = {"option": diagnostic.recommended_option}
        if decision is not None:
            initial = {
                f: getattr(decision, f)
                for f in ("outcome", "rationale", "conditions", "gate_override_reason", "option")
            } | {"option_override_reason": decision.option_override_reason}
        forms["decision_form"] = DecisionForm(initial=initial)
    return {
        "diagnostic": diagnostic,
        "card": card,
        "thesis": thesis,
        "decision": decision,
        "target_list": target_list,
        "targets": targets,
        "editable": diagnostic.status != Diagnostic.Status.COMPLETE,
        "level_range": range(6),
        **forms,
    }


@allow("diagnostic.workspace")
def diagnostic_detail(request, diagnostic_pk: int):
    """One diagnostic: scores per criterion, group chart, gates, thesis, decision and status."""
    diagnostic = _get_diagnostic(diagnostic_pk)
    return render(request, "diagnostics/diagnostic_detail.html", _detail_context(request, diagnostic))


def _detail_with_error(request, diagnostic: Diagnostic, exc: ApplicationError | None = None, **forms):
    if exc is not None and not forms:
        messages.error(request, exc.message)
    context = _detail_context(request, diagnostic, **forms)
    return render(request, "diagnostics/diagnostic_detail.html", context, status=400)


@allow("diagnostic.manage")
@require_POST
def diagnostic_settings(request, diagnostic_pk: int):
    """Change the lead, due date and the vendor's US teams."""
    diagnostic = _get_diagnostic(diagnostic_pk)
    form = DiagnosticSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.diagnostic_update(diagnostic=diagnostic, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Diagnostic settings saved.")
            return htmx_redirect(request, reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk]) + "#settings")
    return _detail_with_error(request, diagnostic, settings_form=form)


@allow("diagnostic.manage")
@require_POST
def score_save(request, diagnostic_pk: int, criterion_pk: int):
    """Save the level and evidence of one criterion; htmx swaps the row and the summary."""
    diagnostic = _get_diagnostic(diagnostic_pk)
    criterion = get_object_or_404(Criterion, pk=criterion_pk, rubric_id=diagnostic.rubric_id)
    form = ScoreForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.criterion_score_set(
                diagnostic=diagnostic,
                criterion=criterion,
                level=form.cleaned_data["level"],
                evidence=form.cleaned_data["evidence"],
                actor=request.user,
            )
        except ApplicationError as exc:
            error = exc.message
    else:
        error = "Pick a level from 0 to 5."
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk]) + f"#criterion-{criterion.pk}")
    card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
    row = next(r for r in card.rows if r.criterion.pk == criterion.pk)
    context = {
        "diagnostic": diagnostic,
        "card": card,
        "row": row,
        "form": form if error else None,
        "editable": True,
        "error": error,
        "saved": not error,
        "oob": True,
    }
    return render(request, "diagnostics/partials/score_row.html", context, status=400 if error else 200)


@allow("diagnostic.manage")
@require_POST
def thesis_save(request, diagnostic_pk: int):
    """Save the channel thesis."""
    diagnostic = _get_diagnostic(diagnostic_pk)
    form = ThesisForm(request.POST)
    if form.is_valid():
        try:
            services.thesis_save(diagnostic=diagnostic, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Channel thesis saved.")
            return htmx_redirect(request, reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk]) + "#thesis")
    return _detail_with_error(request, diagnostic, thesis_form=form)


@allow("diagnostic.manage")
@require_POST
def decision_save(request, diagnostic_pk: int):
    """Record the decision and the Phase Two option."""
    diagnostic = _get_diagnostic(diagnostic_pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.decision_record(diagnostic=diagnostic, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Decision recorded.")
            return htmx_redirect(request, reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk]) + "#decision")
    return _detail_with_error(request, diagnostic, decision_form=form)


@allow("diagnostic.manage")
@require_POST
def diagnostic_transition(request, diagnostic_pk: int):
    """Move the diagnostic to another status."""
    diagnostic = _get_diagnostic(diagnostic_pk)
    try:
        diagnostic = services.diagnostic_transition(
            diagnostic=diagnostic, to=request.POST.get("to", ""), actor=request.user
        )
    except ApplicationError as exc:
        return _detail_with_error(request, diagnostic, exc)
    messages.success(request, f"Diagnostic is now {diagnostic.get_status_display().lower()}.")
    return htmx_redirect(request, reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk]))


# --- Report


@allow(GET="diagnostic.view")
def report_pdf(request, diagnostic_pk: int):
    """The PDF report of a completed diagnostic; a diagnostic that is not complete answers 404."""
    diagnostic: Diagnostic = get_object_or_404(
        Diagnostic.objects.select_related("vendor", "lead_partner", "rubric"),
        pk=diagnostic_pk,
        status=Diagnostic.Status.COMPLETE,
    )
    from .pdf import diagnostic_report

    filename, content_type, content = diagnostic_report(diagnostic=diagnostic, user=request.user)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Rubric


@allow(GET="rubric.view")
def rubric(request):
    """The latest rubric and its earlier versions."""
    services.rubric_current(actor=request.user)
    versions = list(RubricVersion.objects.select_related("created_by"))
    return render(request, "diagnostics/rubric.html", _rubric_context(versions[0], versions))


@allow(GET="rubric.view")
def rubric_version(request, rubricversion_pk: int):
    """One rubric version, read-only (earlier versions stay for the diagnostics that use them)."""
    versions = list(RubricVersion.objects.select_related("created_by"))
    version = next((v for v in versions if v.pk == rubricversion_pk), None)
    if version is None:
        raise Http404
    context = _rubric_context(version, versions)
    context["is_old"] = version.pk != versions[0].pk
    return render(request, "diagnostics/rubric.html", context)


def _rubric_context(rubric: RubricVersion, versions: list[RubricVersion]) -> dict:
    criteria = list(rubric.criteria.order_by("order", "pk"))
    groups = [(label, [c for c in criteria if c.group == key]) for key, label in Criterion.Group.choices]
    return {"rubric": rubric, "versions": versions, "groups": [(label, cs) for label, cs in groups if cs]}


@allow(GET="rubric.manage", POST="rubric.manage")
def rubric_edit(request):
    """Edit the rubric; saving creates a new version, diagnostics keep theirs."""
    base = services.rubric_current(actor=request.user)
    criteria = list(base.criteria.order_by("order", "pk"))
    if request.method == "POST":
        formset = CriterionFormSet(request.POST, prefix="c")
        notes_form = RubricNotesForm(request.POST)
        if formset.is_valid() and notes_form.is_valid():
            try:
                new = services.rubric_version_create(
                    base=base,
                    criteria=[
                        f.criterion_values()
                        for f in formset.forms
                        if f.has_changed() or f.cleaned_data.get("key")
                        if not f.cleaned_data.get("DELETE")
                    ],
                    notes=notes_form.cleaned_data["notes"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                notes_form.add_error(None, exc.message)
            else:
                messages.success(request, f"Rubric saved as version {new.number}.")
                return redirect("diagnostics:rubric")
        status = 400
    else:
        formset = CriterionFormSet(initial=[CriterionEditForm.initial_for(c) for c in criteria], prefix="c")
        notes_form = RubricNotesForm()
        status = 200
    return render(
        request,
        "diagnostics/rubric_edit.html",
        {"rubric": base, "formset": formset, "notes_form": notes_form},
        status=status,
    )


# --- Vendor portal


@allow(GET="diagnostic.portal")
def portal(request):
    """The vendor's own diagnostic: status while open; scores, thesis, decision and targets once complete."""
    diagnostic = selectors.vendor_diagnostic(vendor_id=request.user.organisation_id)
    context: dict = {"diagnostic": diagnostic, "org": request.user.organisation}
    if diagnostic is not None and diagnostic.is_complete:
        card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
        target_list, targets = selectors.top_targets(diagnostic=diagnostic, user=request.user, limit=25)
        context.update(
            {
                "card": card,
                "thesis": selectors.diagnostic_thesis(diagnostic=diagnostic),
                "decision": selectors.diagnostic_decision(diagnostic=diagnostic),
                "target_list": target_list,
                "targets": targets,
            }
        )
    return render(request, "diagnostics/portal.html", context)


# --- Ideal-partner profile and target list


def _is_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _diagnostic_url(diagnostic: Diagnostic, user) -> str | None:
    """Where "back to the diagnostic" leads: the partners' diagnostic page, or the vendor's portal."""
    try:
        if policy.can(user, "diagnostic.workspace"):
            return reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk])
        return reverse("diagnostics:portal")
    except NoReverseMatch:
        return None


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@allow("targets.manage")
def ideal_partner_profile_edit(request, diagnostic_pk: int):
    """Edit the ideal partner of a diagnostic: targets and the weight of each factor."""
    diagnostic: Diagnostic = get_object_or_404(Diagnostic.objects.select_related("vendor"), pk=diagnostic_pk)
    instance = IdealPartnerProfile.objects.filter(diagnostic=diagnostic).first() or IdealPartnerProfile(
        diagnostic=diagnostic, **services.default_profile_values(diagnostic.vendor)
    )
    form = IdealPartnerProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.ideal_partner_profile_update(diagnostic=diagnostic, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Ideal-partner profile saved. Re-score the target list to apply it.")
            return redirect("diagnostics:target_list", diagnostic_pk=diagnostic.pk)
    weight_fields = [form[f"weight_{f}"] for f in FACTORS]
    context = {
        "diagnostic": diagnostic,
        "form": form,
        "weight_fields": weight_fields,
        "diagnostic_url": _diagnostic_url(diagnostic, request.user),
        "is_complete": diagnostic.status == Diagnostic.Status.COMPLETE,
    }
    return render(request, "diagnostics/targeting/profile_form.html", context)


def _target_context(request, diagnostic: Diagnostic) -> dict:
    lists = list(
        selectors.visible_target_lists(user=request.user)
        .filter(diagnostic=diagnostic)
        .order_by("-number")
        .only("pk", "number", "created_at")
    )
    target_list = lists[0] if lists else None
    number = bounded_int(request.GET, "number")
    if number is not None:
        target_list = next((t for t in lists if t.number == number), target_list)
    if target_list is not None:
        target_list = TargetList.objects.select_related("created_by").get(pk=target_list.pk)
    entries: QuerySet[TargetEntry] | list[TargetEntry] = []
    tiers = {"A": 0, "B": 0, "C": 0}
    moved = {"up": 0, "down": 0, "new": 0}
    if target_list is not None:
        qs = selectors.visible_entries(user=request.user, target_list=target_list)
        tiers = selectors.tier_distribution(entries=qs.filter(excluded=False))
        tier = request.GET.get("tier")
        if tier in tiers:
            qs = qs.filter(tier=tier)
        entries = qs  # read a page at a time: only the shown rows are loaded and ranked
        for movement, n in qs.order_by().values_list("movement").annotate(n=Count("pk")):
            if movement in moved:
                moved[movement] = n
    return {
        "diagnostic": diagnostic,
        "target_list": target_list,
        "lists": lists,
        "is_latest": bool(target_list and lists and target_list.pk == lists[0].pk),
        "entries": entries,
        "tiers": tiers,
        "moved": moved,
        "show_moves": bool(target_list and target_list.number > 1),
        "factor_labels": FACTOR_LABELS,
        "chart": {
            "type": "bar",
            "labels": ["Tier A", "Tier B", "Tier C"],
            "values": [tiers["A"], tiers["B"], tiers["C"]],
        },
        "can_edit": policy.can(request.user, "targets.manage") and diagnostic.status != Diagnostic.Status.COMPLETE,
        "is_complete": diagnostic.status == Diagnostic.Status.COMPLETE,
        "shared_later": selectors.target_lists_shared_later(diagnostic=diagnostic, user=request.user),
        "diagnostic_url": _diagnostic_url(diagnostic, request.user),
        "selected_tier": request.GET.get("tier", ""),
    }


TARGETS_PER_PAGE = 50


def with_reasons(entries: list[TargetEntry]) -> list[TargetEntry]:
    """Give each entry ``reasons``: its scored factors as (label, part), so the row template has no inner loop."""
    for entry in entries:
        entry.reasons = [
            (FACTOR_LABELS.get(part.get("factor"), part.get("factor")), part)
            for part in entry.breakdown
            if part.get("max_points") != "0.0"
        ]
    return entries


@allow(GET="targets.view")
@cached_page
def target_list(request, diagnostic_pk: int):
    """The scored target list of a diagnostic: tiers, ranks, why, who moved; partners pin, exclude and re-score."""
    diagnostic: Diagnostic = get_object_or_404(Diagnostic.objects.select_related("vendor"), pk=diagnostic_pk)
    try:
        context = _target_context(request, diagnostic)
    except ApplicationError as exc:
        return bad_filter_page(request, exc)
    try:
        wanted = bounded_int(request.GET, "page", maximum=100_000) or 1
    except ApplicationError as exc:
        return bad_filter_page(request, exc)
    page = Paginator(context["entries"], TARGETS_PER_PAGE).get_page(wanted)
    query = request.GET.copy()
    query.pop("page", None)
    entries = with_reasons(list(page.object_list))
    context.update({"page": page, "entries": entries, "entry_count": page.paginator.count})
    context["page_query"] = query.urlencode()
    if _is_partial(request):
        return render(request, "diagnostics/targeting/partials/entries.html", context)
    return render(request, "diagnostics/targeting/target_list.html", context)


@allow("targets.manage")
@require_POST
def target_list_build(request, diagnostic_pk: int):
    """Score the directory against the profile and save a new snapshot."""
    diagnostic: Diagnostic = get_object_or_404(Diagnostic.objects, pk=diagnostic_pk)
    try:
        built = services.target_list_build(diagnostic=diagnostic, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Target list #{built.number} built: {built.scored_count} MSPs scored.")
    url = reverse("diagnostics:target_list", kwargs={"diagnostic_pk": diagnostic.pk})
    return htmx_redirect(request, url)


@allow(GET="targets.view")
def target_list_export(request, diagnostic_pk: int):
    """The target list as CSV, with the points and why of every factor."""
    diagnostic: Diagnostic = get_object_or_404(Diagnostic.objects.select_related("vendor"), pk=diagnostic_pk)
    try:
        context = _target_context(request, diagnostic)
    except ApplicationError as exc:
        return bad_filter_page(request, exc)
    target_list = context["target_list"]
    if context["shared_later"]:
        messages.info(request, "TMW shares the target list once the diagnostic is complete.")
        return redirect("diagnostics:target_list", diagnostic_pk=diagnostic.pk)
    if target_list is None:
        messages.error(request, "There is no target list yet.")
        return redirect("diagnostics:target_list", diagnostic_pk=diagnostic.pk)
    header = ["rank", "tier", "score", "msp", "city", "region", "country", "movement", "previous_rank"]
    flags = policy.can(request.user, "targets.manage")
    if flags:
        header += ["pinned", "excluded", "reason"]
    for factor in FACTORS:
        header += [f"{factor}_points", f"{factor}_max", f"{factor}_why"]
    rows = []
    for e in context["entries"]:
        row = [
            "" if e.list_rank is None else e.list_rank,
            e.tier,
            e.score,
            e.msp_name,
            e.msp_city,
            e.msp_region,
            e.msp_country,
            e.movement,
        ]
        row.append("" if e.previous_rank is None else e.previous_rank)
        if flags:
            row += ["yes" if e.pinned else "", "yes" if e.excluded else "", e.reason]
        parts = {p["factor"]: p for p in e.breakdown}
        for factor in FACTORS:
            p = parts.get(factor, {})
            row += [p.get("points", ""), p.get("max_points", ""), p.get("why", "")]
        rows.append(row)
    name = f"target-list-{slugify(diagnostic.vendor.name)}-{target_list.number}.csv"
    return _csv_response(write_csv(header, rows), name)


@allow("targets.manage")
@require_POST
def target_entry_flag(request, target_entry_pk: int):
    """Pin, exclude or clear one MSP on the latest target list (htmx swaps the row)."""
    entry: TargetEntry = get_object_or_404(TargetEntry.objects.select_related("target_list"), pk=target_entry_pk)
    form = EntryFlagForm(request.POST)
    error = None
    if form.is_valid():
        action = form.cleaned_data["action"]
        try:
            entry = services.target_entry_flag(
                entry=entry,
                actor=request.user,
                pinned=action == "pin",
                excluded=action == "exclude",
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            error = exc.message
    else:
        error = "Pick pin, exclude or clear."
    if _is_partial(request):
        entry = selectors.with_list_rank(TargetEntry.objects.filter(pk=entry.pk)).select_related("target_list").get()
        context = {
            "entries": with_reasons([entry]),
            "error": error,
            "can_edit": True,
            "is_latest": True,
            "show_moves": entry.target_list.number > 1,
        }
        return render(request, "diagnostics/targeting/partials/entry_rows.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("diagnostics:target_list", diagnostic_pk=entry.target_list.diagnostic_id)


def msp_target_lists_panel(request: HttpRequest, profile: MSPProfile) -> str:
    """The "On target lists" panel of an MSP's directory page: the lists (not excluded) it is on."""
    entries = list(
        selectors.visible_entries(user=request.user)
        .filter(msp=profile)
        .exclude(excluded=True)
        .select_related("target_list__diagnostic__vendor")
        .order_by("-target_list__created_at")[:20]
    )
    return render_to_string("diagnostics/targeting/partials/msp_target_lists.html", {"entries": entries}, request)
