"""Who sees which desk controls, dating stage moves through the page and the API, odd ids, the admin."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from engagements import services
from engagements.models import Attribution, Engagement, Milestone, Opportunity
from tests.factories import OrganisationFactory
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope

ODD_IDS = ["-9.83e+34", "1e3", "2.5", "abc", "0", "-1", "99999999999999999999999", "１２"]


def new_msp(name: str) -> Organisation:
    with operator_scope():
        return Organisation.all_objects.create(kind="msp", name=name, slug=name.lower().replace(" ", "-"))


def vendor_opportunity(world, name: str) -> Opportunity:
    with operator_scope():
        return services.opportunity_create(
            engagement=world.a.objects[Engagement], msp=new_msp(name), source="vendor", actor=world.a.vendor_admin
        )


def move(client, opp, **data):
    return client.post(f"/api/v1/opportunities/{opp.pk}/move/", data, content_type="application/json")


# --- the desk page shows its controls to partners and admins alike ------------------------------

CONTROLS = {
    "transition": "engagements/{pk}/transition/",
    "team": "engagements/{pk}/team/add/",
    "plan": "/milestone",
    "attribute": "engagements/{pk}/attributions/add/",
    "activity": "engagements/{pk}/activities/add/",
}


@pytest.mark.parametrize(("who", "sees"), [("partner", True), ("admin", True), ("finance", False)])
def test_the_desk_page_shows_its_controls_by_the_policy(world, client_for, who, sees):
    engagement = world.a.objects[Engagement]
    body = client_for(getattr(world, who)).get(reverse("engagements:engagement_detail", args=[engagement.pk]))
    assert body.status_code == 200
    html = body.content.decode()
    for control, path in CONTROLS.items():
        assert (path.format(pk=engagement.pk) in html) is sees, f"{who}: {control}"
    assert ('name="status" aria-label="Status of' in html) is sees  # the editable plan
    listing = client_for(getattr(world, who)).get(reverse("engagements:engagement_list")).content.decode()
    assert (reverse("engagements:engagement_create") in listing) is sees


@pytest.mark.parametrize(("who", "sees"), [("partner", True), ("admin", True), ("finance", False)])
def test_the_board_and_opportunity_page_show_moves_by_the_policy(world, client_for, who, sees):
    engagement = world.a.objects[Engagement]
    opp = world.a.objects[Opportunity]
    client = client_for(getattr(world, who))
    board = client.get(reverse("engagements:pipeline_board", args=[engagement.pk])).content.decode()
    move_url = reverse("engagements:opportunity_move", args=[opp.pk])
    assert (move_url in board) is sees
    assert (reverse("engagements:opportunity_add", args=[engagement.pk]) in board) is sees
    detail = client.get(reverse("engagements:opportunity_detail", args=[opp.pk])).content.decode()
    assert (move_url in detail) is sees
    assert ('name="on"' in detail) is sees
    assert (reverse("engagements:opportunity_edit", args=[opp.pk]) in detail) is sees


def test_the_portal_shows_moves_only_on_the_vendors_own_cards(world, client_for):
    own = vendor_opportunity(world, "Portal Own")
    tmw = world.a.objects[Opportunity]
    body = client_for(world.a.vendor_member).get(reverse("engagements:portal")).content.decode()
    assert reverse("engagements:opportunity_move", args=[own.pk]) in body
    assert reverse("engagements:opportunity_move", args=[tmw.pk]) not in body
    assert 'name="on"' not in body


def test_admin_moves_and_backdates_through_the_page(world, client_for):
    engagement = world.a.objects[Engagement]
    with operator_scope():
        opp = services.opportunity_create(
            engagement=engagement, msp=new_msp("Admin Moved"), source="tmw", actor=world.partner
        )
    signed = datetime.date.today() - datetime.timedelta(days=5)
    response = client_for(world.admin).post(
        reverse("engagements:opportunity_move", args=[opp.pk]),
        {"stage": "signed", "on": signed.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    opp.refresh_from_db()
    assert opp.stage == "signed" and opp.signed_on == signed


# --- dating a stage move ------------------------------------------------------------------------


def test_api_vendor_cannot_backdate_a_move(world, client_for):
    own = vendor_opportunity(world, "Api Vendor Own")
    vendor = client_for(world.a.vendor_admin)
    response = move(vendor, own, stage="live", on="1999-01-01")
    assert response.status_code == 403
    body = response.json()
    assert "on" in body["extra"] and "“on”" in body["message"]
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    assert move(vendor, own, stage="live", on=yesterday).status_code == 403
    own.refresh_from_db()
    assert own.stage == "target"
    done = move(vendor, own, stage="meeting", on=datetime.date.today().isoformat())
    assert done.status_code == 200 and done.json()["stage"] == "meeting"
    assert move(vendor, own, stage="evaluation").status_code == 200


def test_api_vendor_cannot_move_what_tmw_sourced(world, client_for):
    tmw = world.a.objects[Opportunity]
    response = move(client_for(world.a.vendor_member), tmw, stage="live")
    assert response.status_code == 403 and "TMW moves" in response.json()["message"]
    tmw.refresh_from_db()
    assert tmw.stage == "signed"


def test_api_partner_backdates_only_within_the_engagement(world, client_for):
    engagement = world.a.objects[Engagement]
    with operator_scope():
        opp = services.opportunity_create(
            engagement=engagement, msp=new_msp("Api Backdated"), source="tmw", actor=world.partner
        )
    partner = client_for(world.partner)
    for day in ("1999-01-01", (engagement.start_date - datetime.timedelta(days=1)).isoformat()):
        response = move(partner, opp, stage="signed", on=day)
        assert response.status_code == 400 and list(response.json()["extra"]) == ["on"], day
    future = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    response = move(partner, opp, stage="signed", on=future)
    assert response.status_code == 400 and response.json()["extra"] == {"on": ["In the future."]}
    opp.refresh_from_db()
    assert opp.stage == "target"
    response = move(partner, opp, stage="signed", on=engagement.start_date.isoformat())
    assert response.status_code == 200 and response.json()["signed_on"] == engagement.start_date.isoformat()
    assert Attribution.all_objects.get(engagement=engagement, msp=opp.msp).starts_on == engagement.start_date


def test_page_vendor_backdating_is_refused_by_the_service(world, client_for):
    own = vendor_opportunity(world, "Page Vendor Own")
    response = client_for(world.a.vendor_admin).post(
        reverse("engagements:opportunity_move", args=[own.pk]),
        {"stage": "meeting", "on": "1999-01-01"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403 and "“on”" in response.content.decode()
    own.refresh_from_db()
    assert own.stage == "target"


def test_page_partner_backdating_before_the_start_is_a_400(world, client_for):
    engagement = world.a.objects[Engagement]
    with operator_scope():
        opp = services.opportunity_create(
            engagement=engagement, msp=new_msp("Too Early"), source="tmw", actor=world.partner
        )
    response = client_for(world.partner).post(
        reverse("engagements:opportunity_move", args=[opp.pk]),
        {"stage": "signed", "on": "1999-01-01"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and "before the engagement started" in response.content.decode()


# --- odd ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ODD_IDS)
def test_the_opportunity_list_page_answers_odd_ids_with_a_400(world, client_for, value):
    engagement = world.a.objects[Engagement]
    url = reverse("engagements:opportunity_list", args=[engagement.pk])
    response = client_for(world.partner).get(url, {"engagement": value})
    assert response.status_code == 400
    assert "(engagement)" in response.content.decode()
    partial = client_for(world.partner).get(url, {"engagement": value}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 400


def test_the_opportunity_list_page_reads_a_good_engagement_filter(world, client_for):
    engagement = world.a.objects[Engagement]
    url = reverse("engagements:opportunity_list", args=[engagement.pk])
    response = client_for(world.partner).get(url, {"engagement": str(engagement.pk)})
    assert response.status_code == 200 and f"{world.a.marker} Target MSP" in response.content.decode()
    assert client_for(world.partner).get(url, {"stage": "nonsense"}).status_code == 400


@pytest.mark.parametrize("endpoint", ["opportunities", "milestones", "activities", "attributions"])
@pytest.mark.parametrize("value", ["-9.83e+34", "1e3", "abc", "0", "99999999999999999999999"])
def test_api_filters_answer_odd_ids_with_a_400_naming_the_field(world, client_for, endpoint, value):
    response = client_for(world.partner).get(f"/api/v1/{endpoint}/", {"engagement": value})
    assert response.status_code == 400
    assert "engagement" in response.json()["extra"]


def test_api_filters_read_a_good_engagement_id(world, client_for):
    engagement = world.a.objects[Engagement]
    client = client_for(world.partner)
    rows = client.get("/api/v1/milestones/", {"engagement": engagement.pk}).json()["results"]
    assert rows and all(r["engagement"] == engagement.pk for r in rows)
    rows = client.get("/api/v1/opportunities/", {"engagement": engagement.pk}).json()["results"]
    assert rows and all(r["engagement"] == engagement.pk for r in rows)


@pytest.mark.parametrize("value", ["-9.83e+34", "99999999999999999999999", "x"])
def test_add_and_create_pages_answer_odd_ids_with_a_400(world, client_for, value):
    engagement = world.a.objects[Engagement]
    client = client_for(world.partner)
    add = client.get(reverse("engagements:opportunity_add", args=[engagement.pk]), {"msp": value})
    assert add.status_code == 400 and "“msp”" in add.content.decode()
    create = client.get(reverse("engagements:engagement_create"), {"diagnostic": value})
    assert create.status_code == 400 and "“diagnostic”" in create.content.decode()


# --- the API's answers agree with its schema ----------------------------------------------------


def test_api_answers_nulls_where_the_schema_allows_them(world, client_for):
    engagement = world.a.objects[Engagement]
    with operator_scope():
        services.activity_create(engagement=engagement, kind="note", summary="No MSP here", actor=world.partner)
        Milestone.all_objects.filter(engagement=engagement).update(owner_role="")
    client = client_for(world.partner)
    activity = next(a for a in client.get("/api/v1/activities/").json()["results"] if a["summary"] == "No MSP here")
    assert activity["msp_name"] is None
    row = client.get(f"/api/v1/engagements/{engagement.pk}/").json()
    assert row["stop_date"] is None
    milestone = client.get("/api/v1/milestones/", {"engagement": engagement.pk}).json()["results"][0]
    assert milestone["owner_role"] == ""


def test_api_vendor_creates_vendor_sourced_in_its_own_pipeline_only(world, client_for):
    engagement = world.a.objects[Engagement]
    msp = world.a.objects[Opportunity].msp
    with operator_scope():
        Opportunity.all_objects.filter(engagement=engagement, msp=msp).delete()
        _share_target_lists(world.a.vendor)
    vendor = client_for(world.a.vendor_member)
    response = vendor.post(
        "/api/v1/opportunities/",
        data=json.dumps({"engagement": engagement.pk, "msp": msp.pk, "source": "tmw", "expected_mrr": "10.50"}),
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["source"] == "vendor"
    assert Decimal(response.json()["expected_mrr"]) == Decimal("10.50")
    again = vendor.post(
        "/api/v1/opportunities/",
        data=json.dumps({"engagement": engagement.pk, "msp": msp.pk}),
        content_type="application/json",
    )
    assert again.status_code == 409
    assert (
        client_for(world.finance).post("/api/v1/opportunities/", {}, content_type="application/json").status_code == 403
    )


# --- the admin does not change what drives billing ----------------------------------------------


@pytest.fixture
def superuser(world):
    return world.admin  # an admin may change everything the admin shows


def test_admin_change_form_does_not_save_engagement_dates(world, client_for, superuser):
    with operator_scope():
        vendor = OrganisationFactory(name="Admin Form Vendor")
        engagement = services.engagement_create(
            vendor=vendor, option="A", lead_partner=world.partner, actor=world.partner
        )
        engagement = services.engagement_start(engagement=engagement, actor=world.partner)
    started = engagement.start_date
    url = reverse("admin:engagements_engagement_change", args=[engagement.pk])
    client = client_for(superuser)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="start_date"' not in html and 'name="terminated_on"' not in html and 'name="status"' not in html
    assert reverse("engagements:engagement_detail", args=[engagement.pk]) in html
    response = client.post(
        url,
        {
            "vendor": vendor.pk,
            "diagnostic": "",
            "option": "A",
            "lead_partner": world.partner.pk,
            "notes": "Edited in the admin",
            "status": "terminated",
            "start_date": "1999-01-01",
            "end_date": "1999-02-01",
            "terminated_on": "1999-02-01",
            "team-TOTAL_FORMS": "0",
            "team-INITIAL_FORMS": "0",
            "team-MIN_NUM_FORMS": "0",
            "team-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    engagement = Engagement.all_objects.get(pk=engagement.pk)
    assert engagement.notes == "Edited in the admin"
    assert engagement.status == "active" and engagement.start_date == started
    assert engagement.end_date is None and engagement.terminated_on is None


def test_admin_change_form_does_not_save_attribution_dates(world, client_for, superuser):
    attribution = world.a.objects[Attribution]
    before = (attribution.starts_on, attribution.ended_on)
    url = reverse("admin:engagements_attribution_change", args=[attribution.pk])
    client = client_for(superuser)
    html = client.get(url).content.decode()
    assert 'name="starts_on"' not in html and 'name="ended_on"' not in html
    response = client.post(
        url,
        {
            "engagement": attribution.engagement_id,
            "msp": attribution.msp_id,
            "opportunity": attribution.opportunity_id or "",
            "reason": "Edited reason",
            "created_by": "",
            "starts_on": "1999-01-01",
            "ended_on": "1999-01-02",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    attribution = Attribution.all_objects.get(pk=attribution.pk)
    assert attribution.reason == "Edited reason"
    assert (attribution.starts_on, attribution.ended_on) == before
    assert client.get(reverse("admin:engagements_attribution_add")).status_code == 403


def _share_target_lists(vendor):
    """Complete the vendor's diagnostics: only then may it see (and add) the MSPs on its target lists."""
    from diagnostics.models import Diagnostic

    Diagnostic.all_objects.filter(vendor=vendor).update(status=Diagnostic.Status.COMPLETE)
