"""What statement pages say: a title for each status, sentences for refused actions, readable history, times."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from commissions import services
from commissions.models import Statement
from tmw.accounts.models import AuditEvent
from tmw.accounts.tenancy import operator_scope
from tmw.templatetags.tmw_ui import audit_label, local_time


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _title(response) -> str:
    match = re.search(r'<h1 id="statement-title">([^<]*)</h1>', response.content.decode())
    assert match, "the statement page has its title"
    return match.group(1)


def test_the_title_follows_the_status(world, client_for):
    statement = world.a.objects[Statement]
    finance = client_for(world.finance)
    detail = reverse("commissions:statement_detail", args=[statement.pk])
    assert _title(finance.get(detail)) == "Draft statement"
    with operator_scope():
        statement = services.statement_approve(statement=statement, actor=world.finance)
    page = finance.get(detail)
    assert _title(page) == "Approved statement"
    assert "(draft)" not in page.content.decode()
    with operator_scope():
        statement = services.statement_issue(statement=statement, actor=world.finance)
    assert _title(finance.get(detail)) == f"Statement {statement.number}"


def test_approving_an_approved_statement_says_so_in_a_sentence(world, client_for):
    statement = world.a.objects[Statement]
    with operator_scope():
        services.statement_approve(statement=statement, actor=world.finance)
    response = client_for(world.finance).post(reverse("commissions:statement_approve", args=[statement.pk]))
    assert response.status_code == 409
    text = _text(response)
    assert "This statement is already approved; it cannot be approved again." in text
    assert "A approved" not in text and "(approve)" not in text


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("draft", "issue", "This statement is still a draft; approve it before it can be issued."),
        ("draft", "pay", "This statement is still a draft; approve and issue it before it can be marked paid."),
        ("draft", "void", "This statement is still a draft; only an issued statement can be voided."),
        ("approved", "approve", "This statement is already approved; it cannot be approved again."),
        ("approved", "pay", "This statement is approved; issue it before it can be marked paid."),
        ("approved", "void", "This statement is approved; only an issued statement can be voided."),
        ("issued", "approve", "This statement is already issued; it cannot be approved again."),
        ("issued", "issue", "This statement is already issued; it cannot be issued again."),
        ("paid", "approve", "This statement is already paid; it cannot be approved again."),
        ("paid", "issue", "This statement is already paid; it cannot be issued again."),
        ("paid", "pay", "This statement is already paid; it cannot be marked paid again."),
        ("paid", "void", "This statement is paid; a paid statement cannot be voided."),
        ("void", "approve", "This statement is void; it cannot be approved."),
        ("void", "issue", "This statement is void; it cannot be issued."),
        ("void", "pay", "This statement is void; it cannot be marked paid."),
        ("void", "void", "This statement is already void; it cannot be voided again."),
    ],
)
def test_every_refusal_is_a_sentence(status, action, message):
    assert services.lifecycle_refusal(status=status, action=action) == message


def test_a_credit_note_is_called_one():
    assert services.lifecycle_refusal(status="void", action="void", credit_note=True) == (
        "This credit note is already void; it cannot be voided again."
    )


def test_the_history_shows_labels_not_verbs(world, client_for):
    statement = world.a.objects[Statement]
    with operator_scope():
        services.statement_approve(statement=statement, actor=world.finance)
        verbs = set(AuditEvent.objects.filter(object_id=str(statement.pk)).values_list("verb", flat=True))
    assert "statement.approved" in verbs
    body = client_for(world.finance).get(reverse("commissions:statement_detail", args=[statement.pk])).content.decode()
    history = body.split("History", 1)[-1]
    assert "Approved" in history
    for verb in verbs:
        assert f">{verb}<" not in history and f">{verb} " not in history


def test_audit_label_reads_unknown_verbs_as_words():
    assert audit_label("statement.approved") == "Approved"
    assert audit_label("something.brand_new") == "Something brand new"
    assert audit_label("") == "—"


def test_times_are_one_format_in_the_viewers_zone():
    moment = datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert local_time(moment) == "21:00 EST"
        assert local_time(moment, "date") == "Mon 30 Nov 2026, 21:00 EST"
    with timezone.override(zoneinfo.ZoneInfo("America/Vancouver")):
        assert local_time(moment) == "18:00 PST"


def test_run_pages_show_times_in_the_one_format(world, client_for):
    from commissions.models import StatementRun

    with operator_scope():
        run = StatementRun.objects.create(period=datetime.date(2026, 1, 1), started_by=world.finance)
    body = client_for(world.finance).get(reverse("commissions:run_detail", args=[run.pk])).content.decode()
    started = body.split("Started", 1)[1][:60]
    assert " AM" not in started and " PM" not in started
    assert re.match(r" \w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2} [A-Z+0-9-]{2,6}", started), started
