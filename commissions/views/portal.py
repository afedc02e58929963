"""The vendor portal's statements and revenue upload."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse

from commissions import imports, selectors, services
from commissions.forms import (
    RevenueUploadForm,
    last_month,
)
from commissions.models import (
    Payment,
    RevenueReport,
    Statement,
)
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.web import htmx_redirect


def _vendor_banner(request) -> dict:
    period = last_month()
    return {"missing_period": period, "missing": selectors.missing_revenue_reports(period=period)}


@allow("statement.portal")
def portal_statements(request):
    """The vendor's issued and paid statements with PDF downloads, and last month's missing revenue reports."""
    statements = list(
        services.with_paid_sum(Statement.objects.filter(status__in=Statement.FINAL))
        .select_related("credit_note_for")
        .order_by("-period", "-pk")
    )
    recent = list(
        RevenueReport.objects.select_related("attribution__msp").order_by("-period", "attribution__msp__name")[:24]
    )
    payments = list(Payment.objects.select_related("statement").order_by("-received_on", "-pk")[:24])
    context = {"statements": statements, "reports": recent, "payments": payments, **_vendor_banner(request)}
    return render(request, "commissions/portal_statements.html", context)


@allow("revenue.upload")
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
            preview = imports.preview_upload(content, vendor=vendor, actor=request.user)
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
        file_error = " ".join(str(e) for errors in form.errors.values() for e in errors)
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
