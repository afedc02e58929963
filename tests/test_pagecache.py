"""The page cache: a page is served again per user while nothing is written, and never across users."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tmw import pagecache
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope
from tmw.pagecache import CSRF_PLACEHOLDER, is_write

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch):
    """Every load of a test falls in the same minute: a test that crosses one would find its page gone."""
    monkeypatch.setattr(pagecache, "_minute", lambda: 0)


def test_a_page_is_kept_for_the_minute_only(world, client_for, monkeypatch):
    client = client_for(world.partner)
    url = reverse("dashboard:partner")
    assert kept(client.get(url)) == "miss"
    assert kept(client.get(url)) == "hit"
    monkeypatch.setattr(pagecache, "_minute", lambda: 1)
    assert kept(client.get(url)) == "miss"


def kept(response) -> str:
    return response["X-Page-Cache"]


def test_a_second_load_is_served_from_the_cache_with_fewer_queries(world, client_for):
    client = client_for(world.partner)
    url = reverse("dashboard:partner")
    with CaptureQueriesContext(connection) as rendered:
        first = client.get(url)
    with CaptureQueriesContext(connection) as served:
        second = client.get(url)
    assert (kept(first), kept(second)) == ("miss", "hit")
    assert len(served.captured_queries) < len(rendered.captured_queries)
    assert len(served.captured_queries) <= 2  # the session and the user, nothing of the page
    strip = lambda body: CSRF_INPUT.sub("", re.sub(r'"X-CSRFToken": "[^"]+"', "", body.decode()))  # noqa: E731
    assert strip(first.content) == strip(second.content)


def test_a_write_shows_on_the_next_load(world, client_for):
    client = client_for(world.partner)
    url = reverse("dashboard:partner")
    client.get(url)
    with operator_scope():
        Organisation.all_objects.filter(pk=world.a.vendor.pk).update(name="Renamed Backup Co")
    response = client.get(url)
    assert kept(response) == "miss"
    assert "Renamed Backup Co" in response.content.decode()


def test_no_user_is_served_another_users_page(world, client_for):
    url = reverse("dashboard:vendor")
    # Logging in writes (the last login), so every session is opened before the first load.
    first, other, second = (client_for(u) for u in (world.a.vendor_admin, world.b.vendor_admin, world.a.vendor_admin))
    a = first.get(url)
    b = other.get(url)
    assert kept(b) == "miss"
    assert world.a.vendor.name in a.content.decode() and world.a.vendor.name not in b.content.decode()
    assert world.b.vendor.name in b.content.decode()
    # The same user in another session is served the kept page.
    again = second.get(url)
    assert kept(again) == "hit" and world.a.vendor.name in again.content.decode()


def test_a_kept_page_carries_a_csrf_token_that_the_next_post_passes(world):
    client, fresh = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for each in (client, fresh):
        each.force_login(world.partner, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("dashboard:partner")
    client.get(url)
    page = fresh.get(url)  # no CSRF cookie yet: the kept page must set one that fits its token
    assert kept(page) == "hit"
    body = page.content.decode()
    assert CSRF_PLACEHOLDER not in body
    token = CSRF_INPUT.search(body).group(1)
    response = fresh.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302  # a 403 would mean the token does not fit the cookie


def test_a_page_with_a_message_is_shown_once_and_not_kept(world, client_for):
    client = client_for(world.partner)
    url = reverse("dashboard:partner")
    request = RequestFactory().get(url)
    storage = CookieStorage(request)
    storage.add(constants.SUCCESS, "The vendor was saved.")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies.update(carrier.cookies)
    shown = client.get(url)
    assert "The vendor was saved." in shown.content.decode()
    after = client.get(url)
    assert kept(after) == "miss" and "The vendor was saved." not in after.content.decode()


def test_no_cache_renders_afresh_and_htmx_requests_are_kept_apart(world, client_for):
    client = client_for(world.partner)
    url = reverse("directory:msp_list")
    client.get(url)
    assert kept(client.get(url, headers={"Cache-Control": "no-cache"})) == "miss"
    assert kept(client.get(url, headers={"HX-Request": "true"})) == "miss"
    assert kept(client.get(url, headers={"HX-Request": "true"})) == "hit"
    assert kept(client.get(url + "?q=Marlin")) == "miss"


def test_the_policy_is_asked_on_every_load(world, client_for):
    url = reverse("dashboard:finance")
    finance, vendor = client_for(world.finance), client_for(world.a.vendor_admin)
    assert kept(finance.get(url)) == "miss"
    assert vendor.get(url).status_code == 403
    assert kept(finance.get(url)) == "hit"


def test_without_a_page_cache_nothing_is_kept(world, client_for, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client = client_for(world.partner)
    url = reverse("dashboard:partner")
    client.get(url)
    assert not client.get(url).has_header("X-Page-Cache")


def test_the_api_list_is_kept_per_token_after_the_door(world):
    with operator_scope():
        token = Token.objects.create(user=world.a.vendor_admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = "/api/v1/msps/"
    first, second = client.get(url), client.get(url)
    assert (kept(first), kept(second)) == ("miss", "hit") and first.json() == second.json()
    other = APIClient()
    other.force_authenticate(world.b.vendor_admin)
    assert kept(other.get(url)) == "miss"
    client.credentials()
    assert client.get(url).status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_a_transaction_moves_the_generation_at_its_write_and_at_its_commit():
    before = pagecache.generation()
    with transaction.atomic():
        Organisation.all_objects.create(kind="vendor", name="Moved On Inc", slug="moved-on-inc")  # unscoped: operator
        at_write = pagecache.generation()
        assert at_write > before
    assert pagecache.generation() > at_write  # the commit: another process's page of the old data is dropped


@pytest.mark.parametrize(
    "sql, writes",
    [
        ('INSERT INTO "commissions_statement" VALUES (1)', True),
        ('  update "engagements_opportunity" SET stage = %s', True),
        ('DELETE FROM "community_rsvp"', True),
        ("WITH moved AS (UPDATE x SET y = 1 RETURNING id) SELECT * FROM moved", True),
        ('(SELECT "a" FROM "b") UNION (SELECT "c" FROM "d")', False),
        ('SELECT "x" FROM "y" FOR UPDATE', False),
        ("WITH totals AS (SELECT 1) SELECT * FROM totals", False),
        ('UPDATE "django_session" SET "session_data" = %s', False),
        ('UPDATE "ops_heartbeat" SET "beat_at" = %s WHERE "ops_heartbeat"."name" = %s', False),
        ("SAVEPOINT s1", False),
        ("CREATE TEMPORARY TABLE rates (year int)", True),
    ],
)
def test_which_statements_count_as_writes(sql, writes):
    assert is_write(sql) is writes
