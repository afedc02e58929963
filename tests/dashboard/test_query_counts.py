"""Every role's home, the vendor list and the vendor's MSP list run as many queries at two sizes of data."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from community.models import Event, EventInvitation
from engagements.models import Engagement, Opportunity
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope
from tmw.directory.models import MSPContact, MSPProfile


def grow(world, n: int) -> None:
    """``n`` more vendors, MSPs (with contacts, in vendor A's pipeline) and events the MSP is invited to."""
    key = f"grow-{n}-{Organisation.all_objects.count()}"
    with operator_scope():
        Organisation.all_objects.bulk_create(
            Organisation(kind="vendor", name=f"Vendor {key}-{i}", slug=f"vendor-{key}-{i}") for i in range(n)
        )
        msps = Organisation.all_objects.bulk_create(
            Organisation(kind="msp", name=f"MSP {key}-{i}", slug=f"msp-{key}-{i}") for i in range(n)
        )
        profiles = MSPProfile.objects.bulk_create(
            MSPProfile(organisation=msp, legal_name=msp.name, country="US", region="TX", city="Austin") for msp in msps
        )
        MSPContact.objects.bulk_create(
            MSPContact(msp=profile, name=f"Owner of {profile.legal_name}", email=f"owner@{profile.pk}.example")
            for profile in profiles
        )
        engagement = world.a.objects[Engagement]
        Opportunity.all_objects.bulk_create(
            Opportunity(
                engagement=engagement,
                vendor_id=engagement.vendor_id,
                msp=msp,
                source="tmw",
                expected_mrr=Decimal("100.00"),
            )
            for msp in msps
        )
        soon = timezone.now() + datetime.timedelta(days=2)
        events = Event.objects.bulk_create(
            Event(
                kind="dinner",
                title=f"Dinner {key}-{i}",
                starts_at=soon + datetime.timedelta(days=i),
                ends_at=soon + datetime.timedelta(days=i, hours=2),
                capacity=20,
                host=world.partner,
            )
            for i in range(n)
        )
        EventInvitation.all_objects.bulk_create(
            EventInvitation(event=event, msp=world.a.msp, invited_by=world.partner) for event in events
        )


def queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


PAGES = {
    "partner home": ("partner", "dashboard:partner"),
    "vendor list": ("partner", "dashboard:vendors"),
    "finance home": ("finance", "dashboard:finance"),
    "vendor portal": ("vendor", "dashboard:vendor"),
    "MSP home": ("msp", "dashboard:msp"),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_home_pages_keep_their_query_count_as_the_data_grows(world, client_for, page, without_page_cache):
    who, name = PAGES[page]
    user = {"partner": world.partner, "finance": world.finance, "vendor": world.a.vendor_admin}.get(
        who, world.a.msp_member
    )
    client = client_for(user)
    url = reverse(name)
    grow(world, 2)
    client.get(url)  # warm up (session, content types)
    small = queries(client, url)
    grow(world, 60)
    assert queries(client, url) == small, page


def test_the_vendor_list_pages_the_vendors_and_the_home_links_to_it(world, client_for):
    grow(world, 60)
    client = client_for(world.partner)
    home = client.get(reverse("dashboard:partner")).content.decode()
    assert home.count("<strong>Vendor grow-") == 10 - 2 and reverse("dashboard:vendors") in home  # after A, B
    listing = client.get(reverse("dashboard:vendors")).content.decode()
    assert "page 1 of 2" in listing and listing.count("<tr><td>") == 50
    second = client.get(reverse("dashboard:vendors"), {"page": 2}).content.decode()
    assert world.b.vendor.name in listing + second


def test_the_vendors_msp_list_reads_no_contacts(world, without_page_cache):
    """A vendor's token lists its MSPs in the same number of queries at any size, contacts never read."""
    from rest_framework.test import APIClient

    client = APIClient()
    with operator_scope():
        token, _ = Token.objects.get_or_create(user=world.a.vendor_admin)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = reverse("api:msp-list")
    grow(world, 2)
    client.get(url)
    small = queries(client, url)
    grow(world, 40)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert len(captured.captured_queries) == small
    assert not any("directory_mspcontact" in q["sql"] for q in captured.captured_queries)
    rows = response.json()["results"]
    assert len(rows) >= 40 and all(row["contacts"] == [] and row["notes"] == "" for row in rows)
