"""The pipeline list sorts by its columns (stages in pipeline order) and downloads what it shows as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from engagements.models import Engagement, Opportunity
from tmw.accounts.tenancy import operator_scope

pytestmark = pytest.mark.django_db


def engagement_of(world) -> Engagement:
    with operator_scope():
        return Engagement.objects.filter(vendor=world.a.vendor).first()


def test_stages_sort_in_pipeline_order_and_the_csv_follows(world, client_for):
    engagement = engagement_of(world)
    client = client_for(world.partner)
    url = reverse("engagements:opportunity_list", args=[engagement.pk])
    response = client.get(url, {"sort": "-stage", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["MSP", "Stage", "Source"]
    order = [label for _, label in Opportunity.Stage.choices]
    stages = [order.index(r[1]) for r in rows[1:]]
    assert stages == sorted(stages, reverse=True)
    with operator_scope():
        assert len(rows) - 1 == Opportunity.objects.filter(engagement=engagement).count()
    page = client.get(url, {"sort": "-stage", "stage": ""})
    assert b'aria-sort="descending"' in page.content
    assert b'name="sort" value="-stage"' in page.content


def test_an_unknown_sort_is_a_400_naming_it(world, client_for):
    engagement = engagement_of(world)
    response = client_for(world.partner).get(
        reverse("engagements:opportunity_list", args=[engagement.pk]), {"sort": "secret"}
    )
    assert response.status_code == 400
    assert "“sort” must be one of the list" in response.content.decode()
