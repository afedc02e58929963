"""Invitations: vendor admins invite colleagues, partners invite anyone, links work once and expire."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tmw.accounts import services
from tmw.accounts.models import Invitation, Role, User
from tmw.accounts.tenancy import operator_scope, scope_for_user
from tmw.errors import ApplicationError


def _link(message) -> str:
    return re.search(r"(/accounts/invitations/accept/[\w-]+/)", message.body).group(1)


def test_vendor_admin_invites_a_colleague_who_joins(world, client_for, django_capture_on_commit_callbacks):
    admin = world.a.vendor_admin
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:team"),
            {"email": "New.Person@alpha.example", "organisation": world.a.vendor.pk, "role": Role.VENDOR_MEMBER},
        )
    assert response.status_code == 200
    assert "Invitation sent to new.person@alpha.example" in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@alpha.example"]
    link = _link(mail.outbox[0])

    visitor = client_for(None)
    page = visitor.get(link)
    assert page.status_code == 200 and world.a.vendor.name in page.content.decode()
    joined = visitor.post(
        link,
        {
            "full_name": "New Person",
            "password": "a-long-new-passphrase",
            "password_again": "a-long-new-passphrase",
            "time_zone": "America/Chicago",
        },
    )
    assert joined.status_code == 302
    user = User.objects.get(email="new.person@alpha.example")
    assert (user.organisation, user.role, user.time_zone) == (world.a.vendor, Role.VENDOR_MEMBER, "America/Chicago")
    assert visitor.get("/portal/").status_code == 200
    # The link works once.
    assert client_for(None).get(link).status_code == 404


def test_vendor_admin_cannot_invite_elsewhere_or_as_operator(world):
    admin = world.a.vendor_admin
    with scope_for_user(admin):
        with pytest.raises(ApplicationError):
            services.invitation_create(
                actor=admin, organisation=world.b.vendor, email="x@b.example", role="vendor_member"
            )
        with pytest.raises(ApplicationError):
            services.invitation_create(actor=admin, organisation=world.a.vendor, email="x@a.example", role="partner")


def test_vendor_member_cannot_invite(world, client_for):
    client = client_for(world.a.vendor_member)
    response = client.post(
        reverse("accounts:team"), {"email": "x@a.example", "organisation": world.a.vendor.pk, "role": "vendor_member"}
    )
    assert response.status_code == 403
    assert mail.outbox == []


def test_partner_invites_anyone_with_a_role_that_fits(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.partner)
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            reverse("accounts:people"),
            {"email": "tech@msp.example", "organisation": world.b.msp.pk, "role": "msp_member"},
        )
    assert ok.status_code == 200 and len(mail.outbox) == 1
    wrong = client.post(
        reverse("accounts:people"), {"email": "cfo@msp.example", "organisation": world.b.msp.pk, "role": "finance"}
    )
    assert wrong.status_code == 400
    assert "not a role" in wrong.content.decode()


def test_duplicate_open_invitation_and_existing_user_are_refused(world):
    with operator_scope():
        services.invitation_create(
            actor=world.partner, organisation=world.a.vendor, email="d@a.example", role="vendor_member"
        )
        with pytest.raises(ApplicationError, match="open invitation"):
            services.invitation_create(
                actor=world.partner, organisation=world.a.vendor, email="D@a.example", role="vendor_member"
            )
        with pytest.raises(ApplicationError, match="already exists"):
            services.invitation_create(
                actor=world.partner,
                organisation=world.a.vendor,
                email=world.a.vendor_member.email,
                role="vendor_member",
            )


def test_expired_and_revoked_links_do_not_work(world, client_for):
    with operator_scope():
        expired, raw_expired = services.invitation_create(
            actor=world.partner, organisation=world.a.vendor, email="late@a.example", role="vendor_member"
        )
        Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        revoked, raw_revoked = services.invitation_create(
            actor=world.partner, organisation=world.a.vendor, email="gone@a.example", role="vendor_member"
        )
        services.invitation_revoke(invitation=revoked, actor=world.partner)
    for raw in (raw_expired, raw_revoked, "tampered-token"):
        response = client_for(None).post(
            reverse("accounts:invitation_accept", args=[raw]),
            {"full_name": "X", "password": "a-long-new-passphrase", "password_again": "a-long-new-passphrase"},
        )
        assert response.status_code == 404
    assert not User.objects.filter(email__in=["late@a.example", "gone@a.example"]).exists()


def test_weak_password_is_explained(world, client_for):
    with operator_scope():
        _, raw = services.invitation_create(
            actor=world.partner, organisation=world.a.vendor, email="weak@a.example", role="vendor_member"
        )
    response = client_for(None).post(
        reverse("accounts:invitation_accept", args=[raw]),
        {"full_name": "W", "password": "123", "password_again": "123", "time_zone": "America/New_York"},
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="weak@a.example").exists()


def test_vendor_admin_revokes_own_invitation_but_not_another_vendors(world, client_for):
    mine, theirs = world.a.objects[Invitation], world.b.objects[Invitation]
    client = client_for(world.a.vendor_admin)
    assert client.post(reverse("accounts:invitation_revoke", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("accounts:invitation_revoke", args=[mine.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("accounts:team")
    with operator_scope():
        assert Invitation.objects.get(pk=mine.pk).status == "revoked"
        assert Invitation.objects.get(pk=theirs.pk).status == "pending"


def test_invitations_api(world, client_for):
    client = client_for(world.a.vendor_admin)
    listed = client.get("/api/v1/invitations/").json()
    assert [i["email"] for i in listed["results"]] == [world.a.objects[Invitation].email]
    created = client.post(
        "/api/v1/invitations/",
        {"organisation": world.a.vendor.pk, "email": "api@a.example", "role": "vendor_member"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "pending"
    foreign = client.post(
        "/api/v1/invitations/",
        {"organisation": world.b.vendor.pk, "email": "api@b.example", "role": "vendor_member"},
        content_type="application/json",
    )
    assert foreign.status_code == 400
    assert set(foreign.json()) == {"message", "extra"} and "organisation" in foreign.json()["extra"]
    bad_role = client.post(
        "/api/v1/invitations/",
        {"organisation": world.a.vendor.pk, "email": "api2@a.example", "role": "partner"},
        content_type="application/json",
    )
    assert bad_role.status_code == 403 and bad_role.json()["message"]
    assert client_for(world.a.vendor_member).get("/api/v1/invitations/").status_code == 403
    revoked = client.delete(f"/api/v1/invitations/{created.json()['id']}/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"


def test_deactivating_users(world, client_for):
    client = client_for(world.a.vendor_admin)
    assert (
        client.post(reverse("accounts:user_set_active", args=[world.b.vendor_member.pk]), {"active": "0"}).status_code
        == 404
    )
    client.post(reverse("accounts:user_set_active", args=[world.a.vendor_member.pk]), {"active": "0"})
    world.a.vendor_member.refresh_from_db()
    assert world.a.vendor_member.is_active is False
    assert client_for(world.a.vendor_member).get("/portal/").status_code == 302
