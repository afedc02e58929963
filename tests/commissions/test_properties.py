"""Properties that hold for any terms, dates and revenue (hypothesis)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions import engine, services
from commissions.engine import Account, Terms
from tests.commissions.money import agreement, attribute, engagement, lines_of, report
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("999999.99"), places=2)
rate = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=4)
days = st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2030, 12, 31))


@st.composite
def declining_rates(draw):
    values = sorted(draw(st.lists(rate, min_size=1, max_size=5)), reverse=True)
    return tuple(values)


@st.composite
def terms(draw):
    return Terms(
        effective_month=datetime.date(2019, 1, 1),
        monthly_retainer=draw(money),
        rates=draw(declining_rates()),
        tail_months=draw(st.integers(min_value=0, max_value=24)),
        tail_rate=draw(st.one_of(st.none(), rate)),
        equity_share=draw(rate),
    )


@st.composite
def engagement_dates(draw):
    start = draw(days)
    stop = draw(st.one_of(st.none(), st.dates(min_value=start, max_value=datetime.date(2031, 12, 31))))
    return start, stop


@st.composite
def accounts(draw, start):
    count = draw(st.integers(min_value=0, max_value=6))
    return [
        Account(id=i, name=f"MSP {i}", starts_on=draw(st.dates(min_value=start, max_value=datetime.date(2031, 6, 30))))
        for i in range(1, count + 1)
    ]


@given(data=st.data())
def test_lines_sum_to_the_total_and_are_whole_cents(data):
    version = data.draw(terms())
    start, stop = data.draw(engagement_dates())
    accts = data.draw(accounts(start))
    period = data.draw(days).replace(day=1)
    revenue = {a.id: data.draw(money) for a in accts}
    lines = engine.compute_lines(
        period=period, start=start, stop=stop, terms=[version], accounts=accts, revenue=revenue
    )
    total = engine.total_of(lines)
    assert total == sum((line.amount for line in lines), Decimal("0"))
    assert all(line.amount == line.amount.quantize(engine.CENT) for line in lines)
    assert all(line.amount >= 0 for line in lines)
    retainer = engine.retainer_for(version.monthly_retainer, period, start, stop)
    split = sum((line.amount for line in lines if line.kind in ("retainer_cash", "equity_accrual")), Decimal("0"))
    assert split == (retainer if version.monthly_retainer and retainer else Decimal("0"))


@given(rates=declining_rates(), starts_on=days, months=st.integers(min_value=1, max_value=72))
def test_the_rate_never_rises_with_the_account_year(rates, starts_on, months):
    version = Terms(effective_month=datetime.date(2019, 1, 1), monthly_retainer=Decimal("0"), rates=rates)
    account = Account(id=1, name="MSP", starts_on=starts_on)
    previous = None
    for offset in range(months):
        period = engine.add_months(starts_on.replace(day=1), offset)
        earns = engine.share_rate(terms=[version], account=account, period=period, start=starts_on, stop=None)
        assert earns is not None and earns.year == offset // 12 + 1
        if previous is not None:
            assert earns.rate <= previous
        previous = earns.rate


@given(data=st.data())
def test_nothing_is_billed_after_the_tail(data):
    version = data.draw(terms())
    start = data.draw(days)
    stop = data.draw(st.dates(min_value=start, max_value=datetime.date(2031, 12, 31)))
    accts = data.draw(accounts(start))
    after = data.draw(st.integers(min_value=1, max_value=36))
    period = engine.add_months(stop.replace(day=1), version.tail_months + after)
    revenue = {a.id: data.draw(money) for a in accts}
    assert (
        engine.compute_lines(period=period, start=start, stop=stop, terms=[version], accounts=accts, revenue=revenue)
        == []
    )


@given(data=st.data())
def test_computing_twice_gives_the_same_lines(data):
    version = data.draw(terms())
    start, stop = data.draw(engagement_dates())
    accts = data.draw(accounts(start))
    period = data.draw(days).replace(day=1)
    revenue = {a.id: data.draw(money) for a in accts}
    kwargs = {"period": period, "start": start, "stop": stop, "terms": [version], "accounts": accts, "revenue": revenue}
    assert engine.compute_lines(**kwargs) == engine.compute_lines(**kwargs)


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(amounts=st.lists(money, min_size=1, max_size=4), share=rate, month_offset=st.integers(min_value=0, max_value=30))
def test_a_rerun_changes_nothing(world, amounts, share, month_offset):
    """Generating a month again (the same data) gives the same statement, lines and total."""
    with operator_scope(), transaction.atomic():
        start = datetime.date(2023, 1, 17)
        eng = engagement(world.a.vendor, world.partner, start=start)
        agr = agreement(
            eng,
            world.finance,
            equity_share=share,
            equity_kind="convertible" if share else "none",
            principal=Decimal("1000") if share else None,
        )
        period = engine.add_months(start.replace(day=1), month_offset)
        for amount in amounts:
            report(attribute(eng, world.partner, starts_on=start), period, str(amount), world.finance)
        first = services.statement_generate(agreement=agr, period=period, actor=SYSTEM)
        snapshot = (lines_of(first), first.total, first.equity_total)
        second = services.statement_generate(agreement=agr, period=period, actor=SYSTEM)
        assert second.pk == first.pk
        second.refresh_from_db()
        assert (lines_of(second), second.total, second.equity_total) == snapshot
        assert second.total == sum((line[5] for line in snapshot[0]), Decimal("0"))
        transaction.set_rollback(True)


six_places = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=6)
big_money = st.one_of(money, st.decimals(min_value=Decimal("0"), max_value=Decimal("999999999999.99"), places=2))
names = st.sampled_from(["acme IT", "Acme IT", "Beta Networks", "beta networks", "Zephyr MSP", "a-b Tech", "ab Tech"])


LINE_FIELDS = ("kind", "attribution_id", "revenue", "account_year", "rate", "amount", "description")


def line_rows(lines) -> list[tuple]:
    """Stored lines or engine drafts as comparable rows of ``LINE_FIELDS``."""
    return [tuple(getattr(line, name) for name in LINE_FIELDS) for line in lines]


def any_revenue(account, period: datetime.date, amount: Decimal):
    """Revenue for ``account`` in ``period``, stored directly: any amount the column holds, past the intake bounds."""
    from commissions.models import RevenueReport

    return RevenueReport.all_objects.create(
        attribution=account, vendor_id=account.vendor_id, period=period, amount=amount, currency="USD", source="finance"
    )


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_stored_statements_equal_the_reference_computation(world, data):
    """The statement writer (account lines in SQL) stores exactly the lines the Python engine computes."""
    from engagements.models import Attribution

    start = data.draw(st.dates(min_value=datetime.date(2021, 1, 1), max_value=datetime.date(2023, 12, 31)))
    stop = data.draw(st.one_of(st.none(), st.dates(min_value=start, max_value=datetime.date(2025, 6, 30))))
    rates = sorted(data.draw(st.lists(six_places, min_size=1, max_size=4)), reverse=True)
    period = engine.add_months(start.replace(day=1), data.draw(st.integers(min_value=0, max_value=40)))
    with operator_scope(), transaction.atomic():
        eng = engagement(world.a.vendor, world.partner, start=start, terminated=stop)
        agr = agreement(
            eng,
            world.finance,
            rates=rates,
            tail_months=data.draw(st.integers(min_value=0, max_value=6)),
            tail_rate=data.draw(st.one_of(st.none(), six_places)),
        )
        for i in range(data.draw(st.integers(min_value=0, max_value=6))):
            starts_on = data.draw(st.dates(min_value=start, max_value=datetime.date(2025, 12, 31)))
            account = attribute(eng, world.partner, starts_on=starts_on, name=f"{data.draw(names)} {i}")
            if data.draw(st.booleans()):
                ended = data.draw(st.dates(min_value=starts_on, max_value=datetime.date(2026, 6, 30)))
                Attribution.all_objects.filter(pk=account.pk).update(ended_on=ended)
            if data.draw(st.booleans()):  # any month's revenue, billable or not
                any_revenue(account, period, data.draw(big_money))
        agr.refresh_from_db()
        expected = services.statement_compute(agreement=agr, period=period)
        statement = services.statement_generate(agreement=agr, period=period, actor=SYSTEM)
        assert line_rows(statement.lines.order_by("order", "pk")) == line_rows(expected)
        statement.refresh_from_db()
        assert statement.total == engine.total_of(expected)
        transaction.set_rollback(True)


SCHEDULES = (
    (Decimal("0.15"), Decimal("0.10"), Decimal("0.05")),
    (Decimal("0.20"),),
    (Decimal("0.125"), Decimal("0")),  # a year that earns nothing
)


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_one_write_of_many_agreements_stores_each_ones_reference_lines(world, data):
    """Agreements written together, their rate schedules shared by some and not by others, each get their own lines."""
    from commissions import generation
    from commissions.models import Agreement

    period = datetime.date(2025, 3, 1)
    ids = []
    with operator_scope(), transaction.atomic():
        for n in range(data.draw(st.integers(min_value=2, max_value=5))):
            start = data.draw(st.dates(min_value=datetime.date(2021, 1, 1), max_value=period))
            stop = data.draw(st.one_of(st.none(), st.dates(min_value=start, max_value=datetime.date(2025, 3, 31))))
            eng = engagement(world.a.vendor, world.partner, start=start, terminated=stop)
            ids.append(
                agreement(
                    eng,
                    world.finance,
                    rates=list(data.draw(st.sampled_from(SCHEDULES))),
                    tail_months=data.draw(st.integers(min_value=0, max_value=6)),
                    tail_rate=data.draw(st.sampled_from([None, Decimal("0.03")])),
                ).pk
            )
            for i in range(data.draw(st.integers(min_value=0, max_value=4))):
                starts_on = data.draw(st.dates(min_value=start, max_value=datetime.date(2025, 3, 31)))
                account = attribute(eng, world.partner, starts_on=starts_on, name=f"{data.draw(names)} {n}-{i}")
                any_revenue(account, period, data.draw(big_money))
        agreements = list(Agreement.objects.select_related("engagement", "vendor").filter(pk__in=ids).order_by("pk"))
        expected = {a.pk: services.statement_compute(agreement=a, period=period) for a in agreements}
        written = generation.statements_write(agreements=generation.billed_load(ids), period=period, actor=SYSTEM)
        for pk, drafts in expected.items():
            assert line_rows(written.statements[pk].lines.order_by("order", "pk")) == line_rows(drafts)
        transaction.set_rollback(True)
