"""Payments against issued statements, due dates, aging and overdue reminders.

A statement is due its issue date plus the payment terms (net days) of the terms version in
force for its period. Finance records each payment received (date, amount, method,
reference); the balance is the cash due less the payments, and the statement is paid the
moment the balance reaches zero (``_statement_paid``, the one place that happens). A credit
note carries no balance: it is settled by the statement it voids, so it takes no payments.
A payment recorded in error is reversed (``payment_reverse``), with a reason: it stays on the
statement, no longer counts, and a paid statement it had settled is open (issued) again.
Overdue reminders go to the vendor's billing contacts (``billing_recipients``) on the
schedule finance sets, once per schedule step.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from commissions.models import AgreementTerms, OverdueReminder, OverdueSchedule, Payment, Statement
from commissions.services._common import Actor, _money
from commissions.webhook_events import publish_statement
from tmw.accounts import policy
from tmw.accounts.services import audit_record, billing_recipients
from tmw.errors import ApplicationError
from tmw.months import month_label

if TYPE_CHECKING:
    from tmw.accounts.models import User

__all__ = [
    "AGING_BUCKETS",
    "AgingRow",
    "aging_by_vendor",
    "due_date_for",
    "overdue_reminders_send",
    "overdue_schedule",
    "overdue_schedule_save",
    "payment_record",
    "payment_reverse",
    "statement_mark_paid",
    "with_paid_sum",
]

ZERO = Decimal("0.00")
DEFAULT_PAYMENT_TERMS_DAYS = 30


def due_date_for(statement: Statement, issued_on: datetime.date) -> datetime.date:
    """The issue date plus the net days of the terms in force for the statement's period (net 30 without terms)."""
    days = (
        AgreementTerms.objects.filter(agreement_id=statement.agreement_id, effective_month__lte=statement.period)
        .order_by("-effective_month")
        .values_list("payment_terms_days", flat=True)
        .first()
    )
    return issued_on + datetime.timedelta(days=DEFAULT_PAYMENT_TERMS_DAYS if days is None else days)


def with_paid_sum(queryset: QuerySet[Statement]) -> QuerySet[Statement]:
    """Statements annotated with ``paid_sum``, the sum of their payments (read by ``Statement.amount_paid``)."""
    paid = (
        Payment.objects.filter(statement=OuterRef("pk"), reversed_at__isnull=True)
        .order_by()
        .values("statement")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=2)
    return queryset.annotate(paid_sum=Coalesce(Subquery(paid, output_field=money), Value(ZERO), output_field=money))


def _locked(statement: Statement) -> Statement:
    # unscoped: lock (re-reads with FOR UPDATE a statement the caller already holds)
    return Statement.all_objects.select_for_update().select_related("vendor").get(pk=statement.pk)


def _refuse_unpayable(statement: Statement) -> None:
    if statement.is_credit_note:
        raise ApplicationError(
            "A credit note takes no payments: it is settled by the statement it voids.",
            extra={"statement": ["A credit note has no balance to pay."]},
            status=409,
        )
    if statement.status == Statement.Status.PAID:
        raise ApplicationError(
            "This statement is already paid; its balance is zero.", extra={"amount": ["Nothing is due."]}, status=409
        )
    if statement.status != Statement.Status.ISSUED:
        state = {"draft": "still a draft", "approved": "approved but not issued", "void": "void"}[statement.status]
        raise ApplicationError(
            f"This statement is {state}; only an issued statement takes payments.",
            extra={"statement": [f"The statement is {statement.get_status_display().lower()}."]},
            status=409,
        )


def _statement_paid(*, statement: Statement, payment: Payment, user: User | None) -> None:
    """The moment a statement becomes paid: its balance reached zero with ``payment``."""
    statement.status = Statement.Status.PAID
    statement.paid_on = payment.received_on
    statement.payment_reference = payment.reference
    statement.save(update_fields=["status", "paid_on", "payment_reference", "updated_at"])
    audit_record(
        actor=user,
        verb="statement.paid",
        obj=statement,
        organisation=statement.vendor,
        data={"paid_on": payment.received_on.isoformat(), "reference": payment.reference, "number": statement.number},
    )
    publish_statement("statement.paid", statement)


@transaction.atomic
def payment_record(
    *,
    statement: Statement,
    received_on: datetime.date | None,
    amount: object,
    method: str = Payment.Method.WIRE,
    reference: str,
    actor: Actor,
) -> Payment:
    """Record a payment received against an issued statement; the statement is paid when its balance reaches zero.

    Refused, naming the field: an amount that is not positive or is above the balance, a date
    in the future or before the issue date (both in the active time zone, the viewer's), no
    reference, a statement that is not issued (draft, approved, void, already paid) or a credit note.
    """
    policy.require(actor, "statement.pay", "record payments")
    user = policy.user_of(actor)
    statement = _locked(statement)
    _refuse_unpayable(statement)
    value = _money(amount, "amount")
    if value <= 0:
        raise ApplicationError("A payment is more than zero.", extra={"amount": ["More than zero."]})
    balance = statement.balance
    if value > balance:
        message = f"The payment of {value:,.2f} is above the balance of {balance:,.2f} {statement.currency}."
        raise ApplicationError(message, extra={"amount": [f"At most {balance:,.2f}, the balance."]})
    if received_on is None:
        raise ApplicationError("Give the date the payment was received.", extra={"received_on": ["Required."]})
    today = timezone.localdate()
    if received_on > today:
        raise ApplicationError("The payment date is in the future.", extra={"received_on": ["In the future."]})
    issued_on = timezone.localdate(statement.issued_at) if statement.issued_at else None
    if issued_on is not None and received_on < issued_on:
        message = f"The payment date is before the statement was issued on {issued_on.isoformat()}."
        raise ApplicationError(
            message, extra={"received_on": [f"On or after {issued_on.isoformat()}, the issue date."]}
        )
    if method not in Payment.Method.values:
        raise ApplicationError("Choose how the payment was made.", extra={"method": ["Not a payment method."]})
    reference = (reference or "").strip()
    if not reference:
        raise ApplicationError("Give the payment reference.", extra={"reference": ["Required."]})
    if len(reference) > 120:
        raise ApplicationError("The reference is at most 120 characters.", extra={"reference": ["Too long."]})
    payment = Payment.objects.create(
        statement=statement,
        vendor_id=statement.vendor_id,
        received_on=received_on,
        amount=value,
        method=method,
        reference=reference,
        created_by=user,
    )
    remaining = balance - value
    audit_record(
        actor=user,
        verb="statement.payment_recorded",
        obj=statement,
        organisation=statement.vendor,
        data={
            "amount": str(value),
            "received_on": received_on.isoformat(),
            "method": method,
            "reference": reference,
            "balance": str(remaining),
        },
    )
    if remaining == 0:
        _statement_paid(statement=statement, payment=payment, user=user)
    return payment


REVERSAL_REASON_LENGTH = Payment._meta.get_field("reversal_reason").max_length or 200


@transaction.atomic
def payment_reverse(*, payment: Payment, reason: str, actor: Actor) -> Payment:
    """Reverse a payment recorded in error: it stays, struck through with ``reason``, and no longer counts.

    A paid statement whose balance the reversal reopens is issued again (no paid date, no reference).
    Refused: a payment already reversed (409), no reason or one over 200 characters (naming ``reason``).
    """
    policy.require(actor, "statement.pay", "reverse payments")
    user = policy.user_of(actor)
    statement = _locked(payment.statement)
    # unscoped: lock (re-reads with FOR UPDATE a payment the caller already holds)
    payment = Payment.all_objects.select_for_update().get(pk=payment.pk)
    if payment.reversed_at is not None:
        raise ApplicationError(
            f"This payment was already reversed on {timezone.localdate(payment.reversed_at).isoformat()}.",
            extra={"payment": ["Already reversed."]},
            status=409,
        )
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError("Say why the payment is reversed.", extra={"reason": ["Required."]})
    if len(reason) > REVERSAL_REASON_LENGTH:
        message = f"At most {REVERSAL_REASON_LENGTH} characters."
        raise ApplicationError(f"The reason is too long. {message}", extra={"reason": [message]})
    payment.reversed_at = timezone.now()
    payment.reversed_by = user
    payment.reversal_reason = reason
    payment.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
    reopened = statement.status == Statement.Status.PAID
    if reopened:
        statement.status = Statement.Status.ISSUED
        statement.paid_on = None
        statement.payment_reference = ""
        statement.save(update_fields=["status", "paid_on", "payment_reference", "updated_at"])
    audit_record(
        actor=user,
        verb="statement.payment_reversed",
        obj=statement,
        organisation=statement.vendor,
        data={
            "amount": str(payment.amount),
            "received_on": payment.received_on.isoformat(),
            "reference": payment.reference,
            "reason": reason,
            "balance": str(statement.balance),
            "reopened": reopened,
        },
    )
    publish_statement("statement.payment_reversed", statement)
    return payment


def statement_mark_paid(*, statement: Statement, paid_on: datetime.date, reference: str, actor: Actor) -> Statement:
    """Record one payment of the whole balance (date and reference): the statement is then paid."""
    policy.require(actor, "statement.pay", "record payments")
    with transaction.atomic():
        locked = _locked(statement)
        _refuse_unpayable(locked)
        if paid_on is None:
            raise ApplicationError("Give the payment date.", extra={"paid_on": ["Required."]})
        try:
            payment_record(
                statement=locked,
                received_on=paid_on,
                amount=locked.balance,
                method=Payment.Method.OTHER,
                reference=reference,
                actor=actor,
            )
        except ApplicationError as exc:  # this door names the date "paid_on", as it always has
            if "received_on" in exc.extra:
                exc.extra["paid_on"] = exc.extra.pop("received_on")
            raise
        locked.refresh_from_db()
    return locked


# --- Aging


AGING_BUCKETS: tuple[tuple[str, str], ...] = (
    ("current", "Current"),
    ("days_1_30", "1–30 days"),
    ("days_31_60", "31–60 days"),
    ("days_61_90", "61–90 days"),
    ("over_90", "Over 90 days"),
)


@dataclass
class AgingRow:
    """What one vendor owes in one currency, by days past the due date."""

    vendor_id: int
    vendor: str
    currency: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: {key: ZERO for key, _ in AGING_BUCKETS})
    statements: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def cells(self) -> list[Decimal]:
        return [self.buckets[key] for key, _ in AGING_BUCKETS]


def aging_by_vendor(*, as_of: datetime.date | None = None) -> tuple[list[AgingRow], list[AgingRow]]:
    """Open balances of issued statements by vendor and currency, bucketed by days past due on ``as_of``.

    Returns the rows (by vendor name, then currency) and one total row per currency (vendor ""). A
    statement is *current* until and on its due date, 1–30 days past due from the day after, and so on.
    Reads through the scoped managers (operators: inside their scope).
    """
    as_of = as_of or timezone.localdate()
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=2)
    # One grouped query: each open statement's balance (cash due less payments) and its bucket, summed
    # by vendor, currency and bucket in the database.
    due = Coalesce("due_on", TruncDate("issued_at", tzinfo=timezone.get_current_timezone()), Value(as_of))
    bucket = Case(
        When(due_at__gte=as_of, then=Value("current")),
        When(due_at__gte=as_of - datetime.timedelta(days=30), then=Value("days_1_30")),
        When(due_at__gte=as_of - datetime.timedelta(days=60), then=Value("days_31_60")),
        When(due_at__gte=as_of - datetime.timedelta(days=90), then=Value("days_61_90")),
        default=Value("over_90"),
        output_field=CharField(),
    )
    grouped = (
        with_paid_sum(Statement.objects.filter(status=Statement.Status.ISSUED, credit_note_for__isnull=True))
        .annotate(
            due_at=due,
            open_balance=ExpressionWrapper(F("total") - F("equity_total") - F("paid_sum"), output_field=money),
        )
        .filter(open_balance__gt=0)
        .annotate(bucket=bucket)
        .order_by()
        .values("vendor_id", "vendor__name", "currency", "bucket")
        .annotate(amount=Sum("open_balance"), count=Count("pk"))
    )
    rows: dict[tuple[int, str], AgingRow] = {}
    totals: dict[str, AgingRow] = {}
    for group in grouped:
        currency = group["currency"]
        row = rows.setdefault(
            (group["vendor_id"], currency),
            AgingRow(vendor_id=group["vendor_id"], vendor=group["vendor__name"], currency=currency),
        )
        total = totals.setdefault(currency, AgingRow(vendor_id=0, vendor="", currency=currency))
        for target in (row, total):
            target.buckets[group["bucket"]] += group["amount"]
            target.statements += group["count"]
    ordered = sorted(rows.values(), key=lambda r: (r.vendor.lower(), r.vendor_id, r.currency))
    return ordered, [totals[c] for c in sorted(totals)]


# --- Overdue reminders


def overdue_schedule() -> OverdueSchedule:
    """The reminder schedule (created with its defaults, 7 days after due then every 14, on first use)."""
    schedule, _ = OverdueSchedule.objects.get_or_create(pk=1)
    return schedule


@transaction.atomic
def overdue_schedule_save(
    *, enabled: bool, first_after_days: int, repeat_every_days: int, max_reminders: int, actor: Actor
) -> OverdueSchedule:
    """Set when overdue reminders go out: ``first_after_days`` after the due date, then every ``repeat_every_days``."""
    from commissions.services._common import _validate

    policy.require(actor, "reminder.schedule", "set the overdue reminder schedule")
    schedule = OverdueSchedule.objects.select_for_update().get(pk=overdue_schedule().pk)
    schedule.enabled = bool(enabled)
    schedule.first_after_days = first_after_days
    schedule.repeat_every_days = repeat_every_days
    schedule.max_reminders = max_reminders
    schedule.updated_by = policy.user_of(actor)
    _validate(schedule)
    schedule.save()
    audit_record(
        actor=actor,
        verb="overdue_schedule.saved",
        obj=schedule,
        data={
            "enabled": schedule.enabled,
            "first_after_days": first_after_days,
            "repeat_every_days": repeat_every_days,
            "max_reminders": max_reminders,
        },
    )
    return schedule


def _reminder_message(statement: Statement, *, days: int, balance: Decimal, to: list[str]) -> EmailMessage:
    number = statement.number or ""
    due = statement.due_on.strftime("%-d %B %Y") if statement.due_on else ""
    body = (
        f"Statement {number} for {month_label(statement.period)} was due on {due} and is {days} "
        f"day{'s' if days != 1 else ''} overdue.\n\n"
        f"Balance due: {statement.currency} {balance:,.2f}\n\n"
        "Please arrange payment, quoting the statement number. If you have already paid, thank you: "
        "reply with the payment reference and we will match it.\n\n"
        f"The statement is in your portal: {settings.SITE_URL}/commissions/portal/statements/\n"
    )
    return EmailMessage(
        subject=f"Overdue: statement {number} ({statement.currency} {balance:,.2f})",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )


def overdue_reminders_send(*, actor: Actor, today: datetime.date | None = None) -> int:
    """Email each overdue statement's billing contacts at the schedule step it has reached; returns emails sent.

    Each step is sent once: the reminder row (one per statement and step) is claimed in the same
    transaction that sends it, so a second sweep, or two at once, send nothing more. A sweep that
    missed days sends only the latest step reached, not every step missed. Call inside the operator scope.
    """
    policy.require(actor, "reminder.send", "send overdue reminders")
    today = today or timezone.localdate()
    schedule = overdue_schedule()
    if not schedule.enabled:
        return 0
    latest_day = today - datetime.timedelta(days=schedule.first_after_days)
    candidates = with_paid_sum(
        Statement.objects.filter(
            status=Statement.Status.ISSUED, credit_note_for__isnull=True, due_on__isnull=False, due_on__lte=latest_day
        )
        .select_related("vendor")
        .order_by("due_on", "pk")
    )
    sent = 0
    for statement in candidates:
        assert statement.due_on is not None  # filtered on due_on
        days = (today - statement.due_on).days
        step = schedule.step_due(days)
        balance = statement.balance
        if step == 0 or balance <= 0:
            continue
        if OverdueReminder.objects.filter(statement=statement, step__gte=step).exists():
            continue
        to = billing_recipients(statement.vendor)
        try:
            with transaction.atomic():
                OverdueReminder.objects.create(
                    statement=statement,
                    vendor_id=statement.vendor_id,
                    step=step,
                    days_overdue=days,
                    balance=balance,
                    recipients="\n".join(to),
                )
                if to:
                    _reminder_message(statement, days=days, balance=balance, to=to).send(fail_silently=False)
                    sent += 1
                audit_record(
                    actor=policy.user_of(actor),
                    verb="statement.reminder_sent",
                    obj=statement,
                    organisation=statement.vendor,
                    data={"step": step, "days_overdue": days, "balance": str(balance), "recipients": len(to)},
                )
        except IntegrityError:  # another sweep sent this step first
            continue
    return sent
