"""Pages and API of Phase Two desks: permission matrix, internal notes, htmx moves, constant queries."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements import services
from engagements.models import Attribution, Engagement, Opportunity
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope


def users(world):
    return {
        "anonymous": None,
        "other vendor": world.b.vendor_admin,
        "own vendor": world.a.vendor_admin,
        "msp": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
    }


def page_urls(world):
    engagement = world.a.objects[Engagement]
    opportunity = world.a.objects[Opportunity]
    return {
        "list": reverse("engagements:engagement_list"),
        "create": reverse("engagements:engagement_create"),
        "detail": reverse("engagements:engagement_detail", args=[engagement.pk]),
        "board": reverse("engagements:pipeline_board", args=[engagement.pk]),
        "opportunities": reverse("engagements:opportunity_list", args=[engagement.pk]),
        "add": reverse("engagements:opportunity_add", args=[engagement.pk]),
        "opportunity": reverse("engagements:opportunity_detail", args=[opportunity.pk]),
        "portal": reverse("engagements:portal"),
    }


# page -> (anonymous, other vendor, own vendor, msp, partner, finance)
MATRIX = {
    "list": (302, 403, 403, 403, 200, 200),
    "create": (302, 403, 403, 403, 200, 403),
    "detail": (302, 403, 403, 403, 200, 200),
    "board": (302, 403, 403, 403, 200, 200),
    "opportunities": (302, 403, 403, 403, 200, 200),
    "add": (302, 403, 403, 403, 200, 403),
    "opportunity": (302, 403, 403, 403, 200, 200),
    "portal": (302, 200, 200, 403, 403, 403),
}


@pytest.mark.parametrize("page", sorted(MATRIX))
def test_permission_matrix(world, client_for, page):
    url = page_urls(world)[page]
    for (label, user), expected in zip(users(world).items(), MATRIX[page], strict=True):
        response = client_for(user).get(url)
        assert response.status_code == expected, f"{page} as {label}: {response.status_code}"
        if expected == 302:
            assert "/login/" in response["Location"]


def test_write_endpoints_are_for_partners(world, client_for):
    engagement = world.a.objects[Engagement]
    posts = [
        reverse("engagements:engagement_transition", args=[engagement.pk]),
        reverse("engagements:team_add", args=[engagement.pk]),
        reverse("engagements:attribution_add", args=[engagement.pk]),
        reverse("engagements:activity_add", args=[engagement.pk]),
        reverse("engagements:opportunities_from_targets", args=[engagement.pk]),
    ]
    for user in (world.a.vendor_admin, world.finance, world.a.msp_member):
        client = client_for(user)
        for url in posts:
            assert client.post(url, {}).status_code == 403, (user, url)


def test_other_vendors_objects_answer_404_to_partners_missing_objects(world, client_for):
    response = client_for(world.partner).get(reverse("engagements:engagement_detail", args=[999999]))
    assert response.status_code == 404


def test_partner_pages_render_the_desk(world, client_for):
    client = client_for(world.partner)
    urls = page_urls(world)
    detail = client.get(urls["detail"]).content.decode()
    assert f"{world.a.marker} Channel Chief" in detail and f"{world.a.marker} onboarding kit" in detail
    board = client.get(urls["board"]).content.decode()
    assert f"{world.a.marker} Target MSP" in board and 'data-stage="signed"' in board
    listing = client.get(urls["opportunities"] + "?stage=signed&source=tmw&tier=A&q=Target").content.decode()
    assert f"{world.a.marker} Target MSP" in listing
    assert "No opportunities match" in client.get(urls["opportunities"] + "?stage=lost").content.decode()
    assert f"{world.a.marker} signed" in client.get(urls["opportunity"]).content.decode()


def test_create_form_is_prefilled_from_the_go_diagnostic(world, client_for):
    from diagnostics.models import Diagnostic

    diagnostic = world.a.objects[Diagnostic]
    response = client_for(world.partner).get(reverse("engagements:engagement_create") + f"?diagnostic={diagnostic.pk}")
    form = response.context["form"]
    assert form.initial["option"] == "B" and form.initial["vendor"] == world.a.vendor.pk


def test_create_and_start_through_the_pages(world, client_for):
    from tests.factories import OrganisationFactory

    vendor = OrganisationFactory(name="Page Vendor")
    client = client_for(world.partner)
    response = client.post(
        reverse("engagements:engagement_create"),
        {"vendor": vendor.pk, "option": "A", "lead_partner": world.partner.pk, "notes": ""},
    )
    assert response.status_code == 302
    with operator_scope():
        engagement = Engagement.objects.get(vendor=vendor)
    response = client.post(reverse("engagements:engagement_transition", args=[engagement.pk]), {"status": "active"})
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.status == "active" and engagement.start_date == datetime.date.today()
    response = client.post(reverse("engagements:engagement_transition", args=[engagement.pk]), {"status": "proposed"})
    assert response.status_code == 400


# --- internal notes ---------------------------------------------------------------------------


@pytest.fixture
def notes(world):
    engagement = world.a.objects[Engagement]
    with operator_scope():
        internal = services.activity_create(
            engagement=engagement, kind="note", summary="Pricing concern INTERNALONLY", actor=world.partner
        )
        shared = services.activity_create(
            engagement=engagement,
            kind="introduction",
            visibility="shared",
            summary="Introduced to Harbor IT SHAREDNOTE",
            actor=world.partner,
        )
    return internal, shared


def test_internal_notes_never_reach_vendor_pages(world, client_for, notes):
    for user in (world.a.vendor_admin, world.a.vendor_member):
        body = client_for(user).get(reverse("engagements:portal")).content.decode()
        assert "SHAREDNOTE" in body and "INTERNALONLY" not in body
        board = client_for(user).get(reverse("engagements:portal"), HTTP_HX_REQUEST="true").content.decode()
        assert "INTERNALONLY" not in board
    partner_view = client_for(world.partner).get(
        reverse("engagements:engagement_detail", args=[notes[0].engagement_id])
    )
    assert "INTERNALONLY" in partner_view.content.decode()


def test_internal_notes_never_reach_vendor_api(world, client_for, notes):
    internal, shared = notes
    client = client_for(world.a.vendor_admin)
    body = client.get("/api/v1/activities/").json()
    summaries = [row["summary"] for row in body["results"]]
    assert shared.summary in summaries and internal.summary not in summaries
    assert client.get(f"/api/v1/activities/{internal.pk}/").status_code == 404
    assert client.get(f"/api/v1/activities/{shared.pk}/").status_code == 200
    partner = client_for(world.partner).get("/api/v1/activities/").json()
    assert internal.summary in [row["summary"] for row in partner["results"]]
    denied = client.post(
        "/api/v1/activities/",
        data=json.dumps({"engagement": internal.engagement_id, "kind": "note", "summary": "x"}),
        content_type="application/json",
    )
    assert denied.status_code == 403


# --- htmx moves and the portal ----------------------------------------------------------------


def test_partner_moves_with_htmx_and_gets_the_board(world, client_for):
    engagement = world.a.objects[Engagement]
    with operator_scope():
        msp = Organisation.all_objects.create(kind="msp", name="Moved MSP", slug="moved-msp")
        opp = services.opportunity_create(engagement=engagement, msp=msp, source="tmw", actor=world.partner)
    response = client_for(world.partner).post(
        reverse("engagements:opportunity_move", args=[opp.pk]), {"stage": "signed"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="board"' in body and "Moved MSP" in body and "moved to Signed." in body
    assert Attribution.all_objects.filter(engagement=engagement, msp=msp, starts_on=datetime.date.today()).exists()
    lost = client_for(world.partner).post(
        reverse("engagements:opportunity_move", args=[opp.pk]), {"stage": "lost"}, HTTP_HX_REQUEST="true"
    )
    assert lost.status_code == 400 and "Say why" in lost.content.decode()


def test_vendor_adds_and_moves_its_own_opportunities_in_the_portal(world, client_for):
    client = client_for(world.a.vendor_member)
    tmw_opp = world.a.objects[Opportunity]
    assert client.post(reverse("engagements:opportunity_move", args=[tmw_opp.pk]), {"stage": "live"}).status_code == 302
    tmw_opp.refresh_from_db()
    assert tmw_opp.stage == "signed"
    # Only MSPs visible to the vendor can be added.
    with operator_scope():
        hidden = Organisation.all_objects.create(kind="msp", name="Hidden MSP", slug="hidden-msp")
    client.post(reverse("engagements:portal_opportunity_add"), {"msp": hidden.pk, "stage": "target"})
    assert not Opportunity.all_objects.filter(msp=hidden).exists()
    from tests.directory.tenant_objects import msp_profile_for
    from tmw.directory.models import MSPProfile

    with operator_scope():
        visible = Organisation.all_objects.create(
            kind="msp", name="Visible MSP", slug="visible-msp", city="Ottawa", region="ON", country="CA"
        )
        profile = msp_profile_for(visible)
        from diagnostics.models import Diagnostic, TargetEntry, TargetList

        target_list = TargetList.all_objects.filter(diagnostic__vendor=world.a.vendor).first()
        TargetEntry.all_objects.create(
            target_list=target_list, msp=profile, msp_name=profile.legal_name, score=Decimal("60"), tier="B", rank=2
        )
        assert MSPProfile.all_objects.filter(pk=visible.pk).exists()
        # Vendors see the MSPs of a target list once its diagnostic is complete.
        Diagnostic.all_objects.filter(vendor=world.a.vendor).update(status=Diagnostic.Status.COMPLETE)
    response = client.post(
        reverse("engagements:portal_opportunity_add"), {"msp": visible.pk, "stage": "introduced", "expected_mrr": "450"}
    )
    assert response.status_code == 302
    opp = Opportunity.all_objects.get(msp=visible)
    assert opp.source == "vendor" and opp.vendor == world.a.vendor and opp.expected_mrr == Decimal("450.00")
    response = client.post(
        reverse("engagements:opportunity_move", args=[opp.pk]), {"stage": "signed"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    opp.refresh_from_db()
    assert opp.stage == "signed"
    assert not Attribution.all_objects.filter(msp=visible).exists()
    # Another vendor cannot touch it.
    other = client_for(world.b.vendor_admin).post(
        reverse("engagements:opportunity_move", args=[opp.pk]), {"stage": "lost"}
    )
    assert other.status_code == 404


def test_competition_warning_shows_to_partners_only(world, client_for):
    a_engagement = world.a.objects[Engagement]
    b_engagement = world.b.objects[Engagement]
    a_msp = world.a.objects[Opportunity].msp
    with operator_scope():
        services.opportunity_create(
            engagement=b_engagement, msp=a_msp, source="tmw", stage="meeting", actor=world.partner
        )
    board = (
        client_for(world.partner).get(reverse("engagements:pipeline_board", args=[a_engagement.pk])).content.decode()
    )
    assert f"In the active pipeline of {world.b.vendor.name}" in board
    add = client_for(world.partner).get(
        reverse("engagements:opportunity_add", args=[a_engagement.pk]) + f"?msp={a_msp.pk}", HTTP_HX_REQUEST="true"
    )
    assert world.b.vendor.name in add.content.decode()
    portal = client_for(world.a.vendor_admin).get(reverse("engagements:portal")).content.decode()
    assert world.b.marker not in portal and "active pipeline of" not in portal


# --- API --------------------------------------------------------------------------------------


def test_api_opportunities_filter_and_move(world, client_for):
    client = client_for(world.partner)
    rows = client.get("/api/v1/opportunities/?stage=signed&tier=A").json()["results"]
    assert {r["msp_name"] for r in rows} >= {f"{world.a.marker} Target MSP", f"{world.b.marker} Target MSP"}
    assert client.get("/api/v1/opportunities/?stage=lost").json()["results"] == []
    opp = world.a.objects[Opportunity]
    moved = client.post(f"/api/v1/opportunities/{opp.pk}/move/", {"stage": "live"}, content_type="application/json")
    assert moved.status_code == 200 and moved.json()["stage"] == "live"
    bad = client.post(f"/api/v1/opportunities/{opp.pk}/move/", {"stage": "lost"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["extra"] == {"lost_reason": ["Required."]}
    vendor = client_for(world.a.vendor_admin)
    assert (
        vendor.post(
            f"/api/v1/opportunities/{opp.pk}/move/", {"stage": "signed"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert vendor.get(f"/api/v1/opportunities/{world.b.objects[Opportunity].pk}/").status_code == 404
    assert client_for(world.a.msp_member).get("/api/v1/opportunities/").status_code == 403


def test_api_vendor_creates_only_with_visible_msps(world, client_for):
    vendor = client_for(world.a.vendor_admin)
    engagement = world.a.objects[Engagement]
    with operator_scope():
        hidden = Organisation.all_objects.create(kind="msp", name="Api Hidden MSP", slug="api-hidden-msp")
    response = vendor.post(
        "/api/v1/opportunities/", {"engagement": engagement.pk, "msp": hidden.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and "msp" in response.json()["extra"]
    other = vendor.post(
        "/api/v1/opportunities/",
        {"engagement": world.b.objects[Engagement].pk, "msp": hidden.pk},
        content_type="application/json",
    )
    assert other.status_code == 400
    partner = client_for(world.partner).post(
        "/api/v1/opportunities/",
        {"engagement": engagement.pk, "msp": hidden.pk, "expected_mrr": "1250.50", "stage": "introduced"},
        content_type="application/json",
    )
    assert partner.status_code == 201 and partner.json()["source"] == "tmw"


def test_api_engagements_milestones_attributions(world, client_for):
    vendor = client_for(world.a.vendor_admin)
    rows = vendor.get("/api/v1/engagements/").json()["results"]
    assert [r["vendor"] for r in rows] == [world.a.vendor.pk]
    attributions = vendor.get("/api/v1/attributions/").json()["results"]
    names = [a["msp_name"] for a in attributions]
    assert f"{world.a.marker} Target MSP" in names and all(world.b.marker not in n for n in names)
    milestones = vendor.get("/api/v1/milestones/").json()["results"]
    assert milestones and all(m["engagement"] == world.a.objects[Engagement].pk for m in milestones)
    mid = milestones[0]["id"]
    assert (
        vendor.patch(f"/api/v1/milestones/{mid}/", {"status": "done"}, content_type="application/json").status_code
        == 403
    )
    done = client_for(world.partner).patch(
        f"/api/v1/milestones/{mid}/", {"status": "done"}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["completed_on"] == datetime.date.today().isoformat()


# --- constant queries -------------------------------------------------------------------------


def grow_pipeline(engagement: Engagement, total: int) -> None:
    """Fill the engagement's pipeline up to ``total`` opportunities spread over the stages."""
    with operator_scope():
        have = Opportunity.all_objects.filter(engagement=engagement).count()
        missing = total - have
        key = f"{engagement.pk}-{total}"
        msps = Organisation.all_objects.bulk_create(
            Organisation(kind="msp", name=f"Bulk MSP {key}-{i}", slug=f"bulk-msp-{key}-{i}") for i in range(missing)
        )
        stages = Opportunity.Stage.values
        Opportunity.all_objects.bulk_create(
            Opportunity(
                engagement=engagement,
                vendor_id=engagement.vendor_id,
                msp=msp,
                stage=stages[i % len(stages)],
                lost_reason="Budget" if stages[i % len(stages)] == "lost" else "",
                source="vendor" if i % 3 == 0 else "tmw",
                expected_mrr=Decimal(500 + i),
            )
            for i, msp in enumerate(msps)
        )
        b_engagement = Engagement.all_objects.exclude(pk=engagement.pk).filter(status="active").first()
        Opportunity.all_objects.bulk_create(
            Opportunity(
                engagement=b_engagement,
                vendor_id=b_engagement.vendor_id,
                msp=msp,
                stage="meeting",
                source="tmw",
            )
            for msp in msps[:5]
            if not Opportunity.all_objects.filter(engagement=b_engagement, msp=msp).exists()
        )


def count_queries(client, url, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.mark.parametrize(
    ("page", "who"),
    [("board", "partner"), ("opportunities", "partner"), ("detail", "partner"), ("portal", "vendor")],
)
def test_pages_keep_a_constant_number_of_queries(world, client_for, django_assert_num_queries, page, who):
    engagement = world.a.objects[Engagement]
    user = world.partner if who == "partner" else world.a.vendor_admin
    client = client_for(user)
    url = page_urls(world)[page]
    grow_pipeline(engagement, 10)
    small, _ = count_queries(client, url)
    grow_pipeline(engagement, 500)
    with django_assert_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    if page == "board":
        assert response.content.decode().count('class="opp-card') == 500


def test_milestone_status_changes_with_htmx(world, client_for):
    from engagements.models import Milestone

    milestone = world.a.objects[Milestone]
    url = reverse("engagements:milestone_update", args=[milestone.pk])
    assert client_for(world.a.vendor_admin).post(url, {"status": "done"}).status_code == 403
    response = client_for(world.partner).post(url, {"status": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="plan"' in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.completed_on == datetime.date.today()
    other = client_for(world.partner).post(url, {"status": "nonsense"}, HTTP_HX_REQUEST="true")
    assert other.status_code == 400


def test_team_page_warns_about_over_allocation(world, client_for):
    from tests.factories import UserFactory
    from tmw.accounts.models import Role

    cam = UserFactory(organisation=world.operator, role=Role.PARTNER, full_name="Busy Person")
    client = client_for(world.partner)
    for side in (world.a, world.b):
        response = client.post(
            reverse("engagements:team_add", args=[side.objects[Engagement].pk]),
            {"side": "tmw", "user": cam.pk, "role": "channel_account_manager", "allocation_percent": 60},
            follow=True,
        )
        assert response.status_code == 200
    assert "allocated 120% across desks" in response.content.decode()
    bad = client.post(
        reverse("engagements:team_add", args=[world.a.objects[Engagement].pk]),
        {"side": "tmw", "user": cam.pk, "role": "advisor", "allocation_percent": 150},
    )
    assert bad.status_code == 400


def test_partner_backdates_a_signing_and_the_attribution_follows(world, client_for):
    engagement = world.a.objects[Engagement]
    with operator_scope():
        msp = Organisation.all_objects.create(kind="msp", name="Backdated MSP", slug="backdated-msp")
        opp = services.opportunity_create(engagement=engagement, msp=msp, source="tmw", actor=world.partner)
    url = reverse("engagements:opportunity_move", args=[opp.pk])
    client = client_for(world.partner)
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    client.post(url, {"stage": "signed", "on": future})
    opp.refresh_from_db()
    assert opp.stage == "target"
    signed = datetime.date.today() - datetime.timedelta(days=20)
    client.post(url, {"stage": "signed", "on": signed.isoformat()})
    assert Attribution.all_objects.get(engagement=engagement, msp=msp).starts_on == signed


def test_partner_edits_expected_mrr(world, client_for):
    opp = world.a.objects[Opportunity]
    url = reverse("engagements:opportunity_edit", args=[opp.pk])
    assert client_for(world.a.vendor_admin).post(url, {"expected_mrr": "1"}).status_code == 403
    response = client_for(world.partner).post(url, {"expected_mrr": "2750.25", "source_detail": "Roundtable"})
    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.expected_mrr == Decimal("2750.25") and opp.source_detail == "Roundtable"
    client_for(world.partner).post(url, {"expected_mrr": "-5"})
    opp.refresh_from_db()
    assert opp.expected_mrr == Decimal("2750.25")
