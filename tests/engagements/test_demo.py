"""The demo desks: two running engagements with plans, 20-40 opportunities and attributions; idempotent."""

from __future__ import annotations

import datetime
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from engagements.models import Attribution, Engagement, Milestone, Opportunity, OpportunityStageChange
from tmw.accounts.tenancy import operator_scope


def _counts():
    models = (Engagement, Milestone, Opportunity, OpportunityStageChange, Attribution)
    return {m.__name__: m.all_objects.count() for m in models}


def test_demo_desks(db):
    call_command("seed_demo", "--quiet", stdout=StringIO())
    first = _counts()
    call_command("seed_demo", "--quiet", stdout=StringIO())
    assert _counts() == first
    today = timezone.localdate()
    with operator_scope():
        desks = {e.vendor.name: e for e in Engagement.objects.select_related("vendor")}
        assert len(desks) == 2
        for engagement in desks.values():
            assert engagement.status == "active"
            opportunities = Opportunity.objects.filter(engagement=engagement)
            assert 20 <= opportunities.count() <= 40
            assert set(opportunities.values_list("stage", flat=True)) == set(Opportunity.Stage.values)
            assert Milestone.objects.filter(engagement=engagement, status="done").exists()
            attributions = Attribution.objects.filter(engagement=engagement)
            assert attributions.count() >= 3
            for attribution in attributions.select_related("opportunity"):
                assert engagement.start_date <= attribution.starts_on <= today
                assert attribution.starts_on >= today - datetime.timedelta(days=366)
                if attribution.opportunity and attribution.opportunity.source == "tmw":
                    assert attribution.starts_on == attribution.opportunity.signed_on
        ages = sorted((today - e.start_date).days for e in desks.values())
        assert 220 <= ages[0] <= 260 and 400 <= ages[1] <= 440
        assert {e.option for e in desks.values()} == {"A", "B"}
