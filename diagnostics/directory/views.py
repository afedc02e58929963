"""Pages of the MSP directory, its CSV import and export, ideal-partner profiles and target lists."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from diagnostics.models import Diagnostic, IdealPartnerProfile, MSPContact, MSPProfile, TargetEntry, TargetList
from diagnostics.models.targeting import FACTOR_LABELS, FACTORS
from tmw.accounts.permissions import PARTNERS, VENDORS, role_required
from tmw.errors import ApplicationError
from tmw.web import add_application_error, htmx_redirect

from . import imports, selectors, services
from .filters import MSPFilterSet
from .forms import EntryFlagForm, IdealPartnerProfileForm, ImportUploadForm, MSPContactForm, MSPProfileForm

PAGE_SIZE = 25
IMPORT_SALT = "diagnostics.msp-import"
IMPORT_MAX_AGE = 60 * 60


def _is_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _diagnostic_url(diagnostic: Diagnostic, user) -> str | None:
    """Where "back to the diagnostic" leads: the partners' diagnostic page, or the vendor's portal."""
    try:
        if user.is_operator:
            return reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk])
        return reverse("diagnostics:portal")
    except NoReverseMatch:
        return None


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Directory


@role_required(PARTNERS, VENDORS)
def msp_list(request):
    """The MSP directory with search and filters; htmx swaps the results as the user types."""
    filterset = MSPFilterSet(request.GET or None, queryset=selectors.msp_directory(user=request.user))
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filterset": filterset, "page": page, "query": query.urlencode()}
    if _is_partial(request):
        return render(request, "diagnostics/directory/partials/msp_results.html", context)
    return render(request, "diagnostics/directory/msp_list.html", context)


@role_required(PARTNERS, VENDORS)
def msp_detail(request, msp_profile_pk: int):
    """One MSP: its profile, its contacts (TMW only) and the target lists it is on."""
    profile = get_object_or_404(MSPProfile.objects.select_related("organisation"), pk=msp_profile_pk)
    contacts = list(MSPContact.objects.filter(msp=profile)) if request.user.is_operator else []
    entries = list(
        TargetEntry.objects.filter(msp=profile)
        .exclude(excluded=True)
        .select_related("target_list__diagnostic__vendor")
        .order_by("-target_list__created_at")[:20]
    )
    context = {"profile": profile, "contacts": contacts, "entries": entries, "contact_form": MSPContactForm()}
    return render(request, "diagnostics/directory/msp_detail.html", context)


@role_required(PARTNERS)
def msp_create(request):
    """Add an MSP to the directory."""
    form = MSPProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.msp_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"{profile.legal_name} is in the directory.")
            return redirect("diagnostics:msp_detail", msp_profile_pk=profile.pk)
    return render(request, "diagnostics/directory/msp_form.html", {"form": form, "profile": None})


@role_required(PARTNERS)
def msp_edit(request, msp_profile_pk: int):
    """Change an MSP's directory profile."""
    profile = get_object_or_404(MSPProfile.objects, pk=msp_profile_pk)
    form = MSPProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.msp_update(profile=profile, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Profile saved.")
            return redirect("diagnostics:msp_detail", msp_profile_pk=profile.pk)
    return render(request, "diagnostics/directory/msp_form.html", {"form": form, "profile": profile})


@require_POST
@role_required(PARTNERS)
def msp_contact_add(request, msp_profile_pk: int):
    """Add a contact to an MSP."""
    profile = get_object_or_404(MSPProfile.objects, pk=msp_profile_pk)
    form = MSPContactForm(request.POST)
    if form.is_valid():
        try:
            services.msp_contact_add(profile=profile, actor=request.user, **form.cleaned_data)
            messages.success(request, f"{form.cleaned_data['name']} added.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(
            request, "The contact is not valid: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        )
    return redirect("diagnostics:msp_detail", msp_profile_pk=profile.pk)


@require_POST
@role_required(PARTNERS)
def msp_contact_remove(request, msp_contact_pk: int):
    """Remove a contact from an MSP."""
    contact = get_object_or_404(MSPContact.objects.select_related("msp__organisation"), pk=msp_contact_pk)
    services.msp_contact_remove(contact=contact, actor=request.user)
    messages.success(request, f"{contact.name} removed.")
    return redirect("diagnostics:msp_detail", msp_profile_pk=contact.msp_id)


@role_required(PARTNERS)
def msp_export(request):
    """The (filtered) directory as CSV in the import format, safe to open in a spreadsheet."""
    filterset = MSPFilterSet(request.GET or None, queryset=MSPProfile.objects.order_by("legal_name", "pk"))
    profiles = list(filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset)
    primary = {}
    for contact in MSPContact.objects.filter(msp__in=[p.pk for p in profiles]).order_by("-is_primary", "name", "pk"):
        primary.setdefault(contact.msp_id, contact)
    stamp = timezone.localdate().isoformat()
    return _csv_response(imports.directory_csv(profiles, primary), f"msp-directory-{stamp}.csv")


def _import_plan(preview: imports.ImportPreview) -> list:
    """What a preview promises: per row, the directory MSP it updates (None creates one)."""
    return [row.existing_pk for row in preview.rows]


@role_required(PARTNERS)
def msp_import(request):
    """Upload a CSV, see what it would create and update with every error by row and column, then confirm."""
    form = ImportUploadForm()
    context: dict = {"form": form}
    template = "diagnostics/directory/msp_import.html"
    if request.method != "POST":
        return render(request, template, context)
    promised = None
    if "payload" in request.POST:
        try:
            signed = signing.loads(request.POST["payload"], salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
            text, promised = signed["text"], signed["plan"]
        except (signing.BadSignature, KeyError, TypeError):
            messages.error(request, "The preview has expired; upload the file again.")
            return redirect("diagnostics:msp_import")
    else:
        form = context["form"] = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, template, context, status=400)
        upload = form.cleaned_data["file"]
        try:
            if upload.size > imports.MAX_BYTES:
                raise imports.ImportFileError(
                    f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                    f"{imports.MAX_BYTES // (1024 * 1024)} MB."
                )
            text = imports.decode(upload.read(imports.MAX_BYTES + 1))
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
            return render(request, template, context, status=400)
    try:
        preview = imports.import_preview(text)
    except imports.ImportFileError as exc:
        form.add_error("file", str(exc))
        return render(request, template, context, status=400)
    context["preview"] = preview
    status = 200 if preview.is_valid else 400
    if preview.is_valid and promised is not None and request.POST.get("confirm") == "1":
        if promised != _import_plan(preview):
            messages.error(request, "The directory changed since the preview; check the new preview and confirm again.")
            status = 409
        else:
            try:
                result = services.msp_import(actor=request.user, rows=preview.rows)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                status = exc.status
            else:
                messages.success(request, f"Imported: {result['created']} MSPs added, {result['updated']} updated.")
                return redirect("diagnostics:msp_list")
    if preview.is_valid:
        context["payload"] = signing.dumps(
            {"text": text, "plan": _import_plan(preview)}, salt=IMPORT_SALT, compress=True
        )
    return render(request, template, context, status=status)


# --- Ideal-partner profile and target list


@role_required(PARTNERS)
def ideal_partner_profile_edit(request, diagnostic_pk: int):
    """Edit the ideal partner of a diagnostic: targets and the weight of each factor."""
    diagnostic = get_object_or_404(Diagnostic.objects.select_related("vendor"), pk=diagnostic_pk)
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
        TargetList.objects.filter(diagnostic=diagnostic).order_by("-number").only("pk", "number", "created_at")
    )
    target_list = lists[0] if lists else None
    number = request.GET.get("number")
    if number and number.isdigit():
        target_list = next((t for t in lists if t.number == int(number)), target_list)
    if target_list is not None:
        target_list = TargetList.objects.select_related("created_by").get(pk=target_list.pk)
    entries = []
    tiers = {"A": 0, "B": 0, "C": 0}
    moved = {"up": 0, "down": 0, "new": 0}
    if target_list is not None:
        qs = selectors.visible_entries(target_list=target_list, user=request.user)
        tiers = selectors.tier_distribution(entries=qs.filter(excluded=False))
        tier = request.GET.get("tier")
        if tier in tiers:
            qs = qs.filter(tier=tier)
        entries = list(qs)
        for e in entries:
            if e.movement in moved:
                moved[e.movement] += 1
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
        "is_partner": request.user.role in PARTNERS,
        "can_edit": request.user.role in PARTNERS and diagnostic.status != Diagnostic.Status.COMPLETE,
        "is_complete": diagnostic.status == Diagnostic.Status.COMPLETE,
        "diagnostic_url": _diagnostic_url(diagnostic, request.user),
        "selected_tier": request.GET.get("tier", ""),
    }


@role_required(PARTNERS, VENDORS)
def target_list(request, diagnostic_pk: int):
    """The scored target list of a diagnostic: tiers, ranks, why, who moved; partners pin, exclude and re-score."""
    diagnostic = get_object_or_404(Diagnostic.objects.select_related("vendor"), pk=diagnostic_pk)
    context = _target_context(request, diagnostic)
    if _is_partial(request):
        return render(request, "diagnostics/targeting/partials/entries.html", context)
    return render(request, "diagnostics/targeting/target_list.html", context)


@require_POST
@role_required(PARTNERS)
def target_list_build(request, diagnostic_pk: int):
    """Score the directory against the profile and save a new snapshot."""
    diagnostic = get_object_or_404(Diagnostic.objects, pk=diagnostic_pk)
    try:
        built = services.target_list_build(diagnostic=diagnostic, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Target list #{built.number} built: {built.scored_count} MSPs scored.")
    url = reverse("diagnostics:target_list", kwargs={"diagnostic_pk": diagnostic.pk})
    return htmx_redirect(request, url)


@role_required(PARTNERS, VENDORS)
def target_list_export(request, diagnostic_pk: int):
    """The target list as CSV, with the points and why of every factor."""
    diagnostic = get_object_or_404(Diagnostic.objects.select_related("vendor"), pk=diagnostic_pk)
    context = _target_context(request, diagnostic)
    target_list = context["target_list"]
    if target_list is None:
        messages.error(request, "There is no target list yet.")
        return redirect("diagnostics:target_list", diagnostic_pk=diagnostic.pk)
    header = ["rank", "tier", "score", "msp", "city", "region", "country", "movement", "previous_rank"]
    if request.user.is_operator:
        header += ["pinned", "excluded", "reason"]
    for factor in FACTORS:
        header += [f"{factor}_points", f"{factor}_max", f"{factor}_why"]
    rows = []
    for e in context["entries"]:
        row = [e.rank, e.tier, e.score, e.msp_name, e.msp_city, e.msp_region, e.msp_country, e.movement]
        row.append("" if e.previous_rank is None else e.previous_rank)
        if request.user.is_operator:
            row += ["yes" if e.pinned else "", "yes" if e.excluded else "", e.reason]
        parts = {p["factor"]: p for p in e.breakdown}
        for factor in FACTORS:
            p = parts.get(factor, {})
            row += [p.get("points", ""), p.get("max_points", ""), p.get("why", "")]
        rows.append(row)
    name = f"target-list-{slugify(diagnostic.vendor.name)}-{target_list.number}.csv"
    return _csv_response(imports.write_csv(header, rows), name)


@require_POST
@role_required(PARTNERS)
def target_entry_flag(request, target_entry_pk: int):
    """Pin, exclude or clear one MSP on the latest target list (htmx swaps the row)."""
    entry = get_object_or_404(TargetEntry.objects.select_related("target_list"), pk=target_entry_pk)
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
        context = {
            "e": entry,
            "error": error,
            "can_edit": True,
            "is_latest": True,
            "show_moves": entry.target_list.number > 1,
            "factor_labels": FACTOR_LABELS,
        }
        return render(request, "diagnostics/targeting/partials/entry_row.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("diagnostics:target_list", diagnostic_pk=entry.target_list.diagnostic_id)
