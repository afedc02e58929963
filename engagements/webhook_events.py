"""What the desks' webhook events say: the key fields of an opportunity's and an attribution's API representation."""

from __future__ import annotations

import datetime
from typing import Any

from engagements.models import Attribution, Opportunity
from tmw.webhooks import services as webhooks


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def opportunity_stage_changed(opportunity: Opportunity, *, previous: str, on: datetime.date) -> None:
    """Tell the webhook endpoints that ``opportunity`` moved from ``previous`` to its stage on ``on``."""
    data: dict[str, Any] = {
        "opportunity": {
            "id": opportunity.pk,
            "engagement": opportunity.engagement_id,
            "vendor": opportunity.vendor_id,
            "msp": opportunity.msp_id,
            "msp_name": opportunity.msp.name,
            "stage": opportunity.stage,
            "source": opportunity.source,
            "expected_mrr": str(opportunity.expected_mrr) if opportunity.expected_mrr is not None else None,
            "currency": opportunity.engagement.currency,
            "signed_on": _day(opportunity.signed_on),
            "live_on": _day(opportunity.live_on),
            "lost_on": _day(opportunity.lost_on),
        },
        "from_stage": previous,
        "to_stage": opportunity.stage,
        "changed_on": on.isoformat(),
    }
    webhooks.publish("opportunity.stage_changed", payload=data, vendor=opportunity.engagement.vendor)


def attribution_created(attribution: Attribution) -> None:
    """Tell the webhook endpoints that an MSP account was attributed to an engagement."""
    data = {
        "attribution": {
            "id": attribution.pk,
            "engagement": attribution.engagement_id,
            "vendor": attribution.vendor_id,
            "msp": attribution.msp_id,
            "msp_name": attribution.msp.name,
            "opportunity": attribution.opportunity_id,
            "starts_on": _day(attribution.starts_on),
            "ended_on": _day(attribution.ended_on),
            "reason": attribution.reason,
        }
    }
    webhooks.publish("attribution.created", payload=data, vendor=attribution.engagement.vendor)
