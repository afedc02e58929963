"""Ideal-partner profiles and the scored MSP target lists built from them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from tmw.accounts.tenancy import TenantOwnedModel
from tmw.directory.models import LIST_FIELDS, REGIONS

__all__ = ["IdealPartnerProfile", "TargetEntry", "TargetList"]

# The factors a target is scored on, in the order the breakdown lists them.
FACTORS = ("geography", "size", "verticals", "service_lines", "stack", "ownership", "relationship")
FACTOR_LABELS = {
    "geography": "Geography",
    "size": "Size",
    "verticals": "Verticals",
    "service_lines": "Service lines",
    "stack": "PSA / RMM stack",
    "ownership": "Ownership",
    "relationship": "TMW relationship",
}
DEFAULT_WEIGHTS = {
    "geography": Decimal("20"),
    "size": Decimal("15"),
    "verticals": Decimal("15"),
    "service_lines": Decimal("20"),
    "stack": Decimal("15"),
    "ownership": Decimal("5"),
    "relationship": Decimal("10"),
}


def _weight_field(factor: str):
    return models.DecimalField(
        f"weight: {FACTOR_LABELS[factor]}",
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_WEIGHTS[factor],
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )


class IdealPartnerProfile(TenantOwnedModel):
    """The MSP a vendor should sell through, as scoring criteria with a weight per factor."""

    class PEPreference(models.TextChoices):
        PREFER = "prefer", "Prefer PE-backed / platform MSPs"
        AVOID = "avoid", "Avoid PE-backed / platform MSPs"
        NEUTRAL = "neutral", "No preference"

    diagnostic = models.OneToOneField(
        "diagnostics.Diagnostic", on_delete=models.CASCADE, related_name="ideal_partner_profile"
    )
    countries = models.JSONField(default=list, blank=True, help_text="Target countries (US, CA).")
    regions = models.JSONField("states / provinces", default=list, blank=True)
    min_employees = models.PositiveIntegerField(null=True, blank=True)
    max_employees = models.PositiveIntegerField(null=True, blank=True)
    min_technicians = models.PositiveIntegerField(null=True, blank=True)
    max_technicians = models.PositiveIntegerField(null=True, blank=True)
    min_endpoints = models.PositiveIntegerField(null=True, blank=True)
    max_endpoints = models.PositiveIntegerField(null=True, blank=True)
    verticals = models.JSONField(default=list, blank=True)
    required_service_lines = models.JSONField(default=list, blank=True)
    preferred_service_lines = models.JSONField(default=list, blank=True)
    psa_integrations = models.JSONField("PSA integrations", default=list, blank=True)
    rmm_integrations = models.JSONField("RMM integrations", default=list, blank=True)
    pe_preference = models.CharField(
        "PE-backed preference", max_length=10, choices=PEPreference.choices, default=PEPreference.NEUTRAL
    )
    weight_geography = _weight_field("geography")
    weight_size = _weight_field("size")
    weight_verticals = _weight_field("verticals")
    weight_service_lines = _weight_field("service_lines")
    weight_stack = _weight_field("stack")
    weight_ownership = _weight_field("ownership")
    weight_relationship = _weight_field("relationship")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_paths = ("diagnostic__vendor",)

    LIST_CHOICES = {
        "verticals": LIST_FIELDS["verticals"][0],
        "required_service_lines": LIST_FIELDS["service_lines"][0],
        "preferred_service_lines": LIST_FIELDS["service_lines"][0],
        "psa_integrations": LIST_FIELDS["psa_tools"][0],
        "rmm_integrations": LIST_FIELDS["rmm_tools"][0],
    }
    SIZE_BANDS = (
        ("employees", "min_employees", "max_employees"),
        ("technicians", "min_technicians", "max_technicians"),
        ("endpoints", "min_endpoints", "max_endpoints"),
    )

    class Meta(TenantOwnedModel.Meta):
        verbose_name = "ideal-partner profile"

    def __str__(self) -> str:
        return f"Ideal partner for {self.diagnostic.vendor}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if not isinstance(self.countries, list) or any(c not in REGIONS for c in self.countries):
            errors["countries"] = ["Pick US and/or CA."]
        all_regions = {r for regions in REGIONS.values() for r in regions}
        if not isinstance(self.regions, list) or any(r not in all_regions for r in self.regions):
            errors["regions"] = ["Unknown state or province."]
        for name, choices in self.LIST_CHOICES.items():
            value = getattr(self, name)
            if not isinstance(value, list) or any(v not in choices.values for v in value):
                errors[name] = ["Unknown value in the list."]
        for _label, low, high in self.SIZE_BANDS:
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                errors[high] = ["The maximum is below the minimum."]
        if errors:
            raise ValidationError(errors)

    def weights(self) -> dict[str, Decimal]:
        return {factor: getattr(self, f"weight_{factor}") for factor in FACTORS}

    def as_spec(self) -> dict:
        """The profile as plain JSON data: what the scorer reads and what a target list freezes."""
        return {
            "countries": list(self.countries),
            "regions": list(self.regions),
            "size": {label: [getattr(self, low), getattr(self, high)] for label, low, high in self.SIZE_BANDS},
            "verticals": list(self.verticals),
            "required_service_lines": list(self.required_service_lines),
            "preferred_service_lines": list(self.preferred_service_lines),
            "psa_integrations": list(self.psa_integrations),
            "rmm_integrations": list(self.rmm_integrations),
            "pe_preference": self.pe_preference,
            "weights": {factor: str(weight) for factor, weight in self.weights().items()},
        }


class TargetList(TenantOwnedModel):
    """A frozen, scored and ranked list of target MSPs for one diagnostic (snapshot number 1..n)."""

    diagnostic = models.ForeignKey("diagnostics.Diagnostic", on_delete=models.CASCADE, related_name="target_lists")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    profile_snapshot = models.JSONField(default=dict, help_text="The ideal-partner profile it was scored against.")
    scored_count = models.PositiveIntegerField(default=0, help_text="MSPs in the directory when it was scored.")
    dropped = models.JSONField(
        default=list, blank=True, help_text="MSPs on the previous snapshot that are no longer on this one."
    )

    tenant_paths = ("diagnostic__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["diagnostic", "-number"]
        constraints = [models.UniqueConstraint(fields=["diagnostic", "number"], name="targetlist_unique_number")]

    def __str__(self) -> str:
        return f"Target list #{self.number} for {self.diagnostic.vendor}"


class TargetEntry(TenantOwnedModel):
    """One MSP on a target list: its score, tier, rank and why, with its key facts frozen."""

    class Tier(models.TextChoices):
        A = "A", "Tier A"
        B = "B", "Tier B"
        C = "C", "Tier C"

    class Movement(models.TextChoices):
        NEW = "new", "New"
        UP = "up", "Up"
        DOWN = "down", "Down"
        SAME = "same", "Same"

    target_list = models.ForeignKey(TargetList, on_delete=models.CASCADE, related_name="entries")
    msp = models.ForeignKey(
        "directory.MSPProfile", on_delete=models.SET_NULL, null=True, blank=True, related_name="target_entries"
    )
    msp_name = models.CharField(max_length=200)
    msp_city = models.CharField(max_length=120, blank=True)
    msp_region = models.CharField(max_length=2, blank=True)
    msp_country = models.CharField(max_length=2, blank=True)
    score = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    tier = models.CharField(max_length=1, choices=Tier.choices)
    rank = models.PositiveIntegerField()
    breakdown = models.JSONField(default=list, help_text='[{"factor", "points", "max_points", "why"}, ...]')
    pinned = models.BooleanField(default=False)
    excluded = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it is pinned or excluded.")
    previous_rank = models.PositiveIntegerField(null=True, blank=True)
    movement = models.CharField(max_length=4, choices=Movement.choices, default=Movement.NEW)

    tenant_paths = ("target_list__diagnostic__vendor",)

    # Set on the rows a page shows by ``diagnostics.views.with_reasons``: (factor label, breakdown part).
    reasons: list[tuple[str, dict]]

    class Meta(TenantOwnedModel.Meta):
        ordering = ["target_list", "rank"]
        verbose_name_plural = "target entries"
        constraints = [
            models.UniqueConstraint(fields=["target_list", "msp"], name="targetentry_unique_msp"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="targetentry_score_0_100"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.msp_name} ({self.score})"

    @property
    def location(self) -> str:
        return ", ".join(p for p in (self.msp_city, self.msp_region, self.msp_country) if p)

    @property
    def rank_change(self) -> int | None:
        """Places gained (positive) or lost since the previous snapshot."""
        if self.previous_rank is None:
            return None
        return self.previous_rank - self.rank
