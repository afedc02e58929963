"""Statements for finance and partners: lists, detail, lifecycle actions, PDFs, the ZIP and the CSV of lines."""

from __future__ import annotations

import csv
import io
import zipfile

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from commissions import selectors, services
from commissions.forms import (
    MarkPaidForm,
    QueryAnswerForm,
    StatementFilter,
    VoidForm,
    last_month,
)
from commissions.models import (
    Statement,
    StatementDelivery,
    StatementLine,
    StatementQuery,
)
from commissions.pdf import grouped_lines, render_statement_pdf, statement_filename
from commissions.views._common import ACTION_POLICY, ACTIONS
from commissions.views.payments import payments_context
from tmw import months
from tmw.accounts import policy
from tmw.accounts.models import AuditEvent
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.months import format_month
from tmw.pagecache import cached_page
from tmw.tables import Column, Table
from tmw.web import csv_cell, htmx_redirect

STATEMENTS_PER_PAGE = 50


def _statement_queryset():
    return Statement.objects.select_related("vendor", "agreement__engagement", "credit_note_for")


STATEMENT_COLUMNS = (
    Column("month", "Month", ("period",), value=lambda s: months.format_month(s.period)),
    Column("vendor", "Vendor", ("vendor__name",), value=lambda s: s.vendor.name),
    Column("number", "Number", ("number",), value=lambda s: s.number or ""),
    Column("kind", "Kind", value=lambda s: "credit note" if s.is_credit_note else "statement"),
    Column("status", "Status", ("status",), value=lambda s: s.get_status_display()),
    Column("currency", "Currency", ("currency",)),
    Column("total", "Total", ("total",)),
    Column("equity", "Equity", ("equity_total",), value=lambda s: s.equity_total),
    Column("cash", "Cash due", value=lambda s: s.cash_total),
)


@allow("statement.workspace")
@cached_page
def statement_list(request):
    """Statements filtered by month, vendor and status, sortable and paged, with totals per currency.

    The totals are of every statement the filters match (one aggregate), not of the page shown;
    ``?format=csv`` downloads those statements in the order shown.
    """
    filterset = StatementFilter(request.GET, queryset=_statement_queryset())
    statements = filterset.qs if filterset.is_valid() else _statement_queryset().none()
    table = Table(request, STATEMENT_COLUMNS, default="-month")
    statements = table.order(statements) if not table.error else statements.none()
    if table.wants_csv and not table.error and not filterset.errors:
        return table.csv_response(statements, "statements.csv")
    totals: dict[str, dict] = {}
    for row in (
        statements.order_by()
        .values("currency")
        .annotate(total=Sum("total"), equity=Sum("equity_total"), count=Count("pk"))
        .order_by("currency")
    ):
        totals[row["currency"]] = {
            "total": row["total"],
            "equity": row["equity"],
            "count": row["count"],
            "cash": row["total"] - row["equity"],
        }
    page = Paginator(statements, STATEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    period = months.parse_month_or_none(request.GET.get("period", ""))
    context = {
        "filterset": filterset,
        "statements": page.object_list,
        "page": page,
        "query": table.query_without("page", "format").urlencode(),
        "table": table,
        "totals": totals,
        "period": period,
    }
    status = 400 if (filterset.is_bound and filterset.errors) or table.error else 200  # a bad filter says so
    if request.htmx and not request.htmx.boosted:
        return render(request, "commissions/partials/statement_table.html", context, status=status)
    return render(request, "commissions/statement_list.html", context, status=status)


def _statement(pk: int) -> Statement:
    return get_object_or_404(_statement_queryset(), pk=pk)


def statement_detail_response(request, statement: Statement, *, status: int = 200, **forms) -> HttpResponse:
    """The statement page, with any refused form as it was sent."""
    return render(
        request, "commissions/statement_detail.html", _statement_context(request, statement, **forms), status=status
    )


def _statement_context(request, statement: Statement, **forms) -> dict:
    lines = list(statement.lines.select_related("attribution__msp").order_by("order", "pk"))
    history = AuditEvent.objects.filter(
        object_type=statement._meta.label_lower, object_id=str(statement.pk)
    ).select_related("actor")
    actions = tuple(a for a in ACTIONS.get(statement.status, ()) if policy.can(request.user, ACTION_POLICY[a]))
    return {
        "statement": statement,
        "groups": grouped_lines(lines),
        "history": list(history.order_by("created_at", "pk")),
        "credit_notes": list(statement.credit_notes.all()),
        "actions": actions,
        "pay_form": forms.get("pay_form") or MarkPaidForm(initial={"paid_on": timezone.localdate()}),
        "void_form": forms.get("void_form") or VoidForm(),
        "terms": selectors.terms_in_force(agreement=statement.agreement, period=statement.period),
        **payments_context(request, statement, forms.get("payment_form"), forms.get("reverse_form")),
        **_loop_context(request, statement, forms.get("answer_forms") or {}),
    }


def _loop_context(request, statement: Statement, answer_forms: dict) -> dict:
    """The deliveries and queries of a statement, with an answer form per open query."""
    queries = list(
        StatementQuery.objects.filter(statement=statement)
        .select_related("line", "raised_by", "answered_by", "credit_note", "reissued_statement", "adjustment_statement")
        .order_by("-raised_at", "-pk")
    )
    for query in queries:
        query.answer_form = answer_forms.get(query.pk) or QueryAnswerForm(
            initial={"decision": "adjustment"}, prefix=f"q{query.pk}"
        )
    return {
        "deliveries": list(
            StatementDelivery.objects.filter(statement=statement).select_related("requested_by").order_by("-created_at")
        ),
        "can_resend": bool(statement.pdf) and policy.can(request.user, "statement.resend"),
        "queries": queries,
        "open_queries": [q for q in queries if q.is_open],
        "carried_queries": list(
            StatementQuery.objects.filter(adjustment_statement=statement).select_related("statement")
        ),
    }


@allow("statement.workspace")
def statement_detail(request, statement_pk: int):
    """One statement: lines grouped by kind, totals, lifecycle actions, deliveries, queries and the audit history."""
    return statement_page(request, statement_pk)


def statement_page(request, statement_pk: int, *, status: int = 200, **forms):
    """The statement page, with the forms a refused action sends back."""
    statement = _statement(statement_pk)
    context = _statement_context(request, statement, **forms)
    return render(request, "commissions/statement_detail.html", context, status=status)


@allow(POST="statement.resend")
@require_POST
def statement_resend(request, statement_pk: int):
    """Email an issued statement or credit note again to the vendor's billing contacts (today's list)."""
    statement = _statement(statement_pk)
    try:
        services.statement_delivery_resend(statement=statement, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return statement_page(request, statement_pk, status=exc.status)
    messages.success(request, "Sending again to the billing contacts; the result shows under Deliveries.")
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]))


def _statement_action(request, statement_pk: int, action: str, call, **forms):
    statement = _statement(statement_pk)
    if action not in ACTIONS.get(statement.status, ()):
        messages.error(
            request,
            services.lifecycle_refusal(status=statement.status, action=action, credit_note=statement.is_credit_note),
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


@allow(POST="statement.approve")
@require_POST
def statement_approve(request, statement_pk: int):
    """Approve a draft: it is never recomputed after this."""
    result = _statement_action(
        request, statement_pk, "approve", lambda s: services.statement_approve(statement=s, actor=request.user)
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, "Statement approved.")
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]))


@allow(POST="statement.issue")
@require_POST
def statement_issue(request, statement_pk: int):
    """Issue an approved statement: it takes its number and its PDF is stored once."""
    result = _statement_action(
        request, statement_pk, "issue", lambda s: services.statement_issue(statement=s, actor=request.user)
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, f"Statement {result.number or ''} issued.".replace("  ", " "))
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]))


@allow(POST="statement.pay")
@require_POST
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


@allow(POST="statement.void")
@require_POST
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


@allow("statement.view")
def statement_pdf(request, statement_pk: int):
    """Download a statement's PDF; vendors only their own issued or paid statements."""
    qs = _statement_queryset()
    if not policy.sees_draft_statement(request.user):
        qs = qs.filter(status__in=Statement.FINAL)
    statement = get_object_or_404(qs, pk=statement_pk)
    filename, content_type, content = statement_file(statement)
    response = HttpResponse(content, content_type=content_type)
    disposition = "attachment" if request.GET.get("inline") != "1" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@allow("statement.export")
def statement_zip(request):
    """A month's statements as one ZIP of PDFs (issued ones as stored; others as watermarked previews)."""
    period = months.parse_month_or_none(request.GET.get("period", "")) or last_month()
    statements = list(_statement_queryset().filter(period=period).order_by("vendor__name", "pk"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for statement in statements:
            filename, _content_type, content = statement_file(statement)
            archive.writestr(filename, content)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="statements-{format_month(period)}.zip"'
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


@allow("statement.export")
def statement_lines_csv(request):
    """Every line of a month's statements, for accounting (cells that look like formulas are neutralised)."""
    period = months.parse_month_or_none(request.GET.get("period", "")) or last_month()
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
                f"{format_month(s.period)}",
                s.currency,
                line.kind,
                csv_cell(line.description),
                csv_cell(line.attribution.msp.name if line.attribution is not None else ""),
                "" if line.revenue is None else f"{line.revenue}",
                line.account_year or "",
                "" if line.rate is None else f"{line.rate}",
                f"{line.amount}",
                f"{format_month(line.corrects_period)}" if line.corrects_period else "",
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-lines-{format_month(period)}.csv"'
    return response


# --- Vendor portal
