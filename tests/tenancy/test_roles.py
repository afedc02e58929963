"""The role matrix: every URL pattern and API route, requested by every role.

Each view declares the policy action it serves, once, next to itself (``@allow(...)``,
``access = ...``; see ``tmw.accounts.permissions``). For every route, role and method this
test works out from the declaration and ``tmw.accounts.policy.RULES`` whether the role may
pass the door, and checks the answer:

- a role the policy lists passes the door (it may still get a 400 for an empty form, a 404
  for an object of another tenant, a 405 or a refusal by the object's own rule), never a 5xx;
- a role the policy does not list is turned away at the door: a 403 (the admin: a 404);
- an anonymous visitor is sent to the login page (the API: 401 or 403).

A route without a declaration fails the test, as a route without a builder fails the
isolation test; the test of the test at the end shows both.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.tenancy.routes import Route, fill, iter_routes
from tmw.accounts import policy
from tmw.accounts.permissions import action_for, declared_access
from tmw.admin_site import ADMIN_ACCESS  # the admin site guards every one of its routes with one action

# The eight kinds of visitor. "other vendor admin" is vendor B's admin, whose role is allowed
# on vendor pages but whose requests for vendor A's objects must find nothing.
ROLE_USERS = {
    "anonymous": lambda w: None,
    "partner": lambda w: w.partner,
    "finance": lambda w: w.finance,
    "admin": lambda w: w.admin,
    "vendor admin": lambda w: w.a.vendor_admin,
    "vendor member": lambda w: w.a.vendor_member,
    "other vendor admin": lambda w: w.b.vendor_admin,
    "MSP member": lambda w: w.a.msp_member,
}
ANONYMOUS_API = {401, 403}


class MissingDeclaration(Exception):
    """A route whose view declares no policy action."""


def methods_of(route: Route) -> list[str]:
    """The methods worth sending: a DRF view's own mapping, else GET and POST."""
    actions = getattr(route.callback, "actions", None)
    if actions:
        return [m.upper() for m in actions]
    return ["GET", "POST"]


def declared_action(route: Route, method: str) -> str | None:
    """The action the route's view declares for ``method``; raises MissingDeclaration when it declares nothing."""
    access = ADMIN_ACCESS if route.pattern.startswith("admin/") else declared_access(route.callback)
    if access is None:
        raise MissingDeclaration(
            f"Route {route.pattern!r} ({route.name}) declares no policy action: decorate the view with "
            "@allow(...) or set access = ... (or mark it @public)."
        )
    view_action = (getattr(route.callback, "actions", None) or {}).get(method.lower())
    return action_for(access, method, view_action)


def send(client, route: Route, method: str, path: str):
    if method == "GET":
        return client.get(path, HTTP_ACCEPT="text/html,application/json")
    if route.is_api:
        return client.generic(method, path, data="{}", content_type="application/json")
    return client.generic(method, path, data="", content_type="application/x-www-form-urlencoded")


def refused_at_door(response) -> bool:
    return getattr(response.wsgi_request, "refused_by_policy", None) is not None


def check(route: Route, method: str, role: str, user, response, *, foreign_object: bool) -> str | None:
    """What is wrong with one answer, or None."""
    status = response.status_code
    where = f"{role} {method} {response.wsgi_request.get_full_path()} -> {status}"
    if status >= 500:
        return where
    if user is None:
        if route.is_api:
            return None if status in ANONYMOUS_API else f"{where} (expected 401/403)"
        location = response.get("Location", "") if status in (301, 302) else ""
        return None if "/login/" in location else f"{where} (expected a redirect to the login page)"
    action = declared_action(route, method)
    allowed = action is not None and policy.can(user, action)
    refused = refused_at_door(response)
    if allowed and refused:
        return f"{where}: the policy lets {role} {action}, the door refused"
    if allowed and foreign_object and status not in (403, 404, 405):
        return f"{where}: another tenant's object answered"
    if not allowed and not refused:
        return f"{where}: {role} may not {action or '(no action for this method)'}, the door let it through"
    if not allowed and status != (404 if route.pattern.startswith("admin/") else 403):
        return f"{where}: refused, but not with a 403"
    return None


def sweep(route: Route, world, client_for, roles=tuple(ROLE_USERS)) -> list[str]:
    failures = []
    for role in roles:
        user = ROLE_USERS[role](world)
        client = client_for(user)
        foreign = role == "other vendor admin" and route.is_object_route
        path = fill(route, world.a.objects)
        for method in methods_of(route):
            if user is None and method != "GET":
                continue
            response = send(client, route, method, path)
            problem = check(route, method, role, user, response, foreign_object=foreign)
            if problem:
                failures.append(problem)
    return failures


def _matrix_routes() -> list[Route]:
    routes = []
    for route in iter_routes():
        if route.is_public:
            continue
        if route.pattern.startswith("admin/") and not _is_admin_sample(route):
            continue
        routes.append(route)
    return routes


def _is_admin_sample(route: Route) -> bool:
    """The admin's index, app pages and every model's list: the site's one guard covers all its routes alike."""
    name = route.name.removeprefix("admin:")
    return name in ("index", "app_list") or name.endswith("_changelist")


def test_every_route_declares_its_policy():
    missing = []
    for route in iter_routes():
        if route.is_public:
            continue
        for method in methods_of(route):
            try:
                action = declared_action(route, method)
            except MissingDeclaration as exc:
                missing.append(str(exc))
                break
            if action is not None:
                policy.roles_for(action)
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("route", _matrix_routes(), ids=lambda r: r.pattern or "/")
def test_role_matrix(route, world, client_for):
    """Each role gets what the route's declaration and the policy say, and never a 5xx."""
    failures = sweep(route, world, client_for)
    assert not failures, "\n".join(failures)


# --- the test of the test ------------------------------------------------------------------------


def test_a_route_without_a_declaration_fails_the_matrix():
    def undeclared(request):
        return None

    route = Route(pattern="widgets/", name="widgets", callback=undeclared, kwarg_names=[])
    with pytest.raises(MissingDeclaration, match="widgets"):
        declared_action(route, "GET")


@override_settings(ROOT_URLCONF="tests.tenancy.leaky_urls")
def test_a_door_that_does_not_enforce_its_declaration_fails_the_matrix(world, client_for):
    from tests.tenancy import leaky_urls

    routes = {r.name: r for r in iter_routes(leaky_urls) if not r.name.startswith("accounts:")}
    leaky = sweep(routes["leaky"], world, client_for, roles=("vendor member", "finance"))
    assert any("vendor member GET" in f and "let it through" in f for f in leaky), leaky
    assert any("finance GET" in f and "let it through" in f for f in leaky), leaky
    enforced = sweep(routes["enforced"], world, client_for)
    assert enforced == [], enforced
