"""The weighted pipeline: a probability per stage, weighted MRR per stage and desk, and what the pipeline would earn."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commissions.forecast import PipelineOpportunity, project_pipeline_share, weighted_amount
from engagements import selectors, services
from engagements.models import DEFAULT_STAGE_PROBABILITIES, Engagement, Opportunity
from tests.engagements.test_rules import new_msp, running_engagement
from tmw.accounts.models import AuditEvent
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError
from tmw.months import add_months


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def op(world):
    with operator_scope():
        yield world


def add(world, engagement, name, stage, mrr, close=None, source=Opportunity.Source.TMW) -> Opportunity:
    return services.opportunity_create(
        engagement=engagement,
        msp=new_msp(name),
        source=source,
        stage=stage,
        expected_mrr=Decimal(mrr),
        expected_close_on=close,
        actor=world.partner,
    )


def test_weighted_mrr_per_stage_and_desk_by_hand(op):
    world = op
    engagement = running_engagement(world)
    add(world, engagement, "Alpha IT", "target", "1000.00")
    add(world, engagement, "Beta IT", "meeting", "1500.00")
    add(world, engagement, "Gamma IT", "meeting", "333.33")
    add(world, engagement, "Delta IT", "evaluation", "2000.00")
    add(world, engagement, "Epsilon IT", "live", "800.00")
    stages = {s["stage"]: s for s in selectors.pipeline_by_stage(engagement=engagement)}
    # Defaults: target 5 %, meeting 25 %, evaluation 50 %, live 100 %.
    assert stages["target"]["weighted"] == Decimal("50.00")  # 1,000 × 5 %
    assert stages["meeting"]["weighted"] == Decimal("458.33")  # 1,833.33 × 25 % = 458.3325
    assert stages["evaluation"]["weighted"] == Decimal("1000.00")
    assert stages["live"]["weighted"] == Decimal("800.00")
    totals = selectors.weighted_totals(list(stages.values()))
    assert totals["open"] == Decimal("1508.33") and totals["total"] == Decimal("2308.33")
    # The desk changes a probability: meeting 30 % → 1,833.33 × 30 % = 549.999 → 550.00.
    services.stage_probabilities_set(engagement=engagement, probabilities={"meeting": "30"}, actor=world.partner)
    engagement.refresh_from_db()
    stages = {s["stage"]: s for s in selectors.pipeline_by_stage(engagement=engagement)}
    assert stages["meeting"]["probability"] == 30 and stages["meeting"]["weighted"] == Decimal("550.00")
    assert stages["target"]["probability"] == DEFAULT_STAGE_PROBABILITIES["target"]
    board = selectors.pipeline_board(engagement=engagement, user=world.partner)
    assert board["weighted_open"] == Decimal("1600.00")  # 50 + 550 + 1,000


@pytest.mark.parametrize("bad", ["101", "-1", "abc", "", "12.5"])
def test_a_probability_outside_0_100_is_refused_naming_the_stage(op, bad):
    world = op
    engagement = running_engagement(world)
    with pytest.raises(ApplicationError) as exc:
        services.stage_probabilities_set(
            engagement=engagement, probabilities={"target": "20", "evaluation": bad}, actor=world.partner
        )
    assert "evaluation" in exc.value.extra and "evaluation" in exc.value.message
    assert Engagement.objects.get(pk=engagement.pk).stage_probabilities == {}  # nothing written, not even target
    assert not AuditEvent.objects.filter(verb="engagement.stage_probabilities").exists()


def test_probabilities_page_and_api(world, client_for):
    with operator_scope():
        from tests.engagements.tenant_objects import engagement_for

        engagement = engagement_for(world, world.a)
    url = reverse("engagements:stage_probabilities", args=[engagement.pk])
    values = {"target": "5", "introduced": "10", "meeting": "25", "evaluation": "150", "signed": "90", "live": "100"}
    client_for(world.partner).post(url, values)
    with operator_scope():
        assert Engagement.all_objects.get(pk=engagement.pk).stage_probabilities == {}
    assert client_for(world.a.vendor_admin).post(url, {**values, "evaluation": "60"}).status_code == 403
    response = client_for(world.partner).post(url, {**values, "evaluation": "60"})
    assert response.status_code == 302
    api = client_for(world.partner).get(f"/api/v1/engagements/{engagement.pk}/pipeline/").json()
    assert api["probabilities"]["evaluation"] == 60 and api["probabilities"]["lost"] == 0
    bad = client_for(world.partner).post(
        f"/api/v1/engagements/{engagement.pk}/probabilities/", {"meeting": 101}, content_type="application/json"
    )
    assert bad.status_code == 400 and "meeting" in bad.json()["extra"]
    page = client_for(world.partner).get(reverse("engagements:pipeline_board", args=[engagement.pk])).content.decode()
    assert "Weighted MRR, open pipeline" in page and "60% · weighted" in page
    desk = (
        client_for(world.partner).get(reverse("engagements:engagement_detail", args=[engagement.pk])).content.decode()
    )
    assert "Weighted MRR" in desk and "Stage probabilities" in desk


def test_pipeline_forecast_by_hand():
    """15 % in year 1, 10 % after; projection of 15 months from March 2027."""
    first = datetime.date(2027, 3, 1)
    schedule = [Decimal("0.15"), Decimal("0.10")]
    opportunities = [
        # closes in May: 1,000 × 50 % × 15 % = 75.00 a month from May (months 3..15 of the window).
        PipelineOpportunity(
            name="May MSP", mrr=Decimal("1000.00"), probability=50, closes_on=datetime.date(2027, 5, 20)
        ),
        # its close date has passed: counted from the first month; 333.33 × 25 % × 15 % = 12.499875 → 12.50,
        # then in its 13th month (March 2028) year 2: 333.33 × 25 % × 10 % = 8.33325 → 8.33.
        PipelineOpportunity(
            name="Late MSP", mrr=Decimal("333.33"), probability=25, closes_on=datetime.date(2026, 1, 1)
        ),
        PipelineOpportunity(name="Undated MSP", mrr=Decimal("9999.00"), probability=90, closes_on=None),
    ]
    months = project_pipeline_share(opportunities=opportunities, schedule=schedule, first_period=first, months=15)
    assert [m.period for m in months][:3] == [first, datetime.date(2027, 4, 1), datetime.date(2027, 5, 1)]
    assert months[0].by_account == {"Late MSP": Decimal("12.50")}
    assert months[2].by_account == {"Late MSP": Decimal("12.50"), "May MSP": Decimal("75.00")}
    assert months[12].by_account == {"Late MSP": Decimal("8.33"), "May MSP": Decimal("75.00")}
    total = sum((m.total for m in months), Decimal("0"))
    # Late: 12 × 12.50 + 3 × 8.33 = 174.99. May: 13 months (May 2027 … May 2028), 12 at 75.00 and
    # May 2028, its own year 2, at 1,000 × 50 % × 10 % = 50.00: 950.00.
    assert months[14].by_account["May MSP"] == Decimal("50.00")
    assert total == Decimal("174.99") + Decimal("950.00")
    assert weighted_amount(Decimal("333.33"), 25, Decimal("0.15")) == Decimal("12.50")


def test_agreement_forecast_adds_the_open_pipeline(world, client_for):
    from commissions.views import agreement_forecast, current_terms
    from tests.commissions.tenant_objects import agreement_for
    from tests.engagements.tenant_objects import engagement_for

    day = today()
    first = add_months(day.replace(day=1), 1)
    with operator_scope():
        agreement = agreement_for(world, world.a)
        engagement = engagement_for(world, world.a)
        close = add_months(first, 2)
        add(world, engagement, "Weighted MSP", "evaluation", "2000.00", close=close)  # 50 % of 2,000 × 15 % = 150.00
        add(world, engagement, "No date MSP", "meeting", "500.00")
        add(world, engagement, "Vendor MSP", "evaluation", "9000.00", close=close, source=Opportunity.Source.VENDOR)
        terms = current_terms(agreement.versions.prefetch_related("steps"))
        result = agreement_forecast(agreement, terms, today=day)
    # From its close month, months 3..12 of the 12-month window: 10 × 150.00.
    assert result["pipeline_total"] == Decimal("1500.00")
    assert result["pipeline_undated"] == 1
    assert {o.name for o in result["pipeline"]} >= {"Weighted MSP", "No date MSP"}
    assert "Vendor MSP" not in {o.name for o in result["pipeline"]}  # only a TMW-sourced signing is attributed
    assert any(d["label"] == "Open pipeline, weighted" for d in result["chart"]["datasets"])
    page = client_for(world.partner).get(reverse("commissions:agreement_detail", args=[agreement.pk])).content.decode()
    assert "Open pipeline at its probabilities" in page and "Weighted MSP" in page and "1,500.00" in page


def _board_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_board_and_desk_queries_do_not_grow_with_the_pipeline(world, client_for, without_page_cache):
    from tests.engagements.tenant_objects import engagement_for

    with operator_scope():
        engagement = engagement_for(world, world.a)
    client = client_for(world.partner)
    board = reverse("engagements:pipeline_board", args=[engagement.pk])
    desk = reverse("engagements:engagement_detail", args=[engagement.pk])
    _board_queries(client, board)
    before = (_board_queries(client, board), _board_queries(client, desk))
    with operator_scope():
        for i in range(6):
            opp = add(world, engagement, f"Scale MSP {i}", "meeting", "100.00", close=today())
            services.next_step_create(
                engagement=engagement,
                opportunity=opp,
                title=f"Call {i}",
                owner=world.partner,
                due_on=today(),
                actor=world.partner,
            )
    after = (_board_queries(client, board), _board_queries(client, desk))
    assert after == before


def test_expected_close_date_through_the_api(world, client_for):
    from tests.engagements.tenant_objects import opportunity_for

    with operator_scope():
        opportunity = opportunity_for(world, world.a)
    url = f"/api/v1/opportunities/{opportunity.pk}/expected-close/"
    day = (today() + datetime.timedelta(days=40)).isoformat()
    response = client_for(world.partner).post(url, {"expected_close_on": day}, content_type="application/json")
    assert response.status_code == 200 and response.json()["expected_close_on"] == day
    bad = client_for(world.partner).post(url, {"expected_close_on": "soon"}, content_type="application/json")
    assert bad.status_code == 400 and "expected_close_on" in bad.json()["extra"]
    # TMW sourced it: the vendor's users may not change it.
    assert (
        client_for(world.a.vendor_admin)
        .post(url, {"expected_close_on": day}, content_type="application/json")
        .status_code
        == 403
    )
