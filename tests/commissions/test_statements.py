"""Statements computed by hand and compared to the penny, and the lifecycle that keeps issued ones fixed."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commissions import services
from commissions.models import Agreement, RetainerTier, Statement, StatementLine, StatementSequence
from commissions.selectors import convertible_running_principal
from tests.commissions.money import D, agreement, attribute, engagement, fake_pdf, lines_of, report
from tmw.accounts.models import AuditEvent
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError

K = StatementLine.Kind


@pytest.fixture(autouse=True)
def _fake_renderer(monkeypatch):
    monkeypatch.setattr(services.statements, "_render_pdf", fake_pdf)


@pytest.fixture
def scope():
    with operator_scope():
        yield


def month(y, m):
    return datetime.date(y, m, 1)


def by_kind(statement):
    lines = list(statement.lines.order_by("order"))
    result: dict[str, list] = {}
    for line in lines:
        result.setdefault(line.kind, []).append(line)
    return result


def assert_total_is_sum(statement):
    assert statement.total == sum((line.amount for line in statement.lines.all()), D("0"))


@pytest.fixture
def desk(world, scope):
    """Start 2024-03-10, terminated 2025-06-12; 6,000/month, 40 % as a convertible; 15/10/5 %; 3-month tail."""
    eng = engagement(
        world.a.vendor, world.partner, start=datetime.date(2024, 3, 10), terminated=datetime.date(2025, 6, 12)
    )
    terms = agreement(
        eng,
        world.finance,
        equity_share=D("0.40"),
        equity_kind="convertible",
        principal=D("100000.00"),
        valuation_cap=D("8000000.00"),
        discount=D("0.20"),
    )
    return eng, terms


def test_partial_first_month_with_the_equity_split(world, desk):
    eng, agr = desk
    statement = services.statement_generate(agreement=agr, period=month(2024, 3), actor=SYSTEM)
    kinds = by_kind(statement)
    # 6,000 × 22 days in term (10th-31st) / 31 = 4,258.0645… -> 4,258.06
    # equity 40 %: 1,703.224 -> 1,703.22; cash 4,258.06 - 1,703.22 = 2,554.84
    assert [line.amount for line in kinds[K.RETAINER_CASH]] == [D("2554.84")]
    assert [line.amount for line in kinds[K.EQUITY_ACCRUAL]] == [D("1703.22")]
    assert "22 of 31 days" in kinds[K.RETAINER_CASH][0].description
    assert kinds[K.EQUITY_ACCRUAL][0].description == "Retainer taken as convertible (40 % of 4,258.06)"
    assert statement.total == D("4258.06")
    assert statement.equity_total == D("1703.22")
    assert statement.cash_total == D("2554.84")
    assert statement.currency == "USD"
    assert_total_is_sum(statement)


def test_an_account_crossing_into_year_two(world, desk):
    eng, agr = desk
    account = attribute(eng, world.partner, starts_on=datetime.date(2024, 3, 25), name="Crossing MSP")
    report(account, month(2025, 2), "2000.00", world.finance)
    report(account, month(2025, 3), "2000.00", world.finance)
    february = services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
    march = services.statement_generate(agreement=agr, period=month(2025, 3), actor=SYSTEM)
    # March 2024 is month 1 of year 1; February 2025 is month 12 (15 %), March 2025 month 13 (year 2, 10 %).
    (feb_line,) = by_kind(february)[K.REVENUE_SHARE]
    (mar_line,) = by_kind(march)[K.REVENUE_SHARE]
    assert (feb_line.account_year, feb_line.rate, feb_line.amount) == (1, D("0.15"), D("300.00"))
    assert (mar_line.account_year, mar_line.rate, mar_line.amount) == (2, D("0.10"), D("200.00"))
    assert feb_line.attribution_id == account.pk and feb_line.revenue == D("2000.00")
    # full months: 6,000 -> 2,400 equity, 3,600 cash
    assert february.total == D("3600.00") + D("2400.00") + D("300.00")
    assert_total_is_sum(march)


@pytest.mark.parametrize("cut", [False, True], ids=["as-stored", "cut-to-the-column"])
def test_account_lines_name_the_account_its_year_and_rate(world, desk, monkeypatch, cut):
    """Years 1 and 2 take their whole wording from the rate table, the years past the last step from the SQL."""
    from commissions import engine, generation

    if cut:  # as if a name could outgrow the column: the SQL then cuts the description as the engine does
        monkeypatch.setattr(generation, "NAME_LENGTH", generation.DESCRIPTION_LENGTH)
    eng, agr = desk
    starts = {"First Year MSP": datetime.date(2024, 12, 1), "Second Year MSP": datetime.date(2024, 3, 15)}
    starts["Fifth Year MSP"] = datetime.date(2021, 1, 1)
    for name, starts_on in starts.items():
        report(attribute(eng, world.partner, starts_on=starts_on, name=name), month(2025, 4), "1000.00", world.finance)
    statement = services.statement_generate(agreement=agr, period=month(2025, 4), actor=SYSTEM)
    found = {line.description for line in by_kind(statement)[K.REVENUE_SHARE]}
    assert found == {
        engine.account_description("First Year MSP", engine.REVENUE_SHARE, 1, D("0.15")),
        engine.account_description("Second Year MSP", engine.REVENUE_SHARE, 2, D("0.10")),
        engine.account_description("Fifth Year MSP", engine.REVENUE_SHARE, 5, D("0.05")),
    }
    assert "Fifth Year MSP: revenue share, account year 5 at 5 %" in found


def test_new_statements_are_built_as_the_model_builds_them(world, desk):
    from commissions import generation

    _, agr = desk
    now = timezone.now()
    (built,) = generation._new_statements([agr], period=month(2025, 1), run_id=None, now=now)
    expected = Statement(
        agreement_id=agr.pk, vendor_id=agr.vendor_id, period=month(2025, 1), currency=agr.currency, generated_at=now
    )
    fields = [f.attname for f in Statement._meta.concrete_fields]
    assert [getattr(built, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert built._state.adding and built.status == Statement.Status.DRAFT
    # A batch's statements share each default: they must be plain values, not a callable's fresh objects.
    assert not [f.name for f in Statement._meta.concrete_fields if f.has_default() and callable(f.default)]


def test_a_batch_reads_its_agreements_as_plain_values_with_their_vendors(world, desk):
    """``billed_load`` gives what ``Billed.of`` gives a loaded agreement, in one query, and skips missing ids."""
    from commissions import generation

    eng, agr = desk
    eng.terminated_on = datetime.date(2025, 6, 30)
    eng.save(update_fields=["terminated_on"])
    agr = Agreement.objects.select_related("engagement", "vendor").get(pk=agr.pk)
    with operator_scope(), CaptureQueriesContext(connection) as queries:
        (billed,) = generation.billed_load([agr.pk, agr.pk + 10_000])
    assert len(queries) == 1
    assert billed == generation.Billed.of(agr)
    assert billed.stop_date == datetime.date(2025, 6, 30) == agr.engagement.stop_date
    # The vendor has its name; any other field loads on first use rather than holding a default.
    assert billed.vendor.name == agr.vendor.name
    with CaptureQueriesContext(connection) as queries:
        assert billed.vendor.kind == agr.vendor.kind
    assert len(queries) == 1


def test_half_cent_rounds_up(world, desk):
    eng, agr = desk
    account = attribute(eng, world.partner, starts_on=datetime.date(2025, 2, 1))
    report(account, month(2025, 2), "333.30", world.finance)  # × 15 % = 49.995
    statement = services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
    (line,) = by_kind(statement)[K.REVENUE_SHARE]
    assert line.amount == D("50.00")


def test_stop_month_then_first_and_last_tail_month_then_nothing(world, desk):
    eng, agr = desk
    kept = attribute(eng, world.partner, starts_on=datetime.date(2024, 3, 25), name="Kept MSP")
    late = attribute(eng, world.partner, starts_on=datetime.date(2025, 6, 20), name="Late MSP")
    for period in (month(2025, 6), month(2025, 7), month(2025, 9), month(2025, 10)):
        report(kept, period, "2000.00", world.finance)
        report(late, period, "5000.00", world.finance)

    june = services.statement_generate(agreement=agr, period=month(2025, 6), actor=SYSTEM)
    kinds = by_kind(june)
    # Terminated on the 12th of a 30-day month: 6,000 × 12/30 = 2,400; 960 equity, 1,440 cash.
    assert [line.amount for line in kinds[K.RETAINER_CASH]] == [D("1440.00")]
    assert [line.amount for line in kinds[K.EQUITY_ACCRUAL]] == [D("960.00")]
    # The stop month is in term: revenue share, not tail; the account attributed after the stop earns nothing.
    assert [(line.attribution_id, line.amount) for line in kinds[K.REVENUE_SHARE]] == [(kept.pk, D("200.00"))]
    assert K.TAIL not in kinds

    july = services.statement_generate(agreement=agr, period=month(2025, 7), actor=SYSTEM)
    assert lines_of(july) == [(K.TAIL, kept.pk, D("2000.00"), 2, D("0.10"), D("200.00"), None)]
    assert july.total == D("200.00")

    september = services.statement_generate(agreement=agr, period=month(2025, 9), actor=SYSTEM)  # tail month 3 of 3
    assert [line[5] for line in lines_of(september)] == [D("200.00")]

    october = services.statement_generate(agreement=agr, period=month(2025, 10), actor=SYSTEM)
    assert lines_of(october) == []
    assert october.total == D("0.00")


def test_fixed_tail_rate(world, scope):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1), end=datetime.date(2025, 3, 31))
    agr = agreement(eng, world.finance, tail_months=2, tail_rate=D("0.025"))
    account = attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1))
    report(account, month(2025, 4), "1999.99", world.finance)
    statement = services.statement_generate(agreement=agr, period=month(2025, 4), actor=SYSTEM)
    # 1,999.99 × 2.5 % = 49.99975 -> 50.00; no retainer after the stop date.
    assert lines_of(statement) == [(K.TAIL, account.pk, D("1999.99"), 1, D("0.025"), D("50.00"), None)]


def test_revenue_before_the_attribution_start_is_refused_and_earns_nothing(world, desk):
    eng, agr = desk
    account = attribute(eng, world.partner, starts_on=datetime.date(2025, 2, 14))
    with pytest.raises(ApplicationError) as err:
        report(account, month(2025, 1), "100.00", world.finance)
    assert "period" in err.value.extra
    # February (the start month) is month 1 of year 1 even though the account started mid-month.
    report(account, month(2025, 2), "100.00", world.finance)
    statement = services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
    assert [(line.account_year, line.amount) for line in by_kind(statement)[K.REVENUE_SHARE]] == [(1, D("15.00"))]


def test_cad_agreement_with_a_tier_refuses_usd_revenue(world, scope):
    tier = RetainerTier.objects.create(name="Desk", monthly_fee_usd=D("7000.00"), monthly_fee_cad=D("9500.00"))
    eng = engagement(world.b.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(eng, world.finance, currency="CAD", monthly_amount=None, retainer_tier=tier)
    account = attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1))
    with pytest.raises(ApplicationError) as err:
        report(account, month(2025, 1), "1000.00", world.finance, currency="USD")
    assert "currency" in err.value.extra
    report(account, month(2025, 1), "1000.00", world.finance, currency="CAD")
    statement = services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM)
    assert statement.currency == "CAD"
    assert [line[5] for line in lines_of(statement)] == [D("9500.00"), D("150.00")]
    assert statement.total == D("9650.00")


def _issue(statement, finance):
    services.statement_approve(statement=statement, actor=finance)
    return services.statement_issue(statement=statement, actor=finance)


def test_a_correction_after_issue_becomes_an_adjustment_on_the_next_statement(world, scope):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(eng, world.finance, monthly_amount=D("1000.00"), rates=[D("0.10")])
    account = attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1), name="Corrected MSP")
    report(account, month(2025, 1), "1000.00", world.finance)
    report(account, month(2025, 2), "1000.00", world.finance)
    january = _issue(services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM), world.finance)
    january_lines = lines_of(january)
    assert january.total == D("1100.00")

    report(account, month(2025, 1), "1234.55", world.finance)  # +234.55 × 10 % = 23.455 -> 23.46
    january.refresh_from_db()
    assert lines_of(january) == january_lines and january.total == D("1100.00")

    february = services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
    adjustments = by_kind(february)[K.ADJUSTMENT]
    assert [(a.revenue, a.rate, a.amount, a.corrects_period) for a in adjustments] == [
        (D("234.55"), D("0.10"), D("23.46"), month(2025, 1))
    ]
    assert february.total == D("1000.00") + D("100.00") + D("23.46")
    again = services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
    assert again.pk == february.pk and lines_of(again) == lines_of(february)
    _issue(february, world.finance)

    # A second correction is measured against what was billed so far (1,234.55): -34.55 × 10 % = -3.455 -> -3.46.
    report(account, month(2025, 1), "1200.00", world.finance)
    report(account, month(2025, 3), "1000.00", world.finance)
    march = services.statement_generate(agreement=agr, period=month(2025, 3), actor=SYSTEM)
    assert [(a.revenue, a.amount) for a in by_kind(march)[K.ADJUSTMENT]] == [(D("-34.55"), D("-3.46"))]
    assert_total_is_sum(march)


def test_a_draft_month_is_recomputed_not_adjusted(world, scope):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(eng, world.finance, monthly_amount=D("1000.00"), rates=[D("0.10")])
    account = attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1))
    report(account, month(2025, 1), "1000.00", world.finance)
    services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM)
    report(account, month(2025, 1), "2000.00", world.finance)
    february = services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
    assert K.ADJUSTMENT not in by_kind(february)
    january = services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM)
    assert january.total == D("1200.00")


def test_terms_change_applies_from_its_month_and_not_before_a_locked_statement(world, scope):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    agr = agreement(eng, world.finance, monthly_amount=D("1000.00"), rates=[D("0.10")])
    january = _issue(services.statement_generate(agreement=agr, period=month(2025, 1), actor=SYSTEM), world.finance)
    with pytest.raises(ApplicationError):
        services.agreement_terms_change(
            agreement=agr,
            effective_month=month(2025, 1),
            actor=world.finance,
            monthly_amount=D("2000"),
            rates=[D("0.1")],
        )
    services.agreement_terms_change(
        agreement=agr,
        effective_month=month(2025, 3),
        actor=world.partner,
        monthly_amount=D("2000.00"),
        rates=[D("0.1")],
    )
    assert services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM).total == D("1000.00")
    assert services.statement_generate(agreement=agr, period=month(2025, 3), actor=SYSTEM).total == D("2000.00")
    january.refresh_from_db()
    assert january.total == D("1000.00")
    assert AuditEvent.all_objects.filter(verb="agreement.terms_changed", object_id=str(agr.pk)).exists()


def test_rates_must_not_rise_across_years(world, scope):
    eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
    with pytest.raises(ApplicationError) as err:
        agreement(eng, world.finance, rates=[D("0.05"), D("0.10")])
    assert "rates" in err.value.extra
    for bad in ({"rates": ["abc"]}, {"rates": [D("1.5")]}, {"equity_share": "2"}, {"tail_rate": D("-0.1")}):
        with pytest.raises(ApplicationError):
            agreement(eng, world.finance, **bad)
    assert not Agreement.all_objects.filter(engagement=eng).exists()


def test_lifecycle_numbers_pdf_payment_and_audit(world, desk):
    eng, agr = desk
    statement = services.statement_generate(agreement=agr, period=month(2024, 4), actor=world.finance)
    with pytest.raises(ApplicationError):
        services.statement_issue(statement=statement, actor=world.finance)  # not approved yet
    with pytest.raises(ApplicationError) as err:
        services.statement_approve(statement=statement, actor=world.a.vendor_admin)
    assert err.value.status == 403
    issued = _issue(statement, world.finance)
    year = timezone.localdate().year
    assert issued.number == f"TMW-{year}-0001"
    assert issued.status == Statement.Status.ISSUED
    assert issued.pdf.read().startswith(b"%PDF")
    assert len(issued.pdf_sha256) == 64
    second = _issue(services.statement_generate(agreement=agr, period=month(2024, 5), actor=SYSTEM), world.finance)
    assert second.number == f"TMW-{year}-0002"
    assert StatementSequence.objects.get(year=year).last_number == 2

    with pytest.raises(ApplicationError):
        services.statement_mark_paid(statement=issued, paid_on=timezone.localdate(), reference="", actor=world.finance)
    paid = services.statement_mark_paid(
        statement=issued, paid_on=timezone.localdate(), reference="WIRE-42", actor=world.finance
    )
    assert (paid.status, paid.payment_reference) == (Statement.Status.PAID, "WIRE-42")
    verbs = set(AuditEvent.all_objects.filter(object_id=str(issued.pk)).values_list("verb", flat=True))
    assert {"statement.generated", "statement.approved", "statement.issued", "statement.paid"} <= verbs
    # The convertible's running principal grows by the equity accrued on issued statements only.
    assert convertible_running_principal(agreement=agr) == D("100000.00") + issued.equity_total + second.equity_total


def test_issued_statements_refuse_changes(world, desk):
    eng, agr = desk
    account = attribute(eng, world.partner, starts_on=datetime.date(2024, 4, 1))
    report(account, month(2024, 4), "1000.00", world.finance)
    issued = _issue(services.statement_generate(agreement=agr, period=month(2024, 4), actor=SYSTEM), world.finance)
    before = (lines_of(issued), issued.total, issued.pdf.name, issued.pdf_sha256, issued.number)
    report(account, month(2024, 4), "5000.00", world.finance)
    # A rerun of the month returns the issued statement untouched.
    again = services.statement_generate(agreement=agr, period=month(2024, 4), actor=SYSTEM)
    assert again.pk == issued.pk
    again.refresh_from_db()
    assert (lines_of(again), again.total, again.pdf.name, again.pdf_sha256, again.number) == before
    for action in (
        lambda: services.statement_approve(statement=issued, actor=world.finance),
        lambda: services.statement_issue(statement=issued, actor=world.finance),
    ):
        with pytest.raises(ApplicationError) as err:
            action()
        assert err.value.status == 409
    with pytest.raises(ApplicationError):
        services.agreement_terms_change(
            agreement=agr, effective_month=month(2024, 4), actor=world.finance, monthly_amount=D("1"), rates=[D("0.1")]
        )


def test_void_issues_a_credit_note_and_the_month_can_be_recomputed(world, desk):
    eng, agr = desk
    issued = _issue(services.statement_generate(agreement=agr, period=month(2024, 4), actor=SYSTEM), world.finance)
    with pytest.raises(ApplicationError):
        services.statement_void(statement=issued, reason=" ", actor=world.finance)
    credit = services.statement_void(statement=issued, reason="Wrong retainer", actor=world.finance)
    issued.refresh_from_db()
    assert issued.status == Statement.Status.VOID
    assert credit.credit_note_for_id == issued.pk and credit.status == Statement.Status.ISSUED
    assert credit.total == -issued.total and credit.number.endswith("0002")
    assert {line.kind for line in credit.lines.all()} == {K.CREDIT}
    assert sum(line.amount for line in credit.lines.all()) == credit.total
    assert credit.pdf.read().startswith(b"%PDF")
    # Void statements no longer count towards the running principal; the month gets a new draft.
    assert convertible_running_principal(agreement=agr) == D("100000.00")
    fresh = services.statement_generate(agreement=agr, period=month(2024, 4), actor=SYSTEM)
    assert fresh.pk not in (issued.pk, credit.pk) and fresh.status == Statement.Status.DRAFT


def test_admin_shows_statements_read_only(world, desk, client_for):
    eng, agr = desk
    issued = _issue(services.statement_generate(agreement=agr, period=month(2024, 4), actor=SYSTEM), world.finance)
    client = client_for(world.admin)
    url = f"/admin/commissions/statement/{issued.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"status": "draft", "total": "1.00"})
    assert response.status_code == 403
    assert client.post(f"/admin/commissions/statement/{issued.pk}/delete/", {"post": "yes"}).status_code == 403
    issued.refresh_from_db()
    assert issued.status == Statement.Status.ISSUED
    assert client.get("/admin/commissions/statement/").status_code == 200
    assert client.get(f"/admin/commissions/agreement/{agr.pk}/change/").status_code == 200


def test_compute_and_generate_use_the_same_number_of_queries_for_any_number_of_accounts(world, scope):
    counts = []
    for accounts in (2, 40):
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
        agr = agreement(eng, world.finance)
        for _ in range(accounts):
            report(
                attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1)),
                month(2025, 2),
                "10.00",
                world.finance,
            )
        agr = Agreement.objects.select_related("engagement", "vendor").get(pk=agr.pk)
        with CaptureQueriesContext(connection) as compute:
            services.statement_compute(agreement=agr, period=month(2025, 2))
        with CaptureQueriesContext(connection) as generate:
            services.statement_generate(agreement=agr, period=month(2025, 2), actor=SYSTEM)
        counts.append((len(compute), len(generate)))
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 6
