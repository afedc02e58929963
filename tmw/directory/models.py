"""The MSP directory: TMW's own profile of each MSP and the people to talk to there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tmw.accounts.models import Country
from tmw.accounts.tenancy import TenantOwnedManager, TenantOwnedModel

__all__ = [
    "CONTACT_FIELDS",
    "MSPContact",
    "MSPProfile",
    "MSPProfileChange",
    "SELF_SERVICE_FIELDS",
    "PROFILE_FIELDS",
    "PSATool",
    "Relationship",
    "RMMTool",
    "ServiceLine",
    "Vertical",
    "website_host",
]


class Vertical(models.TextChoices):
    HEALTHCARE = "healthcare", "Healthcare"
    LEGAL = "legal", "Legal"
    FINANCIAL = "financial", "Financial services"
    MANUFACTURING = "manufacturing", "Manufacturing"
    EDUCATION = "education", "Education"
    GOVERNMENT = "government", "Government"
    NONPROFIT = "nonprofit", "Non-profit"
    RETAIL = "retail", "Retail"
    CONSTRUCTION = "construction", "Construction"
    PROFESSIONAL = "professional", "Professional services"


class ServiceLine(models.TextChoices):
    MANAGED_IT = "managed_it", "Managed IT"
    SOC_MDR = "soc_mdr", "SOC / MDR"
    COMPLIANCE = "compliance", "Compliance"
    IDENTITY = "identity", "Identity"
    BACKUP_DR = "backup_dr", "Backup / DR"
    CLOUD = "cloud", "Cloud"
    AI_AUTOMATION = "ai_automation", "AI and automation"


class PSATool(models.TextChoices):
    CONNECTWISE = "connectwise_psa", "ConnectWise PSA"
    AUTOTASK = "autotask", "Autotask"
    HALOPSA = "halopsa", "HaloPSA"
    SYNCRO = "syncro_psa", "Syncro"
    KASEYA_BMS = "kaseya_bms", "Kaseya BMS"


class RMMTool(models.TextChoices):
    NINJAONE = "ninjaone", "NinjaOne"
    CONNECTWISE = "connectwise_rmm", "ConnectWise RMM"
    KASEYA_VSA = "kaseya_vsa", "Kaseya VSA"
    NABLE = "n_able", "N-able"
    DATTO = "datto_rmm", "Datto RMM"
    SYNCRO = "syncro_rmm", "Syncro"


class Relationship(models.IntegerChoices):
    NONE = 0, "None"
    AWARE = 1, "Aware of TMW"
    WARM = 2, "Warm"
    STRONG = 3, "Strong"


US_STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "PR",
]
CA_PROVINCES = ["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"]
REGIONS = {"US": US_STATES, "CA": CA_PROVINCES}
REGION_NAMES = {
    "ON": "Ontario",
    "QC": "Quebec",
    "BC": "British Columbia",
    "AB": "Alberta",
    "MB": "Manitoba",
    "SK": "Saskatchewan",
    "NS": "Nova Scotia",
    "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador",
    "PE": "Prince Edward Island",
    "NT": "Northwest Territories",
    "NU": "Nunavut",
    "YT": "Yukon",
}

# The list fields of a profile, the choices they take, and the tag prefix used for filtering.
LIST_FIELDS = {
    "verticals": (Vertical, "v"),
    "service_lines": (ServiceLine, "s"),
    "psa_tools": (PSATool, "p"),
    "rmm_tools": (RMMTool, "r"),
}


# The facts of a profile that people edit, in the one order the form, the API, the CSV import and
# export and the services use. Contacts are their own rows (``CONTACT_FIELDS``).
PROFILE_FIELDS = (
    "legal_name",
    "city",
    "region",
    "country",
    "website",
    "employees",
    "technicians",
    "endpoints",
    "clients",
    "verticals",
    "service_lines",
    "psa_tools",
    "rmm_tools",
    "pe_backed",
    "platform_name",
    "community_member",
    "relationship",
    "notes",
)
CONTACT_FIELDS = ("name", "title", "email", "phone", "is_primary")

# What an MSP keeps up to date itself (a partner reviews each change before it enters the directory).
# TMW's own judgement of the MSP (relationship, community membership, notes) stays TMW's.
SELF_SERVICE_FIELDS = (
    "legal_name",
    "website",
    "city",
    "region",
    "country",
    "employees",
    "technicians",
    "endpoints",
    "clients",
    "verticals",
    "service_lines",
    "psa_tools",
    "rmm_tools",
    "pe_backed",
    "platform_name",
)
MAX_SELF_SERVICE_CONTACTS = 8


def tag_index_for(**lists: list[str]) -> str:
    """``|v:healthcare|s:soc_mdr|p:autotask|`` from the list fields given by name."""
    tags = [f"{prefix}:{value}" for name, (_c, prefix) in LIST_FIELDS.items() for value in lists.get(name) or ()]
    return "|" + "|".join(tags) + "|" if tags else ""


def website_host(url: str) -> str:
    """``https://www.Summit-IT.example/about`` → ``summit-it.example``: how websites are compared."""
    url = (url or "").strip().lower()
    if not url:
        return ""
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host.removeprefix("www.")


def region_label(code: str) -> str:
    """A state or province as people say it ("Ontario", "TX")."""
    return REGION_NAMES.get(code, code)


# Why a vendor may see an MSP. The directory sits on the ground floor and knows no higher app, so
# each app that gives a reason registers it in its AppConfig.ready(): diagnostics registers "on a
# target list of the vendor", engagements "in the vendor's pipeline". A vendor sees an MSP only
# through a registered rule (or when it is the MSP itself); with none registered, it sees none.
_D = TypeVar("_D", bound=models.Model)

MSPVisibilityRule = Callable[[tuple[int, ...], str], Any]
MSP_VISIBILITY_RULES: list[MSPVisibilityRule] = []


def register_msp_visibility(rule: MSPVisibilityRule) -> MSPVisibilityRule:
    """Add a rule ``rule(vendor_ids, msp_ref) -> Q | Exists`` that lets vendors see an MSP.

    ``msp_ref`` names the MSP organisation's id on the rows being filtered, for ``OuterRef``.
    """
    if rule not in MSP_VISIBILITY_RULES:
        MSP_VISIBILITY_RULES.append(rule)
    return rule


class DirectoryManager(TenantOwnedManager[_D]):
    """A fail-closed manager for directory rows reached through ``msp_path`` (``""`` is the profile itself).

    Scope disabled (TMW operators): every row. A tenant scope: the MSP's own rows, plus the
    MSPs that a registered ``MSP_VISIBILITY_RULES`` rule lets a vendor in scope see (its
    target lists, its pipeline). No scope: raises.
    """

    def __init__(self, msp_path: str = "") -> None:
        super().__init__()
        self.org_lookup = f"{msp_path}organisation" if msp_path else "organisation"
        self.msp_ref = msp_path.rstrip("_") or "pk"
        self.tenant_lookups = (self.org_lookup, "registered MSP visibility rules")

    def tenant_condition(self, ids: tuple[int, ...]) -> Q:
        condition = Q(**{f"{self.org_lookup}__in": ids})
        for rule in MSP_VISIBILITY_RULES:
            condition |= Q(rule(ids, self.msp_ref))
        return condition


def _directory_manager(msp_path: str) -> DirectoryManager[Any]:
    """The directory-visibility manager of rows reached through ``msp_path``."""
    return DirectoryManager(msp_path)


class MSPProfile(TenantOwnedModel):
    """TMW's directory record of one MSP: where it is, how big, what it sells and runs, how well TMW knows it."""

    organisation = models.OneToOneField(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="msp_profile",
        limit_choices_to={"kind": "msp"},
    )
    legal_name = models.CharField(max_length=200)
    city = models.CharField("HQ city", max_length=120)
    region = models.CharField("state / province", max_length=2)
    country = models.CharField(max_length=2, choices=Country.choices, default=Country.US)
    website = models.URLField(blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    technicians = models.PositiveIntegerField(null=True, blank=True)
    endpoints = models.PositiveIntegerField("managed endpoints", null=True, blank=True)
    clients = models.PositiveIntegerField("number of clients", null=True, blank=True)
    verticals = models.JSONField(default=list, blank=True, help_text="Verticals served.")
    service_lines = models.JSONField(default=list, blank=True)
    psa_tools = models.JSONField("PSA tools", default=list, blank=True)
    rmm_tools = models.JSONField("RMM tools", default=list, blank=True)
    pe_backed = models.BooleanField("PE-backed or part of a platform", default=False)
    platform_name = models.CharField("platform / PE sponsor", max_length=200, blank=True)
    community_member = models.BooleanField("TMW community member", default=False)
    relationship = models.PositiveSmallIntegerField(
        "relationship strength", choices=Relationship.choices, default=Relationship.NONE
    )
    notes = models.TextField(blank=True)
    confirmed_at = models.DateTimeField(
        "last confirmed", null=True, blank=True, help_text="When the MSP last confirmed or updated its profile."
    )
    tag_index = models.CharField(max_length=600, blank=True, editable=False, help_text="Search tags, derived.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("organisation",)

    # Overrides the base's manager: besides its own MSP, a vendor sees the MSPs a visibility rule lets through.
    objects: ClassVar[DirectoryManager[MSPProfile]] = _directory_manager("")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["legal_name", "pk"]
        verbose_name = "MSP profile"
        indexes = [models.Index(fields=["country", "region"]), models.Index(fields=["legal_name"])]
        constraints = [
            models.CheckConstraint(condition=Q(country__in=["US", "CA"]), name="mspprofile_country_us_ca"),
        ]

    def __str__(self) -> str:
        return self.legal_name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        self.region = (self.region or "").upper()
        if self.country in REGIONS and self.region not in REGIONS[self.country]:
            errors["region"] = [f"“{self.region}” is not a state or province of {self.get_country_display()}."]
        for name, (choices, _prefix) in LIST_FIELDS.items():
            value = getattr(self, name)
            if not isinstance(value, list):
                errors[name] = ["Give a list."]
                continue
            unknown = [v for v in value if v not in choices.values]
            if unknown:
                errors[name] = [f"Unknown: {', '.join(map(str, unknown))}."]
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.tag_index = self.build_tag_index()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "tag_index"}
        super().save(*args, **kwargs)

    def build_tag_index(self) -> str:
        """``|v:healthcare|s:soc_mdr|p:autotask|`` — list values as text that filters the same on any database."""
        return tag_index_for(**{name: getattr(self, name) for name in LIST_FIELDS})

    @staticmethod
    def tag(field: str, value: str) -> str:
        """The ``tag_index`` fragment that marks ``value`` in list ``field``."""
        return f"|{LIST_FIELDS[field][1]}:{value}|"

    @property
    def location(self) -> str:
        return ", ".join(p for p in (self.city, self.region, self.country) if p)

    def labels(self, field: str) -> list[str]:
        """Human labels of a list field, in the stored order."""
        choices = dict(LIST_FIELDS[field][0].choices)
        return [choices.get(v, v) for v in getattr(self, field)]

    @property
    def vertical_labels(self) -> list[str]:
        return self.labels("verticals")

    @property
    def service_labels(self) -> list[str]:
        return self.labels("service_lines")

    @property
    def psa_labels(self) -> list[str]:
        return self.labels("psa_tools")

    @property
    def rmm_labels(self) -> list[str]:
        return self.labels("rmm_tools")

    def is_stale(self, now: datetime) -> bool:
        """Not confirmed by the MSP within ``DIRECTORY_STALE_AFTER_DAYS`` (or never)."""
        return self.confirmed_at is None or self.confirmed_at < now - stale_after()

    @property
    def size_label(self) -> str:
        parts = []
        if self.employees is not None:
            parts.append(f"{self.employees} staff")
        if self.technicians is not None:
            parts.append(f"{self.technicians} techs")
        if self.endpoints is not None:
            parts.append(f"{self.endpoints:,} endpoints")
        return " · ".join(parts) or "—"


def stale_after() -> timedelta:
    """How long a profile stays current after its MSP last confirmed it."""
    return timedelta(days=settings.DIRECTORY_STALE_AFTER_DAYS)


class MSPProfileChange(TenantOwnedModel):
    """A change an MSP proposes to its own profile; it enters the directory when a partner approves it.

    ``proposed`` holds only the fields that differ from the profile when proposed; ``contacts``
    is the whole proposed list of contacts, or null when the MSP left them as they were.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Declined"

    msp = models.ForeignKey(MSPProfile, on_delete=models.CASCADE, related_name="changes")
    proposed = models.JSONField(default=dict, blank=True)
    contacts = models.JSONField(null=True, blank=True)
    note = models.TextField("note to TMW", blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True, max_length=2000)

    tenant_paths = ("msp__organisation",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-proposed_at", "-pk"]
        verbose_name = "MSP profile change"
        constraints = [
            models.UniqueConstraint(
                fields=["msp"], condition=Q(status="pending"), name="mspprofilechange_one_pending_per_msp"
            )
        ]
        indexes = [models.Index(fields=["status", "proposed_at"])]

    def __str__(self) -> str:
        return f"Profile change of {self.msp} ({self.get_status_display()})"


class MSPContact(TenantOwnedModel):
    """A person at an MSP whom TMW talks to."""

    msp = models.ForeignKey(MSPProfile, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=150)
    title = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)

    # Contacts stay TMW's: the MSP itself and operators see them, vendors never do.
    tenant_paths = ("msp__organisation",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-is_primary", "name", "pk"]
        verbose_name = "MSP contact"

    def __str__(self) -> str:
        return f"{self.name} ({self.msp})"
