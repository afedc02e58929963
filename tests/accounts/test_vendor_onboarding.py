"""Onboarding a vendor directly: the service, the New vendor page and the API refuse the same things."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tmw.accounts import services
from tmw.accounts.models import BillingContact, Invitation, Organisation, Role
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError


def form_data(**changes) -> dict:
    return {
        "name": "Brightwater Telemetry LLC",
        "website": "https://brightwater.example",
        "category": "Network monitoring",
        "city": "Austin",
        "region": "tx",
        "country": "US",
        "billing_contacts": "Accounts payable, ap@brightwater.example\nbilling@brightwater.example",
        "admin_email": "cto@brightwater.example",
        **changes,
    }


def test_a_partner_onboards_a_vendor_on_the_page(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.partner)
    assert client.get("/accounts/vendors/new/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/vendors/new/", form_data())
    assert response.status_code == 302
    with operator_scope():
        vendor = Organisation.objects.get(name="Brightwater Telemetry LLC")
        assert (vendor.kind, vendor.region, vendor.city) == (Organisation.Kind.VENDOR, "TX", "Austin")
        assert sorted(BillingContact.objects.filter(organisation=vendor).values_list("name", "email")) == [
            ("", "billing@brightwater.example"),
            ("Accounts payable", "ap@brightwater.example"),
        ]
        invitation = Invitation.objects.get(organisation=vendor)
        assert (invitation.email, invitation.role) == ("cto@brightwater.example", Role.VENDOR_ADMIN)
    assert response["Location"].endswith(f"/diagnostics/new/?vendor={vendor.pk}")
    assert [m.to for m in mail.outbox] == [["cto@brightwater.example"]]
    assert client.get(response["Location"]).status_code == 200


def test_a_duplicate_legal_name_is_refused_naming_the_field_and_nothing_is_written(world, client_for):
    client = client_for(world.partner)
    response = client.post("/accounts/vendors/new/", form_data(name=world.a.vendor.name.upper()))
    assert response.status_code == 400
    assert "legal name" in response.content.decode()
    with operator_scope():
        assert not Invitation.objects.filter(email="cto@brightwater.example").exists()
    api = APIClient()
    api.force_authenticate(world.partner)
    answer = api.post("/api/v1/vendors/", {"name": world.b.vendor.name, "country": "US"}, format="json")
    assert answer.status_code == 400 and list(answer.json()["extra"]) == ["name"]


def test_a_bad_billing_contact_refuses_the_whole_vendor(world):
    with operator_scope(), pytest.raises(ApplicationError) as refused:
        services.vendor_create(
            actor=world.partner, name="Halfway Inc.", country="US", billing_contacts=[("AP", "not-an-email")]
        )
    assert "billing_contacts" in refused.value.extra
    with operator_scope():
        assert not Organisation.objects.filter(name="Halfway Inc.").exists()


@pytest.mark.parametrize("role", ["finance", "vendor_admin", "msp_member"])
def test_only_partners_onboard_vendors(world, role):
    user = {"finance": world.finance, "vendor_admin": world.a.vendor_admin, "msp_member": world.a.msp_member}[role]
    api = APIClient()
    api.force_authenticate(user)
    assert api.post("/api/v1/vendors/", {"name": "Sneaky Co", "country": "US"}, format="json").status_code == 403
    with operator_scope(), pytest.raises(ApplicationError) as refused:
        services.vendor_create(actor=user, name="Sneaky Co", country="US")
    assert refused.value.status == 403


def test_unknown_fields_are_refused_by_name(world):
    api = APIClient()
    api.force_authenticate(world.partner)
    answer = api.post("/api/v1/vendors/", {"name": "Typo Co", "country": "US", "cuntry": "CA"}, format="json")
    assert answer.status_code == 400 and answer.json()["extra"] == {"cuntry": ["Unknown field."]}


def test_a_partner_changes_a_vendor_and_its_billing_contacts(world):
    api = APIClient()
    api.force_authenticate(world.partner)
    answer = api.patch(
        f"/api/v1/vendors/{world.a.vendor.pk}/",
        {"city": "Ottawa", "region": "on", "country": "CA", "billing_contacts": [{"email": "ap@a.example"}]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["city"], body["region"], body["country"]) == ("Ottawa", "ON", "CA")
    assert body["billing_contacts"] == [{"name": "", "email": "ap@a.example"}]
    taken = api.patch(f"/api/v1/vendors/{world.a.vendor.pk}/", {"name": world.b.vendor.name}, format="json")
    assert taken.status_code == 400 and "name" in taken.json()["extra"]


def test_a_vendor_user_reads_only_its_own_vendor(world):
    api = APIClient()
    api.force_authenticate(world.a.vendor_admin)
    names = [row["name"] for row in api.get("/api/v1/vendors/").json()["results"]]
    assert names == [world.a.vendor.name]
    assert api.get(f"/api/v1/vendors/{world.b.vendor.pk}/").status_code == 404


def test_an_idempotency_key_replays_the_first_answer_once(world):
    api = APIClient()
    api.force_authenticate(world.partner)
    body = {"name": "Once Only Ltd", "country": "CA", "region": "QC"}
    first = api.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    with operator_scope():
        assert Organisation.objects.filter(name="Once Only Ltd").count() == 1
    other = api.post("/api/v1/vendors/", {**body, "name": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409 and list(other.json()["extra"]) == ["Idempotency-Key"]
    too_long = api.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["extra"]
    # Another user's same key is theirs: it does not replay the partner's answer.
    api.force_authenticate(world.admin)
    theirs = api.post("/api/v1/vendors/", {**body, "name": "Admin's Own"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert theirs.status_code == 201 and theirs.json()["name"] == "Admin's Own"
