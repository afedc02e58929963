"""The MSP directory as a list people work with: sortable columns, a CSV of what it shows, pages that keep both."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from tests.directory.tenant_objects import add_msps

pytestmark = pytest.mark.django_db
URL = "/diagnostics/msps/"


def names_in(html: bytes) -> list[str]:
    return re.findall(r'<a href="/diagnostics/msps/\d+/"><strong>([^<]+)</strong>', html.decode())


def test_a_column_sorts_both_ways_and_the_filters_stay(world, client_for):
    add_msps(5, prefix="Sorted")
    client = client_for(world.partner)
    assert reverse("directory:msp_list") == URL
    up = client.get(URL, {"q": "Sorted", "sort": "techs"})
    down = client.get(URL, {"q": "Sorted", "sort": "-techs"})
    assert up.status_code == down.status_code == 200
    assert len(names_in(up.content)) == 5
    assert names_in(up.content) == list(reversed(names_in(down.content)))
    # The active header offers the other direction and keeps the search.
    assert b'aria-sort="ascending"' in up.content
    assert b"?q=Sorted&amp;sort=-techs" in up.content


def test_pages_keep_the_sort_and_the_filters(world, client_for):
    add_msps(30, prefix="Paged")
    response = client_for(world.partner).get(URL, {"q": "Paged", "sort": "-staff"})
    assert re.search(rb"q=Paged&(amp;)?sort=-staff&(amp;)?page=2", response.content)


def test_the_csv_is_the_filtered_sorted_list_on_every_page(world, client_for):
    add_msps(30, prefix="Export")
    client = client_for(world.partner)
    page = client.get(URL, {"q": "Export", "sort": "-techs"})
    response = client.get(URL, {"q": "Export", "sort": "-techs", "format": "csv", "page": "2"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["MSP", "HQ", "Staff", "Techs", "Endpoints"]
    assert len(rows) == 31  # every matching MSP, not one page
    techs = [int(r[3]) for r in rows[1:]]
    assert techs == sorted(techs, reverse=True)
    assert [r[0] for r in rows[1 : 1 + len(names_in(page.content))]] == names_in(page.content)


def test_a_vendor_exports_only_what_it_sees(world, client_for):
    add_msps(3, prefix="Hidden")
    response = client_for(world.a.vendor_admin).get(URL, {"format": "csv"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Hidden MSP" not in body and world.b.msp.name not in body


def test_an_unknown_sort_is_named_and_the_list_still_shows(world, client_for):
    response = client_for(world.partner).get(URL, {"sort": "notes"})
    assert response.status_code == 400
    assert "“sort” must be one of the list" in response.content.decode()
    assert names_in(response.content)
    csv_refused = client_for(world.partner).get(URL, {"sort": "; drop", "format": "csv"})
    assert csv_refused.status_code == 400
