"""The isolation test: every URL and API route, attacked with another tenant's objects.

Routes come from the URL resolver (pages, htmx partials, the API router, the admin),
so a new URL is covered the moment it exists. A route whose arguments the test
cannot fill fails here: register a builder for the model in
``tests/<app>/tenant_objects.py`` (see ``tests/factories.py``).
"""

from __future__ import annotations

import pytest

from tests.factories import TENANT_BUILDERS, load_builders
from tests.tenancy.routes import MissingCase, Route, fill, iter_routes
from tmw.accounts.models import User
from tmw.accounts.tenancy import scope_for_user, tenant_models

DENIED = {403, 404, 405}
METHODS = ("get", "post", "put", "patch", "delete")
FILTER_PARAMS = ("organisation", "vendor", "msp", "tenant")


def visible_to(user, obj) -> bool:
    """Whether ``obj`` is in ``user``'s tenant scope."""
    with scope_for_user(user):
        if isinstance(obj, User):
            from tmw.accounts.models import Organisation

            return Organisation.objects.filter(pk=obj.organisation_id).exists()
        return type(obj)._default_manager.filter(pk=obj.pk).exists()


def request(client, method: str, route: Route, path: str):
    if method == "get":
        return client.get(path)
    if route.is_api:
        return getattr(client, method)(path, data="{}", content_type="application/json")
    return getattr(client, method)(path, data={} if method == "post" else "")


def attackers(world):
    return {
        "vendor admin A": world.a.vendor_admin,
        "vendor member A": world.a.vendor_member,
        "MSP member A": world.a.msp_member,
    }


ATTACKERS = ("vendor admin A", "vendor member A", "MSP member A")


def forbidden_markers(world, user) -> list[str]:
    markers = [world.b.marker, world.b.msp_marker]
    if user.is_msp_user:
        markers.append(world.a.marker)
    else:
        markers.append(world.a.msp_marker)
    return markers


def _foreign_key_targets() -> set:
    """Tenant-owned models that some other model points at (the ones a list could be filtered by)."""
    from django.apps import apps

    targets = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.many_to_one and field.concrete and field.related_model is not None:
                targets.add(field.related_model)
    return targets & {*tenant_models(), User}


def missing_builders(models) -> list[str]:
    """Tenant-owned models that the world cannot build."""
    load_builders()
    return [m._meta.label for m in models if m not in TENANT_BUILDERS]


def test_every_tenant_model_has_a_builder(db):
    missing = missing_builders([*tenant_models(), User])
    assert not missing, f"Register @tenant_object builders for: {', '.join(missing)}"


def test_world_objects_are_scoped_to_their_side(world):
    for model in [*tenant_models(), User]:
        a_obj, b_obj = world.a.objects[model], world.b.objects[model]
        assert visible_to(world.a.vendor_admin, a_obj) or visible_to(world.a.msp_member, a_obj), model
        assert not visible_to(world.a.vendor_admin, b_obj), f"vendor A sees vendor B's {model._meta.label}"
        assert not visible_to(world.a.msp_member, b_obj), f"MSP A sees side B's {model._meta.label}"
        assert visible_to(world.partner, b_obj), f"partners must see every {model._meta.label}"


def _object_routes() -> list[Route]:
    return [r for r in iter_routes() if r.is_object_route]


def test_there_are_object_routes_to_attack():
    assert _object_routes(), "no object routes found"


@pytest.mark.parametrize("route", _object_routes(), ids=lambda r: r.pattern)
def test_every_object_route_denies_other_tenants(route, world, client_for):
    """GET/POST/PUT/PATCH/DELETE on any object of another tenant answers 403, 404 or 405.

    One test per route (the world is shared, so this costs no rebuild), so parallel workers split the sweep.
    """
    failures = []
    checked = 0
    for label, user in attackers(world).items():
        client = client_for(user)
        # Side B's objects are all foreign to side A's users; side A's vendor objects are foreign to MSP A.
        for side in (world.b, world.a):
            path = fill(route, side.objects)
            if side is world.a and not _route_targets_invisible(route, side, user):
                continue
            for method in METHODS:
                response = request(client, method, route, path)
                checked += 1
                if response.status_code not in DENIED:
                    failures.append(f"{label} {method.upper()} {path} -> {response.status_code}")
    assert not failures, "Tenant data leaked or errored:\n" + "\n".join(failures)
    assert checked > 0


def _route_targets_invisible(route: Route, side, user) -> bool:
    from tests.tenancy.routes import OPAQUE_KWARGS, kwarg_model

    models = [kwarg_model(route, k) for k in route.kwarg_names if k not in OPAQUE_KWARGS]
    return any(m in side.objects and not visible_to(user, side.objects[m]) for m in models)


def _list_routes() -> list[Route]:
    return [r for r in iter_routes() if not r.is_object_route]


def test_there_are_list_routes_to_sweep():
    assert _list_routes(), "no list routes found"


@pytest.mark.parametrize("attacker", ATTACKERS)
@pytest.mark.parametrize("route", _list_routes(), ids=lambda r: r.pattern or "/")
def test_list_pages_and_filters_show_nothing_of_other_tenants(route, attacker, world, client_for):
    """Every page and list endpoint without object arguments, with and without another tenant's ids as filters.

    One test per route and attacker (the world is shared, so this costs no rebuild), so parallel workers
    split the sweep.
    """
    failures = []
    # Filters name the models other rows point at: one query parameter per such model.
    b_ids = {
        model._meta.model_name: obj.pk for model, obj in world.b.objects.items() if model in _foreign_key_targets()
    }
    b_ids.update({"organisation": world.b.vendor.pk, "vendor": world.b.vendor.pk, "msp": world.b.msp.pk})
    path = fill(route, {})
    queries = [""] + [f"?{name}={pk}" for name, pk in b_ids.items()]
    label, user = attacker, attackers(world)[attacker]
    client = client_for(user)
    markers = forbidden_markers(world, user)
    for query in queries:
        response = client.get(path + query, HTTP_ACCEPT="text/html,application/json")
        status = response.status_code
        if status >= 500:
            failures.append(f"{label} GET {path}{query} -> {status}")
            continue
        if 200 <= status < 300 and not response.streaming:
            body = response.content.decode(errors="replace")
            leaked = [m for m in markers if m in body]
            if leaked:
                failures.append(f"{label} GET {path}{query} shows {leaked}")
        elif query and status not in {400, 401, 403, 404, 405, 429, 302, 301}:
            failures.append(f"{label} GET {path}{query} -> {status}")
    assert not failures, "\n".join(failures)


def test_anonymous_visitors_reach_only_public_pages(world, client_for):
    client = client_for(None)
    failures = []
    for route in iter_routes():
        path = fill(route, world.a.objects)
        response = request(client, "get", route, path)
        status = response.status_code
        if status >= 500:
            failures.append(f"GET {path} -> {status}")
        elif route.is_public:
            continue
        elif route.is_api and status not in {401, 403, 404, 405, 429}:
            failures.append(f"API GET {path} -> {status} (expected 401/403)")
        elif not route.is_api and status in (301, 302):
            if "/login/" not in response["Location"] and not path.startswith("/admin/"):
                failures.append(f"GET {path} redirects to {response['Location']}, not to login")
        elif not route.is_api and status not in DENIED and status != 302:
            failures.append(f"GET {path} -> {status} for an anonymous visitor")
    assert not failures, "\n".join(failures)


def test_public_pages_render(world, client_for):
    client = client_for(None)
    for route in iter_routes():
        if route.is_public and not route.is_object_route:
            response = client.get(fill(route, {}))
            assert response.status_code < 500, route.pattern


# --- the test of the test: a route nobody taught it about fails it.


def _fake_view(request, **kwargs):
    return None


def test_a_route_without_a_case_fails_the_isolation_test(world):
    unknown_arg = Route(
        pattern="widgets/<int:widget_pk>/", name="widgets", callback=_fake_view, kwarg_names=["widget_pk"]
    )
    with pytest.raises(MissingCase, match="widget_pk"):
        fill(unknown_arg, world.b.objects)
    bare_pk = Route(pattern="things/<int:pk>/", name="things", callback=_fake_view, kwarg_names=["pk"])
    with pytest.raises(MissingCase, match="names no model"):
        fill(bare_pk, world.b.objects)


def test_a_model_without_a_builder_fails_the_isolation_test(db):
    from django.contrib.sessions.models import Session

    assert missing_builders([Session]) == ["sessions.Session"]
    assert missing_builders([User]) == []


def test_routes_are_discovered_from_the_resolver():
    patterns = {r.pattern for r in iter_routes()}
    assert "accounts/invitations/<int:invitation_pk>/revoke/" in patterns
    assert any(p.startswith("api/v1/") and "invitations" in p and "pk" in p for p in patterns)
    assert any(p.startswith("admin/") for p in patterns)
