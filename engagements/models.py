"""Phase Two desks: engagements, their team and plan, the MSP pipeline, attributions and the activity log."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from diagnostics.models import DeskOption
from tmw.accounts.tenancy import TenantOwnedModel

#: The currency of a desk's figures until its agreement says otherwise.
DEFAULT_CURRENCY = "USD"
#: Days a vendor has to acknowledge or dispute a new attribution, unless the desk says otherwise.
DEFAULT_ACKNOWLEDGEMENT_DAYS = 14
MAX_ACKNOWLEDGEMENT_DAYS = 90
#: The chance, in percent, that an opportunity in a stage becomes a live account (editable per desk).
DEFAULT_STAGE_PROBABILITIES: dict[str, int] = {
    "target": 5,
    "introduced": 10,
    "meeting": 25,
    "evaluation": 50,
    "signed": 90,
    "live": 100,
}


class Engagement(TenantOwnedModel):
    """A Phase Two desk for one vendor: Option A (vendor-led) or Option B (TMW-led)."""

    Option = DeskOption  # the one wording, on the diagnostic's decision and on the desk alike

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"
        TERMINATED = "terminated", "Terminated"

    vendor = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="engagements",
        limit_choices_to={"kind": "vendor"},
    )
    diagnostic = models.ForeignKey(
        "diagnostics.Diagnostic",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="engagements",
    )
    option = models.CharField(max_length=1, choices=Option.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    lead_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_engagements",
        limit_choices_to={"role": "partner"},
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    terminated_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    acknowledgement_days = models.PositiveSmallIntegerField(
        "acknowledgement window (days)",
        default=DEFAULT_ACKNOWLEDGEMENT_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ACKNOWLEDGEMENT_DAYS)],
        help_text="Days the vendor has to acknowledge or dispute a new attribution; silence acknowledges.",
    )
    stage_probabilities = models.JSONField(
        default=dict, blank=True, help_text="Stage → probability in percent (0-100), over the defaults."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=False),
                name="engagement_end_needs_start",
            ),
            models.CheckConstraint(
                condition=Q(acknowledgement_days__gte=1) & Q(acknowledgement_days__lte=MAX_ACKNOWLEDGEMENT_DAYS),
                name="engagement_acknowledgement_days_1_90",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor} desk (Option {self.option})"

    def clean(self) -> None:
        super().clean()
        if self.vendor_id and not self.vendor.is_vendor:
            raise ValidationError({"vendor": "An engagement is for a vendor organisation."})
        if self.lead_partner_id and not self.lead_partner.is_partner:
            raise ValidationError({"lead_partner": "The lead must be a TMW partner."})
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end cannot be before the start."})
        if self.start_date and self.terminated_on and self.terminated_on < self.start_date:
            raise ValidationError({"terminated_on": "The termination cannot be before the start."})

    @property
    def stop_date(self):
        """The day the engagement stopped (termination first), or None while it runs."""
        return self.terminated_on or self.end_date

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.PAUSED)

    @property
    def currency(self) -> str:
        """The currency of the desk's figures: its agreement's, US dollars without one."""
        try:
            return self.agreement.currency
        except ObjectDoesNotExist:
            return DEFAULT_CURRENCY

    @property
    def probabilities(self) -> dict[str, int]:
        """Probability in percent per stage: the desk's own where set, else the defaults (lost is always 0)."""
        own = self.stage_probabilities if isinstance(self.stage_probabilities, dict) else {}
        result = {}
        for stage, default in DEFAULT_STAGE_PROBABILITIES.items():
            value = own.get(stage, default)
            result[stage] = value if isinstance(value, int) and 0 <= value <= 100 else default
        result[Opportunity.Stage.LOST] = 0
        return result

    def in_term(self, day) -> bool:
        """Whether ``day`` falls within the engagement's term (started, and not after it stopped)."""
        if self.start_date is None or day is None or day < self.start_date:
            return False
        stop = self.stop_date
        return stop is None or day <= stop


class TeamMember(TenantOwnedModel):
    """A person on an engagement's team: TMW desk staff with an allocation, or a vendor contact."""

    class Side(models.TextChoices):
        TMW = "tmw", "TMW"
        VENDOR = "vendor", "Vendor"

    class Role(models.TextChoices):
        CHANNEL_ACCOUNT_MANAGER = "channel_account_manager", "Channel account manager"
        PARTNER_RECRUITER = "partner_recruiter", "Partner recruiter"
        MARKETING_OPERATIONS = "marketing_operations", "Marketing operations"
        ENABLEMENT = "enablement", "Enablement lead"
        ADVISOR = "advisor", "Channel advisor"
        VENDOR_CONTACT = "vendor_contact", "Vendor contact"
        OTHER = "other", "Other"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="team")
    side = models.CharField(max_length=8, choices=Side.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="desk_assignments"
    )
    name = models.CharField(max_length=150, blank=True)
    title = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.OTHER)
    allocation_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("engagement__vendor",)

    # Set on staff rows by ``selectors.team_for``.
    total_allocation: int
    over_allocated: bool

    class Meta(TenantOwnedModel.Meta):
        ordering = ["side", "role", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allocation_percent__isnull=True)
                | (Q(allocation_percent__gte=1) & Q(allocation_percent__lte=100)),
                name="teammember_allocation_1_100",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.user_id:
            return str(self.user)
        return self.name or self.email or "—"

    def clean(self) -> None:
        super().clean()
        if self.side == self.Side.TMW:
            if not self.user_id:
                raise ValidationError({"user": "Choose the TMW person."})
            if self.user is None or not self.user.is_operator:
                raise ValidationError({"user": "Desk staff are TMW people."})
            if not self.allocation_percent:
                raise ValidationError({"allocation_percent": "Give the allocation in percent (1-100)."})
        elif not (self.name or self.user_id):
            raise ValidationError({"name": "Give the contact's name."})


class PlanTemplate(models.Model):
    """An editable template of workstreams and milestones instantiated when an option's engagement starts."""

    option = models.CharField(max_length=1, choices=Engagement.Option.choices)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["option", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["option"], condition=Q(is_active=True), name="plantemplate_one_active_per_option"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PlanTemplateItem(models.Model):
    """One milestone of a plan template, grouped by workstream, due a number of days after the start."""

    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="items")
    workstream = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=32, choices=TeamMember.Role.choices, blank=True)
    offset_days = models.PositiveIntegerField(default=30)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["template", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.workstream}: {self.title}"


class Workstream(TenantOwnedModel):
    """A workstream of an engagement's plan."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="workstreams")
    name = models.CharField(max_length=120)
    order = models.PositiveIntegerField(default=0)

    tenant_paths = ("engagement__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["engagement", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "name"], name="workstream_unique_name_per_engagement")
        ]

    def __str__(self) -> str:
        return self.name


class Milestone(TenantOwnedModel):
    """A dated milestone of a workstream, with an owner and a status."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        BLOCKED = "blocked", "Blocked"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="milestones")
    workstream = models.ForeignKey(Workstream, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    owner_role = models.CharField(max_length=32, choices=TeamMember.Role.choices, blank=True)
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    completed_on = models.DateField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    tenant_paths = ("engagement__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["due_on", "order", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_overdue(self) -> bool:
        """Past its due date and not done."""
        return self.due_on is not None and not self.is_done and self.due_on < timezone.localdate()


class Opportunity(TenantOwnedModel):
    """An MSP in an engagement's pipeline, moving through the stages towards a signed, live account."""

    class Stage(models.TextChoices):
        TARGET = "target", "Target"
        INTRODUCED = "introduced", "Introduced"
        MEETING = "meeting", "Meeting"
        EVALUATION = "evaluation", "Evaluation / pilot"
        SIGNED = "signed", "Signed"
        LIVE = "live", "Live"
        LOST = "lost", "Lost"

    class Source(models.TextChoices):
        TMW = "tmw", "TMW-sourced"
        VENDOR = "vendor", "Vendor-sourced"

    ORDER: list[str] = [Stage.TARGET, Stage.INTRODUCED, Stage.MEETING, Stage.EVALUATION, Stage.SIGNED, Stage.LIVE]
    ACTIVE_STAGES = [Stage.INTRODUCED, Stage.MEETING, Stage.EVALUATION, Stage.SIGNED, Stage.LIVE]
    #: The open pipeline: stages before signing. Signed and live accounts are won; lost ones count in neither.
    OPEN_STAGES = [Stage.TARGET, Stage.INTRODUCED, Stage.MEETING, Stage.EVALUATION]
    WON_STAGES = [Stage.SIGNED, Stage.LIVE]

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="opportunities")
    vendor = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="vendor_opportunities", editable=False
    )
    msp = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="opportunities",
        limit_choices_to={"kind": "msp"},
    )
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.TARGET, db_index=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    source_detail = models.CharField(max_length=200, blank=True)
    expected_mrr = models.DecimalField(
        "expected MRR", max_digits=12, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    lost_reason = models.CharField(max_length=300, blank=True)
    expected_close_on = models.DateField("expected close date", null=True, blank=True)
    introduced_on = models.DateField(null=True, blank=True)
    signed_on = models.DateField(null=True, blank=True)
    live_on = models.DateField(null=True, blank=True)
    lost_on = models.DateField(null=True, blank=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("vendor",)

    # Set on cards by ``selectors.pipeline_board``.
    competitors: list[str]
    can_move: bool

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-stage_changed_at", "-pk"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.UniqueConstraint(fields=["engagement", "msp"], name="opportunity_unique_msp_per_engagement"),
            models.CheckConstraint(condition=Q(expected_mrr__gte=0), name="opportunity_mrr_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.msp} for {self.vendor}"

    def clean(self) -> None:
        super().clean()
        if self.msp_id and not self.msp.is_msp:
            raise ValidationError({"msp": "Choose an MSP from the directory."})
        if self.stage == self.Stage.LOST and not self.lost_reason.strip():
            raise ValidationError({"lost_reason": "Say why the opportunity was lost."})

    @property
    def is_active_pipeline(self) -> bool:
        return self.stage in self.ACTIVE_STAGES


class OpportunityStageChange(TenantOwnedModel):
    """One stage move of an opportunity: the history of its pipeline."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=16, choices=Opportunity.Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Opportunity.Stage.choices)
    changed_on = models.DateField(default=timezone.localdate)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("opportunity__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.from_stage or '—'} → {self.to_stage}"


class Attribution(TenantOwnedModel):
    """An MSP account attributed to an engagement from a date: revenue share is billed only on these."""

    class Acknowledgement(models.TextChoices):
        PENDING = "pending", "Awaiting acknowledgement"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DEEMED = "deemed", "Acknowledged (no answer in time)"
        DISPUTED = "disputed", "Disputed"
        KEPT = "kept", "Dispute resolved: kept"
        ENDED = "dispute_ended", "Dispute resolved: ended"

    #: The answers that settle an attribution for the vendor (nothing left to acknowledge or resolve).
    SETTLED = (Acknowledgement.ACKNOWLEDGED, Acknowledgement.DEEMED, Acknowledgement.KEPT, Acknowledgement.ENDED)

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="attributions")
    vendor = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="vendor_attributions", editable=False
    )
    msp = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="attributions",
        limit_choices_to={"kind": "msp"},
    )
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.SET_NULL, null=True, blank=True, related_name="attributions"
    )
    starts_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)
    end_reason = models.TextField(blank=True)
    acknowledgement = models.CharField(
        max_length=16, choices=Acknowledgement.choices, default=Acknowledgement.PENDING, db_index=True
    )
    acknowledge_by = models.DateField(
        "acknowledge or dispute by", null=True, blank=True, help_text="The last day of the vendor's window."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dispute_reason = models.TextField(blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    disputed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution_reason = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "msp"],
                condition=Q(ended_on__isnull=True),
                name="attribution_one_open_per_msp",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("starts_on")),
                name="attribution_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return str(self.msp)

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    @property
    def status(self) -> str:
        """The vendor's answer, as the status badge reads it."""
        return self.acknowledgement

    def get_status_display(self) -> str:
        return self.get_acknowledgement_display()

    @property
    def is_pending(self) -> bool:
        return self.acknowledgement == self.Acknowledgement.PENDING

    @property
    def is_disputed(self) -> bool:
        return self.acknowledgement == self.Acknowledgement.DISPUTED

    def window_open(self, day=None) -> bool:
        """Whether the vendor may still acknowledge or dispute it on ``day`` (today by default)."""
        day = day or timezone.localdate()
        return self.is_pending and (self.acknowledge_by is None or day <= self.acknowledge_by)


class Activity(TenantOwnedModel):
    """An entry in an engagement's activity log, internal to TMW or shared with the vendor."""

    class Kind(models.TextChoices):
        INTRODUCTION = "introduction", "Introduction"
        MEETING = "meeting", "Meeting"
        PITCH = "pitch", "Pitch appearance"
        NOTE = "note", "Note"

    class Visibility(models.TextChoices):
        INTERNAL = "internal", "Internal (TMW only)"
        SHARED = "shared", "Shared with the vendor"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NOTE)
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.INTERNAL)
    occurred_on = models.DateField(default=timezone.localdate)
    summary = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    msp = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "msp"},
    )
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("engagement__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-occurred_on", "-pk"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.summary

    @property
    def is_shared(self) -> bool:
        return self.visibility == self.Visibility.SHARED


class DisputeOutcome(models.TextChoices):
    """How a partner resolves a disputed attribution."""

    KEPT = "kept", "Keep the attribution"
    ENDED = "ended", "End the attribution"


class NextStep(TenantOwnedModel):
    """A next step on an engagement or one of its opportunities: a title, a TMW owner, a due date, done or not."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="next_steps")
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, null=True, blank=True, related_name="next_steps"
    )
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="next_steps")
    due_on = models.DateField("due date")
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("engagement__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["done", "due_on", "pk"]
        indexes = [models.Index(fields=["owner", "done", "due_on"], name="nextstep_owner_due")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.owner_id and not self.owner.is_operator:
            raise ValidationError({"owner": "The owner is a TMW person."})
        opportunity = self.opportunity if self.opportunity_id else None
        if opportunity is not None and self.engagement_id and opportunity.engagement_id != self.engagement_id:
            raise ValidationError({"opportunity": "The opportunity is of another engagement."})

    @property
    def is_overdue(self) -> bool:
        """Past its due date and not done."""
        return not self.done and self.due_on < timezone.localdate()


class OverdueDigest(models.Model):
    """The one email a day that lists an owner's overdue next steps: a row per owner and day, sent once."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    steps = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "owner"]
        constraints = [models.UniqueConstraint(fields=["owner", "day"], name="overduedigest_one_per_owner_day")]

    def __str__(self) -> str:
        return f"{self.owner} · {self.day}"
