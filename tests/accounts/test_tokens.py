"""Lockout per email and address, the client address behind a proxy, and API tokens that die with the password."""

import re

from django.core import mail
from django.test import RequestFactory, override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from tests.factories import PASSWORD
from tmw.accounts import policy, services
from tmw.accounts.auth import client_ip
from tmw.accounts.tenancy import operator_scope

TOKEN_URL = "/api/v1/auth/token/"


def _fail_logins(client, email: str, times: int = 5, **extra) -> None:
    for _ in range(times):
        client.post(reverse("accounts:login"), {"username": email, "password": "wrong"}, **extra)


def _me(client, token: str, address: str = "127.0.0.1"):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=address)


def test_a_lockout_at_one_address_does_not_lock_the_user_out_elsewhere(world, client):
    email = world.a.vendor_admin.email
    _fail_logins(client, email, REMOTE_ADDR="10.0.0.9")
    there = client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert there.status_code == 429
    here = client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert here.status_code == 302


def test_x_forwarded_for_is_ignored_unless_behind_a_proxy(world, client):
    """Without BEHIND_PROXY a client cannot dodge the lockout (or frame another address) by writing the header."""
    email = world.partner.email
    for n in range(5):
        client.post(
            reverse("accounts:login"),
            {"username": email, "password": "wrong"},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    locked = client.post(
        reverse("accounts:login"),
        {"username": email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert locked.status_code == 429
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert client_ip(request) == "10.0.0.5"


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=1)
def test_behind_a_proxy_the_address_it_saw_counts():
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.4")
    assert client_ip(request) == "203.0.113.4"  # not the entry the client wrote itself
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.1.1.1")) == "10.1.1.1"
    with override_settings(PROXY_COUNT=2):
        assert client_ip(request) == "6.6.6.6"


def test_throttling_reads_the_same_address_as_the_lockout():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert api_settings.NUM_PROXIES == 0
    assert AnonRateThrottle().get_ident(Request(request)) == client_ip(request) == "10.0.0.5"


def test_a_password_reset_lifts_the_lock(world, client):
    user = world.a.vendor_member
    _fail_logins(client, user.email)
    assert client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD}).status_code == 429
    client.post(reverse("accounts:password_reset"), {"email": user.email})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"})
    assert done.status_code == 302
    login = client.post(reverse("accounts:login"), {"username": user.email, "password": "a-brand-new-passphrase"})
    assert login.status_code == 302


def test_tokens_of_switched_off_or_locked_out_users_are_refused(world, client):
    user = world.a.vendor_admin
    token = Token.objects.create(user=user).key
    assert _me(client, token).status_code == 200
    for _ in range(5):
        client.post(TOKEN_URL, {"email": user.email, "password": "wrong"}, content_type="application/json")
    locked = _me(client, token)
    assert locked.status_code == 401 and "locked" in locked.json()["message"]
    assert _me(client, token, address="10.0.0.2").status_code == 200  # the lock is on this address only
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert _me(client, token, address="10.0.0.2").status_code == 401


def test_changing_the_password_revokes_the_token(world, client_for):
    user = world.a.vendor_member
    Token.objects.create(user=user)
    response = client_for(user).post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert not Token.objects.filter(user=user).exists()
    Token.objects.create(user=user)
    services.user_set_password(user=user, password="yet-another-passphrase", actor=user)
    assert not Token.objects.filter(user=user).exists()
    user.last_login = None
    Token.objects.create(user=user)
    user.save(update_fields=["last_login"])  # saving anything else keeps it
    assert Token.objects.filter(user=user).exists()


def test_switching_a_user_off_revokes_their_token(world):
    Token.objects.create(user=world.a.vendor_member)
    with operator_scope():
        services.user_set_active(user=world.a.vendor_member, active=False, actor=world.a.vendor_admin)
    assert not Token.objects.filter(user=world.a.vendor_member).exists()


def test_the_profile_page_creates_lists_and_revokes_the_token(world, client_for):
    user = world.a.msp_member
    client = client_for(user)
    assert "You have no API token" in client.get(reverse("accounts:profile")).content.decode()
    created = client.post(reverse("accounts:api_token_create"))
    token = Token.objects.get(user=user)
    assert created.status_code == 200 and token.key in created.content.decode()
    listed = client.get(reverse("accounts:profile")).content.decode()
    assert token.key not in listed and f"{token.key[:4]}…{token.key[-4:]}" in listed
    assert _me(client_for(None), token.key).status_code == 200
    replaced = client.post(reverse("accounts:api_token_create"))
    assert replaced.status_code == 200 and Token.objects.filter(user=user).count() == 1
    assert _me(client_for(None), token.key).status_code == 401  # the old key died with the new one
    revoked = client.post(reverse("accounts:api_token_revoke"))
    assert revoked.status_code == 302 and not Token.objects.filter(user=user).exists()
    assert client.get(reverse("accounts:api_token_revoke")).status_code == 405


def test_only_users_hold_tokens(db):
    import pytest

    from tmw.errors import ApplicationError

    with pytest.raises(ApplicationError):
        services.api_token_create(actor=policy.SYSTEM)
