"""The vendor portal's statements and revenue upload."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

from django.contrib import messages
from django.db.models import Count
from django.forms import ChoiceField
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from commissions import imports, selectors, services
from commissions.forms import (
    QueryRaiseForm,
    RevenueUploadForm,
    last_month,
)
from commissions.models import (
    Payment,
    RevenueReport,
    Statement,
    StatementLine,
    StatementQuery,
)
from commissions.pdf import grouped_lines
from tmw.accounts import policy
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.months import format_month
from tmw.pagecache import cached_page
from tmw.web import csv_cell, htmx_redirect


def _vendor_banner(request) -> dict:
    period = last_month()
    return {"missing_period": period, "missing": selectors.missing_revenue_reports(period=period)}


def _portal_statements():
    """The vendor's statements it may see: issued, paid, and void ones (with their credit notes)."""
    return Statement.objects.filter(status__in=PORTAL_STATUSES).select_related("credit_note_for")


@allow("statement.portal")
@cached_page
def portal_statements(request):
    """The vendor's statements (status, dates, totals, open queries) with PDFs, and last month's missing reports."""
    open_counts = dict(
        StatementQuery.objects.filter(status=StatementQuery.Status.OPEN)
        .values("statement_id")
        .annotate(n=Count("pk"))
        .values_list("statement_id", "n")
    )
    statements: list[Any] = list(services.with_paid_sum(_portal_statements()).order_by("-period", "-pk"))
    for statement in statements:
        statement.open_query_count = open_counts.get(statement.pk, 0)
    recent = list(
        RevenueReport.objects.select_related("attribution__msp").order_by("-period", "attribution__msp__name")[:24]
    )
    payments = list(Payment.objects.select_related("statement").order_by("-received_on", "-pk")[:24])
    queries = list(selectors.statement_queries()[:20])
    context = {
        "statements": statements,
        "reports": recent,
        "payments": payments,
        "queries": queries,
        **_vendor_banner(request),
    }
    return render(request, "commissions/portal_statements.html", context)


@allow("statement.portal")
def portal_statement_detail(request, statement_pk: int):
    """One of the vendor's statements: its lines, the PDF, its queries, and the form to raise one."""
    statement = get_object_or_404(_portal_statements(), pk=statement_pk)
    return portal_statement_page(request, statement)


def portal_statement_page(request, statement: Statement, *, raise_form=None, status: int = 200):
    """The portal's statement page, with a refused query form sent back."""
    lines = list(statement.lines.select_related("attribution__msp").order_by("order", "pk"))
    queries = list(
        StatementQuery.objects.filter(statement=statement)
        .select_related("line", "raised_by", "credit_note", "reissued_statement")
        .order_by("-raised_at", "-pk")
    )
    open_lines = {q.line_id for q in queries if q.is_open and q.line_id}
    for line in lines:
        line.has_open_query = line.pk in open_lines
    queryable = statement.status in Statement.FINAL and not statement.is_credit_note
    queryable_lines = [line for line in lines if not line.has_open_query]
    if raise_form is not None:  # a refused form comes back with every line still to choose from
        fresh = cast(ChoiceField, QueryRaiseForm(lines=queryable_lines).fields["line"])
        cast(ChoiceField, raise_form.fields["line"]).choices = fresh.choices
    context = {
        "statement": statement,
        "groups": grouped_lines(lines),
        "queries": queries,
        "queryable": queryable and policy.can(request.user, "statement.query"),
        "statement_query_open": any(q.is_open and q.line_id is None for q in queries),
        "raise_form": raise_form
        or QueryRaiseForm(lines=queryable_lines, initial={"line": request.GET.get("line", "")}),
        "credit_notes": list(statement.credit_notes.all()),
    }
    return render(request, "commissions/portal_statement_detail.html", context, status=status)


@allow("statement.portal")
def portal_lines_csv(request):
    """Every line of every statement the vendor can see, in one CSV (cells that look like formulas neutralised)."""
    lines = (
        StatementLine.objects.filter(statement__status__in=PORTAL_STATUSES)
        .select_related("statement__vendor", "statement__credit_note_for", "attribution__msp")
        .order_by("-statement__period", "statement_id", "order", "pk")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PORTAL_CSV_COLUMNS)
    for line in lines:
        s = line.statement
        writer.writerow(
            [
                csv_cell(s.number),
                s.status,
                csv_cell(s.credit_note_for.number if s.credit_note_for else ""),
                format_month(s.period),
                s.currency,
                line.kind,
                csv_cell(line.description),
                csv_cell(line.attribution.msp.name if line.attribution is not None else ""),
                "" if line.revenue is None else f"{line.revenue}",
                line.account_year or "",
                "" if line.rate is None else f"{line.rate}",
                f"{line.amount}",
                format_month(line.corrects_period) if line.corrects_period else "",
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statement-lines.csv"'
    return response


PORTAL_STATUSES = (*Statement.FINAL, Statement.Status.VOID)
PORTAL_CSV_COLUMNS = [
    "statement",
    "status",
    "credits",
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
