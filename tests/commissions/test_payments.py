"""Payments, balances, due dates, aging (hand-computed buckets) and overdue reminders (frozen clock)."""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from commissions import services
from commissions.models import OverdueReminder, Payment, Statement
from commissions.tasks import overdue_reminders_task
from tests.commissions.money import agreement, engagement, fake_pdf
from tmw.accounts.models import AuditEvent, BillingContact
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError
from tmw.webhooks.models import WebhookDelivery

D = Decimal


@pytest.fixture(autouse=True)
def _fake_pdf(monkeypatch):
    monkeypatch.setattr("commissions.services.statements._render_pdf", fake_pdf)


@pytest.fixture
def clock(monkeypatch):
    """``clock.set(datetime)`` freezes ``timezone.now()`` (and so ``localdate()``) at that moment."""

    class Clock:
        def set(self, moment: datetime.datetime) -> None:
            monkeypatch.setattr(timezone, "now", lambda: moment)

    return Clock()


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def issued(world, agr, period: datetime.date) -> Statement:
    """The agreement's statement for ``period``, computed, approved and issued by finance."""
    with operator_scope():
        draft = services.statement_generate(agreement=agr, period=period, actor=SYSTEM)
        approved = services.statement_approve(statement=draft, actor=world.finance)
        return services.statement_issue(statement=approved, actor=world.finance)


@pytest.fixture
def desk(world):
    """Vendor A's agreement (USD 6,000 a month, no accounts: each statement is 6,000.00 cash)."""
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
        return agreement(eng, world.finance)


JAN = datetime.date(2025, 1, 1)


def test_two_part_payments_leave_a_balance_then_pay_the_statement(world, desk, client_for):
    statement = issued(world, desk, JAN)
    finance = client_for(world.finance)
    today = timezone.localdate()
    url = reverse("commissions:payment_add", args=[statement.pk])
    first = finance.post(url, {"received_on": today, "amount": "2,500.00", "method": "wire", "reference": "WIRE 1"})
    assert first.status_code == 302
    page = finance.get(reverse("commissions:statement_detail", args=[statement.pk])).content.decode()
    assert 'data-balance="3500.00"' in page and "WIRE 1" in page and "Record payment" in page
    with operator_scope():
        statement.refresh_from_db()
        assert statement.status == Statement.Status.ISSUED and statement.balance == D("3500.00")

    second = finance.post(url, {"received_on": today, "amount": "3500", "method": "ach", "reference": "ACH 2"})
    assert second.status_code == 302
    with operator_scope():
        statement.refresh_from_db()
        assert [p.amount for p in statement.payments.all()] == [D("2500.00"), D("3500.00")]
        assert statement.status == Statement.Status.PAID and statement.balance == D("0.00")
    assert (statement.paid_on, statement.payment_reference) == (today, "ACH 2")
    page = finance.get(reverse("commissions:statement_detail", args=[statement.pk])).content.decode()
    assert 'data-balance="0.00"' in page and "Record payment" not in page and "Paid in full" in page


@pytest.mark.parametrize(
    ("amount", "days", "field"),
    [
        ("6000.01", 0, "amount"),  # above the balance
        ("0", 0, "amount"),
        ("-5.00", 0, "amount"),
        ("12.345", 0, "amount"),
        ("1000000000.01", 0, "amount"),  # above the bound of commissions.limits
        ("100.00", 1, "received_on"),  # tomorrow
    ],
)
def test_bad_payments_name_the_field_and_write_nothing(world, desk, client_for, amount, days, field):
    statement = issued(world, desk, JAN)
    when = timezone.localdate() + datetime.timedelta(days=days)
    body = {"received_on": when, "amount": amount, "method": "wire", "reference": "X"}
    page = client_for(world.finance).post(reverse("commissions:payment_add", args=[statement.pk]), body)
    assert page.status_code == 400
    answer = api(world.finance).post("/api/v1/payments/", {**body, "statement": statement.pk}, format="json")
    assert answer.status_code == 400 and field in answer.json()["extra"], answer.json()
    with operator_scope():
        assert not Payment.objects.filter(statement=statement).exists()
        statement.refresh_from_db()
    assert statement.status == Statement.Status.ISSUED


def test_a_payment_before_the_issue_date_is_refused_in_the_viewers_zone(world, desk, clock):
    # Issued at 03:00 UTC on 2 March: still 1 March in Los Angeles, already 2 March in UTC.
    clock.set(datetime.datetime(2025, 3, 2, 3, 0, tzinfo=datetime.UTC))
    statement = issued(world, desk, JAN)
    clock.set(datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC))
    with operator_scope(), timezone.override("UTC"), pytest.raises(ApplicationError) as err:
        services.payment_record(
            statement=statement,
            received_on=datetime.date(2025, 3, 1),
            amount="10",
            reference="R",
            actor=world.finance,
        )
    assert "received_on" in err.value.extra and "2025-03-02" in err.value.message
    with operator_scope(), timezone.override("America/Los_Angeles"):
        payment = services.payment_record(
            statement=statement, received_on=datetime.date(2025, 3, 1), amount="10", reference="R", actor=world.finance
        )
    assert payment.amount == D("10.00")


def test_payments_on_drafts_void_statements_and_credit_notes_are_refused(world, desk):
    with operator_scope():
        draft = services.statement_generate(agreement=desk, period=JAN, actor=SYSTEM)
    for target in [draft]:
        with operator_scope(), pytest.raises(ApplicationError) as err:
            services.payment_record(
                statement=target, received_on=timezone.localdate(), amount="1", reference="R", actor=world.finance
            )
        assert err.value.status == 409 and "draft" in err.value.message
    feb = issued(world, desk, datetime.date(2025, 2, 1))
    with operator_scope():
        credit = services.statement_void(statement=feb, reason="Wrong", actor=world.finance)
    for target, word in [(feb, "void"), (credit, "credit note")]:
        with operator_scope(), pytest.raises(ApplicationError) as err:
            services.payment_record(
                statement=target, received_on=timezone.localdate(), amount="1", reference="R", actor=world.finance
            )
        assert err.value.status == 409 and word in err.value.message
    with operator_scope():
        feb.refresh_from_db()
        assert credit.balance == D("0.00") and feb.balance == D("0.00")
        assert not Payment.objects.filter(statement__in=[draft, feb, credit]).exists()


def test_a_statement_with_payments_cannot_be_voided(world, desk):
    statement = issued(world, desk, JAN)
    with operator_scope():
        services.payment_record(
            statement=statement, received_on=timezone.localdate(), amount="100", reference="R", actor=world.finance
        )
        with pytest.raises(ApplicationError) as err:
            services.statement_void(statement=statement, reason="Oops", actor=world.finance)
    assert err.value.status == 409 and "payments" in err.value.message


def test_the_due_date_follows_the_payment_terms_of_the_period(world, clock):
    clock.set(datetime.datetime(2025, 3, 2, 15, 0, tzinfo=datetime.UTC))
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=JAN)
        agr = agreement(eng, world.finance, payment_terms_days=45)
    statement = issued(world, agr, JAN)
    assert statement.due_on == datetime.date(2025, 3, 2) + datetime.timedelta(days=45)
    with operator_scope():
        eng_b = engagement(world.b.vendor, world.partner, start=JAN)
        agr_b = agreement(eng_b, world.finance)
    assert issued(world, agr_b, JAN).due_on == datetime.date(2025, 4, 1)  # net 30 by default


def test_vendors_see_their_own_payments_and_balances(world, desk, client_for):
    statement = issued(world, desk, JAN)
    with operator_scope():
        services.payment_record(
            statement=statement,
            received_on=timezone.localdate(),
            amount="1000",
            reference="WIRE-A",
            actor=world.finance,
        )
    portal = client_for(world.a.vendor_admin).get(reverse("commissions:portal_statements")).content.decode()
    assert "WIRE-A" in portal and "5,000.00" in portal
    other = client_for(world.b.vendor_admin).get(reverse("commissions:portal_statements")).content.decode()
    assert "WIRE-A" not in other
    mine = api(world.a.vendor_admin).get("/api/v1/payments/", {"statement": statement.pk}).json()["results"]
    assert [p["reference"] for p in mine] == ["WIRE-A"]
    theirs = api(world.b.vendor_admin).get("/api/v1/payments/").json()["results"]
    assert theirs and "WIRE-A" not in {p["reference"] for p in theirs}
    detail = api(world.a.vendor_admin).get(f"/api/v1/statements/{statement.pk}/").json()
    assert (detail["amount_paid"], detail["balance"]) == ("1000.00", "5000.00")


# --- Aging


AS_OF = datetime.date(2026, 6, 30)


def test_aging_buckets_by_vendor_and_currency_as_hand_computed(world, desk, client_for):
    # Vendor A, USD: six statements of 6,000.00 each, due on these dates (days past due on 30 June 2026).
    dues = {
        JAN: datetime.date(2026, 6, 30),  # 0 days: current (1,000.00 paid: 5,000.00 open)
        datetime.date(2025, 2, 1): datetime.date(2026, 6, 29),  # 1 day: 1-30
        datetime.date(2025, 3, 1): datetime.date(2026, 5, 31),  # 30 days: 1-30
        datetime.date(2025, 4, 1): datetime.date(2026, 5, 30),  # 31 days: 31-60
        datetime.date(2025, 5, 1): datetime.date(2026, 4, 1),  # 90 days: 61-90
        datetime.date(2025, 6, 1): datetime.date(2026, 3, 31),  # 91 days: over 90
    }
    for period, due in dues.items():
        statement = issued(world, desk, period)
        Statement.all_objects.filter(pk=statement.pk).update(due_on=due)
    with operator_scope():
        first = Statement.objects.get(agreement=desk, period=JAN)
        services.payment_record(
            statement=first, received_on=timezone.localdate(), amount="1000", reference="P", actor=world.finance
        )
        # Paid in full, a draft and a voided statement with its credit note: none of them is owed.
        paid = issued(world, desk, datetime.date(2025, 7, 1))
        services.payment_record(
            statement=paid, received_on=timezone.localdate(), amount="6000", reference="P", actor=world.finance
        )
        services.statement_generate(agreement=desk, period=datetime.date(2025, 9, 1), actor=SYSTEM)
        services.statement_void(
            statement=issued(world, desk, datetime.date(2025, 8, 1)), reason="Wrong", actor=world.finance
        )
        # Vendor B, CAD: 4,000.00 due in July (current).
        eng_b = engagement(world.b.vendor, world.partner, start=JAN)
        agr_b = agreement(eng_b, world.finance, currency="CAD", monthly_amount=D("4000.00"))
    b_statement = issued(world, agr_b, JAN)
    Statement.all_objects.filter(pk=b_statement.pk).update(due_on=datetime.date(2026, 7, 15))

    with operator_scope():
        rows, totals = services.aging_by_vendor(as_of=AS_OF)
    got = {(r.vendor, r.currency): r.cells for r in rows}
    assert got == {
        (world.a.vendor.name, "USD"): [D("5000.00"), D("12000.00"), D("6000.00"), D("6000.00"), D("6000.00")],
        (world.b.vendor.name, "CAD"): [D("4000.00"), D(0), D(0), D(0), D(0)],
    }
    assert {t.currency: t.total for t in totals} == {"USD": D("35000.00"), "CAD": D("4000.00")}

    response = client_for(world.finance).get(reverse("commissions:aging_csv"), {"as_of": AS_OF.isoformat()})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == ["vendor", "currency", "statements", "current", "days_1_30", "days_31_60"] + [
        "days_61_90",
        "over_90",
        "total",
    ]
    body = {(row[0], row[1]): row[2:] for row in table[1:]}
    assert body[(world.a.vendor.name, "USD")] == ["6", "5000.00", "12000.00", "6000.00", "6000.00", "6000.00"] + [
        "35000.00"
    ]
    assert body[(world.b.vendor.name, "CAD")] == ["1", "4000.00", "0.00", "0.00", "0.00", "0.00", "4000.00"]
    assert body[("Total", "USD")][-1] == "35000.00" and body[("Total", "CAD")][-1] == "4000.00"

    home = client_for(world.finance).get(reverse("dashboard:finance")).content.decode()
    assert 'id="aging-table"' in home and world.a.vendor.name in home
    answer = api(world.finance).get("/api/v1/aging/", {"as_of": AS_OF.isoformat()}).json()
    assert [(r["vendor_name"], r["over_90"]) for r in answer["rows"]] == [
        (world.a.vendor.name, "6000.00"),
        (world.b.vendor.name, "0.00"),
    ] or [(r["vendor_name"], r["over_90"]) for r in answer["rows"]] == [
        (world.b.vendor.name, "0.00"),
        (world.a.vendor.name, "6000.00"),
    ]
    assert api(world.finance).get("/api/v1/aging/", {"as_of": "June"}).status_code == 400
    assert api(world.partner).get("/api/v1/aging/").status_code == 403


# --- Overdue reminders


def test_reminders_go_once_per_schedule_step_on_a_frozen_clock(world, desk, clock, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    clock.set(datetime.datetime(2025, 3, 2, 15, 0, tzinfo=datetime.UTC))
    statement = issued(world, desk, JAN)
    due = statement.due_on
    assert due == datetime.date(2025, 4, 1)

    def on(days: int) -> int:
        clock.set(datetime.datetime.combine(due + datetime.timedelta(days=days), datetime.time(12), datetime.UTC))
        mail.outbox.clear()
        return overdue_reminders_task()

    assert on(6) == 0  # 7 days after due is the first step
    assert on(7) == 1
    with operator_scope():
        billing = list(BillingContact.objects.filter(organisation=world.a.vendor).values_list("email", flat=True))
    assert billing and mail.outbox[0].to == billing  # the vendor's billing contacts (its admins when none)
    assert statement.number in mail.outbox[0].subject and "6,000.00" in mail.outbox[0].body
    assert on(7) == 0 and on(8) == 0 and on(20) == 0  # sent once; the next step is 7 + 14
    with operator_scope():
        services.payment_record(
            statement=statement, received_on=due, amount="1500", reference="PART", actor=world.finance
        )
    assert on(21) == 1 and "4,500.00" in mail.outbox[0].body  # the balance left
    assert on(21) == 0 and on(34) == 0
    with operator_scope():
        services.overdue_schedule_save(
            enabled=True, first_after_days=7, repeat_every_days=7, max_reminders=3, actor=world.finance
        )
    assert on(28) == 1  # step 3 on the new schedule
    assert on(60) == 0  # at most three
    with operator_scope():
        steps = list(OverdueReminder.objects.filter(statement=statement).values_list("step", "days_overdue"))
    assert steps == [(1, 7), (2, 21), (3, 28)]
    with operator_scope():
        services.payment_record(
            statement=statement, received_on=due, amount="4500", reference="REST", actor=world.finance
        )
        services.overdue_schedule_save(
            enabled=True, first_after_days=7, repeat_every_days=7, max_reminders=10, actor=world.finance
        )
    assert on(70) == 0  # paid: nothing more


def test_a_sweep_after_days_off_sends_only_the_latest_step(world, desk, clock):
    clock.set(datetime.datetime(2025, 3, 2, 15, 0, tzinfo=datetime.UTC))
    statement = issued(world, desk, JAN)
    clock.set(
        datetime.datetime.combine(statement.due_on + datetime.timedelta(days=40), datetime.time(12), datetime.UTC)
    )
    assert overdue_reminders_task() == 1 and overdue_reminders_task() == 0
    with operator_scope():
        assert list(OverdueReminder.objects.filter(statement=statement).values_list("step", flat=True)) == [
            3
        ]  # 7, 21, 35: the third


def test_the_reminder_schedule_is_set_by_finance_only(world, client_for):
    response = client_for(world.finance).post(
        reverse("commissions:aging"),
        {"enabled": "on", "first_after_days": "5", "repeat_every_days": "10", "max_reminders": "4"},
    )
    assert response.status_code == 302
    with operator_scope():
        schedule = services.overdue_schedule()
    assert (schedule.first_after_days, schedule.repeat_every_days, schedule.max_reminders) == (5, 10, 4)
    bad = client_for(world.finance).post(
        reverse("commissions:aging"), {"first_after_days": "0", "repeat_every_days": "10", "max_reminders": "4"}
    )
    assert bad.status_code == 400
    answer = api(world.finance).post("/api/v1/overdue-schedule/", {"first_after_days": 0}, format="json")
    assert answer.status_code == 400 and "first_after_days" in answer.json()["extra"]
    ok = api(world.finance).post(
        "/api/v1/overdue-schedule/",
        {"enabled": True, "first_after_days": 7, "repeat_every_days": 14, "max_reminders": 6},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["repeat_every_days"] == 14
    assert api(world.partner).post("/api/v1/overdue-schedule/", {}, format="json").status_code == 403
    with operator_scope(), pytest.raises(ApplicationError):
        services.overdue_schedule_save(
            enabled=True, first_after_days=7, repeat_every_days=14, max_reminders=6, actor=world.partner
        )


def test_the_payment_api_records_and_lists(world, desk):
    statement = issued(world, desk, JAN)
    body = {
        "statement": statement.pk,
        "received_on": timezone.localdate().isoformat(),
        "amount": "6000.00",
        "method": "cheque",
        "reference": "CHQ 101",
    }
    assert api(world.partner).post("/api/v1/payments/", body, format="json").status_code == 403
    answer = api(world.finance).post("/api/v1/payments/", body, format="json")
    assert answer.status_code == 201 and answer.json()["amount"] == "6000.00"
    again = api(world.finance).post("/api/v1/payments/", body, format="json")
    assert again.status_code == 409  # paid: nothing is due
    listed = api(world.finance).get("/api/v1/payments/", {"statement": statement.pk}).json()["results"]
    assert [p["reference"] for p in listed] == ["CHQ 101"]
    assert api(world.finance).get("/api/v1/payments/", {"statement": "x"}).status_code == 400
    missing = api(world.finance).post("/api/v1/payments/", {**body, "statement": 999999}, format="json")
    assert missing.status_code == 404
    with operator_scope():
        statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID


def test_the_migration_turns_each_statement_marked_paid_into_one_payment(world, desk):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("commissions.migrations.0004_payments_due_dates_reminders_bulk")
    statement = issued(world, desk, JAN)
    open_one = issued(world, desk, datetime.date(2025, 2, 1))
    issued_on = statement.issued_at.date()
    Statement.all_objects.filter(pk__in=[statement.pk, open_one.pk]).update(due_on=None)
    Statement.all_objects.filter(pk=statement.pk).update(status="paid", paid_on=issued_on, payment_reference="WIRE 9")
    migration.payments_from_paid_statements(apps, None)
    with operator_scope():
        statement.refresh_from_db()
        open_one.refresh_from_db()
        payment = Payment.objects.get(statement=statement)
        assert (payment.amount, payment.received_on, payment.reference) == (D("6000.00"), issued_on, "WIRE 9")
        assert statement.balance == D("0.00") and not Payment.objects.filter(statement=open_one).exists()
    assert statement.due_on == open_one.due_on == issued_on + datetime.timedelta(days=30)


# --- Reversals: a payment recorded in error stays listed, no longer counts, and reopens a paid statement


def pay(world, statement: Statement, amount: str, reference: str) -> Payment:
    with operator_scope():
        return services.payment_record(
            statement=statement,
            received_on=timezone.localdate(),
            amount=amount,
            reference=reference,
            actor=world.finance,
        )


def fresh(statement: Statement) -> Statement:
    """The statement as stored now, with the sum of its payments that count (``amount_paid``, ``balance``)."""
    with operator_scope():
        return services.with_paid_sum(Statement.objects.filter(pk=statement.pk)).get()


def test_reversing_the_payment_that_settled_a_statement_opens_it_again(world, desk, client_for):
    statement = issued(world, desk, JAN)
    pay(world, statement, "2000.00", "WIRE 1")
    wrong = pay(world, statement, "4000.00", "WIRE 2")
    assert fresh(statement).status == Statement.Status.PAID

    finance = client_for(world.finance)
    page_url = reverse("commissions:statement_detail", args=[statement.pk])
    reverse_url = reverse("commissions:payment_reverse", args=[statement.pk])
    form = finance.get(page_url).content.decode()
    assert f'action="{reverse_url}"' in form
    assert f'<option value="{wrong.pk}">' in form and "WIRE 2 · 4,000.00</option>" in form
    answer = finance.post(reverse_url, {"payment": wrong.pk, "reason": "Recorded on the wrong statement"})
    assert answer.status_code == 302 and answer["Location"].endswith("#payments")

    after = fresh(statement)
    assert after.status == Statement.Status.ISSUED and (after.paid_on, after.payment_reference) == (None, "")
    assert (after.amount_paid, after.balance) == (D("2000.00"), D("4000.00"))
    with operator_scope():
        kept = Payment.objects.get(pk=wrong.pk)
        audit = AuditEvent.objects.get(verb="statement.payment_reversed")
    assert kept.is_reversed and kept.reversed_by == world.finance and kept.amount == D("4000.00")
    assert kept.reversal_reason == "Recorded on the wrong statement"
    assert audit.data["amount"] == "4000.00" and audit.data["balance"] == "4000.00" and audit.data["reopened"] is True

    page = finance.get(page_url).content.decode()
    assert "Payment of 4,000.00 (WIRE 2) reversed; 4,000.00 is due. The statement is open again." in page
    assert 'data-balance="4000.00"' in page and "Record payment" in page
    assert "Reversed " in page and "Recorded on the wrong statement" in page and "<s aria-label" in page
    # The reversed payment is no longer offered for reversal; the one that counts still is.
    assert f'<option value="{wrong.pk}">' not in page and "WIRE 1 · 2,000.00</option>" in page
    # The balance can be paid again, and then the statement is paid once more.
    pay(world, statement, "4000.00", "WIRE 3")
    assert fresh(statement).status == Statement.Status.PAID


def test_a_part_payment_reversed_leaves_the_statement_issued_with_its_balance_back(world, desk):
    statement = issued(world, desk, JAN)
    payment = pay(world, statement, "1500.00", "CHQ 7")
    with operator_scope():
        services.payment_reverse(payment=payment, reason="  Cheque   bounced ", actor=world.finance)
        payment.refresh_from_db()
    assert payment.reversal_reason == "Cheque bounced"
    after = fresh(statement)
    assert after.status == Statement.Status.ISSUED and after.balance == D("6000.00")
    with operator_scope():
        aged = services.with_paid_sum(Statement.objects.filter(pk=statement.pk)).get()
    assert aged.paid_sum == D("0.00")


def test_reversals_are_refused_with_their_reason(world, desk, client_for):
    statement = issued(world, desk, JAN)
    payment = pay(world, statement, "100.00", "R1")
    with operator_scope():
        with pytest.raises(ApplicationError) as blank:
            services.payment_reverse(payment=payment, reason="   ", actor=world.finance)
        assert blank.value.extra == {"reason": ["Required."]}
        with pytest.raises(ApplicationError) as long:
            services.payment_reverse(payment=payment, reason="x" * 201, actor=world.finance)
        assert long.value.extra == {"reason": ["At most 200 characters."]}
        assert not Payment.objects.get(pk=payment.pk).is_reversed
        services.payment_reverse(payment=payment, reason="Duplicate entry", actor=world.finance)
        with pytest.raises(ApplicationError) as twice:
            services.payment_reverse(payment=payment, reason="Again", actor=world.finance)
    assert twice.value.status == 409 and "already reversed" in twice.value.message

    # On the page: the refusal shows its message, and nothing changes.
    finance = client_for(world.finance)
    url = reverse("commissions:payment_reverse", args=[statement.pk])
    again = finance.post(url, {"payment": payment.pk, "reason": "Again"})
    assert again.status_code == 400 and "Check the reversal: Payment: Select a valid choice." in again.content.decode()
    other = pay(world, statement, "50.00", "R2")
    empty = finance.post(url, {"payment": other.pk, "reason": ""})
    assert empty.status_code == 400 and "Check the reversal: Reason: This field is required." in empty.content.decode()
    # A payment of another statement is not one of this statement's to reverse.
    feb = issued(world, desk, datetime.date(2025, 2, 1))
    elsewhere = finance.post(
        reverse("commissions:payment_reverse", args=[feb.pk]), {"payment": other.pk, "reason": "x"}
    )
    assert elsewhere.status_code == 400 and "Select a valid choice." in elsewhere.content.decode()
    with operator_scope():
        assert Payment.objects.get(pk=other.pk).reversed_at is None
        assert AuditEvent.objects.filter(verb="statement.payment_reversed").count() == 1


def test_only_finance_reverses_payments(world, desk, client_for):
    statement = issued(world, desk, JAN)
    payment = pay(world, statement, "100.00", "R1")
    for user in (world.partner, world.a.vendor_admin):
        with operator_scope(), pytest.raises(ApplicationError) as refused:
            services.payment_reverse(payment=payment, reason="No", actor=user)
        assert refused.value.status == 403
        url = reverse("commissions:payment_reverse", args=[statement.pk])
        page = client_for(user).post(url, {"payment": payment.pk, "reason": "No"})
        assert page.status_code in (403, 404)
    partner_page = client_for(world.partner).get(reverse("commissions:statement_detail", args=[statement.pk]))
    assert reverse("commissions:payment_reverse", args=[statement.pk]) not in partner_page.content.decode()
    with operator_scope():
        assert not Payment.objects.get(pk=payment.pk).is_reversed


def test_a_statement_whose_payments_are_all_reversed_can_be_voided(world, desk):
    statement = issued(world, desk, JAN)
    payment = pay(world, statement, "6000.00", "WIRE")
    with operator_scope():
        services.payment_reverse(payment=payment, reason="Wrong vendor", actor=world.finance)
        credit = services.statement_void(statement=fresh(statement), reason="Billed twice", actor=world.finance)
    assert credit.is_credit_note and fresh(statement).status == Statement.Status.VOID


def test_the_api_reverses_a_payment_once_and_vendors_see_it_reversed(world, desk, client_for):
    statement = issued(world, desk, JAN)
    payment = pay(world, statement, "6000.00", "ACH 9")
    with operator_scope():
        endpoint = services_webhook_endpoint(world, events=["statement.payment_reversed"])
    url = f"/api/v1/payments/{payment.pk}/reverse/"
    assert api(world.a.vendor_admin).post(url, {"reason": "No"}, format="json").status_code == 403
    unknown = api(world.finance).post(url, {"reason": "Bounced", "note": "x"}, format="json")
    assert unknown.status_code == 400 and "note" in unknown.json()["extra"]
    answer = api(world.finance).post(url, {"reason": "Bounced"}, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["reversal_reason"] == "Bounced" and body["reversed_at"] and body["amount"] == "6000.00"
    replay = api(world.finance).post(url, {"reason": "Bounced"}, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    twice = api(world.finance).post(url, {"reason": "Bounced"}, format="json")
    assert twice.status_code == 409
    assert (
        api(world.finance).post("/api/v1/payments/999999/reverse/", {"reason": "x"}, format="json").status_code == 404
    )

    detail = api(world.a.vendor_admin).get(f"/api/v1/statements/{statement.pk}/").json()
    assert (detail["status"], detail["amount_paid"], detail["balance"]) == ("issued", "0.00", "6000.00")
    listed = api(world.a.vendor_admin).get("/api/v1/payments/", {"statement": statement.pk}).json()["results"]
    assert [(p["reference"], p["reversal_reason"]) for p in listed] == [("ACH 9", "Bounced")]
    portal = client_for(world.a.vendor_admin).get(reverse("commissions:portal_statements")).content.decode()
    assert "ACH 9" in portal and ": Bounced</small>" in portal and ', reversed">' in portal
    with operator_scope():
        sent = WebhookDelivery.all_objects.filter(endpoint=endpoint, event_type="statement.payment_reversed")
        assert sent.count() == 1
        assert json.loads(sent.get().body)["data"]["statement"]["status"] == "issued"


def services_webhook_endpoint(world, *, events):
    from tmw.webhooks.models import WebhookEndpoint

    return WebhookEndpoint.all_objects.create(
        url="https://hooks.example.com/tmw", events=events, secret="whsec_" + "x" * 40, secret_set_at=timezone.now()
    )


def test_payment_dates_stay_as_recorded_after_a_reversal(world, desk):
    statement = issued(world, desk, JAN)
    payment = pay(world, statement, "10.00", "R")
    with operator_scope():
        services.payment_reverse(payment=payment, reason="Typo", actor=world.finance)
        payment.refresh_from_db()
    assert payment.received_on == timezone.localdate() and payment.reversed_at <= timezone.now()
    assert payment.reversed_at > timezone.now() - datetime.timedelta(minutes=1)
