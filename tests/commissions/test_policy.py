"""Who may act on commercial terms and statements: the policy in the services, the pages, the API and the admin."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from commissions import services, tasks
from commissions.forms import last_month
from commissions.models import AgreementTerms, RetainerTier, RevenueShareStep, Statement, StatementLine
from tests.commissions.money import fake_pdf
from tmw.accounts import policy
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def issued(world, monkeypatch):
    """Vendor A's statement, approved and issued by finance (with a stand-in PDF)."""
    monkeypatch.setattr("commissions.services.statements._render_pdf", fake_pdf)
    with operator_scope():
        statement = services.statement_approve(statement=world.a.objects[Statement], actor=world.finance)
        return services.statement_issue(statement=statement, actor=world.finance)


def test_the_services_ask_the_policy(world):
    draft = world.a.objects[Statement]
    with operator_scope():
        for actor in (world.partner, world.a.vendor_admin, policy.SYSTEM, policy.VISITOR):
            with pytest.raises(ApplicationError) as err:
                services.statement_approve(statement=draft, actor=actor)
            assert err.value.status == 403
        with pytest.raises(ApplicationError) as err:
            services.statement_run_start(period=last_month(), actor=world.partner)
        assert err.value.status == 403
        with pytest.raises(ApplicationError) as err:
            services.retainer_tier_save(
                actor=world.a.vendor_admin, name="X", monthly_fee_usd=Decimal("1"), monthly_fee_cad=Decimal("1")
            )
        assert err.value.status == 403
        # The system runs statements and sends reminders; it approves nothing.
        run = services.statement_run_now(period=last_month(), actor=policy.SYSTEM)
        assert run.started_by is None and run.status == run.Status.DONE
        assert services.missing_reports_notify(period=last_month(), actor=policy.SYSTEM) >= 0
        with pytest.raises(ApplicationError):
            services.missing_reports_notify(period=last_month(), actor=world.a.vendor_admin)
        # An admin may do whatever finance and partners may.
        tier = services.retainer_tier_save(
            actor=world.admin, name="Admin tier", monthly_fee_usd=Decimal("10.00"), monthly_fee_cad=Decimal("12.00")
        )
        assert tier.pk


def test_revenue_is_reported_by_finance_and_the_vendor_for_its_own_accounts(world):
    period = last_month()
    kwargs = {"period": period, "amount": Decimal("10.00"), "currency": "USD", "source": "api"}
    with operator_scope():
        billing = world.a.objects[Statement].agreement.engagement.attributions.first()
        with pytest.raises(ApplicationError) as err:
            services.revenue_report_record(attribution=billing, actor=world.partner, **kwargs)
        assert err.value.status == 403
        with pytest.raises(ApplicationError) as err:
            services.revenue_report_record(attribution=billing, actor=world.b.vendor_admin, **kwargs)
        assert err.value.status == 404
        assert services.revenue_report_record(attribution=billing, actor=world.a.vendor_member, **kwargs).pk


def test_the_monthly_run_is_started_by_the_system(world, monkeypatch):
    started = {}

    def start(*, period, actor):
        started["actor"] = actor
        return type("Run", (), {"pk": 1})()

    monkeypatch.setattr(tasks, "statement_run_start", start)
    tasks.statement_run_monthly()
    assert started["actor"] is policy.SYSTEM


def test_the_statement_pages_offer_what_the_viewer_may_do(world, client_for):
    url = reverse("commissions:statement_list") + f"?period={last_month():%Y-%m}"
    finance = client_for(world.finance).get(url).content.decode()
    partner = client_for(world.partner).get(url).content.decode()
    assert reverse("commissions:statement_zip") in finance and reverse("commissions:run_list") in finance
    assert reverse("commissions:statement_zip") not in partner and reverse("commissions:run_list") not in partner
    detail = reverse("commissions:statement_detail", args=[world.a.objects[Statement].pk])
    assert "statement-actions" in client_for(world.admin).get(detail).content.decode()
    assert "statement-actions" not in client_for(world.partner).get(detail).content.decode()
    assert client_for(world.a.vendor_admin).get(url).status_code == 403  # the vendor's statements are in the portal


def test_admins_and_partners_may_change_terms_on_the_agreement_page(world, client_for):
    agreement = world.a.objects[Statement].agreement
    url = reverse("commissions:agreement_detail", args=[agreement.pk])
    for user in (world.admin, world.partner, world.finance):
        assert 'id="new-terms"' in client_for(user).get(url).content.decode()


def test_the_missing_reports_banner_speaks_to_the_vendor(world, client_for):
    body = client_for(world.a.vendor_admin).get(reverse("commissions:portal_statements")).content.decode()
    if 'id="missing-reports"' in body:
        assert "Upload them as CSV" in body and world.a.vendor.name + " ·" not in body


# --- the payment date


def test_a_payment_date_before_the_issue_date_is_refused(world, issued):
    issued_on = timezone.localdate(issued.issued_at)
    with operator_scope(), pytest.raises(ApplicationError) as err:
        services.statement_mark_paid(
            statement=issued, paid_on=issued_on - datetime.timedelta(days=1), reference="WIRE 1", actor=world.finance
        )
    assert err.value.status == 400 and "paid_on" in err.value.extra
    with operator_scope(), pytest.raises(ApplicationError) as err:
        services.statement_mark_paid(
            statement=issued,
            paid_on=timezone.localdate() + datetime.timedelta(days=1),
            reference="W",
            actor=world.finance,
        )
    assert "paid_on" in err.value.extra
    with operator_scope():
        paid = services.statement_mark_paid(
            statement=issued, paid_on=issued_on, reference="WIRE 2", actor=world.finance
        )
    assert paid.status == Statement.Status.PAID and paid.paid_on == issued_on


def test_the_page_and_the_api_refuse_a_payment_before_the_issue(world, issued, client_for):
    early = (timezone.localdate(issued.issued_at) - datetime.timedelta(days=3)).isoformat()
    page = client_for(world.finance).post(
        reverse("commissions:statement_mark_paid", args=[issued.pk]), {"paid_on": early, "reference": "WIRE 9"}
    )
    assert page.status_code == 400 and "before the statement was issued" in page.content.decode()
    answer = api(world.finance).post(
        f"/api/v1/statements/{issued.pk}/mark-paid/", {"paid_on": early, "reference": "WIRE 9"}, format="json"
    )
    assert answer.status_code == 400 and "paid_on" in answer.json()["extra"]
    with operator_scope():
        assert Statement.all_objects.get(pk=issued.pk).status == Statement.Status.ISSUED


# --- the admin


def test_the_admin_does_not_save_billing_fields(world, client_for):
    admin = client_for(world.admin)
    with operator_scope():
        tier = RetainerTier.objects.create(name="Core", monthly_fee_usd="5000.00", monthly_fee_cad="6500.00")
        terms = AgreementTerms.all_objects.filter(agreement=world.a.objects[Statement].agreement).first()
        step = RevenueShareStep.all_objects.filter(terms=terms).first()
        statement = world.a.objects[Statement]
        line = StatementLine.all_objects.filter(statement=statement).first()
    change = reverse("admin:commissions_retainertier_change", args=[tier.pk])
    page = admin.get(change)
    assert page.status_code == 200 and reverse("commissions:tier_edit", args=[tier.pk]) in page.content.decode()
    admin.post(
        change,
        {
            "name": "Core",
            "description": "",
            "active": "on",
            "order": "0",
            "monthly_fee_usd": "1",
            "monthly_fee_cad": "1",
        },
    )
    assert admin.get(reverse("admin:commissions_retainertier_add")).status_code == 403
    targets = [
        ("agreementterms", terms, {"monthly_amount": "1", "tail_months": "99", "equity_share": "1"}),
        ("revenuesharestep", step, {"rate": "1"}),
        ("agreement", terms.agreement, {"currency": "CAD"}),
        ("statement", statement, {"total": "1", "status": "paid"}),
        ("statementline", line, {"amount": "1"}),
    ]
    for model, obj, data in targets:
        url = reverse(f"admin:commissions_{model}_change", args=[obj.pk])
        shown = admin.get(url)
        assert shown.status_code == 200 and "Read-only here" in shown.content.decode(), model
        admin.post(url, data)
        assert admin.get(reverse(f"admin:commissions_{model}_add")).status_code == 403, model
    with operator_scope():
        tier.refresh_from_db()
        assert (tier.monthly_fee_usd, tier.monthly_fee_cad) == (Decimal("5000.00"), Decimal("6500.00"))
        for _model, obj, data in targets:
            fresh = type(obj).all_objects.get(pk=obj.pk) if hasattr(type(obj), "all_objects") else obj
            fresh.refresh_from_db()
            for field, value in data.items():
                assert str(getattr(fresh, field)) != value, (type(obj).__name__, field)
