"""Ideal-partner profile and target-list pages, CSV export and the API, with their permission matrices."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from diagnostics import services
from diagnostics.models import Diagnostic, IdealPartnerProfile, TargetEntry, TargetList
from tests.directory.tenant_objects import add_msps
from tmw.accounts.tenancy import operator_scope
from tmw.directory import services as directory_services
from tmw.directory.models import MSPProfile

HTMX = {"HTTP_HX_REQUEST": "true"}


def diagnostic_of(world, side="a") -> Diagnostic:
    return world.side(side).objects[Diagnostic]


def users(world) -> dict:
    return {
        "anonymous": None,
        "other vendor": world.b.vendor_admin,
        "own vendor": world.a.vendor_admin,
        "MSP user": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
    }


def statuses(world, client_for, url, method="get", data=None) -> dict:
    return {
        label: getattr(client_for(user), method)(url, data or {}).status_code for label, user in users(world).items()
    }


def build(world, side="a") -> TargetList:
    with operator_scope():
        return services.target_list_build(diagnostic=diagnostic_of(world, side), actor=world.partner)


def complete(world, side="a") -> None:
    """Mark the side's diagnostic complete: vendors see target lists only then."""
    with operator_scope():
        Diagnostic.objects.filter(pk=diagnostic_of(world, side).pk).update(status=Diagnostic.Status.COMPLETE)


def test_permission_matrix_of_the_target_list_pages(world, client_for):
    pk = diagnostic_of(world).pk
    page = reverse("diagnostics:target_list", args=[pk])
    export = reverse("diagnostics:target_list_export", args=[pk])
    profile = reverse("diagnostics:ideal_partner_profile", args=[pk])
    expected_read = {
        "anonymous": 302,
        "other vendor": 404,
        "own vendor": 200,
        "MSP user": 403,
        "partner": 200,
        "finance": 403,
    }
    assert statuses(world, client_for, page) == expected_read
    # the draft's CSV sends the vendor back to the page that says the list is shared once complete
    assert statuses(world, client_for, export) == {**expected_read, "own vendor": 302}
    complete(world)
    assert statuses(world, client_for, export) == expected_read
    assert statuses(world, client_for, profile) == {
        "anonymous": 302,
        "other vendor": 403,
        "own vendor": 403,
        "MSP user": 403,
        "partner": 200,
        "finance": 403,
    }


def test_permission_matrix_of_build_and_flag(world, client_for):
    build_url = reverse("diagnostics:target_list_build", args=[diagnostic_of(world).pk])
    got = statuses(world, client_for, build_url, method="post")
    assert got == {
        "anonymous": 302,
        "other vendor": 403,
        "own vendor": 403,
        "MSP user": 403,
        "partner": 302,
        "finance": 403,
    }
    with operator_scope():
        assert TargetList.objects.filter(diagnostic=diagnostic_of(world)).count() == 2  # the partner's build only
        entry = TargetEntry.objects.filter(target_list__diagnostic=diagnostic_of(world)).order_by("-pk").first()
    flag_url = reverse("diagnostics:target_entry_flag", args=[entry.pk])
    got = statuses(world, client_for, flag_url, method="post", data={"action": "pin", "reason": "Met at a dinner"})
    assert got == {
        "anonymous": 302,
        "other vendor": 403,
        "own vendor": 403,
        "MSP user": 403,
        "partner": 302,
        "finance": 403,
    }
    entry.refresh_from_db()
    assert entry.pinned and entry.reason == "Met at a dinner"


def test_the_partner_edits_the_profile_and_re_scores(world, client_for):
    client = client_for(world.partner)
    pk = diagnostic_of(world).pk
    response = client.post(
        reverse("diagnostics:ideal_partner_profile", args=[pk]),
        {
            "countries": ["CA"],
            "regions": ["ON", "BC"],
            "min_technicians": "10",
            "max_technicians": "50",
            "verticals": ["healthcare"],
            "required_service_lines": ["managed_it"],
            "preferred_service_lines": ["soc_mdr"],
            "psa_integrations": ["connectwise_psa"],
            "rmm_integrations": ["ninjaone"],
            "pe_preference": "avoid",
            "weight_geography": "20",
            "weight_size": "15",
            "weight_verticals": "15",
            "weight_service_lines": "20",
            "weight_stack": "15",
            "weight_ownership": "5",
            "weight_relationship": "10",
        },
    )
    assert response.status_code == 302
    with operator_scope():
        profile = IdealPartnerProfile.objects.get(diagnostic_id=pk)
    assert profile.regions == ["ON", "BC"] and profile.pe_preference == "avoid"
    bad = client.post(
        reverse("diagnostics:ideal_partner_profile", args=[pk]),
        {"countries": ["CA"], "min_technicians": "60", "max_technicians": "10", "pe_preference": "neutral"}
        | {f"weight_{f}": "1" for f in ("geography", "size", "verticals", "service_lines", "stack", "ownership")}
        | {"weight_relationship": "1"},
    )
    assert bad.status_code == 200 and "The maximum is below the minimum." in bad.content.decode()

    client.post(reverse("diagnostics:target_list_build", args=[pk]))
    body = client.get(reverse("diagnostics:target_list", args=[pk])).content.decode()
    # Marlinspike: Toronto ON, 15 techs, healthcare, managed IT + SOC/MDR, ConnectWise PSA + NinjaOne, independent,
    # no relationship: 20 + 15 + 15 + 20 + 15 + 5 + 0 = 90.
    assert "Marlinspike MSP" in body and "90.0" in body
    assert "in Ontario, a target province: <strong>20.0/20.0</strong>" in body
    assert 'data-chart="tier-chart"' in body and "List #2" in body


def test_the_target_list_shows_who_moved(world, client_for):
    add_msps(3, prefix="Climber", relationship=0, verticals=[], community_member=False)
    build(world)
    with operator_scope():
        climber = MSPProfile.objects.get(legal_name="Climber MSP 002")
        directory_services.msp_update(profile=climber, actor=world.partner, relationship=3, community_member=True)
    build(world)
    body = client_for(world.partner).get(reverse("diagnostics:target_list", args=[diagnostic_of(world).pk])).content
    text = body.decode()
    assert "Since list #2" in text and "▲" in text
    older = client_for(world.partner).get(
        reverse("diagnostics:target_list", args=[diagnostic_of(world).pk]), {"number": 2}
    )
    assert "An older snapshot" in older.content.decode()


def test_htmx_flag_swaps_the_row_and_reports_a_missing_reason(world, client_for):
    target_list = build(world)
    with operator_scope():
        entry = target_list.entries.order_by("rank").first()
    client = client_for(world.partner)
    url = reverse("diagnostics:target_entry_flag", args=[entry.pk])
    missing = client.post(url, {"action": "exclude", "reason": ""}, **HTMX)
    assert missing.status_code == 400 and "Say why" in missing.content.decode()
    done = client.post(url, {"action": "exclude", "reason": "Sells a competitor"}, **HTMX)
    body = done.content.decode()
    assert done.status_code == 200 and body.startswith(f'<tr id="entry-{entry.pk}"')
    assert "excluded" in body and "Sells a competitor" in body


def test_the_tier_filter_swaps_the_entries(world, client_for):
    build(world)
    client = client_for(world.partner)
    url = reverse("diagnostics:target_list", args=[diagnostic_of(world).pk])
    body = client.get(url, {"tier": "C"}, **HTMX).content.decode()
    assert body.strip().startswith('<div id="target-entries">') and "<html" not in body


def test_the_vendor_sees_its_list_without_exclusions_or_reasons(world, client_for):
    target_list = build(world)
    with operator_scope():
        excluded = target_list.entries.get(msp_name="Marlinspike MSP")
        services.target_entry_flag(entry=excluded, actor=world.partner, pinned=False, excluded=True, reason="Secret")
    complete(world)
    client = client_for(world.a.vendor_admin)
    page = client.get(reverse("diagnostics:target_list", args=[diagnostic_of(world).pk])).content.decode()
    assert "Alphaquill Target MSP" in page and "Quokkadale MSP" in page
    assert "Marlinspike" not in page and "Secret" not in page
    assert "Re-score" not in page and "Pin" not in page
    export = client.get(reverse("diagnostics:target_list_export", args=[diagnostic_of(world).pk])).content.decode()
    rows = list(csv.DictReader(io.StringIO(export)))
    assert "reason" not in rows[0] and all(r["msp"] != "Marlinspike MSP" for r in rows)


def test_the_partner_export_has_every_factor_and_neutralises_cells(world, client_for):
    with operator_scope():
        directory_services.msp_create(
            actor=world.partner, legal_name="=Formula MSP", city="Kingston", region="ON", country="CA"
        )
    build(world)
    response = client_for(world.partner).get(reverse("diagnostics:target_list_export", args=[diagnostic_of(world).pk]))
    assert response["Content-Disposition"].startswith('attachment; filename="target-list-alphaquill-vendor-2.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {"geography_points", "geography_why", "relationship_max", "reason"} <= set(rows[0])
    assert any(r["msp"] == "'=Formula MSP" for r in rows)
    assert [int(r["rank"]) for r in rows] == sorted(int(r["rank"]) for r in rows)


@pytest.mark.parametrize("who", ["partner", "vendor"])
def test_the_target_list_keeps_its_query_count_as_it_grows(world, client_for, django_assert_num_queries, who):
    client = client_for(world.partner if who == "partner" else world.a.vendor_admin)
    url = reverse("diagnostics:target_list", args=[diagnostic_of(world).pk])
    add_msps(2, prefix="Small")
    build(world)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    add_msps(25, prefix="Large")
    build(world)
    build(world)
    with django_assert_num_queries(len(ctx.captured_queries)):
        client.get(url)


# --- API


def test_api_msps_partners_all_vendors_their_targets(world, client_for):
    partner = client_for(world.partner).get("/api/v1/msps/").json()
    assert {m["legal_name"] for m in partner["results"]} >= {"Marlinspike MSP", "Quokkadale MSP"}
    assert "contacts" in partner["results"][0]
    vendor = client_for(world.a.vendor_admin).get("/api/v1/msps/").json()
    assert [m["legal_name"] for m in vendor["results"]] == ["Alphaquill Target MSP"]
    assert vendor["results"][0]["contacts"] == [] and vendor["results"][0]["notes"] == ""
    hidden = MSPProfile.all_objects.get(legal_name="Zebrawood Target MSP")
    assert client_for(world.a.vendor_admin).get(f"/api/v1/msps/{hidden.pk}/").status_code == 404
    filtered = client_for(world.partner).get("/api/v1/msps/", {"q": "quokka"}).json()
    assert [m["legal_name"] for m in filtered["results"]] == ["Quokkadale MSP"]


def test_api_msp_writes_are_for_partners(world, client_for):
    data = {"legal_name": "API MSP", "city": "Boise", "region": "ID", "country": "US", "verticals": ["government"]}
    assert (
        client_for(world.a.vendor_admin).post("/api/v1/msps/", data, content_type="application/json").status_code == 403
    )
    created = client_for(world.partner).post("/api/v1/msps/", data, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    dup = client_for(world.partner).post("/api/v1/msps/", data, content_type="application/json")
    assert dup.status_code == 409 and "already in the directory" in dup.json()["message"]
    bad = client_for(world.partner).post(
        "/api/v1/msps/", {**data, "legal_name": "Y", "region": "ZZ"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "region" in bad.json()["extra"]
    patched = client_for(world.partner).patch(
        f"/api/v1/msps/{pk}/", {"technicians": 12}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["technicians"] == 12
    assert client_for(world.partner).delete(f"/api/v1/msps/{pk}/").status_code == 204


def test_api_target_lists_build_read_and_flag(world, client_for):
    pk = diagnostic_of(world).pk
    assert (
        client_for(world.a.vendor_admin)
        .post("/api/v1/target-lists/build/", {"diagnostic": pk}, content_type="application/json")
        .status_code
        == 403
    )
    built = client_for(world.partner).post(
        "/api/v1/target-lists/build/", {"diagnostic": pk}, content_type="application/json"
    )
    assert built.status_code == 201
    payload = built.json()
    assert payload["number"] == 2 and len(payload["entries"]) == payload["scored_count"]
    entry = next(e for e in payload["entries"] if e["msp_name"] == "Marlinspike MSP")
    flag = client_for(world.partner).patch(
        f"/api/v1/target-entries/{entry['id']}/",
        {"excluded": True, "reason": "Conflict"},
        content_type="application/json",
    )
    assert flag.status_code == 200 and flag.json()["excluded"] is True
    no_reason = client_for(world.partner).patch(
        f"/api/v1/target-entries/{entry['id']}/", {"pinned": True}, content_type="application/json"
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["extra"]
    complete(world)
    vendor = client_for(world.a.vendor_admin)
    lists = vendor.get("/api/v1/target-lists/").json()["results"]
    assert {t["diagnostic"] for t in lists} == {pk}
    detail = vendor.get(f"/api/v1/target-lists/{payload['id']}/").json()
    names = {e["msp_name"] for e in detail["entries"]}
    assert "Marlinspike MSP" not in names and "Alphaquill Target MSP" in names
    assert "reason" not in detail["entries"][0]
    other = client_for(world.b.vendor_admin)
    assert other.get(f"/api/v1/target-lists/{payload['id']}/").status_code == 404
    assert (
        other.post("/api/v1/target-lists/build/", {"diagnostic": pk}, content_type="application/json").status_code
        == 403
    )
    assert (
        client_for(world.partner)
        .post("/api/v1/target-lists/build/", {"diagnostic": 999999}, content_type="application/json")
        .status_code
        == 404
    )


def test_api_ideal_partner_profile(world, client_for):
    with operator_scope():
        profile = IdealPartnerProfile.objects.get(diagnostic=diagnostic_of(world))
    url = f"/api/v1/ideal-partner-profiles/{profile.pk}/"
    assert client_for(world.a.vendor_admin).get(url).json()["regions"] == ["ON"]
    assert client_for(world.b.vendor_admin).get(url).status_code == 404
    assert (
        client_for(world.a.vendor_admin).patch(url, {"regions": []}, content_type="application/json").status_code == 403
    )
    changed = client_for(world.partner).patch(
        url, {"regions": ["BC"], "weight_geography": "40"}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["regions"] == ["BC"]
    bad = client_for(world.partner).patch(url, {"verticals": ["astrology"]}, content_type="application/json")
    assert bad.status_code == 400


def test_an_msps_directory_page_shows_the_target_lists_it_is_on(world, client_for):
    with operator_scope():
        entry = TargetEntry.objects.filter(target_list__diagnostic=diagnostic_of(world)).select_related("msp").first()
        vendor_name = diagnostic_of(world).vendor.name
    url = reverse("directory:msp_detail", args=[entry.msp_id])
    body = client_for(world.partner).get(url).content.decode()
    assert "On target lists" in body and vendor_name in body
    assert reverse("diagnostics:target_list", args=[diagnostic_of(world).pk]) in body
    own_vendor = client_for(world.a.vendor_admin).get(url)
    assert own_vendor.status_code == 200 and vendor_name in own_vendor.content.decode()


def test_a_vendor_sees_no_target_list_of_a_draft(world, client_for):
    """Before the diagnostic is complete the vendor's page, CSV, API lists and details show no entry."""
    target_list = build(world)
    with operator_scope():
        entry = target_list.entries.get(msp_name="Alphaquill Target MSP")
    pk = diagnostic_of(world).pk
    client = client_for(world.a.vendor_admin)
    for status in (Diagnostic.Status.DRAFT, Diagnostic.Status.IN_REVIEW):
        with operator_scope():
            Diagnostic.objects.filter(pk=pk).update(status=status)
        page = client.get(reverse("diagnostics:target_list", args=[pk]))
        body = page.content.decode()
        assert page.status_code == 200 and "Shared once complete" in body
        assert "Alphaquill Target MSP" not in body and "Export CSV" not in body
        export = client.get(reverse("diagnostics:target_list_export", args=[pk]))
        assert export.status_code == 302 and export["Location"] == reverse("diagnostics:target_list", args=[pk])
        assert client.get("/api/v1/target-lists/").json()["results"] == []
        assert client.get("/api/v1/target-entries/").json()["results"] == []
        assert client.get(f"/api/v1/target-lists/{target_list.pk}/").status_code == 404
        assert client.get(f"/api/v1/target-entries/{entry.pk}/").status_code == 404
        assert client.get("/api/v1/target-entries/", {"target_list": target_list.pk}).json()["results"] == []
    partner = client_for(world.partner)
    assert "Alphaquill Target MSP" in partner.get(reverse("diagnostics:target_list", args=[pk])).content.decode()
    assert partner.get(f"/api/v1/target-entries/{entry.pk}/").status_code == 200
    complete(world)
    assert "Alphaquill Target MSP" in client.get(reverse("diagnostics:target_list", args=[pk])).content.decode()
    assert client.get(f"/api/v1/target-entries/{entry.pk}/").status_code == 200
    assert {t["id"] for t in client.get("/api/v1/target-lists/").json()["results"]} >= {target_list.pk}


def test_the_msp_page_lists_only_completed_target_lists_for_the_vendor(world, client_for):
    build(world)
    with operator_scope():
        msp = MSPProfile.objects.get(legal_name="Alphaquill Target MSP")
    url = reverse("directory:msp_detail", args=[msp.pk])
    vendor = client_for(world.a.vendor_admin)
    draft = vendor.get(url)
    assert draft.status_code in (200, 404)
    if draft.status_code == 200:
        assert "Not on a target list" in draft.content.decode()
    complete(world)
    shared = vendor.get(url)
    assert shared.status_code == 200 and "Not on a target list" not in shared.content.decode()


def test_a_bad_snapshot_number_answers_400_naming_the_field(world, client_for):
    url = reverse("diagnostics:target_list", args=[diagnostic_of(world).pk])
    for number in ("99999999999999999999", "-9.83e+34", "x", "0"):
        response = client_for(world.partner).get(url, {"number": number})
        assert response.status_code == 400 and "number" in response.content.decode(), number
    assert client_for(world.partner).get(url, {"number": "1"}).status_code == 200
