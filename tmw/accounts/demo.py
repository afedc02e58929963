"""Demo organisations and users: TMW staff, three vendors and fifty North American MSPs."""

from __future__ import annotations

import random

from django.utils.text import slugify

from .models import Organisation, Role, User

DEMO_PASSWORD = "channel-desk-demo"  # noqa: S105
TMW_DOMAIN = "themspworks.example"

STAFF = [
    ("dana.whitfield", "Dana Whitfield", Role.PARTNER, "America/New_York"),
    ("marcus.okafor", "Marcus Okafor", Role.PARTNER, "America/Chicago"),
    ("priya.raman", "Priya Raman", Role.FINANCE, "America/New_York"),
    ("admin", "Ops Admin", Role.ADMIN, "America/New_York"),
]

# (name, category, city, region, country, website, phase description, users)
VENDORS = [
    (
        "Northwind Identity",
        "Identity and access management",
        "Toronto",
        "ON",
        "CA",
        "https://northwind-identity.example",
        "Phase One",
        [("maya.chen", "Maya Chen", Role.VENDOR_ADMIN), ("leo.martin", "Leo Martin", Role.VENDOR_MEMBER)],
    ),
    (
        "Sentinel Backup",
        "Backup and disaster recovery",
        "Austin",
        "TX",
        "US",
        "https://sentinel-backup.example",
        "Option A desk",
        [("jordan.reyes", "Jordan Reyes", Role.VENDOR_ADMIN), ("ava.patel", "Ava Patel", Role.VENDOR_MEMBER)],
    ),
    (
        "Lumen AI Ops",
        "AI and automation",
        "Boston",
        "MA",
        "US",
        "https://lumen-aiops.example",
        "Option B desk",
        [
            ("henrik.lund", "Henrik Lund", Role.VENDOR_ADMIN),
            ("sofia.rossi", "Sofia Rossi", Role.VENDOR_MEMBER),
        ],
    ),
]

# Real places where MSPs cluster in the US and Canada.
MSP_PLACES = [
    ("Dallas", "TX", "US"),
    ("Houston", "TX", "US"),
    ("Austin", "TX", "US"),
    ("Atlanta", "GA", "US"),
    ("Charlotte", "NC", "US"),
    ("Raleigh", "NC", "US"),
    ("Tampa", "FL", "US"),
    ("Orlando", "FL", "US"),
    ("Miami", "FL", "US"),
    ("Chicago", "IL", "US"),
    ("Columbus", "OH", "US"),
    ("Cleveland", "OH", "US"),
    ("Detroit", "MI", "US"),
    ("Minneapolis", "MN", "US"),
    ("Denver", "CO", "US"),
    ("Phoenix", "AZ", "US"),
    ("Salt Lake City", "UT", "US"),
    ("Seattle", "WA", "US"),
    ("Portland", "OR", "US"),
    ("San Diego", "CA", "US"),
    ("Sacramento", "CA", "US"),
    ("Irvine", "CA", "US"),
    ("Nashville", "TN", "US"),
    ("Philadelphia", "PA", "US"),
    ("Pittsburgh", "PA", "US"),
    ("Boston", "MA", "US"),
    ("Hartford", "CT", "US"),
    ("Newark", "NJ", "US"),
    ("Baltimore", "MD", "US"),
    ("Richmond", "VA", "US"),
    ("St. Louis", "MO", "US"),
    ("Kansas City", "MO", "US"),
    ("Indianapolis", "IN", "US"),
    ("Milwaukee", "WI", "US"),
    ("New Orleans", "LA", "US"),
    ("Omaha", "NE", "US"),
    ("Toronto", "ON", "CA"),
    ("Mississauga", "ON", "CA"),
    ("Ottawa", "ON", "CA"),
    ("Waterloo", "ON", "CA"),
    ("Vancouver", "BC", "CA"),
    ("Victoria", "BC", "CA"),
    ("Calgary", "AB", "CA"),
    ("Edmonton", "AB", "CA"),
    ("Montréal", "QC", "CA"),
    ("Québec City", "QC", "CA"),
    ("Winnipeg", "MB", "CA"),
    ("Halifax", "NS", "CA"),
    ("Saskatoon", "SK", "CA"),
    ("Regina", "SK", "CA"),
]
MSP_STEMS = [
    "Bluewater",
    "Summit",
    "Keystone",
    "Ironclad",
    "Northstar",
    "Cedar",
    "Granite",
    "Lakeshore",
    "Redline",
    "Pinnacle",
    "Harbor",
    "Frontier",
    "Evergreen",
    "Beacon",
    "Trailhead",
    "Copperleaf",
    "Sterling",
    "Crosspoint",
    "Maple",
    "Prairie",
    "Silverline",
    "Riverbend",
    "Highmark",
    "Clearpath",
    "Atlas",
    "Bridgewater",
    "Oakridge",
    "Stonegate",
    "Westbrook",
    "Tidewater",
    "Lighthouse",
    "Blackrock",
    "Sequoia",
    "Canyon",
    "Meridian",
    "Horizon",
    "Ridgeline",
    "Anchor",
    "Coastal",
    "Heartland",
    "Falcon",
    "Aurora",
    "Pioneer",
    "Vantage",
    "Ember",
    "Glacier",
    "Juniper",
    "Compass",
    "Bayview",
    "Polaris",
]
MSP_SUFFIXES = [
    "IT",
    "Technology Partners",
    "Managed Services",
    "Networks",
    "Tech",
    "IT Solutions",
    "Cyber",
    "Systems",
]
FIRST = [
    "Alex",
    "Jamie",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Drew",
    "Chris",
    "Pat",
    "Sam",
    "Robin",
    "Jesse",
]
LAST = [
    "Nguyen",
    "Smith",
    "Garcia",
    "Brown",
    "Tremblay",
    "Roy",
    "Wilson",
    "Singh",
    "Kowalski",
    "Murphy",
    "Lee",
    "Clark",
]


def msp_profiles(count: int = 50) -> list[dict]:
    """Deterministic MSP profiles, the same on every run."""
    rng = random.Random(20261123)  # noqa: S311
    profiles = []
    for i in range(count):
        city, region, country = MSP_PLACES[i % len(MSP_PLACES)]
        name = f"{MSP_STEMS[i % len(MSP_STEMS)]} {MSP_SUFFIXES[rng.randrange(len(MSP_SUFFIXES))]}"
        slug = slugify(name)
        owner = (rng.choice(FIRST), rng.choice(LAST))
        profiles.append(
            {
                "name": name,
                "slug": slug,
                "city": city,
                "region": region,
                "country": country,
                "website": f"https://{slug}.example",
                "owner_email": f"{owner[0].lower()}.{owner[1].lower()}@{slug}.example",
                "owner_name": f"{owner[0]} {owner[1]}",
            }
        )
    return profiles


def _user(email: str, full_name: str, org: Organisation, role: str, time_zone: str = "America/New_York") -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={"full_name": full_name, "organisation": org, "role": role, "time_zone": time_zone},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def seed() -> dict:
    """Create (or find) the demo organisations and users; safe to run again."""
    tmw, _ = Organisation.objects.get_or_create(
        slug="the-msp-works",
        defaults={
            "kind": Organisation.Kind.OPERATOR,
            "name": "The MSP Works",
            "city": "New York",
            "region": "NY",
        },
    )
    logins: list[tuple[str, str, str]] = []
    staff = {}
    for local, name, role, tz in STAFF:
        user = _user(f"{local}@{TMW_DOMAIN}", name, tmw, role, tz)
        staff[local] = user
        logins.append((Role(role).label, user.email, "The MSP Works"))

    vendors = {}
    for name, category, city, region, country, website, phase, people in VENDORS:
        org, _ = Organisation.objects.get_or_create(
            slug=slugify(name),
            defaults={
                "kind": Organisation.Kind.VENDOR,
                "name": name,
                "category": category,
                "city": city,
                "region": region,
                "country": country,
                "website": website,
            },
        )
        vendors[phase] = org
        domain = website.removeprefix("https://")
        for local, full_name, role in people:
            user = _user(f"{local}@{domain}", full_name, org, role)
            logins.append((f"{Role(role).label} ({phase})", user.email, name))

    msps = []
    for i, p in enumerate(msp_profiles()):
        org, _ = Organisation.objects.get_or_create(
            slug=p["slug"],
            defaults={
                "kind": Organisation.Kind.MSP,
                "name": p["name"],
                "city": p["city"],
                "region": p["region"],
                "country": p["country"],
                "website": p["website"],
            },
        )
        msps.append(org)
        tz = "America/Toronto" if p["country"] == "CA" else "America/New_York"
        user = _user(p["owner_email"], p["owner_name"], org, Role.MSP_MEMBER, tz)
        if i == 0:
            logins.append((Role.MSP_MEMBER.label, user.email, org.name))
    return {"tmw": tmw, "staff": staff, "vendors": vendors, "msps": msps, "logins": logins}
