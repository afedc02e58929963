"""Rubric, diagnostic, criterion scores, channel thesis and decision."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tmw.accounts.tenancy import TenantOwnedModel

__all__ = [
    "ChannelThesis",
    "Criterion",
    "CriterionScore",
    "Decision",
    "DeskOption",
    "Diagnostic",
    "RubricVersion",
]

DIAGNOSTIC_WEEKS = 6
MAX_LEVEL = 5


class RubricVersion(models.Model):
    """One frozen version of the scoring rubric; editing the rubric saves a new version."""

    name = models.CharField(max_length=120, default="Channel readiness rubric")
    number = models.PositiveIntegerField(unique=True, help_text="Version number, increasing.")
    notes = models.TextField(blank=True, help_text="What changed in this version.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class Criterion(models.Model):
    """One scored criterion of a rubric version, with a weight and a description for each level 0-5."""

    class Group(models.TextChoices):
        PRODUCT = "product", "Product"
        BUSINESS_MODEL = "business_model", "Business model"
        READINESS = "readiness", "Readiness"

    rubric = models.ForeignKey(RubricVersion, on_delete=models.CASCADE, related_name="criteria")
    group = models.CharField(max_length=20, choices=Group.choices)
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    weight = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(Decimal("0"))]
    )
    levels = models.JSONField(default=list, help_text="Six descriptions, for levels 0 to 5.")
    is_gate = models.BooleanField(default=False, help_text="A gate must reach its minimum level for a 'go'.")
    gate_min_level = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_LEVEL)], help_text="Minimum level when the criterion is a gate."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rubric", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["rubric", "key"], name="criterion_unique_key_per_rubric")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        levels = self.levels
        if not isinstance(levels, list) or len(levels) != MAX_LEVEL + 1 or not all(isinstance(x, str) for x in levels):
            raise ValidationError({"levels": "Give six level descriptions, for levels 0 to 5."})
        if self.is_gate and not 1 <= self.gate_min_level <= MAX_LEVEL:
            raise ValidationError({"gate_min_level": "A gate needs a minimum level between 1 and 5."})


class Diagnostic(TenantOwnedModel):
    """A six-week Phase One diagnostic of one vendor, scored against one rubric version."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        COMPLETE = "complete", "Complete"

    vendor = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="diagnostics",
        limit_choices_to={"kind": "vendor"},
    )
    lead_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_diagnostics",
        limit_choices_to={"role": "partner"},
    )
    rubric = models.ForeignKey(RubricVersion, on_delete=models.PROTECT, related_name="diagnostics")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    started_on = models.DateField(default=datetime.date.today)
    due_on = models.DateField(blank=True, null=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    has_us_sales = models.BooleanField("vendor has a US sales team", default=False)
    has_us_marketing = models.BooleanField("vendor has a US marketing team", default=False)
    has_us_channel = models.BooleanField("vendor has a US channel team", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("vendor",)

    # Set by the diagnostic list page: the overall score, when there is one.
    overall: Decimal | None

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-started_on", "-pk"]

    def __str__(self) -> str:
        return f"Diagnostic of {self.vendor} ({self.started_on:%d %b %Y})"

    def clean(self) -> None:
        super().clean()
        if self.vendor_id and not self.vendor.is_vendor:
            raise ValidationError({"vendor": "A diagnostic is for a vendor organisation."})
        if self.lead_partner_id and not self.lead_partner.is_partner:
            raise ValidationError({"lead_partner": "The lead must be a TMW partner."})
        if self.due_on and self.started_on and self.due_on < self.started_on:
            raise ValidationError({"due_on": "The due date cannot be before the start."})

    def save(self, *args, **kwargs) -> None:
        if self.due_on is None and self.started_on:
            self.due_on = self.started_on + datetime.timedelta(weeks=DIAGNOSTIC_WEEKS)
        super().save(*args, **kwargs)

    @property
    def is_complete(self) -> bool:
        return self.status == self.Status.COMPLETE

    @property
    def is_overdue(self) -> bool:
        """Past its due date and not yet complete."""
        return self.due_on is not None and not self.is_complete and self.due_on < timezone.localdate()

    @property
    def recommended_option(self) -> str:
        """Option A when the vendor has US sales, marketing and channel teams, else Option B."""
        return "A" if (self.has_us_sales and self.has_us_marketing and self.has_us_channel) else "B"


class CriterionScore(TenantOwnedModel):
    """A partner's level (0-5) for one criterion of one diagnostic, with the evidence behind it."""

    diagnostic = models.ForeignKey(Diagnostic, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    level = models.PositiveSmallIntegerField(validators=[MaxValueValidator(MAX_LEVEL)])
    evidence = models.TextField(blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("diagnostic__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["criterion__order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["diagnostic", "criterion"], name="score_unique_per_criterion"),
            models.CheckConstraint(condition=Q(level__lte=MAX_LEVEL), name="score_level_max_5"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.level}"


class ChannelThesis(TenantOwnedModel):
    """The channel thesis written for a diagnostic: who to sell through, why they buy, at what margin."""

    diagnostic = models.OneToOneField(Diagnostic, on_delete=models.CASCADE, related_name="thesis")
    target_segment = models.TextField(blank=True)
    category_positioning = models.TextField("category and positioning", blank=True)
    msp_reason_to_buy = models.TextField("the MSP's reason to buy", blank=True)
    pricing_margin = models.TextField("pricing and margin recommendation", blank=True)
    key_risks = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_paths = ("diagnostic__vendor",)

    class Meta(TenantOwnedModel.Meta):
        verbose_name_plural = "channel theses"

    def __str__(self) -> str:
        return f"Channel thesis for {self.diagnostic.vendor}"

    FIELDS = ("target_segment", "category_positioning", "msp_reason_to_buy", "pricing_margin", "key_risks")

    @property
    def is_filled(self) -> bool:
        return all(getattr(self, f).strip() for f in self.FIELDS)


class DeskOption(models.TextChoices):
    """The Phase Two options, worded once: recommended on the decision, chosen on the desk (``engagements``)."""

    A = "A", "Option A: TMW runs the channel desk with the vendor's US teams"
    B = "B", "Option B: TMW runs the channel desk for the vendor"


class Decision(TenantOwnedModel):
    """The go / no-go decision of a diagnostic and the Phase Two option it leads to."""

    class Outcome(models.TextChoices):
        GO = "go", "Go"
        GO_WITH_CONDITIONS = "go_with_conditions", "Go with conditions"
        NO_GO = "no_go", "No-go"

    Option = DeskOption

    diagnostic = models.OneToOneField(Diagnostic, on_delete=models.CASCADE, related_name="decision")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rationale = models.TextField()
    conditions = models.TextField(blank=True, help_text="The conditions of a 'go with conditions'.")
    gate_override_reason = models.TextField(blank=True, help_text="Why 'go' stands although a gate failed.")
    recommended_option = models.CharField(max_length=1, choices=Option.choices)
    option = models.CharField("chosen option", max_length=1, choices=Option.choices)
    option_override_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    tenant_paths = ("diagnostic__vendor",)

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} for {self.diagnostic.vendor}"

    @property
    def is_go(self) -> bool:
        return self.outcome in (self.Outcome.GO, self.Outcome.GO_WITH_CONDITIONS)

    @property
    def option_overridden(self) -> bool:
        return self.option != self.recommended_option
