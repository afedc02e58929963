"""Every page a role can open, found from the URL resolver, and a walk over them in a real browser.

The pages come from the same builders as the isolation test: ``iter_routes()`` lists every
URL pattern, ``fill(route, world.a.objects)`` gives its concrete path, and the view's
declaration (``declared_access`` / ``action_for``) with ``policy.can`` says whether the role
may GET it. A page is kept when the test client's answer is a whole HTML document: API routes,
the admin, downloads (CSV, PDF, calendar files, archives) and htmx partials drop out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.test import Client

from tests.tenancy.routes import Route, fill, iter_routes
from tmw.accounts import policy
from tmw.accounts.permissions import action_for, declared_access

ROLES = {
    "partner": lambda w: w.partner,
    "finance": lambda w: w.finance,
    "admin": lambda w: w.admin,
    "vendor-admin": lambda w: w.a.vendor_admin,
    "vendor-member": lambda w: w.a.vendor_member,
    "msp-member": lambda w: w.a.msp_member,
}
WIDTHS = (390, 1366)
# The elements that stick out past the right edge while their parent does not: where an overflow starts.
CULPRITS_JS = """(width) => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const right = el.getBoundingClientRect().right;
    const parent = el.parentElement;
    if (right > width + 1 && parent && parent.getBoundingClientRect().right <= width + 1) {
      out.push(name(parent) + ' > ' + name(el) + ' ' + Math.round(right) + 'px');
    }
  }
  return out.slice(0, 4);
}"""
# How many rows the main navigation takes (1 when every link sits on the first row's top).
NAV_ROWS_JS = """() => new Set([...document.querySelectorAll('.mainnav a')].map((a) => a.offsetTop)).size"""
NAV_ONE_ROW_FROM = 1366  # px: from a laptop width up the navigation fits on one row
DOWNLOADS = re.compile(r"\.(csv|pdf|ics|zip|xlsx|json)/?$|(export|download)", re.IGNORECASE)


@dataclass
class Page:
    name: str  # the route's name, e.g. "accounts:people"
    path: str


@dataclass
class Walk:
    pages: list[Page] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)


def may_get(route: Route, user) -> bool:
    access = declared_access(route.callback)
    action = action_for(access, "GET")
    return action is not None and policy.can(user, action)


def candidate_routes() -> list[Route]:
    return [
        route
        for route in iter_routes()
        if not route.is_api
        and not route.is_public
        and not route.pattern.startswith("admin/")
        and not DOWNLOADS.search(route.pattern)
    ]


def pages_for(user, world) -> Walk:
    """The HTML pages ``user`` may open, each checked once with the test client (a 5xx is recorded)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    walk = Walk()
    for route in candidate_routes():
        if not may_get(route, user):
            continue
        path = fill(route, world.a.objects)
        response = client.get(path, HTTP_ACCEPT="text/html")
        if response.status_code >= 500:
            walk.server_errors.append(f"GET {path} -> {response.status_code}")
            continue
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        if b"<html" not in response.content[:500].lower():
            continue  # an htmx partial
        walk.pages.append(Page(name=route.name or route.pattern, path=path))
    return walk


def session_cookie(user, base_url: str) -> dict:
    """A session cookie for ``user`` that a browser context can carry, so no login form is needed."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base_url}


def file_name(page: Page) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", page.name).strip("_") or "home"


def visit_all(browser, base_url: str, role: str, user, world, screenshots: Path | None = None) -> list[str]:
    """Open every page of ``role`` at each width in one browser context; what went wrong, one line each."""
    walk = pages_for(user, world)
    problems = [f"{role}: {error}" for error in walk.server_errors]
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 844})
    context.add_cookies([session_cookie(user, base_url)])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 844})
            for target in walk.pages:
                errors.clear()
                response = page.goto(f"{base_url}{target.path}", wait_until="load")
                status = response.status if response else 0
                where = f"{role} {width}px {target.path} ({target.name})"
                if status >= 500:
                    problems.append(f"{where}: {status}")
                scroll_width = page.evaluate("document.documentElement.scrollWidth")
                if scroll_width > width + 1:
                    culprits = page.evaluate(CULPRITS_JS, width)
                    problems.append(f"{where}: {scroll_width} px wide, from {'; '.join(culprits)}")
                if width >= NAV_ONE_ROW_FROM and (rows := page.evaluate(NAV_ROWS_JS)) > 1:
                    problems.append(f"{where}: the navigation takes {rows} rows")
                if errors:
                    problems.append(f"{where}: console error {errors[:3]}")
                if screenshots is not None:
                    out = screenshots / role / str(width) / f"{file_name(target)}.png"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out), full_page=True)
    finally:
        context.close()
    return problems
