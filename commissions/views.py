"""Pages of the commercial terms: retainer tiers, agreements, revenue intake, statement runs and statements,
and the vendor portal's statements and revenue upload. Pages call services; the rules live there."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections import OrderedDict
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from engagements.models import Engagement
from tmw.accounts.models import AuditEvent
from tmw.accounts.permissions import FINANCE, OPERATORS, PARTNERS, VENDORS, role_required
from tmw.errors import ApplicationError
from tmw.web import add_application_error, csv_cell, htmx_redirect

from . import forecast, imports, selectors, services
from .forms import (
    AgreementCreateForm,
    MarkPaidForm,
    RetainerTierForm,
    RevenueUploadForm,
    RunStartForm,
    StatementFilter,
    TermsForm,
    VoidForm,
    last_month,
    parse_period,
)
from .models import Agreement, AgreementTerms, RetainerTier, RevenueReport, Statement, StatementLine, StatementRun
from .pdf import grouped_lines, render_statement_pdf, statement_filename

# Which lifecycle action a statement in each status offers (the services enforce the rules).
ACTIONS = {
    Statement.Status.DRAFT: ("approve",),
    Statement.Status.APPROVED: ("issue",),
    Statement.Status.ISSUED: ("pay", "void"),
    Statement.Status.PAID: (),
    Statement.Status.VOID: (),
}


def current_terms(versions, today: datetime.date | None = None):
    """The version in force this month among prefetched versions (else the earliest future one)."""
    month = (today or timezone.localdate()).replace(day=1)
    ordered = sorted(versions, key=lambda v: v.effective_month)
    in_force = [v for v in ordered if v.effective_month <= month]
    if in_force:
        return in_force[-1]
    return ordered[0] if ordered else None


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


@role_required(OPERATORS)
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


@role_required(OPERATORS)
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


@role_required(OPERATORS)
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
        "can_change": request.user.role in (FINANCE | PARTNERS),
    }
    return render(request, "commissions/agreement_list.html", context)


@role_required(FINANCE, PARTNERS)
def agreement_create(request, engagement_pk: int):
    """Set up the agreement of an engagement that has none: currency and its first terms."""
    engagement = get_object_or_404(
        Engagement.objects.select_related("vendor").filter(agreement__isnull=True), pk=engagement_pk
    )
    initial = {**TermsForm.initial_from(None), "currency": "USD"}
    if engagement.start_date:
        initial["effective_month"] = f"{engagement.start_date:%Y-%m}"
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
    this_month = today.replace(day=1)
    attributions = list(
        imports.attributions_in_period(this_month).filter(engagement_id=agreement.engagement_id).order_by("msp__name")
    )
    latest = {}
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
    if terms is None:
        return {"accounts": accounts, "months": [], "tail": None, "chart": None, "total": Decimal("0.00")}
    schedule = [s.rate for s in sorted(terms.steps.all(), key=lambda s: s.year)]
    months = forecast.project_revenue_share(
        accounts=accounts, schedule=schedule, first_period=forecast.add_months(this_month, 1)
    )
    stopped = agreement.engagement.stop_date
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
        "months": months,
        "tail": tail,
        "total": sum((m.total for m in months), Decimal("0.00")),
        "chart": forecast.chart_data(projection=months, tail=tail),
    }


def _equity_summary(agreement: Agreement, terms) -> dict | None:
    if terms is None or terms.equity_kind == AgreementTerms.EquityKind.NONE:
        return None
    accrued = Statement.objects.filter(
        agreement=agreement, status__in=Statement.FINAL, credit_note_for__isnull=True
    ).aggregate(total=Sum("equity_total"))["total"] or Decimal("0.00")
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
        "can_change": request.user.role in (FINANCE | PARTNERS),
    }


@role_required(OPERATORS)
def agreement_detail(request, agreement_pk: int):
    """One agreement: terms in force, version history, equity layer, forecast chart and statements."""
    agreement = _agreement(agreement_pk)
    return render(request, "commissions/agreement_detail.html", _agreement_context(request, agreement))


@require_POST
@role_required(FINANCE, PARTNERS)
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
                request, f"New terms from {form.cleaned_data['effective_month']:%B %Y} saved for {agreement.vendor}."
            )
            return htmx_redirect(request, reverse("commissions:agreement_detail", args=[agreement.pk]))
    context = _agreement_context(request, agreement, form=form)
    return render(request, "commissions/agreement_detail.html", context, status=400)


# --- Revenue intake (finance)


def _period_from(request, default: datetime.date) -> datetime.date:
    return parse_period(request.GET.get("period", "")) or default


@role_required(FINANCE)
def revenue_list(request):
    """The revenue grid of a month: every attributed account, its reported MRR, and the ones still missing."""
    period = _period_from(request, last_month())
    if request.method == "POST":
        period = parse_period(request.POST.get("period", "")) or period
    attributions = list(
        imports.attributions_in_period(period).order_by("vendor__name", "msp__name").select_related("engagement")
    )
    reports = {
        r.attribution_id: r
        for r in RevenueReport.objects.filter(attribution__in=[a.pk for a in attributions], period=period)
    }
    errors: dict[int, str] = {}
    values: dict[int, str] = {}
    if request.method == "POST":
        changes = []
        for a in attributions:
            raw = request.POST.get(f"amount-{a.pk}", "").strip().replace(",", "")
            values[a.pk] = raw
            if raw == "":
                continue
            try:
                amount = Decimal(raw)
                if not amount.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors[a.pk] = "Not a number."
                continue
            if amount < 0:
                errors[a.pk] = "Cannot be negative."
                continue
            existing = reports.get(a.pk)
            if existing is None or existing.amount != amount:
                changes.append((a, amount))
        if not errors and changes:
            with transaction.atomic():
                for a, amount in changes:
                    try:
                        services.revenue_report_record(
                            attribution=a,
                            period=period,
                            amount=amount,
                            currency=a.engagement.agreement.currency,
                            source=RevenueReport.Source.FINANCE,
                            actor=request.user,
                        )
                    except ApplicationError as exc:
                        errors[a.pk] = exc.message
                if errors:
                    transaction.set_rollback(True)
        if not errors:
            messages.success(request, f"Revenue for {period:%B %Y} saved: {len(changes)} account(s) changed.")
            return htmx_redirect(request, reverse("commissions:revenue_list") + f"?period={period:%Y-%m}")
        messages.error(request, "Nothing was saved: fix the amounts marked below.")
    rows = []
    by_vendor: OrderedDict = OrderedDict()
    for a in attributions:
        report = reports.get(a.pk)
        row = {
            "attribution": a,
            "report": report,
            "value": values.get(a.pk, "" if report is None else f"{report.amount}"),
            "error": errors.get(a.pk, ""),
            "currency": a.engagement.agreement.currency,
        }
        rows.append(row)
        by_vendor.setdefault(a.vendor, []).append(row)
    missing = [r for r in rows if r["report"] is None]
    context = {
        "period": period,
        "previous": forecast.add_months(period, -1),
        "next": forecast.add_months(period, 1) if period < last_month() else None,
        "by_vendor": by_vendor,
        "rows": rows,
        "missing": missing,
        "is_last_month": period == last_month(),
    }
    return render(request, "commissions/revenue_list.html", context, status=400 if errors else 200)


# --- Statement runs


@role_required(FINANCE)
def run_list(request):
    """Start a statement run for a month and see the recent runs."""
    form = RunStartForm(request.POST or None, initial={"period": f"{last_month():%Y-%m}"})
    if request.method == "POST" and form.is_valid():
        try:
            run = services.statement_run_start(period=form.cleaned_data["period"], actor=request.user)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            return htmx_redirect(request, reverse("commissions:run_detail", args=[run.pk]))
    runs = StatementRun.objects.select_related("started_by").order_by("-created_at", "-pk")[:20]
    status = 400 if request.method == "POST" else 200
    return render(request, "commissions/run_list.html", {"form": form, "runs": runs}, status=status)


def _run_context(run: StatementRun) -> dict:
    statements = list(
        Statement.objects.filter(period=run.period, credit_note_for__isnull=True)
        .select_related("vendor", "agreement__engagement")
        .order_by("vendor__name", "pk")
    )
    return {"run": run, "statements": statements}


@role_required(FINANCE)
def run_detail(request, statementrun_pk: int):
    """A statement run: its progress bar (polled while it runs) and the statements of its month."""
    run = get_object_or_404(StatementRun.objects.select_related("started_by"), pk=statementrun_pk)
    return render(request, "commissions/run_detail.html", _run_context(run))


@role_required(FINANCE)
def run_progress(request, statementrun_pk: int):
    """The htmx partial polled every second: it stops polling once the run is finished."""
    run = get_object_or_404(StatementRun.objects.select_related("started_by"), pk=statementrun_pk)
    return render(request, "commissions/partials/run_progress.html", _run_context(run))


# --- Statements (finance and partners)


def _statement_queryset():
    return Statement.objects.select_related("vendor", "agreement__engagement", "credit_note_for")


@role_required(OPERATORS)
def statement_list(request):
    """Statements filtered by month, vendor and status, with totals per currency."""
    filterset = StatementFilter(request.GET, queryset=_statement_queryset().order_by("-period", "vendor__name"))
    statements = filterset.qs if filterset.is_valid() else _statement_queryset().none()
    statements = list(statements[:500])
    totals: dict[str, dict] = {}
    for s in statements:
        t = totals.setdefault(s.currency, {"total": Decimal("0.00"), "equity": Decimal("0.00"), "count": 0})
        t["total"] += s.total
        t["equity"] += s.equity_total
        t["count"] += 1
    for t in totals.values():
        t["cash"] = t["total"] - t["equity"]
    period = parse_period(request.GET.get("period", ""))
    context = {
        "filterset": filterset,
        "statements": statements,
        "totals": totals,
        "period": period,
        "is_finance": request.user.role in FINANCE,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "commissions/partials/statement_table.html", context)
    return render(request, "commissions/statement_list.html", context)


def _statement(pk: int) -> Statement:
    return get_object_or_404(_statement_queryset(), pk=pk)


def _statement_context(request, statement: Statement, **forms) -> dict:
    lines = list(statement.lines.select_related("attribution__msp").order_by("order", "pk"))
    history = AuditEvent.objects.filter(
        object_type=statement._meta.label_lower, object_id=str(statement.pk)
    ).select_related("actor")
    actions = ACTIONS.get(statement.status, ()) if request.user.role in FINANCE else ()
    return {
        "statement": statement,
        "groups": grouped_lines(lines),
        "history": list(history.order_by("created_at", "pk")),
        "credit_notes": list(statement.credit_notes.all()),
        "actions": actions,
        "pay_form": forms.get("pay_form") or MarkPaidForm(initial={"paid_on": timezone.localdate()}),
        "void_form": forms.get("void_form") or VoidForm(),
        "terms": statement.agreement.terms_for(statement.period),
    }


@role_required(OPERATORS)
def statement_detail(request, statement_pk: int):
    """One statement: lines grouped by kind, totals, lifecycle actions and the audit history."""
    statement = _statement(statement_pk)
    return render(request, "commissions/statement_detail.html", _statement_context(request, statement))


def _statement_action(request, statement_pk: int, action: str, call, **forms):
    statement = _statement(statement_pk)
    if action not in ACTIONS.get(statement.status, ()):
        messages.error(
            request, f"A {statement.get_status_display().lower()} statement cannot be changed this way ({action})."
        )
        context = _statement_context(request, statement, **forms)
        return render(request, "commissions/statement_detail.html", context, status=409)
    try:
        result = call(statement)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        context = _statement_context(request, _statement(statement_pk), **forms)
        return render(request, "commissions/statement_detail.html", context, status=exc.status)
    target = result if isinstance(result, Statement) else statement
    return target


@require_POST
@role_required(FINANCE)
def statement_approve(request, statement_pk: int):
    """Approve a draft: it is never recomputed after this."""
    result = _statement_action(
        request, statement_pk, "approve", lambda s: services.statement_approve(statement=s, actor=request.user)
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, "Statement approved.")
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]))


@require_POST
@role_required(FINANCE)
def statement_issue(request, statement_pk: int):
    """Issue an approved statement: it takes its number and its PDF is stored once."""
    result = _statement_action(
        request, statement_pk, "issue", lambda s: services.statement_issue(statement=s, actor=request.user)
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, f"Statement {result.number or ''} issued.".replace("  ", " "))
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]))


@require_POST
@role_required(FINANCE)
def statement_mark_paid(request, statement_pk: int):
    """Record the payment of an issued statement (date and reference)."""
    form = MarkPaidForm(request.POST)
    if not form.is_valid():
        statement = _statement(statement_pk)
        messages.error(request, "Give the payment date and reference.")
        context = _statement_context(request, statement, pay_form=form)
        return render(request, "commissions/statement_detail.html", context, status=400)
    result = _statement_action(
        request,
        statement_pk,
        "pay",
        lambda s: services.statement_mark_paid(
            statement=s,
            paid_on=form.cleaned_data["paid_on"],
            reference=form.cleaned_data["reference"],
            actor=request.user,
        ),
        pay_form=form,
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, "Payment recorded.")
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]))


@require_POST
@role_required(FINANCE)
def statement_void(request, statement_pk: int):
    """Void an issued statement with a credit note that refers to it."""
    form = VoidForm(request.POST)
    if not form.is_valid():
        statement = _statement(statement_pk)
        messages.error(request, "Say why the statement is voided.")
        context = _statement_context(request, statement, void_form=form)
        return render(request, "commissions/statement_detail.html", context, status=400)
    result = _statement_action(
        request,
        statement_pk,
        "void",
        lambda s: services.statement_void(statement=s, reason=form.cleaned_data["reason"], actor=request.user),
        void_form=form,
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, "Statement voided; the credit note refers to it.")
    target = result.pk if result.pk != statement_pk else statement_pk
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[target]))


def statement_file(statement: Statement) -> tuple[str, str, bytes]:
    """The stored PDF of an issued statement; a watermarked preview for anything not yet issued."""
    if statement.number and statement.pdf:
        with statement.pdf.open("rb") as fh:
            return statement_filename(statement), "application/pdf", fh.read()
    return render_statement_pdf(statement)


@role_required(OPERATORS, VENDORS)
def statement_pdf(request, statement_pk: int):
    """Download a statement's PDF; vendors only their own issued or paid statements."""
    qs = _statement_queryset()
    if request.user.is_vendor_user:
        qs = qs.filter(status__in=Statement.FINAL)
    statement = get_object_or_404(qs, pk=statement_pk)
    filename, content_type, content = statement_file(statement)
    response = HttpResponse(content, content_type=content_type)
    disposition = "attachment" if request.GET.get("inline") != "1" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(FINANCE)
def statement_zip(request):
    """A month's statements as one ZIP of PDFs (issued ones as stored; others as watermarked previews)."""
    period = parse_period(request.GET.get("period", "")) or last_month()
    statements = list(_statement_queryset().filter(period=period).order_by("vendor__name", "pk"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for statement in statements:
            filename, _content_type, content = statement_file(statement)
            archive.writestr(filename, content)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="statements-{period:%Y-%m}.zip"'
    return response


CSV_COLUMNS = [
    "statement",
    "status",
    "vendor",
    "period",
    "currency",
    "kind",
    "description",
    "account",
    "revenue",
    "account_year",
    "rate",
    "amount",
    "corrects_period",
]


@role_required(FINANCE)
def statement_lines_csv(request):
    """Every line of a month's statements, for accounting (cells that look like formulas are neutralised)."""
    period = parse_period(request.GET.get("period", "")) or last_month()
    lines = (
        StatementLine.objects.filter(statement__period=period)
        .select_related("statement__vendor", "attribution__msp")
        .order_by("statement__vendor__name", "statement_id", "order", "pk")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        s = line.statement
        writer.writerow(
            [
                csv_cell(s.number or f"draft-{s.pk}"),
                s.status,
                csv_cell(s.vendor.name),
                f"{s.period:%Y-%m}",
                s.currency,
                line.kind,
                csv_cell(line.description),
                csv_cell(line.attribution.msp.name if line.attribution_id else ""),
                "" if line.revenue is None else f"{line.revenue}",
                line.account_year or "",
                "" if line.rate is None else f"{line.rate}",
                f"{line.amount}",
                f"{line.corrects_period:%Y-%m}" if line.corrects_period else "",
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-lines-{period:%Y-%m}.csv"'
    return response


# --- Vendor portal


def _vendor_banner(request) -> dict:
    period = last_month()
    return {"missing_period": period, "missing": selectors.missing_revenue_reports(period=period)}


@role_required(VENDORS)
def portal_statements(request):
    """The vendor's issued and paid statements with PDF downloads, and last month's missing revenue reports."""
    statements = list(
        Statement.objects.filter(status__in=Statement.FINAL)
        .select_related("credit_note_for")
        .order_by("-period", "-pk")
    )
    recent = list(
        RevenueReport.objects.select_related("attribution__msp").order_by("-period", "attribution__msp__name")[:24]
    )
    context = {"statements": statements, "reports": recent, **_vendor_banner(request)}
    return render(request, "commissions/portal_statements.html", context)


@role_required(VENDORS)
def portal_revenue_upload(request):
    """Upload a month's revenue as CSV: preview every row with its errors, then import all or nothing."""
    vendor = request.user.organisation
    form = RevenueUploadForm(request.POST or None, request.FILES or None)
    preview = None
    file_error = ""
    content = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        try:
            if upload is not None:
                if upload.size > imports.MAX_BYTES:
                    raise imports.ImportFileError(
                        f"The file is {upload.size / 1024:.0f} KB; the limit is {imports.MAX_BYTES // 1024} KB."
                    )
                content = imports.decode(upload.read())
            else:
                content = form.cleaned_data.get("content") or ""
                if not content:
                    raise imports.ImportFileError("Choose a CSV file to upload.")
            preview = imports.preview_upload(content, vendor=vendor)
        except imports.ImportFileError as exc:
            file_error = str(exc)
            status = 400
        else:
            if not preview.is_valid:
                status = 400
            elif request.POST.get("confirm") == "1" and upload is None:
                try:
                    reports = services.revenue_reports_import(
                        vendor=vendor,
                        rows=[r.service_row() for r in preview.rows],
                        actor=request.user,
                        source=RevenueReport.Source.VENDOR_CSV,
                    )
                except ApplicationError as exc:
                    file_error = exc.message
                    _merge_service_errors(preview, exc)
                    status = 400
                else:
                    messages.success(request, f"{len(reports)} revenue report(s) imported.")
                    return htmx_redirect(request, reverse("commissions:portal_statements"))
    if request.method == "POST" and not form.is_valid():
        file_error = " ".join(e for errors in form.errors.values() for e in errors)
        status = 400
    context = {
        "form": form,
        "preview": preview,
        "file_error": file_error,
        "content": content,
        "columns": imports.REQUIRED_COLUMNS,
        "max_kb": imports.MAX_BYTES // 1024,
        **_vendor_banner(request),
    }
    return render(request, "commissions/portal_revenue_upload.html", context, status=status)


def _merge_service_errors(preview, exc: ApplicationError) -> None:
    by_number = {r.number: r for r in preview.rows}
    for err in (exc.extra or {}).get("rows", []):
        row = by_number.get(err.get("row"))
        if row is not None:
            row.errors.append((err.get("field", ""), err.get("message", "")))
