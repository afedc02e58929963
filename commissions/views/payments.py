"""Payments on a statement, the aging of receivables (page and CSV) and the overdue reminder schedule."""

from __future__ import annotations

import csv
import datetime
import io

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from commissions import services
from commissions.forms import OverdueScheduleForm, PaymentForm, PaymentReverseForm
from commissions.models import Payment, Statement
from tmw.accounts import policy
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.web import add_application_error, csv_cell, htmx_redirect


def payments_context(
    request,
    statement: Statement,
    payment_form: PaymentForm | None = None,
    reverse_form: PaymentReverseForm | None = None,
) -> dict:
    """What the statement page's payments panel shows: payments, balance, reminders and the forms."""
    balance = statement.balance
    can_pay = (
        statement.status == Statement.Status.ISSUED
        and not statement.is_credit_note
        and balance > 0
        and policy.can(request.user, "statement.pay")
    )
    payments = list(Payment.objects.filter(statement=statement).select_related("created_by", "reversed_by"))
    can_reverse = policy.can(request.user, "statement.pay") and any(not p.is_reversed for p in payments)
    return {
        "payments": payments,
        "reminders": list(statement.reminders.all()),
        "balance": balance,
        "can_record_payment": can_pay,
        "can_reverse_payment": can_reverse,
        "payment_form": payment_form
        or PaymentForm(initial={"received_on": timezone.localdate(), "amount": f"{balance:.2f}"}),
        "reverse_form": reverse_form or PaymentReverseForm(payments=_reversible(statement)),
    }


def _reversible(statement: Statement):
    return Payment.objects.filter(statement=statement, reversed_at__isnull=True).order_by("received_on", "pk")


def _form_problems(form) -> str:
    """A refused form's errors in one line, each after its field's label."""
    return "; ".join(
        f"{form[name].label if name in form.fields else 'Form'}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )


@allow(POST="statement.pay")
@require_POST
def payment_reverse(request, statement_pk: int):
    """Reverse one of the statement's payments, recorded in error; a paid statement it had settled is issued again."""
    from commissions.views.statements import _statement, statement_detail_response

    statement = _statement(statement_pk)
    form = PaymentReverseForm(request.POST, payments=_reversible(statement))
    if not form.is_valid():
        messages.error(request, f"Check the reversal: {_form_problems(form)}")
        return statement_detail_response(request, statement, status=400, reverse_form=form)
    payment = form.cleaned_data["payment"]
    was_paid = statement.status == Statement.Status.PAID
    try:
        services.payment_reverse(payment=payment, reason=form.cleaned_data["reason"], actor=request.user)
    except ApplicationError as exc:
        add_application_error(form, exc)
        messages.error(request, exc.message)
        return statement_detail_response(request, _statement(statement_pk), status=exc.status, reverse_form=form)
    statement = _statement(statement_pk)
    reopened = " The statement is open again." if was_paid and statement.status == Statement.Status.ISSUED else ""
    messages.success(
        request,
        f"Payment of {payment.amount:,.2f} ({payment.reference}) reversed; {statement.balance:,.2f} is due.{reopened}",
    )
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]) + "#payments")


@allow(POST="statement.pay")
@require_POST
def payment_add(request, statement_pk: int):
    """Record a payment received against an issued statement; it is paid once the balance reaches zero."""
    from commissions.views.statements import _statement, statement_detail_response

    statement = _statement(statement_pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = services.payment_record(
                statement=statement,
                received_on=form.cleaned_data["received_on"],
                amount=form.cleaned_data["amount"],
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                actor=request.user,
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
            messages.error(request, exc.message)
            return statement_detail_response(request, _statement(statement_pk), status=exc.status, payment_form=form)
        statement.refresh_from_db()
        if statement.status == Statement.Status.PAID:
            messages.success(request, f"Payment of {payment.amount:,.2f} recorded; the statement is paid.")
        else:
            messages.success(
                request, f"Payment of {payment.amount:,.2f} recorded; {statement.balance:,.2f} remains due."
            )
        return htmx_redirect(request, reverse("commissions:statement_detail", args=[statement_pk]) + "#payments")
    messages.error(request, f"Check the payment: {_form_problems(form)}")
    return statement_detail_response(request, statement, status=400, payment_form=form)


def _as_of(request) -> tuple[datetime.date, str]:
    raw = (request.GET.get("as_of") or "").strip()
    if not raw:
        return timezone.localdate(), ""
    try:
        return datetime.date.fromisoformat(raw), ""
    except ValueError:
        return timezone.localdate(), "Give the date as YYYY-MM-DD; showing today."


@allow(GET="aging.view", POST="reminder.schedule")
def aging(request):
    """Open balances by vendor and currency and days past due, and when overdue reminders go out."""
    schedule = services.overdue_schedule()
    form = OverdueScheduleForm(
        request.POST or None,
        initial={
            "enabled": schedule.enabled,
            "first_after_days": schedule.first_after_days,
            "repeat_every_days": schedule.repeat_every_days,
            "max_reminders": schedule.max_reminders,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.overdue_schedule_save(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, "Reminder schedule saved.")
                return htmx_redirect(request, reverse("commissions:aging"))
        status = 400
    as_of, as_of_error = _as_of(request)
    rows, totals = services.aging_by_vendor(as_of=as_of)
    overdue = (
        services.with_paid_sum(
            Statement.objects.filter(
                status=Statement.Status.ISSUED, credit_note_for__isnull=True, due_on__lt=as_of
            ).select_related("vendor")
        )
        .prefetch_related("reminders")
        .order_by("due_on", "pk")[:100]
    )
    context = {
        "rows": rows,
        "totals": totals,
        "buckets": services.AGING_BUCKETS,
        "as_of": as_of,
        "as_of_error": as_of_error,
        "overdue": _with_days_overdue([s for s in overdue if s.balance > 0], as_of),
        "schedule": schedule,
        "form": form,
    }
    return render(request, "commissions/aging.html", context, status=status)


def _with_days_overdue(statements: list[Statement], as_of: datetime.date) -> list[Statement]:
    for statement in statements:
        assert statement.due_on is not None  # filtered on due_on__lt
        statement.days_overdue = (as_of - statement.due_on).days  # type: ignore[attr-defined]
    return statements


AGING_CSV_COLUMNS = ["vendor", "currency", "statements", *(key for key, _ in services.AGING_BUCKETS), "total"]


@allow("aging.view")
def aging_csv(request):
    """The aging table as CSV: one row per vendor and currency, then one total row per currency."""
    as_of, _error = _as_of(request)
    rows, totals = services.aging_by_vendor(as_of=as_of)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AGING_CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [csv_cell(row.vendor), row.currency, row.statements, *(f"{c}" for c in row.cells), f"{row.total}"]
        )
    for row in totals:
        writer.writerow(["Total", row.currency, row.statements, *(f"{c}" for c in row.cells), f"{row.total}"])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="aging-{as_of.isoformat()}.csv"'
    return response
