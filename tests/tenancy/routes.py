"""Enumerate every URL pattern and API route, and fill each one's arguments from the tenant world.

A route's keyword arguments are resolved, in order:
1. ``<model>_pk`` / ``<model>_id``: an object of that model (any installed model);
2. ``pk`` / ``id`` / ``object_id``: an object of the view's model (DRF ``queryset``,
   a class-based view's ``model``/``queryset``, the admin's ``model_admin``);
3. a value from ``OPAQUE_KWARGS`` for arguments that name no object (tokens, slugs of
   public links, admin app labels).
Anything else is a route without a case, and the isolation test fails on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# Arguments that name no tenant object: the value is a harmless stand-in.
OPAQUE_KWARGS = {
    "token": "not-a-real-token",
    "uidb64": "MQ",
    "app_label": "accounts",
    "url": "accounts/organisation/",
    "content_type_id": "generic",  # filled with the content type of the object_id's model
}
GENERIC_TARGET = "accounts.Organisation"  # what generic (content type, object id) routes point at
SKIP_KWARGS = {"format"}  # DRF's format-suffix twins of routes already covered
OBJECT_KWARGS = {"pk", "id", "object_id"}


@dataclass
class Route:
    """One URL pattern with everything needed to request it."""

    pattern: str  # e.g. "accounts/invitations/<int:invitation_pk>/revoke/"
    name: str
    callback: object
    kwarg_names: list[str]

    @property
    def is_object_route(self) -> bool:
        return bool(self.kwarg_names) and any(k not in OPAQUE_KWARGS for k in self.kwarg_names)

    @property
    def is_public(self) -> bool:
        return bool(getattr(self.callback, "public", False))

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)


def _pattern_string(p) -> str:
    if isinstance(p, RoutePattern):
        return str(p._route)
    if isinstance(p, RegexPattern):
        return p._regex
    return str(p)


def _kwarg_names(pattern: str) -> list[str]:
    route = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
    regex = re.findall(r"\(\?P<(\w+)>", pattern)
    return route + regex


def iter_routes(urlconf=None) -> list[Route]:
    """Every leaf URL pattern, with its full pattern string and name."""
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, prefix + _pattern_string(p.pattern), ns)
            elif isinstance(p, URLPattern):
                full = prefix + _pattern_string(p.pattern)
                name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
                names = _kwarg_names(full)
                if SKIP_KWARGS & set(names):
                    continue
                routes.append(Route(pattern=full, name=name, callback=p.callback, kwarg_names=names))

    walk(get_resolver(urlconf).url_patterns, "", "")
    return routes


def view_model(route: Route):
    """The model a route's view works on, or None."""
    cls = route.view_class
    if cls is not None:
        queryset = getattr(cls, "queryset", None)
        if queryset is not None:
            return queryset.model
        model = getattr(cls, "model", None)
        if model is not None:
            return model
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is not None:
        return model_admin.model
    return getattr(route.callback, "model", None)


def _model_named(name: str):
    for model in apps.get_models():
        if model._meta.model_name == name.replace("_", ""):
            return model
    return None


class MissingCase(Exception):
    """A route has an argument the isolation test does not know how to fill."""


def kwarg_model(route: Route, kwarg: str):
    """The model an object argument points at; raises MissingCase when unknown."""
    if kwarg in OBJECT_KWARGS:
        if "content_type_id" in route.kwarg_names:
            return apps.get_model(GENERIC_TARGET)
        model = view_model(route)
        if model is None:
            raise MissingCase(
                f"Route {route.pattern!r} ({route.name}) takes {kwarg!r} but its view names no model: "
                "give the view a model/queryset, or name the argument <model>_pk."
            )
        return model
    match = re.fullmatch(r"(\w+?)_(?:pk|id)", kwarg)
    if match:
        model = _model_named(match.group(1))
        if model is not None:
            return model
    raise MissingCase(
        f"Route {route.pattern!r} ({route.name}) takes {kwarg!r}, which names no model and no opaque "
        "argument: name it <model>_pk, or add it to OPAQUE_KWARGS if it names no tenant object."
    )


def _is_tenant_owned(model) -> bool:
    from tmw.accounts.models import User
    from tmw.accounts.tenancy import tenant_models

    return model is User or model in tenant_models()


def fill(route: Route, objects: dict) -> str:
    """The concrete path of a route, its object arguments taken from ``objects`` (model -> instance)."""
    values = {}
    for kwarg in route.kwarg_names:
        if kwarg in OPAQUE_KWARGS:
            values[kwarg] = OPAQUE_KWARGS[kwarg]
            continue
        model = kwarg_model(route, kwarg)
        obj = objects.get(model)
        if obj is None and not _is_tenant_owned(model):
            # Operator-only data (auth groups, API tokens, lockout records): any row will do.
            values[kwarg] = getattr(model._base_manager.order_by("pk").first(), "pk", 1)
            continue
        if obj is None:
            raise MissingCase(
                f"Route {route.pattern!r} needs a {model._meta.label} object: register a builder with "
                "@tenant_object in tests/<app>/tenant_objects.py."
            )
        values[kwarg] = obj.pk
    if "content_type_id" in values:
        from django.contrib.contenttypes.models import ContentType

        values["content_type_id"] = ContentType.objects.get_for_model(apps.get_model(GENERIC_TARGET)).pk
    return "/" + _substitute(route.pattern, values)


def _substitute(pattern: str, values: dict) -> str:
    # Regex patterns (DRF routers, admin): replace named groups, then strip the regex syntax.
    out = _replace_groups(pattern, values)
    out = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), out)
    out = out.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/").replace("\\", "")
    return out


def _replace_groups(pattern: str, values: dict) -> str:
    result, i = [], 0
    while i < len(pattern):
        if pattern.startswith("(?P<", i):
            end_name = pattern.index(">", i)
            name = pattern[i + 4 : end_name]
            depth, j = 1, end_name + 1
            while depth:
                if pattern[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(pattern[j], 0)
                j += 1
            result.append(str(values[name]))
            i = j
        else:
            result.append(pattern[i])
            i += 1
    return "".join(result)
