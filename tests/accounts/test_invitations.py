"""Invitations: vendor admins invite colleagues, partners invite anyone, links work once and expire."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tmw.accounts import policy, services
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
        reverse("accounts:people"), {"email": "cfo@msp.example", "organisation": world.b.msp.pk, "role": "vendor_admin"}
    )
    assert wrong.status_code == 400
    assert "not a role" in wrong.content.decode()


def test_duplicate_open_invitation_is_refused(world):
    with operator_scope():
        services.invitation_create(
            actor=world.partner, organisation=world.a.vendor, email="d@a.example", role="vendor_member"
        )
        with pytest.raises(ApplicationError, match="open invitation"):
            services.invitation_create(
                actor=world.partner, organisation=world.a.vendor, email="D@a.example", role="vendor_member"
            )


def test_inviting_an_existing_account_answers_as_any_invitation(world, client_for, django_capture_on_commit_callbacks):
    """The answer does not tell whether an address has an account; the email and the link do, to its owner."""
    client = client_for(world.partner)
    answers = []
    for email in (world.a.vendor_member.email, "new.face@a.example"):
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post(
                reverse("accounts:people"), {"email": email, "organisation": world.a.vendor.pk, "role": "vendor_member"}
            )
        answers.append((page.status_code, f"Invitation sent to {email}" in page.content.decode()))
    assert answers == [(200, True), (200, True)]
    api = [
        client.post(
            "/api/v1/invitations/",
            {"organisation": world.b.vendor.pk, "email": email, "role": "vendor_member"},
            content_type="application/json",
        )
        for email in (world.b.vendor_admin.email, "fresh@b.example")
    ]
    assert [r.status_code for r in api] == [201, 201]
    assert [sorted(r.json()) for r in api][0] == sorted(api[1].json())
    assert api[0].json()["status"] == api[1].json()["status"] == "pending"

    existing = next(m for m in mail.outbox if m.to == [world.a.vendor_member.email])
    assert "already have an account" in existing.body and "/accounts/login/" in existing.body
    fresh = next(m for m in mail.outbox if m.to == ["new.face@a.example"])
    assert "Create your account" in fresh.body

    assert "/accounts/invitations/accept/" not in existing.body  # nothing to accept: the address logs in
    with operator_scope():
        _, raw = services.invitation_create(
            actor=world.partner, organisation=world.b.vendor, email=world.a.vendor_member.email, role="vendor_member"
        )
    link = reverse("accounts:invitation_accept", args=[raw])
    visitor = client_for(None)
    page = visitor.get(link)
    assert page.status_code == 409 and "already has an account" in page.content.decode()
    posted = visitor.post(
        link, {"full_name": "X", "password": "a-long-new-passphrase", "password_again": "a-long-new-passphrase"}
    )
    assert posted.status_code == 409
    world.a.vendor_member.refresh_from_db()
    assert world.a.vendor_member.check_password("a-long-new-passphrase") is False


def test_accepting_for_an_existing_email_is_refused_by_the_service(world):
    with operator_scope():
        _, raw = services.invitation_create(
            actor=world.partner, organisation=world.b.vendor, email=world.a.vendor_member.email, role="vendor_member"
        )
    with pytest.raises(ApplicationError, match="already has an account") as refused:
        services.invitation_accept(token=raw, full_name="X", password="a-long-new-passphrase", actor=policy.VISITOR)
    assert refused.value.status == 409
    with pytest.raises(ApplicationError) as no_user:
        services.invitation_accept(token=raw, full_name="X", password="a-long-new-passphrase", actor=world.partner)
    assert no_user.value.status == 403


def test_only_admins_grant_admin_or_finance(world, client_for):
    tmw = world.partner.organisation
    partner = client_for(world.partner)
    for role in ("admin", "finance"):
        refused = partner.post(
            "/api/v1/invitations/",
            {"organisation": tmw.pk, "email": f"new-{role}@tmw.example", "role": role},
            content_type="application/json",
        )
        assert refused.status_code == 403, role
        assert "may not" in refused.json()["message"] and refused.json()["extra"]["role"]
    page = partner.get(reverse("accounts:people"))
    offered = {value for value, _ in page.context["form"].fields["role"].choices}
    assert offered == {"partner", "vendor_admin", "vendor_member", "msp_member"}
    posted = partner.post(
        reverse("accounts:people"), {"email": "x@tmw.example", "organisation": tmw.pk, "role": "admin"}
    )
    assert posted.status_code == 400
    with operator_scope():
        assert not Invitation.objects.filter(email__in=["x@tmw.example", "new-admin@tmw.example"]).exists()

    admin = client_for(world.admin)
    made = admin.post(
        "/api/v1/invitations/",
        {"organisation": tmw.pk, "email": "cfo@tmw.example", "role": "finance"},
        content_type="application/json",
    )
    assert made.status_code == 201
    admin_offers = {v for v, _ in admin.get(reverse("accounts:people")).context["form"].fields["role"].choices}
    assert {"admin", "finance"} <= admin_offers
    vendor_offers = {
        v
        for v, _ in client_for(world.a.vendor_admin)
        .get(reverse("accounts:team"))
        .context["form"]
        .fields["role"]
        .choices
    }
    assert vendor_offers == {"vendor_admin", "vendor_member"}


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


def test_a_partner_cannot_switch_off_an_admin_or_finance(world, client_for):
    partner = client_for(world.partner)
    for target in (world.admin, world.finance):
        partner.post(reverse("accounts:user_set_active", args=[target.pk]), {"active": "0"})
        target.refresh_from_db()
        assert target.is_active is True
        with operator_scope(), pytest.raises(ApplicationError) as refused:
            services.user_set_active(user=target, active=False, actor=world.partner)
        assert refused.value.status == 403
    rows = {p.pk: p.can_manage for p in partner.get(reverse("accounts:people")).context["users"]}
    assert rows[world.admin.pk] is False and rows[world.finance.pk] is False and rows[world.partner.pk] is False
    assert rows[world.a.vendor_member.pk] is True
    admin_rows = {p.pk: p.can_manage for p in client_for(world.admin).get(reverse("accounts:people")).context["users"]}
    assert admin_rows[world.finance.pk] is True and admin_rows[world.partner.pk] is True
    with operator_scope():
        services.user_set_active(user=world.finance, active=False, actor=world.admin)
    world.finance.refresh_from_db()
    assert world.finance.is_active is False


def test_the_team_page_offers_switching_off_only_to_vendor_admins(world, client_for):
    admin_page = client_for(world.a.vendor_admin).get(reverse("accounts:team"))
    rows = {p.pk: p.can_manage for p in admin_page.context["users"]}
    assert rows[world.a.vendor_member.pk] is True and rows[world.a.vendor_admin.pk] is False
    member_page = client_for(world.a.vendor_member).get(reverse("accounts:team"))
    assert not any(p.can_manage for p in member_page.context["users"])
    assert "Deactivate" not in member_page.content.decode()
    assert "Send invitation" not in member_page.content.decode()
