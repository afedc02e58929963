"""Desk figures carry their currency, and the open pipeline is apart from won MRR."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from commissions.models import Agreement
from engagements.models import Engagement, Opportunity
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _pipeline(world, *, b_currency: str = "USD") -> None:
    """Side A: 5,000 open (meeting), 1,200 signed; side B: 3,000 open, 1,200 signed, 900 lost, in ``b_currency``."""
    with operator_scope():
        Opportunity.all_objects.update(expected_mrr=Decimal("0"))
        for side, open_mrr in ((world.a, "5000"), (world.b, "3000")):
            engagement = side.objects[Engagement]
            if not Agreement.all_objects.filter(engagement=engagement).exists():
                pytest.skip("the world's desks have agreements")
            signed = side.objects[Opportunity]
            Opportunity.all_objects.filter(pk=signed.pk).update(expected_mrr=Decimal("1200"), stage="signed")
            msp = Organisation.all_objects.create(
                kind="msp", name=f"{side.marker} Open MSP", slug=f"{side.marker}-open"
            )
            Opportunity.all_objects.create(
                engagement=engagement,
                vendor=side.vendor,
                msp=msp,
                stage="meeting",
                source="tmw",
                expected_mrr=Decimal(open_mrr),
            )
        lost_msp = Organisation.all_objects.create(kind="msp", name="Lost MSP", slug="lost-msp")
        Opportunity.all_objects.create(
            engagement=world.b.objects[Engagement],
            vendor=world.b.vendor,
            msp=lost_msp,
            stage="lost",
            source="tmw",
            expected_mrr=Decimal("900"),
            lost_reason="Chose another vendor",
        )
        Agreement.all_objects.filter(engagement=world.b.objects[Engagement]).update(currency=b_currency)


def test_desk_list_shows_open_pipeline_and_won_mrr_in_dollars(world, client_for):
    _pipeline(world)
    text = _text(client_for(world.partner).get(reverse("engagements:engagement_list")))
    assert "Pipeline MRR (before signing) $8,000" in text
    assert "Won MRR (signed and live) $2,400" in text
    assert "$11,300" not in text and "$10,400" not in text  # neither won nor lost MRR counts as pipeline


def test_partner_home_shows_dollars(world, client_for):
    _pipeline(world)
    text = _text(client_for(world.partner).get(reverse("dashboard:partner")))
    assert "Open pipeline: $8,000 expected MRR · won $2,400 MRR" in text


def test_mixed_currencies_are_shown_per_currency_never_summed(world, client_for):
    _pipeline(world, b_currency="CAD")
    home = _text(client_for(world.partner).get(reverse("dashboard:partner")))
    assert "Open pipeline: CAD 3,000 · USD 5,000 expected MRR · won CAD 1,200 · USD 1,200 MRR" in home
    desks = _text(client_for(world.partner).get(reverse("engagements:engagement_list")))
    assert "CAD 3,000 · USD 5,000" in desks and "$8,000" not in desks


def test_board_and_detail_totals_carry_the_desk_currency(world, client_for):
    _pipeline(world, b_currency="CAD")
    engagement = world.b.objects[Engagement]
    client = client_for(world.partner)
    board = _text(client.get(reverse("engagements:pipeline_board", args=[engagement.pk])))
    assert "CAD 3,000/mo" in board and "CAD 1,200/mo" in board and "$" not in board.split("Pipeline:", 1)[1]
    detail = _text(client.get(reverse("engagements:engagement_detail", args=[engagement.pk])))
    assert "Signed 1 CAD 1,200" in detail
    own = _text(client.get(reverse("engagements:pipeline_board", args=[world.a.objects[Engagement].pk])))
    assert "$5,000/mo" in own
    opportunity = _text(client.get(reverse("engagements:opportunity_detail", args=[world.b.objects[Opportunity].pk])))
    assert "CAD 1,200.00" in opportunity


def test_option_labels_are_the_same_on_the_desk_and_the_decision():
    from diagnostics.forms import DecisionForm

    assert list(DecisionForm.base_fields["option"].choices) == list(Engagement.Option.choices)
    assert Engagement.Option.A.label == "Option A: TMW runs the channel desk with the vendor's US teams"
