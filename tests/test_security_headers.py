"""Every HTML page carries the Content-Security-Policy and the Permissions-Policy, and runs no inline script."""

from __future__ import annotations

import re

import pytest

from tests.tenancy.routes import fill, iter_routes

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*\stype=\"application/json\")[^>]*>", re.IGNORECASE)
API_DOCS = {"api-docs", "api-redoc"}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_strict_script_policy(response, path: str) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, path
    policy = directives(header)
    assert policy["script-src"] == ["'self'"], (path, header)
    assert "'unsafe-inline'" not in policy.get("script-src", []) and "'unsafe-eval'" not in header, path
    assert policy["default-src"] == ["'self'"], path
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], path
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"], path
    assert policy["img-src"] == ["'self'", "data:"], path
    assert response["Permissions-Policy"].startswith("accelerometer=(), autoplay=(), camera=()"), path
    return policy


def test_every_html_page_has_the_policies_and_no_inline_script(world, client_for):
    partner = client_for(world.partner)
    seen = 0
    for route in iter_routes():
        if route.is_api and route.name not in API_DOCS:
            continue
        path = fill(route, world.a.objects)
        response = partner.get(path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        seen += 1
        policy = assert_strict_script_policy(response, path)
        if route.name in API_DOCS:
            assert policy["style-src"] == ["'self'", "'unsafe-inline'"], path
            continue
        assert policy["style-src"] == ["'self'"], path
        if not path.startswith("/admin/"):
            body = response.content.decode()
            assert not INLINE_SCRIPT.search(body), (path, INLINE_SCRIPT.search(body).group(0))
    assert seen > 40


@pytest.mark.parametrize("path", ["/accounts/login/", "/book/", "/accounts/password/reset/"])
def test_public_pages_have_the_policies(path, world, client_for):
    response = client_for(None).get(path, follow=True)
    assert response.status_code == 200
    assert_strict_script_policy(response, path)


def test_the_api_docs_load_their_start_up_script_from_self(client_for, world):
    html = client_for(world.partner).get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(html)
    script = client_for(world.partner).get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_the_permissions_policy_turns_off_every_powerful_feature(client_for):
    header = client_for(None).get("/accounts/login/")["Permissions-Policy"]
    features = dict(part.split("=", 1) for part in header.split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "display-capture"):
        assert features[feature] == "()", feature
    assert set(features.values()) == {"()"}


def test_permissions_policy_header_format():
    from tmw.headers import permissions_policy_header

    assert permissions_policy_header({"camera": [], "fullscreen": ["self"]}) == "camera=(), fullscreen=(self)"
