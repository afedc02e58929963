"""Sales tax: one line per statement on the cash due, rounded half-up once, on the page, the PDF and credit notes."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions import engine, services, tax
from commissions.models import AgreementTerms, StatementLine
from commissions.pdf import render_statement_pdf
from tests.commissions.money import D, agreement, attribute, engagement, fake_pdf, report
from tests.commissions.test_pdf import pdf_text
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError

K = StatementLine.Kind
REG = "81234 5678 RT0001"


def month(y, m):
    return datetime.date(y, m, 1)


@pytest.fixture
def scope():
    with operator_scope():
        yield


@pytest.fixture
def hst(world, scope):
    """Started 2025-01-01; 1,000.00 a month, 15/10/5 %, HST 13 % with a registration number; two accounts."""
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(eng, world.finance, monthly_amount=D("1000.00"), tax_kind="hst13", tax_registration=REG)
    first = attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1), name="Alpha MSP")
    second = attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1), name="Beta MSP")
    report(first, month(2025, 2), "2.00", world.finance)  # × 15 % = 0.30
    report(second, month(2025, 2), "1.34", world.finance)  # × 15 % = 0.201 -> 0.20
    return agr


def test_hst_13_is_one_line_on_the_cash_due_rounded_half_up(world, hst):
    statement = services.statement_generate(agreement=hst, period=month(2025, 2), actor=SYSTEM)
    lines = list(statement.lines.order_by("order", "pk"))
    assert [(line.kind, line.amount) for line in lines] == [
        (K.RETAINER_CASH, D("1000.00")),
        (K.REVENUE_SHARE, D("0.30")),
        (K.REVENUE_SHARE, D("0.20")),
        (K.TAX, D("130.07")),  # 1,000.50 × 13 % = 130.065: the half cent goes up
    ]
    (tax_line,) = [line for line in lines if line.kind == K.TAX]
    assert tax_line.rate == D("0.13")
    assert tax_line.description == f"HST 13 % on cash due of 1,000.50; registration no. {REG}"
    assert statement.total == D("1130.57") and statement.equity_total == D("0.00")
    assert statement.cash_total == D("1130.57")
    assert statement.total == sum(line.amount for line in lines)
    # The single-statement computation agrees to the cent, line by line.
    expected = services.statement_compute(agreement=hst, period=month(2025, 2))
    assert [(d.kind, d.amount, d.description) for d in expected] == [
        (line.kind, line.amount, line.description) for line in lines
    ]
    assert engine.total_of(expected) == statement.total


def test_tax_is_rounded_once_per_statement_not_per_line():
    rule = tax.rule_of("hst13")
    lines = [
        engine.LineDraft(kind=engine.RETAINER_CASH, description="", amount=D("1000.25")),
        engine.LineDraft(kind=engine.REVENUE_SHARE, description="", amount=D("0.25")),
        engine.LineDraft(kind=engine.REVENUE_SHARE, description="", amount=D("0.25")),
    ]
    taxed = tax.tax_line(rule, lines)
    assert taxed is not None
    # 1,000.75 × 13 % = 130.0975 -> 130.10; per line it would be 130.03 + 0.03 + 0.03 = 130.09.
    assert taxed.amount == D("130.10")
    assert sum(engine.cents(line.amount * D("0.13")) for line in lines) == D("130.09")


def test_the_named_rates():
    assert {kind: (r.name, r.rate) for kind in tax.RATES if (r := tax.rule_of(kind))} == {
        "gst": ("GST", D("0.05")),
        "hst13": ("HST", D("0.13")),
        "hst15": ("HST", D("0.15")),
        "qst": ("QST", D("0.09975")),
    }
    assert tax.rule_of("none") is None
    assert tax.rule_of("custom", rate=D("0.07"), name="PST").name == "PST"


def test_equity_is_not_taxed_unless_the_terms_say_so(world, scope):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(
        eng, world.finance, equity_share=D("0.40"), equity_kind="convertible", principal=D("1000.00"), tax_kind="gst"
    )
    statement = services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM)
    # 6,000: 3,600 cash + 2,400 equity; GST 5 % of the cash due 3,600 = 180.00
    amounts = {line.kind: line.amount for line in statement.lines.all()}
    assert amounts[K.TAX] == D("180.00")
    assert (statement.total, statement.equity_total, statement.cash_total) == (
        D("6180.00"),
        D("2400.00"),
        D("3780.00"),
    )
    services.agreement_terms_change(
        agreement=agr,
        effective_month=month(2025, 2),
        actor=world.finance,
        monthly_amount=D("6000.00"),
        rates=[D("0.15")],
        equity_share=D("0.40"),
        equity_kind="convertible",
        principal=D("1000.00"),
        tax_kind="gst",
        tax_on_equity=True,
    )
    january = services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM)
    february = services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
    assert {line.kind: line.amount for line in january.lines.all()}[K.TAX] == D("180.00")  # the January version
    taxed = {line.kind: line for line in february.lines.all()}[K.TAX]
    assert taxed.amount == D("300.00") and "cash due and equity of 6,000.00" in taxed.description
    assert february.cash_total == D("3900.00")


def test_a_custom_tax_and_no_tax(world, scope):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(
        eng, world.finance, tax_kind="custom", tax_rate=D("0.07"), tax_name="PST", tax_registration="PST-1234-5678"
    )
    statement = services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM)
    taxed = statement.lines.get(kind=K.TAX)
    assert taxed.amount == D("420.00") and taxed.description.startswith("PST 7 % on cash due of 6,000.00")
    assert "PST-1234-5678" in taxed.description
    plain = agreement(engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1)), world.finance)
    untaxed = services.statement_generate(agreement=plain, period=month(2025, 1), actor=SYSTEM)
    assert not untaxed.lines.filter(kind=K.TAX).exists() and untaxed.total == D("6000.00")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tax_kind": "custom", "tax_rate": D("0.05")}, "tax_name"),
        ({"tax_kind": "custom", "tax_rate": D("0.05"), "tax_name": "  "}, "tax_name"),
        ({"tax_kind": "custom", "tax_rate": D("1.01"), "tax_name": "PST"}, "tax_rate"),
        ({"tax_kind": "custom", "tax_rate": D("-0.01"), "tax_name": "PST"}, "tax_rate"),
        ({"tax_kind": "custom", "tax_name": "PST"}, "tax_rate"),
        ({"tax_kind": "vat"}, "tax_kind"),
    ],
)
def test_bad_tax_input_names_the_field_and_writes_nothing(world, scope, fields, field):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(eng, world.finance)
    before = AgreementTerms.objects.filter(agreement=agr).count()
    with pytest.raises(ApplicationError) as caught:
        services.agreement_terms_change(
            agreement=agr,
            effective_month=month(2025, 3),
            actor=world.finance,
            monthly_amount=D("6000.00"),
            rates=[D("0.15")],
            **fields,
        )
    assert field in caught.value.extra
    assert AgreementTerms.objects.filter(agreement=agr).count() == before


def test_the_terms_form_refuses_a_rate_over_100_percent_and_a_nameless_custom_tax(world, client_for):
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
        agr = agreement(eng, world.finance)
    url = reverse("commissions:agreement_terms_add", args=[agr.pk])
    base = {"effective_month": "2025-03", "monthly_amount": "6000.00", "rates": "15", "tail_months": "0"}
    base["equity_kind"] = "none"
    finance = client_for(world.finance)
    response = finance.post(url, {**base, "tax_kind": "custom", "tax_rate": "101", "tax_name": "PST"})
    assert response.status_code == 400
    assert "tax_rate" in response.context["form"].errors
    response = finance.post(url, {**base, "tax_kind": "custom", "tax_rate": "7"})
    assert response.status_code == 400
    assert response.context["form"].errors["tax_name"] == ["A custom tax needs its name."]
    with operator_scope():
        assert AgreementTerms.objects.filter(agreement=agr).count() == 1
    response = finance.post(url, {**base, "tax_kind": "hst15", "tax_registration": REG})
    assert response.status_code in (200, 302)
    with operator_scope():
        newest = AgreementTerms.objects.filter(agreement=agr).order_by("-effective_month").first()
        assert (newest.tax_kind, newest.tax_registration) == ("hst15", REG)


def test_the_statement_page_and_pdf_show_the_tax_line_with_the_registration(world, hst, client_for, tmp_path):
    statement = services.statement_generate(agreement=hst, period=month(2025, 2), actor=SYSTEM)
    statement = services.statement_approve(statement=statement, actor=world.finance)
    statement = services.statement_issue(statement=statement, actor=world.finance)
    page = client_for(world.finance).get(reverse("commissions:statement_detail", args=[statement.pk]))
    html = page.content.decode()
    assert "Sales tax" in html and "130.07" in html and REG in html and "1,130.57" in html
    _name, _type, content = render_statement_pdf(statement)
    text = pdf_text(content, tmp_path)
    assert REG in text and "HST 13 %" in text
    assert "Total before tax" in text and "1,000.50" in text
    assert "130.07" in text and "USD 1,130.57" in text


def test_a_credit_note_carries_the_negative_tax(world, hst, monkeypatch):
    monkeypatch.setattr(services.statements, "_render_pdf", fake_pdf)
    statement = services.statement_generate(agreement=hst, period=month(2025, 2), actor=SYSTEM)
    statement = services.statement_approve(statement=statement, actor=world.finance)
    statement = services.statement_issue(statement=statement, actor=world.finance)
    credit = services.statement_void(statement=statement, reason="Wrong revenue", actor=world.finance)
    taxed = credit.lines.get(kind=K.TAX)
    assert taxed.amount == D("-130.07") and REG in taxed.description
    assert credit.total == D("-1130.57") and credit.total == sum(line.amount for line in credit.lines.all())


money_values = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_the_run_and_the_reference_agree_on_tax_to_the_cent(world, data):
    kind = data.draw(st.sampled_from(["gst", "hst13", "hst15", "qst", "custom"]))
    share = data.draw(st.sampled_from([D("0"), D("0.40"), D("0.333333")]))
    with operator_scope(), transaction.atomic():
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2024, 1, 1))
        agr = agreement(
            eng,
            world.finance,
            monthly_amount=data.draw(money_values),
            equity_share=share,
            equity_kind="stake" if share else "none",
            stake_percent=D("5") if share else None,
            tax_kind=kind,
            tax_rate=data.draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=6)),
            tax_name="Custom",
            tax_on_equity=data.draw(st.booleans()),
        )
        for i in range(data.draw(st.integers(min_value=0, max_value=4))):
            account = attribute(eng, world.partner, starts_on=datetime.date(2024, 1, 1), name=f"Tax MSP {i}")
            report(account, month(2024, 3), str(data.draw(money_values)), world.finance)
        expected = services.statement_compute(agreement=agr, period=month(2024, 3))
        statement = services.statement_generate(agreement=agr, period=month(2024, 3), actor=SYSTEM)
        stored = [(x.kind, x.amount, x.description) for x in statement.lines.order_by("order", "pk")]
        assert stored == [(d.kind, d.amount, d.description) for d in expected]
        statement.refresh_from_db()
        assert statement.total == engine.total_of(expected)
        transaction.set_rollback(True)
