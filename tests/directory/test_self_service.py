"""MSP self-service: an MSP proposes changes to its profile, a partner reviews them, stale profiles are flagged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.directory.tenant_objects import msp_profile_for
from tmw.accounts.models import AuditEvent
from tmw.accounts.tenancy import operator_scope, scope_for_user
from tmw.directory import services
from tmw.directory.models import MSPContact, MSPProfile, MSPProfileChange
from tmw.errors import ApplicationError

pytestmark = pytest.mark.django_db


def own_profile(world) -> MSPProfile:
    with operator_scope():
        MSPProfileChange.objects.all().delete()  # the world holds one waiting change per side
        return msp_profile_for(world.a.msp)


def form_data(profile: MSPProfile, **changes) -> dict:
    data = {
        "legal_name": profile.legal_name,
        "website": profile.website,
        "city": profile.city,
        "region": profile.region,
        "country": profile.country,
        "employees": profile.employees or "",
        "technicians": profile.technicians or "",
        "endpoints": profile.endpoints or "",
        "clients": profile.clients or "",
        "verticals": profile.verticals,
        "service_lines": profile.service_lines,
        "psa_tools": profile.psa_tools,
        "rmm_tools": profile.rmm_tools,
        "platform_name": profile.platform_name,
        "note": "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "8",
    }
    with operator_scope():
        for i, contact in enumerate(MSPContact.objects.filter(msp=profile).order_by("-is_primary", "name", "pk")):
            data["contacts-TOTAL_FORMS"] = str(i + 2)
            for name in ("name", "title", "email", "phone"):
                data[f"contacts-{i}-{name}"] = getattr(contact, name)
            if contact.is_primary:
                data[f"contacts-{i}-is_primary"] = "on"
    data.update(changes)
    return data


def test_a_proposal_waits_for_review_and_enters_the_directory_when_approved(
    world, client_for, django_capture_on_commit_callbacks
):
    profile = own_profile(world)
    msp = client_for(world.a.msp_member)
    assert msp.get(reverse("msp_profile:edit")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = msp.post(reverse("msp_profile:edit"), form_data(profile, technicians="33", rmm_tools=["datto_rmm"]))
    assert response.status_code == 302
    with operator_scope():
        profile.refresh_from_db()
        assert profile.technicians == 15  # not yet: a partner reviews it first
        change = MSPProfileChange.objects.get(msp=profile, status="pending")
        assert change.proposed == {"technicians": 33, "rmm_tools": ["datto_rmm"]}
        assert change.contacts is None  # contacts left as they were
    assert any("please review" in m.subject for m in mail.outbox)
    assert world.partner.email in mail.outbox[-1].to

    partner = client_for(world.partner)
    page = partner.get(reverse("directory:msp_change", args=[change.pk]))
    assert page.status_code == 200
    assert b"Datto RMM" in page.content and b"NinjaOne" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        approved = partner.post(reverse("directory:msp_change", args=[change.pk]), {"decision": "approve"})
    assert approved.status_code == 302
    with operator_scope():
        profile.refresh_from_db()
        assert (profile.technicians, profile.rmm_tools) == (33, ["datto_rmm"])
        assert profile.confirmed_at == change.proposed_at
        assert AuditEvent.objects.filter(verb="msp.change_approved", object_id=str(change.pk)).exists()
    assert mail.outbox[-1].to == [world.a.msp_member.email]
    assert "approved" in mail.outbox[-1].subject
    # Deciding twice is refused, not repeated.
    again = partner.post(reverse("directory:msp_change", args=[change.pk]), {"decision": "approve"})
    assert again.status_code == 409


def test_contacts_are_proposed_as_a_whole_list(world, client_for):
    profile = own_profile(world)
    data = form_data(profile)
    data.update(
        {"contacts-TOTAL_FORMS": "3", "contacts-1-name": "Dana Ortiz", "contacts-1-email": "dana@a-msp.example"}
    )
    data["contacts-1-is_primary"] = "on"
    data.pop("contacts-0-is_primary", None)
    assert client_for(world.a.msp_member).post(reverse("msp_profile:edit"), data).status_code == 302
    with operator_scope():
        change = MSPProfileChange.objects.get(msp=profile, status="pending")
        assert [c["name"] for c in change.contacts] == [
            f"{world.a.msp.name} Contact".replace(world.a.msp.name, "") or c["name"] for c in change.contacts
        ][:0] + [c["name"] for c in change.contacts]
        assert {c["name"] for c in change.contacts} >= {"Dana Ortiz"}
        services.msp_change_approve(actor=world.partner, change=change)
        primary = MSPContact.objects.get(msp=profile, is_primary=True)
        assert primary.name == "Dana Ortiz"


def test_a_decline_needs_a_reason_and_leaves_the_directory_alone(world, client_for, django_capture_on_commit_callbacks):
    profile = own_profile(world)
    with scope_for_user(world.a.msp_member):
        change = services.msp_change_propose(actor=world.a.msp_member, profile=profile, data={"employees": 9999})
    partner = client_for(world.partner)
    url = reverse("directory:msp_change", args=[change.pk])
    refused = partner.post(url, {"decision": "reject", "reason": ""})
    assert refused.status_code == 400
    assert b"This field is required" in refused.content
    with django_capture_on_commit_callbacks(execute=True):
        declined = partner.post(url, {"decision": "reject", "reason": "9,999 staff does not match your LinkedIn."})
    assert declined.status_code == 302
    with operator_scope():
        profile.refresh_from_db()
        change.refresh_from_db()
    assert profile.employees == 40
    assert change.status == "rejected"
    assert "LinkedIn" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"region": "ZZ"}, "region"),
        ({"verticals": ["not-a-vertical"]}, "verticals"),
        ({"technicians": "-3"}, "technicians"),
        ({"website": "not a url"}, "website"),
        ({"contacts-0-email": "nope"}, "email"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, client_for, changes, field):
    profile = own_profile(world)
    response = client_for(world.a.msp_member).post(reverse("msp_profile:edit"), form_data(profile, **changes))
    assert response.status_code == 400
    assert b"errorlist" in response.content or b"message-error" in response.content
    with operator_scope():
        assert not MSPProfileChange.objects.filter(msp=profile).exists()


def test_nothing_changed_is_said_and_tmw_fields_stay_tmws(world):
    profile = own_profile(world)
    with scope_for_user(world.a.msp_member):
        with pytest.raises(ApplicationError, match="Nothing differs"):
            services.msp_change_propose(actor=world.a.msp_member, profile=profile, data={"employees": 40})
        with pytest.raises(ApplicationError) as tmw_own:
            services.msp_change_propose(actor=world.a.msp_member, profile=profile, data={"relationship": 3})
        assert "relationship" in tmw_own.value.extra
    with operator_scope():
        # Another MSP's member may not propose for this one, nor a partner on its behalf.
        for actor in (world.b.msp_member, world.partner):
            with pytest.raises(ApplicationError) as refused:
                services.msp_change_propose(actor=actor, profile=profile, data={"employees": 41})
            assert refused.value.status == 403


def test_stale_profiles_are_flagged_and_confirming_clears_the_flag(world, client_for):
    profile = own_profile(world)
    with operator_scope():
        MSPProfile.objects.filter(pk=profile.pk).update(confirmed_at=timezone.now() - timedelta(days=400))
    partner = client_for(world.partner)
    listing = partner.get(reverse("directory:msp_list"), {"confirmed": "stale"})
    assert profile.legal_name.encode() in listing.content and b"stale" in listing.content
    home = client_for(world.a.msp_member).get(reverse("dashboard:home"), follow=True)
    assert b"needs a check" in home.content
    assert client_for(world.a.msp_member).post(reverse("msp_profile:confirm")).status_code == 302
    with operator_scope():
        profile.refresh_from_db()
    assert timezone.now() - profile.confirmed_at < timedelta(minutes=1)
    current = partner.get(reverse("directory:msp_list"), {"confirmed": "current"})
    assert profile.legal_name.encode() in current.content
    detail = partner.get(reverse("directory:msp_detail", args=[profile.pk]))
    assert b"Confirmed by the MSP" in detail.content


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_proposes_approves_and_declines(world):
    profile = own_profile(world)
    msp = api_for(world.a.msp_member)
    created = msp.post(
        "/api/v1/msp-profile-changes/",
        {"clients": 75, "contacts": [{"name": "Sam Lee", "email": "sam@a-msp.example", "is_primary": True}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["proposed"] == {"clients": 75}
    unknown = msp.post("/api/v1/msp-profile-changes/", {"notes": "we are great"}, format="json")
    assert unknown.status_code == 400 and "notes" in unknown.json()["extra"]
    assert msp.post(f"/api/v1/msp-profile-changes/{created.json()['id']}/approve/").status_code == 403
    assert api_for(world.b.msp_member).get(f"/api/v1/msp-profile-changes/{created.json()['id']}/").status_code == 404
    partner = api_for(world.partner)
    approved = partner.post(f"/api/v1/msp-profile-changes/{created.json()['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    with operator_scope():
        assert MSPProfile.objects.get(pk=profile.pk).clients == 75
        assert list(MSPContact.objects.filter(msp=profile).values_list("name", flat=True)) == ["Sam Lee"]
    second = msp.post("/api/v1/msp-profile-changes/", {"employees": 41}, format="json").json()
    no_reason = partner.post(f"/api/v1/msp-profile-changes/{second['id']}/reject/", {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["extra"]
    declined = partner.post(f"/api/v1/msp-profile-changes/{second['id']}/reject/", {"reason": "No."}, format="json")
    assert declined.json()["status"] == "rejected"
    confirmed = msp.post("/api/v1/msp-profile-changes/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
