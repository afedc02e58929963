"""MSP directory pages: permission matrix, search and filters with htmx, detail, create, edit, contacts, queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.directory.tenant_objects import add_msps
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope
from tmw.directory.models import MSPContact, MSPProfile

HTMX = {"HTTP_HX_REQUEST": "true"}


def profile_named(name: str) -> MSPProfile:
    with operator_scope():
        return MSPProfile.objects.get(legal_name=name)


def matrix(world) -> dict:
    return {
        "anonymous": None,
        "other vendor": world.b.vendor_admin,
        "own vendor": world.a.vendor_admin,
        "MSP user": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
    }


def status_of(client_for, user, url, method="get", data=None):
    client = client_for(user)
    response = getattr(client, method)(url, data or {})
    return response.status_code


@pytest.mark.parametrize(
    "name,expected",
    [
        ("msp_list", {"other vendor": 200, "own vendor": 200, "MSP user": 403, "partner": 200, "finance": 403}),
        ("msp_create", {"other vendor": 403, "own vendor": 403, "MSP user": 403, "partner": 200, "finance": 403}),
        ("msp_import", {"other vendor": 403, "own vendor": 403, "MSP user": 403, "partner": 200, "finance": 403}),
        ("msp_export", {"other vendor": 403, "own vendor": 403, "MSP user": 403, "partner": 200, "finance": 403}),
    ],
)
def test_permission_matrix_of_directory_pages(world, client_for, name, expected):
    url = reverse(f"directory:{name}")
    got = {label: status_of(client_for, user, url) for label, user in matrix(world).items()}
    assert got.pop("anonymous") == 302
    assert got == expected


def test_permission_matrix_of_msp_detail_and_edit(world, client_for):
    target = profile_named("Alphaquill Target MSP")  # on vendor A's target list
    detail = reverse("directory:msp_detail", args=[target.pk])
    edit = reverse("directory:msp_edit", args=[target.pk])
    got = {label: status_of(client_for, user, detail) for label, user in matrix(world).items()}
    assert got == {
        "anonymous": 302,
        "other vendor": 404,
        "own vendor": 200,
        "MSP user": 403,
        "partner": 200,
        "finance": 403,
    }
    got = {label: status_of(client_for, user, edit) for label, user in matrix(world).items()}
    assert got == {
        "anonymous": 302,
        "other vendor": 403,
        "own vendor": 403,
        "MSP user": 403,
        "partner": 200,
        "finance": 403,
    }


def test_a_vendor_lists_only_the_msps_on_its_target_lists(world, client_for):
    body = client_for(world.a.vendor_admin).get(reverse("directory:msp_list")).content.decode()
    assert "Alphaquill Target MSP" in body
    for hidden in ("Marlinspike", "Quokkadale", "Zebrawood"):
        assert hidden not in body
    other = profile_named("Marlinspike MSP")
    assert client_for(world.a.vendor_admin).get(reverse("directory:msp_detail", args=[other.pk])).status_code == 404


def test_vendors_never_see_contacts(world, client_for):
    target = profile_named("Alphaquill Target MSP")
    with operator_scope():
        MSPContact.objects.create(msp=target, name="Secret Person", email="secret@example.com")
    url = reverse("directory:msp_detail", args=[target.pk])
    assert "Secret Person" not in client_for(world.a.vendor_admin).get(url).content.decode()
    assert "Secret Person" in client_for(world.partner).get(url).content.decode()


def test_partners_search_and_filter_with_htmx(world, client_for):
    add_msps(3, prefix="Filterable", verticals=["education"], service_lines=["cloud"], pe_backed=True, employees=10)
    client = client_for(world.partner)
    url = reverse("directory:msp_list")
    full = client.get(url).content.decode()
    assert "<html" in full and "Marlinspike MSP" in full and "Filterable MSP 000" in full
    partial = client.get(url, {"vertical": "education"}, **HTMX).content.decode()
    assert "<html" not in partial and 'id="msp-results"' in partial
    assert "Filterable MSP 000" in partial and "Marlinspike MSP" not in partial
    for params, present, absent in [
        ({"q": "marlin"}, "Marlinspike MSP", "Filterable"),
        ({"service": "cloud"}, "Filterable MSP 001", "Marlinspike"),
        ({"pe": "yes"}, "Filterable MSP 002", "Marlinspike"),
        ({"pe": "no"}, "Marlinspike MSP", "Filterable"),
        ({"country": "US"}, "0 MSPs", "Marlinspike"),
        ({"region": "ON", "rmm": "datto_rmm"}, "0 MSPs", "Marlinspike"),
        ({"size": "mid"}, "Marlinspike MSP", "Filterable MSP 000"),
        ({"size": "small"}, "Filterable MSP 000", "Marlinspike"),
        ({"community": "yes"}, "Filterable MSP 000", "Marlinspike"),
    ]:
        body = client.get(url, params, **HTMX).content.decode()
        assert present in body, params
        assert absent not in body, params


def test_the_directory_pages_through_results(world, client_for):
    add_msps(30, prefix="Paged")
    client = client_for(world.partner)
    first = client.get(reverse("directory:msp_list")).content.decode()
    second = client.get(reverse("directory:msp_list"), {"page": 2}).content.decode()
    assert "page 1 of 2" in first and "page 2 of 2" in second
    assert "Paged MSP 029" in second and "Paged MSP 029" not in first


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["partner", "vendor"])
def test_the_directory_list_keeps_its_query_count_as_it_grows(
    world, client_for, django_assert_num_queries, who, without_page_cache
):
    user = world.partner if who == "partner" else world.a.vendor_admin
    client = client_for(user)
    url = reverse("directory:msp_list")
    add_msps(2, prefix="Small")
    small = _count_queries(client, url)
    add_msps(20, prefix="Large")
    with django_assert_num_queries(small):
        client.get(url)


def test_the_msp_detail_keeps_its_query_count(world, client_for, django_assert_num_queries):
    target = profile_named("Marlinspike MSP")
    client = client_for(world.partner)
    url = reverse("directory:msp_detail", args=[target.pk])
    small = _count_queries(client, url)
    with operator_scope():
        for i in range(6):
            MSPContact.objects.create(msp=target, name=f"Person {i}")
    with django_assert_num_queries(small):
        client.get(url)


FORM = {
    "legal_name": "Brand New IT",
    "city": "Halifax",
    "region": "NS",
    "country": "CA",
    "website": "https://brandnew.example",
    "employees": "30",
    "technicians": "12",
    "endpoints": "3000",
    "clients": "45",
    "verticals": ["legal", "healthcare"],
    "service_lines": ["managed_it", "identity"],
    "psa_tools": ["halopsa"],
    "rmm_tools": ["n_able"],
    "relationship": "2",
    "community_member": "on",
}


def test_a_partner_adds_an_msp_and_a_duplicate_is_refused(world, client_for):
    client = client_for(world.partner)
    response = client.post(reverse("directory:msp_create"), FORM)
    assert response.status_code == 302
    profile = profile_named("Brand New IT")
    assert profile.verticals == ["legal", "healthcare"] and profile.technicians == 12
    assert profile.organisation.kind == Organisation.Kind.MSP
    assert "|s:identity|" in profile.tag_index
    again = client.post(reverse("directory:msp_create"), {**FORM, "website": ""})
    assert again.status_code == 200
    assert "already in the directory" in again.content.decode()
    site = client.post(reverse("directory:msp_create"), {**FORM, "legal_name": "Other", "city": "Truro"})
    assert "already in the directory" in site.content.decode()
    bad = client.post(reverse("directory:msp_create"), {**FORM, "legal_name": "X", "website": "", "region": "TX"})
    assert bad.status_code == 200 and "is not a state or province of Canada" in bad.content.decode()


def test_a_partner_edits_an_msp_and_manages_contacts(world, client_for):
    target = profile_named("Marlinspike MSP")
    client = client_for(world.partner)
    response = client.post(reverse("directory:msp_edit", args=[target.pk]), {**FORM, "legal_name": "Marlinspike MSP"})
    assert response.status_code == 302
    target = profile_named("Marlinspike MSP")
    assert target.city == "Halifax" and target.organisation.city == "Halifax"
    client.post(
        reverse("directory:msp_contact_add", args=[target.pk]), {"name": "Robin Roy", "email": "robin@example.com"}
    )
    with operator_scope():
        contact = MSPContact.objects.get(name="Robin Roy")
    assert client.post(reverse("directory:msp_contact_remove", args=[contact.pk])).status_code == 302
    with operator_scope():
        assert not MSPContact.objects.filter(pk=contact.pk).exists()
    assert (
        client_for(world.a.vendor_admin).post(reverse("directory:msp_contact_add", args=[target.pk])).status_code == 403
    )
