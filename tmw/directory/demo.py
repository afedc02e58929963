"""Demo MSP directory: a varied, realistic profile and two contacts for each demo MSP (idempotent)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from tmw.accounts.models import Role, User

from .models import MSPContact, MSPProfile, MSPProfileChange, PSATool, Relationship, RMMTool, ServiceLine, Vertical

FIRST = ["Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Sam", "Jamie", "Avery", "Quinn", "Dana", "Lee"]
LAST = ["Nguyen", "Patel", "Tremblay", "Gagnon", "Smith", "Johnson", "Garcia", "Brown", "Martin", "Roy", "Kim", "Singh"]
TITLES = [
    ("Founder and CEO", "Service Delivery Manager"),
    ("President", "vCIO"),
    ("Managing Partner", "Director of Technical Operations"),
    ("CEO", "Head of Procurement"),
    ("COO", "Security Practice Lead"),
]
PLATFORMS = [
    "Evergreen Services Group",
    "Thrive Operations",
    "New Charter Platform",
    "Northridge Capital",
    "Alpine MSP",
]


def _sample(rng: random.Random, values: list[str], low: int, high: int) -> list[str]:
    return sorted(rng.sample(values, rng.randint(low, high)), key=values.index)


def profile_values(org, rng: random.Random) -> dict:
    """Deterministic, plausible directory facts for one MSP organisation."""
    size = rng.choices(["small", "mid", "large"], weights=[5, 4, 2])[0]
    employees = {"small": rng.randint(6, 24), "mid": rng.randint(25, 100), "large": rng.randint(101, 420)}[size]
    technicians = max(2, int(employees * rng.uniform(0.45, 0.7)))
    clients = max(5, int(employees * rng.uniform(1.2, 3.5)))
    endpoints = clients * rng.randint(40, 140)
    services = [ServiceLine.MANAGED_IT.value] + _sample(rng, ServiceLine.values[1:], 1, 4)
    pe_backed = size == "large" and rng.random() < 0.6 or rng.random() < 0.12
    return {
        "legal_name": org.name,
        "city": org.city,
        "region": org.region,
        "country": org.country,
        "website": org.website,
        "employees": employees,
        "technicians": technicians,
        "endpoints": endpoints,
        "clients": clients,
        "verticals": _sample(rng, Vertical.values, 1, 3),
        "service_lines": services,
        "psa_tools": [rng.choices(PSATool.values, weights=[5, 4, 3, 1, 1])[0]],
        "rmm_tools": [rng.choices(RMMTool.values, weights=[5, 3, 2, 3, 3, 1])[0]],
        "pe_backed": pe_backed,
        "platform_name": rng.choice(PLATFORMS) if pe_backed else "",
        "community_member": rng.random() < 0.45,
        "relationship": rng.choices(Relationship.values, weights=[3, 4, 3, 2])[0],
    }


def seed(context: dict) -> None:
    """Give each demo MSP a directory profile and two contacts; running it again changes nothing."""
    for org in context.get("msps", []):
        rng = random.Random(f"tmw-directory-{org.slug}")
        values = profile_values(org, rng)
        profile = MSPProfile.objects.filter(pk=org.pk).first()
        if profile is None:
            profile = MSPProfile(organisation=org, **values)
            # Most MSPs confirmed their profile lately; some long ago or never (the directory flags them).
            freshness = rng.random()
            if freshness < 0.7:
                profile.confirmed_at = timezone.now() - timedelta(days=rng.randint(3, 170))
            elif freshness < 0.9:
                profile.confirmed_at = timezone.now() - timedelta(days=rng.randint(200, 500))
            profile.full_clean()
            profile.save()
        if MSPContact.objects.filter(msp=profile).exists():
            continue
        domain = (org.website or f"https://{org.slug}.example").split("//", 1)[-1].strip("/")
        for i, title in enumerate(rng.choice(TITLES)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            MSPContact.objects.create(
                msp=profile,
                name=f"{first} {last}",
                title=title,
                email=f"{first}.{last}@{domain}".lower(),
                phone=f"+1 {rng.randint(201, 989)} 555 {rng.randint(1000, 9999)}",
                is_primary=i == 0,
            )

    _pending_change(context.get("msps", []))


def _pending_change(msps: list) -> None:
    """One MSP has proposed a change that waits for a partner's review."""
    for org in msps:
        member = User.objects.filter(organisation=org, role=Role.MSP_MEMBER).order_by("pk").first()
        profile = MSPProfile.objects.filter(pk=org.pk).first()
        if member is None or profile is None:
            continue
        if not MSPProfileChange.objects.filter(msp=profile).exists():
            MSPProfileChange.objects.create(
                msp=profile,
                proposed={"technicians": (profile.technicians or 10) + 6, "clients": (profile.clients or 40) + 12},
                note="We hired six technicians after taking over a local MSP's clients.",
                proposed_by=member,
                proposed_at=timezone.now() - timedelta(days=1),
            )
        return
