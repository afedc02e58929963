"""Login by email, landing per role, logout, password reset and change, lockout on pages and the API."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

HOMES = {
    "partner": "/partner/",
    "finance": "/finance/",
    "admin": "/partner/",
    "vendor_admin": "/portal/",
    "vendor_member": "/portal/",
    "msp_member": "/msp/",
}


def _users(world):
    return [world.partner, world.finance, world.admin, world.a.vendor_admin, world.a.vendor_member, world.a.msp_member]


def test_each_role_logs_in_with_email_and_lands_home(world, client):
    for user in _users(world):
        client.logout()
        response = client.post(reverse("accounts:login"), {"username": user.email.upper(), "password": PASSWORD})
        assert response.status_code == 302, user.role
        home = client.get(response["Location"], follow=True)
        assert home.status_code == 200
        assert home.redirect_chain[-1][0] == HOMES[user.role]
        assert user.organisation.name in home.content.decode()


@pytest.mark.parametrize(
    ("role_attr", "allowed"),
    [
        ("partner", {"/partner/"}),
        ("finance", {"/finance/"}),
        ("vendor", {"/portal/"}),
        ("msp", {"/msp/"}),
    ],
)
def test_home_pages_by_role(world, client_for, role_attr, allowed):
    user = {
        "partner": world.partner,
        "finance": world.finance,
        "vendor": world.a.vendor_member,
        "msp": world.a.msp_member,
    }[role_attr]
    client = client_for(user)
    for path in ("/partner/", "/finance/", "/portal/", "/msp/"):
        status = client.get(path).status_code
        assert status == (200 if path in allowed else 403), (role_attr, path)
    anonymous = client_for(None).get("/portal/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_wrong_password_is_refused(world, client):
    response = client.post(reverse("accounts:login"), {"username": world.partner.email, "password": "nope"})
    assert response.status_code == 200
    assert "correct email and password" in response.content.decode().lower()


def test_logout_needs_post(world, client_for):
    client = client_for(world.partner)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get("/partner/").status_code == 302


def test_five_failures_lock_the_login_form(world, client):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": world.a.vendor_admin.email, "password": "wrong"})
    locked = client.post(reverse("accounts:login"), {"username": world.a.vendor_admin.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "locked" in locked.content.decode().lower()
    other = client.post(reverse("accounts:login"), {"username": world.partner.email, "password": PASSWORD})
    assert other.status_code == 302


def test_five_failures_lock_the_api_token_endpoint(world, client):
    url = reverse("api:token")
    for _ in range(4):
        bad = client.post(url, {"email": world.partner.email, "password": "wrong"}, content_type="application/json")
        assert bad.status_code == 400
        assert bad.json()["message"]
    fifth = client.post(url, {"email": world.partner.email, "password": "wrong"}, content_type="application/json")
    assert fifth.status_code == 429
    locked = client.post(url, {"email": world.partner.email, "password": PASSWORD}, content_type="application/json")
    assert locked.status_code == 429
    assert locked.json()["extra"] == {"locked": True}


def test_token_authenticates_the_api(world, client):
    token = client.post(
        reverse("api:token"),
        {"email": world.a.vendor_admin.email, "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    me = client.get(reverse("api:me"), HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["email"] == world.a.vendor_admin.email
    orgs = client.get("/api/v1/organisations/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert [o["name"] for o in orgs["results"]] == [world.a.vendor.name]
    assert client.get(reverse("api:me")).status_code in (401, 403)


def test_password_reset_by_email(world, client):
    response = client.post(reverse("accounts:password_reset"), {"email": world.a.vendor_member.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"})
    assert done.status_code == 302
    world.a.vendor_member.refresh_from_db()
    assert world.a.vendor_member.check_password("a-brand-new-passphrase")


def test_password_reset_for_unknown_email_reveals_nothing(db, client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change(world, client_for):
    client = client_for(world.a.vendor_member)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    world.a.vendor_member.refresh_from_db()
    assert world.a.vendor_member.check_password("another-long-passphrase")


def test_profile_sets_time_zone_used_for_display(world, client_for):
    client = client_for(world.a.vendor_member)
    response = client.post(reverse("accounts:profile"), {"full_name": "Ana Bell", "time_zone": "America/Vancouver"})
    assert response.status_code == 302
    world.a.vendor_member.refresh_from_db()
    assert world.a.vendor_member.time_zone == "America/Vancouver"
    from django.test import RequestFactory
    from django.utils import timezone

    from tmw.accounts.middleware import UserTimezoneMiddleware

    request = RequestFactory().get("/")
    request.user = world.a.vendor_member
    seen = UserTimezoneMiddleware(lambda r: timezone.get_current_timezone_name())(request)
    assert seen == "America/Vancouver"


def test_admin_is_for_operators_only(world, client_for):
    assert client_for(world.admin).get("/admin/").status_code == 200
    assert client_for(world.partner).get("/admin/").status_code == 200
    assert client_for(world.a.vendor_admin).get("/admin/").status_code == 404
    assert client_for(world.a.msp_member).get("/admin/accounts/user/").status_code == 404
    anonymous = client_for(None).get("/admin/")
    assert anonymous.status_code == 302
    login = client_for(None).get(anonymous["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/accounts/login/")


def test_partners_browse_admin_read_only_admins_edit(world, client_for):
    url = f"/admin/accounts/organisation/{world.a.vendor.pk}/change/"
    assert client_for(world.admin).post(url, {}).status_code == 200  # form redisplayed with errors: may edit
    assert client_for(world.partner).get(url).status_code == 200
    assert client_for(world.partner).post(url, {"name": "Renamed"}).status_code == 403
