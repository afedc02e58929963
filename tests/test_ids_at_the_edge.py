"""Ids and whole numbers at the edge: out of range or not a number is a 404 in a path and a 400 naming the
field in a filter, never a 500 (SQLite and PostgreSQL alike)."""

import pytest
from django.core.exceptions import BadRequest
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404

from tmw.web import MAX_ID, bounded_int, int_param

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (" 7 ", 7), ("-3", -3), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), (HUGE, None)]
    + [("abc", None), ("-9.83e+34", None), ("1.0", None), ("١٢٣", None), ("", None), (True, None), (5, 5)]
    + [("9" * 5000, None)],
)
def test_bounded_int(value, expected):
    assert bounded_int(value) == expected


def test_a_path_id_larger_than_any_row_matches_no_route(world, client_for):
    assert resolve(f"/accounts/users/{MAX_ID}/active/").kwargs == {"user_pk": MAX_ID}
    with pytest.raises(Resolver404):
        resolve(f"/accounts/users/{MAX_ID + 1}/active/")
    client = client_for(world.partner)
    assert client.post(f"/accounts/users/{HUGE}/active/", {"active": "0"}).status_code == 404
    assert client.post(f"/accounts/invitations/{HUGE}/revoke/").status_code == 404
    assert reverse("accounts:user_set_active", args=[42]) == "/accounts/users/42/active/"


@pytest.mark.parametrize("route", ["users", "organisations", "invitations", "msps", "engagements", "statements"])
def test_api_detail_routes_answer_404_for_ids_out_of_range(world, client_for, route):
    client = client_for(world.admin)
    for bad in (HUGE, str(MAX_ID + 1), "abc", "-1"):
        response = client.get(f"/api/v1/{route}/{bad}/", HTTP_ACCEPT="application/json")
        assert response.status_code == 404, (route, bad, response.status_code)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/users/?organisation=abc", "organisation"),
        (f"/api/v1/users/?organisation={HUGE}", "organisation"),
        ("/api/v1/users/?organisation=-9.83e+34", "organisation"),
        (f"/api/v1/invitations/?organisation={HUGE}", "organisation"),
        ("/api/v1/opportunities/?engagement=-9.83e+34", "engagement"),
        (f"/api/v1/milestones/?engagement={HUGE}", "engagement"),
        (f"/api/v1/availability-windows/?partner={HUGE}", "partner"),
        (f"/api/v1/target-entries/?target_list={HUGE}", "target_list"),
    ],
)
def test_api_filters_out_of_range_are_a_400_naming_the_field(world, client_for, url, field):
    response = client_for(world.admin).get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 400, (url, response.status_code)
    body = response.json()
    assert set(body) == {"message", "extra"} and field in body["extra"], body


def test_api_filters_in_range_still_filter(world, client_for):
    client = client_for(world.admin)
    response = client.get(f"/api/v1/users/?organisation={world.a.vendor.pk}")
    assert response.status_code == 200
    assert {u["organisation"] for u in response.json()["results"]} == {world.a.vendor.pk}
    unknown = client.get(f"/api/v1/users/?organisation={MAX_ID}")  # in range, but no such organisation
    assert unknown.status_code == 400 and "organisation" in unknown.json()["extra"]


def test_int_param_reads_a_bounded_whole_number():
    factory = RequestFactory()
    assert int_param(factory.get("/", {"engagement": "12"}), "engagement") == 12
    assert int_param(factory.get("/"), "engagement", default=3) == 3
    assert int_param(factory.get("/", {"engagement": ""}), "engagement") is None
    for bad in ("abc", HUGE, "-9.83e+34", "١٢"):
        with pytest.raises(BadRequest, match="engagement"):
            int_param(factory.get("/", {"engagement": bad}), "engagement")


def test_a_bad_request_from_int_param_is_a_400_page(world, client_for, settings):
    from django.http import HttpResponse
    from django.urls import path

    from tmw import urls

    def view(request):
        return HttpResponse(str(int_param(request, "engagement")))

    class Conf:
        handler400 = "tmw.error_views.bad_request"

    Conf.urlpatterns = [path("probe/", view), *urls.urlpatterns]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = Conf
    client = client_for(world.partner)
    assert client.get("/probe/?engagement=5").content == b"5"
    assert client.get(f"/probe/?engagement={HUGE}").status_code == 400


@pytest.mark.parametrize("bad", [HUGE, "-9.83e+34", "abc", "١٢٣"])
def test_a_page_filter_with_a_bad_value_answers_400_beside_its_field(world, client_for, bad):
    partner, finance = client_for(world.partner), client_for(world.finance)
    directory = partner.get("/diagnostics/msps/", {"size": bad})
    assert directory.status_code == 400 and "Some filters could not be used" in directory.content.decode()
    statements = finance.get("/commissions/statements/", {"vendor": bad})
    assert statements.status_code == 400 and "Some filters could not be used" in statements.content.decode()
    assert finance.get("/commissions/statements/", {"status": "draft"}).status_code == 200
