"""Users, organisations and roles."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .tenancy import TenantOwnedModel

TIME_ZONE_CHOICES = [
    (tz, tz.replace("_", " "))
    for tz in sorted(zoneinfo.available_timezones())
    if tz.startswith(("America/", "Europe/", "Pacific/Honolulu", "UTC"))
]


CLOCK_CHOICES = [("24h", "24-hour (21:00)"), ("12h", "12-hour (9:00 PM)")]


class Country(models.TextChoices):
    US = "US", "United States"
    CA = "CA", "Canada"


class Organisation(TenantOwnedModel):
    """A tenant: TMW itself (operator), a technology vendor, or an MSP."""

    class Kind(models.TextChoices):
        OPERATOR = "operator", "TMW operator"
        VENDOR = "vendor", "Vendor"
        MSP = "msp", "MSP"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    website = models.URLField(blank=True)
    category = models.CharField(
        max_length=120, blank=True, help_text="Vendors: product category, used to spot competing vendors."
    )
    city = models.CharField(max_length=120, blank=True)
    region = models.CharField("state / province", max_length=2, blank=True)
    country = models.CharField(max_length=2, choices=Country.choices, default=Country.US)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("pk",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="organisation_unique_name_per_kind")]
        # The partner home counts MSPs by state / province: read from this index, not from every row.
        indexes = [models.Index(fields=["kind", "country", "region"], name="organisation_kind_region")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_vendor(self) -> bool:
        return self.kind == self.Kind.VENDOR

    @property
    def is_msp(self) -> bool:
        return self.kind == self.Kind.MSP

    @property
    def is_operator(self) -> bool:
        return self.kind == self.Kind.OPERATOR

    @property
    def location(self) -> str:
        return ", ".join(p for p in (self.city, self.region, self.country) if p)


class BillingContact(TenantOwnedModel):
    """Who at a vendor receives its statements, credit notes and payment reminders.

    A vendor with none listed is billed through its active vendor admins
    (``billing_recipients`` in the services).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="billing_contacts")
    name = models.CharField(max_length=150, blank=True)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("organisation",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["organisation", "email"], name="billing_contact_unique_email")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class Role(models.TextChoices):
    PARTNER = "partner", "TMW partner"
    FINANCE = "finance", "TMW finance"
    ADMIN = "admin", "TMW admin"
    VENDOR_ADMIN = "vendor_admin", "Vendor admin"
    VENDOR_MEMBER = "vendor_member", "Vendor member"
    MSP_MEMBER = "msp_member", "MSP member"


OPERATOR_ROLES = frozenset({Role.PARTNER, Role.FINANCE, Role.ADMIN})
VENDOR_ROLES = frozenset({Role.VENDOR_ADMIN, Role.VENDOR_MEMBER})
MSP_ROLES = frozenset({Role.MSP_MEMBER})
ROLES_BY_KIND: dict[str, frozenset[Role]] = {
    Organisation.Kind.OPERATOR: OPERATOR_ROLES,
    Organisation.Kind.VENDOR: VENDOR_ROLES,
    Organisation.Kind.MSP: MSP_ROLES,
}


class UserManager(BaseUserManager["User"]):
    """Creates users who log in with their email address."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """Email addresses log in case-insensitively."""
        return self.get(email__iexact=(username or "").strip())

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        # unscoped: shared (other tenants' rows this action needs by design)
        operator = Organisation.all_objects.filter(kind=Organisation.Kind.OPERATOR).order_by("pk").first()
        if operator is None:
            operator = Organisation.objects.create(
                kind=Organisation.Kind.OPERATOR, name="The MSP Works", slug="the-msp-works"
            )
        extra.setdefault("organisation", operator)
        extra.setdefault("role", Role.ADMIN)
        extra["is_superuser"] = True
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address; belongs to one organisation with one role."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=20, choices=Role.choices)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default=settings.TIME_ZONE)
    clock = models.CharField("time format", max_length=3, choices=CLOCK_CHOICES, default="24h")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.lower()
        if self.organisation_id and self.role not in ROLES_BY_KIND[self.organisation.kind]:
            raise ValidationError(
                {"role": f"A {self.organisation.get_kind_display()} user cannot be {self.get_role_display()}."}
            )

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name or self.email).split(" ")[0]

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATOR_ROLES

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def is_finance(self) -> bool:
        return self.role == Role.FINANCE

    @property
    def is_vendor_user(self) -> bool:
        return self.role in VENDOR_ROLES

    @property
    def is_vendor_admin(self) -> bool:
        return self.role == Role.VENDOR_ADMIN

    @property
    def is_msp_user(self) -> bool:
        return self.role in MSP_ROLES

    @property
    def is_staff(self) -> bool:
        """Operators may open the Django admin (``admin.site``); only admins may change things there."""
        from . import policy  # the policy reads this module

        return policy.can(self, "admin.site")

    def has_perm(self, perm: str, obj=None) -> bool:
        """In the admin: ``admin.change`` changes everything, ``admin.site`` reads everything."""
        from . import policy

        if self.is_active and (self.is_superuser or policy.can(self, "admin.change")):
            return True
        if policy.can(self, "admin.site") and perm.split(".")[-1].startswith("view_"):
            return True
        return super().has_perm(perm, obj)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saving a new password (a change, a reset, the admin) revokes the user's API token."""
        new_password = getattr(self, "_password", None) is not None and self.pk is not None
        super().save(*args, **kwargs)
        if new_password:
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user=self).delete()

    def has_module_perms(self, app_label: str) -> bool:
        from . import policy

        return policy.can(self, "admin.site") or super().has_module_perms(app_label)


class Invitation(TenantOwnedModel):
    """An emailed invitation to join an organisation with a role; accepted once, before it expires."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    tenant_paths = ("organisation",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def is_open(self) -> bool:
        return self.status == "pending"


class AuditEvent(TenantOwnedModel):
    """Who did what to which object, and when; written by services, never edited."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    tenant_paths = ("organisation",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_repr}"


class CalendarFeed(models.Model):
    """A partner's private calendar feed: the secret in its URL is kept only as a SHA-256 hash.

    The secret is derived from ``SECRET_KEY`` and a random ``nonce`` (so the page can show the
    URL again without storing it); regenerating draws a new nonce, and the old URL stops working.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    nonce = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class IdempotencyRecord(models.Model):
    """The first answer to an API write sent with an ``Idempotency-Key``, replayed to its retries (``tmw.idempotency``).

    Keyed by (user, key, route): a key is the caller's own, and means one thing per route. Not tenant-owned:
    a row is only ever read back by the user who wrote it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    route = models.CharField(max_length=300, help_text="The method and path the key was used on.")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request's body.")
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "route"], name="idempotency_record_unique_key_per_route")
        ]

    def __str__(self) -> str:
        return f"{self.route} [{self.key}]"
