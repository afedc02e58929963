"""A real Celery worker through Redis emails an issued statement after commit and records the answer."""

from __future__ import annotations

import datetime
import time

import pytest

from commissions import services
from commissions.models import StatementDelivery
from tests.commissions.money import D, agreement, engagement
from tmw.accounts.policy import SYSTEM
from tmw.accounts.services import billing_contacts_set
from tmw.accounts.tenancy import operator_scope


@pytest.mark.worker
@pytest.mark.postgres
def test_a_real_worker_delivers_the_issued_statement_and_records_the_answer(celery_worker_process, world):
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
        agr = agreement(eng, world.finance, monthly_amount=D("1500.00"))
        billing_contacts_set(
            actor=world.finance, organisation=world.a.vendor, contacts=[("Ana", "billing@worker-vendor.example")]
        )
        draft = services.statement_generate(agreement=agr, period=datetime.date(2025, 1, 1), actor=SYSTEM)
        statement = services.statement_approve(statement=draft, actor=world.finance)
        statement = services.statement_issue(statement=statement, actor=world.finance)  # commits: the worker sends
    deadline = time.monotonic() + 60
    delivery = None
    while time.monotonic() < deadline:
        with operator_scope():
            delivery = StatementDelivery.objects.filter(statement_id=statement.pk).first()
        if delivery is not None and delivery.status != "queued":
            break
        time.sleep(0.2)
    assert delivery is not None and delivery.status == "sent", delivery and (delivery.status, delivery.response)
    assert delivery.recipients == ["billing@worker-vendor.example"] and delivery.attempts == 1
    assert delivery.response == "Accepted by the mail system." and delivery.sent_at is not None
