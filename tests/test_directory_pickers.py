"""The MSP and organisation pickers: a search box over the directory, never the directory written into the page.

At 20,000 MSPs a select of every one made the desk page 1.2 MB and two seconds of rendering, and
the check-in page at the door as large; now the page carries the chosen MSP only and the search
answers with the first matches.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from community.models import RSVP, Event
from engagements.models import Engagement, Opportunity
from tests.community.conftest import make_event
from tmw.accounts.models import Invitation, Organisation
from tmw.accounts.tenancy import operator_scope
from tmw.web import SEARCH_MATCHES, SEARCH_PROMPT


def make_msps(count: int, prefix: str) -> list[Organisation]:
    with operator_scope():
        return Organisation.all_objects.bulk_create(
            Organisation(kind="msp", name=f"{prefix} {i:04d} Networks", slug=f"{prefix.lower()}-{i:04d}")
            for i in range(count)
        )


def select_of(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert found, f"no select named {name}"
    return found.group(0)


def test_the_desk_page_writes_no_directory_into_its_attribution_form(world, client_for):
    engagement = world.a.objects[Engagement]
    client = client_for(world.partner)
    url = reverse("engagements:engagement_detail", args=[engagement.pk])
    make_msps(3, "Few")
    small = client.get(url).content.decode()
    make_msps(300, "Many")
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Many 0001 Networks" not in html
    assert html.count("<option") == small.count("<option")
    picker = select_of(html, "msp")
    assert picker.count("<option") == 1 and SEARCH_PROMPT in picker
    search_url = reverse("engagements:msp_options", args=[engagement.pk])
    assert f'hx-get="{search_url}"' in html and 'type="search"' in html


def test_typing_finds_the_first_matches_and_says_how_many(world, client_for):
    engagement = world.a.objects[Engagement]
    make_msps(SEARCH_MATCHES + 5, "Picker")
    client = client_for(world.partner)
    url = reverse("engagements:msp_options", args=[engagement.pk])

    many = client.get(url, {"q": "picker"}).content.decode()
    assert many.count("<option") == SEARCH_MATCHES + 1
    assert f"The first {SEARCH_MATCHES} matches: type more to narrow them" in many
    assert "Picker 0000 Networks" in many and f"Picker {SEARCH_MATCHES:04d} Networks" not in many

    one = client.get(url, {"q": "  Picker 0007 "}).content.decode()
    chosen = Organisation.all_objects.get(name="Picker 0007 Networks")
    assert "1 match: choose one" in one and f'<option value="{chosen.pk}">Picker 0007 Networks</option>' in one

    assert SEARCH_PROMPT in client.get(url, {"q": "p"}).content.decode()
    assert SEARCH_PROMPT in client.get(url).content.decode()
    nothing = client.get(url, {"q": "<b>zz"}).content.decode()
    assert nothing == '<option value="">Nothing matches “&lt;b&gt;zz”</option>'


def test_the_chosen_msp_comes_back_selected_after_a_refusal(world, client_for):
    engagement = world.a.objects[Engagement]
    (msp,) = make_msps(1, "Chosen")
    make_msps(50, "Other")
    client = client_for(world.partner)
    response = client.post(
        reverse("engagements:attribution_add", args=[engagement.pk]), {"msp": msp.pk, "starts_on": "2026-13-01"}
    )
    assert response.status_code == 400
    picker = select_of(response.content.decode(), "msp")
    assert f'<option value="{msp.pk}" selected>Chosen 0000 Networks</option>' in picker
    assert "Other 0001" not in picker


def test_the_opportunity_page_keeps_its_competition_check_on_the_picker(world, client_for):
    engagement = world.a.objects[Engagement]
    (msp,) = make_msps(1, "Linked")
    client = client_for(world.partner)
    url = reverse("engagements:opportunity_add", args=[engagement.pk])
    html = client.get(url, {"msp": msp.pk}).content.decode()
    picker = select_of(html, "msp")
    assert f'<option value="{msp.pk}" selected>Linked 0000 Networks</option>' in picker
    assert f'hx-get="{url}"' in picker and 'hx-target="#competition"' in picker and "required" in picker
    response = client.post(url, {"msp": msp.pk, "source": "tmw", "stage": "target"})
    assert response.status_code == 302
    assert Opportunity.all_objects.filter(engagement=engagement, msp=msp).exists()


def test_a_vendor_finds_only_the_msps_it_may_see(world, client_for):
    make_msps(3, "Hidden")
    own = world.a.objects[Opportunity].msp
    url = reverse("engagements:portal_msp_options")
    vendor = client_for(world.a.vendor_admin)
    assert "Nothing matches" in vendor.get(url, {"q": "hidden"}).content.decode()
    found = vendor.get(url, {"q": own.name[:6]}).content.decode()
    assert f'value="{own.pk}"' in found
    other = client_for(world.b.vendor_admin).get(url, {"q": own.name}).content.decode()
    assert f'value="{own.pk}"' not in other
    # The partners' search of vendor A's desk is not the vendor's to ask.
    desk = reverse("engagements:msp_options", args=[world.a.objects[Engagement].pk])
    assert vendor.get(desk, {"q": "hidden"}).status_code == 403


@pytest.mark.django_db
def test_the_walk_in_form_at_the_door_searches_the_directory(world, client_for):
    event = make_event(world.partner, days=1, capacity=10)
    starts = timezone.now() + datetime.timedelta(hours=-1)
    Event.objects.filter(pk=event.pk).update(starts_at=starts, ends_at=starts + datetime.timedelta(hours=3))
    make_msps(200, "Door")
    client = client_for(world.partner)
    html = client.get(reverse("community:check_in", args=[event.pk])).content.decode()
    picker = select_of(html, "msp")
    assert picker.count("<option") == 1 and "Door 0001" not in html
    url = reverse("community:walk_in_msp_options", args=[event.pk])
    assert f'hx-get="{url}"' in html
    found = client.get(url, {"q": "door 0042"}).content.decode()
    msp = Organisation.all_objects.get(name="Door 0042 Networks")
    assert f'<option value="{msp.pk}">Door 0042 Networks</option>' in found
    walker = {"msp": msp.pk, "name": "Wes Walker", "email": "wes@door.example"}
    response = client.post(reverse("community:walk_in", args=[event.pk]), walker)
    assert response.status_code == 302
    assert RSVP.all_objects.filter(event=event, invitation__email="wes@door.example").exists()


def test_the_invitation_form_searches_every_organisation(world, client_for):
    make_msps(120, "Invitee")
    partner = client_for(world.partner)
    html = partner.get(reverse("accounts:people")).content.decode()
    picker = select_of(html, "organisation")
    assert picker.count("<option") == 1 and "Invitee 0001" not in html
    url = reverse("accounts:organisation_options")
    assert f'hx-get="{url}"' in html
    found = partner.get(url, {"q": world.a.vendor.name}).content.decode()
    assert f'<option value="{world.a.vendor.pk}">{world.a.vendor.name}</option>' in found
    response = partner.post(
        reverse("accounts:people"),
        {"email": "new.person@vendor-a.example", "organisation": world.a.vendor.pk, "role": "vendor_member"},
    )
    assert response.status_code == 200 and "Invitation sent to new.person@vendor-a.example" in response.content.decode()
    with operator_scope():
        assert Invitation.objects.filter(email="new.person@vendor-a.example", organisation=world.a.vendor).exists()
    # A vendor admin invites into its own vendor only: no picker, and no search to ask.
    admin = client_for(world.a.vendor_admin)
    assert 'name="q"' not in admin.get(reverse("accounts:team")).content.decode()
    assert admin.get(url, {"q": "invitee"}).status_code == 403
