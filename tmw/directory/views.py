"""Pages of the MSP directory and its CSV import and export."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tmw.accounts import policy
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.pagecache import cached_page
from tmw.tables import Column, Table
from tmw.web import add_application_error

from . import imports, selectors, services
from .filters import MSPFilterSet
from .forms import (
    ImportUploadForm,
    MSPContactForm,
    MSPProfileForm,
    MSPSelfProfileForm,
    ReviewRejectForm,
    SelfContactFormSet,
)
from .models import LIST_FIELDS, SELF_SERVICE_FIELDS, MSPContact, MSPProfile, MSPProfileChange, stale_after

PAGE_SIZE = 25
IMPORT_SALT = "directory.msp-import"
IMPORT_MAX_AGE = 60 * 60


def _is_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


# Panels that higher floors add to an MSP's page without the directory importing them: diagnostics
# adds "On target lists". A panel is ``panel(request, profile) -> str`` (rendered HTML, "" for none).
MSPPanel = Callable[[HttpRequest, MSPProfile], str]
MSP_PANELS: list[MSPPanel] = []


def register_msp_panel(panel: MSPPanel) -> MSPPanel:
    """Show ``panel(request, profile)`` on every MSP's directory page, below its contacts."""
    if panel not in MSP_PANELS:
        MSP_PANELS.append(panel)
    return panel


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Directory


def _labels(field: str) -> Callable[[MSPProfile], str]:
    return lambda p: "; ".join(str(label) for label in p.labels(field))


DIRECTORY_COLUMNS = (
    Column("name", "MSP", ("legal_name",), value=lambda p: p.legal_name),
    Column("hq", "HQ", ("country", "region", "city"), value=lambda p: p.location),
    Column("staff", "Staff", ("employees",), value=lambda p: p.employees),
    Column("techs", "Techs", ("technicians",), value=lambda p: p.technicians),
    Column("endpoints", "Endpoints", ("endpoints",), value=lambda p: p.endpoints),
    Column("verticals", "Verticals", value=_labels("verticals")),
    Column("services", "Services", value=_labels("service_lines")),
    Column("psa", "PSA", value=_labels("psa_tools")),
    Column("rmm", "RMM", value=_labels("rmm_tools")),
    Column(
        "confirmed",
        "Last confirmed",
        ("confirmed_at",),
        value=lambda p: p.confirmed_at.date() if p.confirmed_at else "",
    ),
)


@allow(GET="directory.view")
@cached_page
def msp_list(request):
    """The MSP directory with search, filters and sortable columns; htmx swaps the results as the user types.

    ``?format=csv`` downloads exactly the rows the filters and the sort show (every page of them).
    """
    filterset = MSPFilterSet(request.GET or None, queryset=selectors.msp_directory(user=request.user))
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    table = Table(request, DIRECTORY_COLUMNS, default="name")
    queryset = table.order(queryset)
    if table.wants_csv and not table.error and not (filterset.is_bound and filterset.errors):
        return table.csv_response(queryset, f"msps-{timezone.localdate().isoformat()}.csv")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = table.query_without("page", "format")
    context = {
        "table": table,
        "filterset": filterset,
        "page": page,
        "query": query.urlencode(),
        "stale_before": timezone.now() - stale_after(),
        "changes_waiting": (
            MSPProfileChange.objects.filter(status=MSPProfileChange.Status.PENDING).count()
            if policy.can(request.user, "msp_profile.review")
            else 0
        ),
    }
    status = 400 if (filterset.is_bound and filterset.errors) or table.error else 200  # a bad filter says so
    if _is_partial(request):
        return render(request, "directory/partials/msp_results.html", context, status=status)
    return render(request, "directory/msp_list.html", context, status=status)


@allow(GET="directory.view")
def msp_detail(request, msp_profile_pk: int):
    """One MSP: its profile, its contacts (TMW only) and the panels higher floors add (the target lists it is on)."""
    profile: MSPProfile = get_object_or_404(MSPProfile.objects.select_related("organisation"), pk=msp_profile_pk)
    contacts = list(MSPContact.objects.filter(msp=profile)) if policy.can(request.user, "directory.contacts") else []
    panels = [html for html in (panel(request, profile) for panel in MSP_PANELS) if html]
    pending = None
    if policy.can(request.user, "msp_profile.review"):
        pending = MSPProfileChange.objects.filter(msp=profile, status=MSPProfileChange.Status.PENDING).first()
    context = {
        "profile": profile,
        "contacts": contacts,
        "panels": panels,
        "contact_form": MSPContactForm(),
        "pending_change": pending,
        "stale": profile.is_stale(timezone.now()),
    }
    return render(request, "directory/msp_detail.html", context)


@allow("directory.manage")
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
            return redirect("directory:msp_detail", msp_profile_pk=profile.pk)
    return render(request, "directory/msp_form.html", {"form": form, "profile": None})


@allow("directory.manage")
def msp_edit(request, msp_profile_pk: int):
    """Change an MSP's directory profile."""
    profile: MSPProfile = get_object_or_404(MSPProfile.objects, pk=msp_profile_pk)
    form = MSPProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.msp_update(profile=profile, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Profile saved.")
            return redirect("directory:msp_detail", msp_profile_pk=profile.pk)
    return render(request, "directory/msp_form.html", {"form": form, "profile": profile})


@allow("directory.manage")
@require_POST
def msp_contact_add(request, msp_profile_pk: int):
    """Add a contact to an MSP."""
    profile: MSPProfile = get_object_or_404(MSPProfile.objects, pk=msp_profile_pk)
    form = MSPContactForm(request.POST)
    if form.is_valid():
        try:
            services.msp_contact_add(profile=profile, actor=request.user, **form.cleaned_data)
            messages.success(request, f"{form.cleaned_data['name']} added.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(
            request,
            "The contact is not valid: "
            + "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()),
        )
    return redirect("directory:msp_detail", msp_profile_pk=profile.pk)


@allow("directory.manage")
@require_POST
def msp_contact_remove(request, msp_contact_pk: int):
    """Remove a contact from an MSP."""
    contact: MSPContact = get_object_or_404(MSPContact.objects.select_related("msp__organisation"), pk=msp_contact_pk)
    services.msp_contact_remove(contact=contact, actor=request.user)
    messages.success(request, f"{contact.name} removed.")
    return redirect("directory:msp_detail", msp_profile_pk=contact.msp_id)


@allow(GET="directory.manage")
def msp_export(request):
    """The (filtered) directory as CSV in the import format, safe to open in a spreadsheet."""
    filterset = MSPFilterSet(request.GET or None, queryset=MSPProfile.objects.order_by("legal_name", "pk"))
    profiles = list(filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset)
    primary: dict[int, MSPContact] = {}
    for contact in MSPContact.objects.filter(msp__in=[p.pk for p in profiles]).order_by("-is_primary", "name", "pk"):
        primary.setdefault(contact.msp_id, contact)
    stamp = timezone.localdate().isoformat()
    return _csv_response(imports.directory_csv(profiles, primary), f"msp-directory-{stamp}.csv")


@allow("directory.manage")
def msp_import(request):
    """Upload a CSV, see what it would create and update with every error by row and column, then confirm.

    The preview is a dry run of the import service and the confirmation its real run on the same
    file, so what the preview promises is what the import does.
    """
    form = ImportUploadForm()
    context: dict = {"form": form}
    template = "directory/msp_import.html"
    if request.method != "POST":
        return render(request, template, context)
    promised = None
    if "payload" in request.POST:
        try:
            signed = signing.loads(request.POST["payload"], salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
            text, promised = signed["text"], signed["plan"]
        except (signing.BadSignature, KeyError, TypeError):
            messages.error(request, "The preview has expired; upload the file again.")
            return redirect("directory:msp_import")
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
    status = 200
    if promised is not None and request.POST.get("confirm") == "1":
        try:
            result = services.msp_import(actor=request.user, text=text, plan=promised)
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
            return render(request, template, context, status=400)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, f"Imported: {result.created} MSPs added, {result.updated} updated.")
            return redirect("directory:msp_list")
    try:
        preview = services.msp_import(actor=request.user, text=text, dry_run=True)
    except imports.ImportFileError as exc:
        form.add_error("file", str(exc))
        return render(request, template, context, status=400)
    context["preview"] = preview
    if preview.is_valid:
        context["payload"] = signing.dumps({"text": text, "plan": preview.plan}, salt=IMPORT_SALT, compress=True)
    elif status == 200:
        status = 400
    return render(request, template, context, status=status)


# --- MSP self-service


def _display(name: str, value) -> str:
    """A profile value as a person reads it (list fields by their labels)."""
    if name in LIST_FIELDS:
        labels = dict(LIST_FIELDS[name][0].choices)
        return ", ".join(str(labels.get(v, v)) for v in value or []) or "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "country":
        return {"US": "United States", "CA": "Canada"}.get(value, value or "—")
    return "—" if value in (None, "") else str(value)


def _contact_line(row: dict) -> str:
    bits = [row.get("name") or "", row.get("title") or "", row.get("email") or "", row.get("phone") or ""]
    text = " · ".join(b for b in bits if b)
    return f"{text} (primary)" if row.get("is_primary") else text


def _label(name: str) -> str:
    field = MSPProfile._meta.get_field(name)
    return str(getattr(field, "verbose_name", name)).capitalize()


def _change_rows(change: MSPProfileChange, profile: MSPProfile) -> list[dict]:
    """Field by field: what the directory has and what the MSP proposes."""
    rows = []
    for name in SELF_SERVICE_FIELDS:
        if name in change.proposed:
            rows.append(
                {
                    "label": _label(name),
                    "before": _display(name, getattr(profile, name)),
                    "after": _display(name, change.proposed[name]),
                }
            )
    return rows


def _own_profile(request) -> MSPProfile:
    return get_object_or_404(MSPProfile.objects, pk=request.user.organisation_id)


@allow(GET="msp_profile.update_own", POST="msp_profile.update_own")
def my_profile(request):
    """An MSP keeps its directory profile up to date; TMW reviews the change before the directory takes it."""
    profile = _own_profile(request)
    pending = MSPProfileChange.objects.filter(msp=profile, status=MSPProfileChange.Status.PENDING).first()
    last_decided = MSPProfileChange.objects.filter(msp=profile).exclude(status=MSPProfileChange.Status.PENDING).first()
    initial = {name: getattr(profile, name) for name in SELF_SERVICE_FIELDS}
    contacts = services.contact_rows(profile)
    if pending is not None:
        initial.update(pending.proposed)
        if pending.contacts is not None:
            contacts = pending.contacts
        initial["note"] = pending.note
    status = 200
    if request.method == "POST":
        form = MSPSelfProfileForm(request.POST, instance=MSPProfile(), initial=initial)
        formset = SelfContactFormSet(request.POST, prefix="contacts")  # no initial: a filled row always counts
        if form.is_valid() and formset.is_valid():
            data = {name: form.cleaned_data[name] for name in SELF_SERVICE_FIELDS}
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data]
            try:
                services.msp_change_propose(
                    actor=request.user, profile=profile, data=data, contacts=rows, note=form.cleaned_data["note"]
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
                for message in (exc.extra or {}).get("contacts", []):
                    form.add_error(None, str(message))
                status = exc.status if exc.status >= 400 else 400
            else:
                messages.success(request, "Sent to TMW. The directory shows your changes once a partner approves them.")
                return redirect("msp_profile:edit")
        else:
            status = 400
    else:
        form = MSPSelfProfileForm(instance=MSPProfile(), initial=initial)
        formset = SelfContactFormSet(prefix="contacts", initial=contacts)
    context = {
        "profile": profile,
        "form": form,
        "formset": formset,
        "pending": pending,
        "pending_rows": _change_rows(pending, profile) if pending else [],
        "last_decided": last_decided,
        "stale": profile.is_stale(timezone.now()),
    }
    return render(request, "directory/my_profile.html", context, status=status)


@allow("msp_profile.update_own")
@require_POST
def my_profile_confirm(request):
    """The profile is still right as it stands."""
    services.msp_profile_confirm(actor=request.user, profile=_own_profile(request))
    messages.success(request, "Thank you: your profile counts as confirmed today.")
    return redirect("msp_profile:edit")


@allow(GET="msp_profile.review")
def msp_changes(request):
    """The changes MSPs proposed to their profiles: those waiting first, then the latest decided."""
    base = MSPProfileChange.objects.select_related("msp", "proposed_by", "reviewed_by")
    pending = list(base.filter(status=MSPProfileChange.Status.PENDING).order_by("proposed_at", "pk")[:200])
    decided = list(base.exclude(status=MSPProfileChange.Status.PENDING).order_by("-reviewed_at", "-pk")[:25])
    return render(request, "directory/msp_changes.html", {"pending": pending, "decided": decided})


@allow(GET="msp_profile.review", POST="msp_profile.review")
def msp_change(request, msp_profile_change_pk: int):
    """One proposed change, field by field against the directory, to approve or decline with a reason."""
    change: MSPProfileChange = get_object_or_404(
        MSPProfileChange.objects.select_related("msp__organisation", "proposed_by", "reviewed_by"),
        pk=msp_profile_change_pk,
    )
    profile = change.msp
    reject_form = ReviewRejectForm(request.POST if request.POST.get("decision") == "reject" else None)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "approve":
                services.msp_change_approve(actor=request.user, change=change)
                messages.success(request, f"{profile.legal_name}'s profile is updated.")
                return redirect("directory:msp_detail", msp_profile_pk=profile.pk)
            if request.POST.get("decision") == "reject":
                if reject_form.is_valid():
                    services.msp_change_reject(
                        actor=request.user, change=change, reason=reject_form.cleaned_data["reason"]
                    )
                    messages.success(request, f"Declined; {profile.legal_name} is told why.")
                    return redirect("directory:msp_changes")
                status = 400
            else:
                messages.error(request, "Choose approve or decline.")
                status = 400
        except ApplicationError as exc:
            if reject_form.is_bound:
                add_application_error(reject_form, exc)
            else:
                messages.error(request, exc.message)
            status = exc.status if exc.status >= 400 else 400
        change.refresh_from_db()
    context = {
        "change": change,
        "profile": profile,
        "rows": _change_rows(change, profile),
        "contacts_before": [_contact_line(r) for r in services.contact_rows(profile)],
        "contacts_after": [_contact_line(r) for r in change.contacts] if change.contacts is not None else None,
        "reject_form": reject_form,
    }
    return render(request, "directory/msp_change.html", context, status=status)
