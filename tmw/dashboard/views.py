"""Home pages per role, and the health check."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from commissions.models import Statement, StatementQuery
from commissions.selectors import finance_summary, missing_revenue_reports, statement_queries
from commissions.services import AGING_BUCKETS, aging_by_vendor
from community.selectors import msp_invitations, upcoming_events
from diagnostics.models import Diagnostic
from diagnostics.selectors import diagnostic_list, vendor_diagnostic
from engagements.models import Attribution, Engagement
from engagements.selectors import (
    disputed_attributions,
    plan_progress,
    plan_totals,
    portal_engagement,
    portfolio_summary,
    steps_open,
    steps_summary,
)
from tmw.accounts import policy
from tmw.accounts.models import Invitation, Organisation, User
from tmw.accounts.permissions import allow, public
from tmw.directory.models import MSPProfile, MSPProfileChange
from tmw.ops.models import Heartbeat
from tmw.ops.selectors import heartbeat_freshness, heartbeat_seen_at
from tmw.pagecache import cached_page

# Each user's home: the first of these pages the policy lets them open (an admin gets the partners' one).
HOMES = [
    ("dashboard.partner", "dashboard:partner"),
    ("dashboard.finance", "dashboard:finance"),
    ("dashboard.vendor", "dashboard:vendor"),
    ("dashboard.msp", "dashboard:msp"),
]


@allow("dashboard.home")
def home(request):
    """Send each user to the home page of their role."""
    for action, url_name in HOMES:
        if policy.can(request.user, action):
            return redirect(url_name)
    raise PermissionDenied


#: How many vendors the partner home lists before linking to the whole list.
HOME_VENDORS = 10
VENDORS_PAGE_SIZE = 50


def _vendor_rows():
    """Vendors by name, each with its user count and the desk or diagnostic its name links to."""
    return (
        Organisation.objects.filter(kind=Organisation.Kind.VENDOR)
        .annotate(
            user_count=Count("users"),
            desk_pk=Subquery(Engagement.objects.filter(vendor=OuterRef("pk")).order_by("-pk").values("pk")[:1]),
            diagnostic_pk=Subquery(Diagnostic.objects.filter(vendor=OuterRef("pk")).order_by("-pk").values("pk")[:1]),
        )
        .order_by("name", "pk")
    )


@allow("dashboard.partner")
@cached_page
def partner_home(request):
    """The whole portfolio: vendors, MSP directory coverage and people."""
    by_kind = dict(Organisation.objects.values_list("kind").annotate(n=Count("pk")).order_by())
    vendors = list(_vendor_rows()[:HOME_VENDORS])
    msp_regions = list(
        Organisation.objects.filter(kind=Organisation.Kind.MSP)
        .exclude(region="")
        .values("country", "region")
        .annotate(n=Count("pk"))
        .order_by("-n", "region")[:15]
    )
    context = {
        "vendor_count": by_kind.get(Organisation.Kind.VENDOR, 0),
        "msp_count": by_kind.get(Organisation.Kind.MSP, 0),
        "user_count": User.objects.filter(is_active=True).count(),
        "open_invitations": Invitation.objects.filter(
            accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
        ).count(),
        "vendors": vendors,
        "msp_region_chart": {
            "labels": [f"{r['region']}, {r['country']}" for r in msp_regions],
            "values": [r["n"] for r in msp_regions],
        },
        "open_diagnostics": _open_diagnostics(),
        "portfolio": portfolio_summary(),
        "events": upcoming_events(user=request.user, limit=5),
        **_desk_follow_up(request.user),
    }
    return render(request, "dashboard/partner.html", context)


#: How many of a partner's next steps the home page lists before linking to the full list.
HOME_STEPS = 5


def _desk_follow_up(user) -> dict:
    """The partner's next steps due soonest (overdue first) and the attributions vendors dispute."""
    return {
        "my_steps": list(steps_open(owner=user)[:HOME_STEPS]),
        "my_steps_summary": steps_summary(owner=user),
        "disputes": list(disputed_attributions()[:HOME_STEPS]),
        "today": timezone.localdate(),
    }


@allow("dashboard.partner")
@cached_page
def vendor_list(request):
    """Every vendor TMW works with, a page at a time (the partner home shows the first few)."""
    page = Paginator(_vendor_rows(), VENDORS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/vendor_list.html", {"page": page})


def _open_diagnostics(limit: int = 6) -> list:
    """Diagnostics not yet complete, soonest due first (for the partner home card)."""
    return list(diagnostic_list().exclude(status=Diagnostic.Status.COMPLETE).order_by("due_on", "pk")[:limit])


#: How many vendors the finance home's aging lists (those owing the most past due); the aging page has all.
HOME_AGING_ROWS = 10


@allow("dashboard.finance")
@cached_page
def finance_home(request):
    """Finance's desk: statement runs and revenue intake arrive with the commercial terms."""
    rows, totals = aging_by_vendor()
    top = sorted(rows, key=lambda r: (-(r.total - r.buckets["current"]), -r.total, r.vendor.lower()))[:HOME_AGING_ROWS]
    open_queries = statement_queries().filter(status=StatementQuery.Status.OPEN)
    context = {
        "summary": finance_summary(),
        "aging": {"rows": top, "totals": totals, "buckets": AGING_BUCKETS, "more": len(rows) - len(top)},
        "open_queries": list(open_queries[:5]),
        "open_count": open_queries.count(),
    }
    return render(request, "dashboard/finance.html", context)


@allow("dashboard.vendor")
@cached_page
def vendor_home(request):
    """The vendor's client portal: its own organisation only."""
    org = request.user.organisation
    team = User.objects.filter(organisation=org, is_active=True).order_by("full_name")
    diagnostic = vendor_diagnostic(vendor_id=org.pk)
    engagement = portal_engagement(user=request.user)
    context = {
        "org": org,
        "team": team,
        "diagnostic": diagnostic,
        "engagement": engagement,
        "plan": plan_totals(plan_progress(engagement=engagement)) if engagement else None,
        "statements": Statement.objects.filter(
            status__in=[Statement.Status.ISSUED, Statement.Status.PAID], credit_note_for__isnull=True
        ).order_by("-period")[:3],
        "missing_reports": missing_revenue_reports(vendor=org),
        "events": upcoming_events(user=request.user, limit=3),
        "pending_attributions": Attribution.objects.filter(
            vendor=org, acknowledgement=Attribution.Acknowledgement.PENDING
        ).count(),
    }
    return render(request, "dashboard/vendor.html", context)


@allow("dashboard.msp")
@cached_page
def msp_home(request):
    """The MSP's portal: its profile and, later, its event invitations."""
    org = request.user.organisation
    colleagues = User.objects.filter(organisation=org, is_active=True).order_by("full_name")
    invitations = msp_invitations(user=request.user)[:8]
    msp_profile = MSPProfile.objects.filter(pk=org.pk).first()
    context = {
        "org": org,
        "colleagues": colleagues,
        "invitations": invitations,
        "msp_profile": msp_profile,
        "profile_stale": msp_profile is not None and msp_profile.is_stale(timezone.now()),
        "profile_pending": msp_profile is not None
        and MSPProfileChange.objects.filter(msp=msp_profile, status=MSPProfileChange.Status.PENDING).exists(),
    }
    return render(request, "dashboard/msp.html", context)


def _check_broker() -> str:
    if not settings.REDIS_URL:
        return "in-process"
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    client.ping()
    return "ok"


def _check_heartbeats(checks: dict[str, str | None]) -> bool:
    """Fill in worker and beat freshness; return whether they are good enough to serve."""
    now = timezone.now()
    stale_after = timedelta(seconds=settings.HEALTHZ_STALE_SECONDS)
    try:
        seen = {name: heartbeat_seen_at(name=name) for name in (Heartbeat.Name.WORKER, Heartbeat.Name.BEAT)}
    except Exception:  # noqa: BLE001
        checks.update(worker="unknown", beat="unknown", worker_seen_at=None, beat_seen_at=None)
        return not settings.HEALTHZ_REQUIRE_WORKER
    worker_at, beat_at = seen[Heartbeat.Name.WORKER], seen[Heartbeat.Name.BEAT]
    checks["beat"] = heartbeat_freshness(seen_at=beat_at, now=now, stale_after=stale_after)
    if settings.REDIS_URL:
        checks["worker"] = heartbeat_freshness(seen_at=worker_at, now=now, stale_after=stale_after)
    else:
        checks["worker"] = "in-process"  # tasks run in the web process: there is no worker to wait for
    checks["worker_seen_at"] = worker_at.isoformat() if worker_at else None
    checks["beat_seen_at"] = beat_at.isoformat() if beat_at else None
    if not settings.HEALTHZ_REQUIRE_WORKER or not settings.REDIS_URL:
        return True
    return checks["worker"] == "ok" and checks["beat"] == "ok"


@public
@never_cache
def healthz(request):
    """Liveness and readiness: 200 when the database and the broker answer, 503 otherwise.

    Also says whether a worker ran the heartbeat task and beat sent it recently (``ok``, ``stale``,
    ``never``); a stale worker or beat answers 503 only with ``HEALTHZ_REQUIRE_WORKER``.
    """
    checks: dict[str, str | None] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {exc.__class__.__name__}"
        healthy = False
    try:
        checks["broker"] = _check_broker()
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
        healthy = False
    if checks["database"] == "ok":
        healthy = _check_heartbeats(checks) and healthy
    else:
        checks.update(worker="unknown", beat="unknown", worker_seen_at=None, beat_seen_at=None)
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
