"""Sortable lists with a CSV of what they show: statements and events (the directory and pipeline have their own)."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import RequestFactory
from django.urls import reverse

from commissions.models import Statement
from community.models import Event
from tmw.accounts.tenancy import operator_scope
from tmw.tables import Column, Table

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_table_toggles_the_direction_and_keeps_the_rest_of_the_query():
    request = RequestFactory().get("/x/", {"q": "acme", "sort": "name", "page": "3"})
    table = Table(request, [Column("name", "Name", ("legal_name",)), Column("size", "Size", ("employees",))], "name")
    assert table.ordering() == ["legal_name", "pk"]
    assert table.header("name")["url"] == "?q=acme&sort=-name"  # the page goes: a new order starts on page 1
    assert table.header("size")["url"] == "?q=acme&sort=size"
    assert table.csv_url() == "?q=acme&sort=name&format=csv"
    down = Table(RequestFactory().get("/x/", {"sort": "-size"}), table.columns, "name")
    assert down.ordering() == ["-employees", "-pk"]
    odd = Table(RequestFactory().get("/x/", {"sort": "password"}), table.columns, "name")
    assert odd.error and odd.sort == "name"


def test_statements_sort_and_download_every_match_with_totals_of_all(world, client_for):
    client = client_for(world.finance)
    url = reverse("commissions:statement_list")
    response = client.get(url, {"sort": "-total", "format": "csv"})
    rows = rows_of(response)
    assert rows[0][:3] == ["Month", "Vendor", "Number"]
    with operator_scope():
        assert len(rows) - 1 == Statement.objects.count()
    totals = [float(r[6]) for r in rows[1:]]
    assert totals == sorted(totals, reverse=True)
    page = client.get(url, {"sort": "vendor"})
    assert b'aria-sort="ascending"' in page.content
    assert client.get(url, {"sort": "nope"}).status_code == 400


def test_events_sort_and_download(world, client_for):
    client = client_for(world.partner)
    url = reverse("community:event_list")
    rows = rows_of(client.get(url, {"when": "all", "sort": "title", "format": "csv"}))
    titles = [r[0] for r in rows[1:]]
    with operator_scope():  # the database's collation decides the order of words
        assert titles == list(Event.objects.order_by("title", "pk").values_list("title", flat=True))
    assert b'aria-sort="ascending"' in client.get(url, {"when": "all", "sort": "title"}).content
