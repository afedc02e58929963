"""Tables of the community app: events, pitch slots, invitations, RSVPs and pitch feedback."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tmw.accounts.models import TIME_ZONE_CHOICES
from tmw.accounts.tenancy import TenantOwnedModel

CHECK_IN_OPENS_BEFORE = datetime.timedelta(days=1)
CHECK_IN_CLOSES_AFTER = datetime.timedelta(days=1)


class Event(models.Model):
    """A community event TMW hosts: a pitch session, focus group, dinner or working group."""

    class Kind(models.TextChoices):
        PITCH = "pitch", "Pitch session"
        FOCUS_GROUP = "focus_group", "Focus group"
        DINNER = "dinner", "Dinner"
        WORKING_GROUP = "working_group", "Working group"

    class Access(models.TextChoices):
        INVITE_ONLY = "invite_only", "Invite only"
        OPEN = "open", "Open to community MSPs"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField(help_text="Stored in UTC.")
    ends_at = models.DateTimeField(help_text="Stored in UTC.")
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default=settings.TIME_ZONE)
    venue = models.CharField(max_length=300, blank=True)
    virtual_link = models.URLField(blank=True)
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10000)])
    access = models.CharField(max_length=20, choices=Access.choices, default=Access.INVITE_ONLY)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="hosted_events",
        limit_choices_to={"role__in": ["partner", "admin"]},
    )
    rsvp_deadline = models.DateTimeField(null=True, blank=True, help_text="Empty: answers close when it starts.")
    created_at = models.DateTimeField(auto_now_add=True)
    sequence = models.PositiveIntegerField(
        default=0, help_text="The iCalendar SEQUENCE: raised each time the time or place changes, and on cancelling."
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="event_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = ["The event must end after it starts."]
        if self.rsvp_deadline and self.starts_at and self.rsvp_deadline > self.starts_at:
            errors["rsvp_deadline"] = ["Answers must close before the event starts."]
        if not self.venue and not self.virtual_link:
            errors["venue"] = ["Give a venue or a virtual link."]
        if errors:
            raise ValidationError(errors)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def answers_close_at(self):
        return self.rsvp_deadline or self.starts_at

    @property
    def is_open_for_answers(self) -> bool:
        return not self.is_cancelled and timezone.now() < self.answers_close_at

    @property
    def has_ended(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def check_in_opens_at(self) -> datetime.datetime:
        """People are checked in from a day before the start (the door, the registration desk)..."""
        return self.starts_at - CHECK_IN_OPENS_BEFORE

    @property
    def check_in_closes_at(self) -> datetime.datetime:
        """...until a day after the end (late corrections); never weeks ahead."""
        return self.ends_at + CHECK_IN_CLOSES_AFTER

    @property
    def is_check_in_open(self) -> bool:
        return self.check_in_opens_at <= timezone.now() < self.check_in_closes_at

    @property
    def is_pitch(self) -> bool:
        return self.kind == self.Kind.PITCH

    @property
    def is_dinner(self) -> bool:
        return self.kind == self.Kind.DINNER

    @property
    def where(self) -> str:
        return self.venue or "Online"


class PitchSlot(TenantOwnedModel):
    """One vendor's turn at a pitch session, in order, with its length in minutes."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="pitch_slots")
    vendor = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="pitch_slots",
        limit_choices_to={"kind": "vendor"},
    )
    order = models.PositiveSmallIntegerField(default=1)
    minutes = models.PositiveSmallIntegerField(default=15, validators=[MinValueValidator(5), MaxValueValidator(120)])
    topic = models.CharField(max_length=200, blank=True, help_text="What the vendor pitches.")

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["event", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "vendor"], name="pitchslot_one_per_vendor"),
            models.UniqueConstraint(fields=["event", "order"], name="pitchslot_unique_order"),
        ]

    def __str__(self) -> str:
        return f"{self.vendor} at {self.event}"


class EventInvitation(TenantOwnedModel):
    """An MSP contact invited to an event; carries the signed RSVP link sent by email."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    msp = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="event_invitations",
        limit_choices_to={"kind": "msp"},
    )
    contact = models.ForeignKey(
        "directory.MSPContact", on_delete=models.SET_NULL, null=True, blank=True, related_name="event_invitations"
    )
    name = models.CharField(max_length=150)
    email = models.EmailField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    self_registered = models.BooleanField(default=False, help_text="The MSP signed up to an open event itself.")
    walk_in = models.BooleanField(default=False)
    competitor_warning = models.CharField(max_length=400, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    notified_sequence = models.PositiveIntegerField(
        default=0, help_text="The event's SEQUENCE this person was last emailed a change or cancellation for."
    )

    tenant_paths = ("msp",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["event", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "email"], name="eventinvitation_one_per_email")]

    def __str__(self) -> str:
        return f"{self.name} ({self.msp}) → {self.event}"


class RSVP(TenantOwnedModel):
    """An invitee's answer to an event: going, waitlisted (in order), not going or cancelled; then attendance."""

    class Status(models.TextChoices):
        GOING = "going", "Going"
        WAITLISTED = "waitlisted", "Waitlisted"
        NOT_GOING = "not_going", "Not going"
        CANCELLED = "cancelled", "Cancelled"

    class Attendance(models.TextChoices):
        UNKNOWN = "unknown", "Not recorded"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"

    invitation = models.OneToOneField(EventInvitation, on_delete=models.CASCADE, related_name="rsvp")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    msp = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="event_rsvps")
    status = models.CharField(max_length=12, choices=Status.choices)
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    dietary = models.CharField("dietary needs", max_length=300, blank=True)
    responded_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True, help_text="Moved from the waitlist to going.")
    attendance = models.CharField(max_length=10, choices=Attendance.choices, default=Attendance.UNKNOWN)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    reminder_48h_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_2h_sent_at = models.DateTimeField(null=True, blank=True)
    feedback_requested_at = models.DateTimeField(null=True, blank=True)

    tenant_paths = ("msp",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["event", "status", "waitlist_position", "responded_at", "pk"]
        verbose_name = "RSVP"
        indexes = [models.Index(fields=["event", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "waitlist_position"],
                condition=Q(status="waitlisted"),
                name="rsvp_unique_waitlist_position",
            ),
            models.CheckConstraint(
                condition=Q(status="waitlisted", waitlist_position__isnull=False)
                | (~Q(status="waitlisted") & Q(waitlist_position__isnull=True)),
                name="rsvp_waitlist_position_iff_waitlisted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitation.name}: {self.get_status_display()}"

    @property
    def name(self) -> str:
        return self.invitation.name

    @property
    def attended(self) -> bool:
        return self.attendance == self.Attendance.ATTENDED


class PitchFeedback(TenantOwnedModel):
    """What an attending MSP says after one pitch; follow-up or pilot becomes pipeline."""

    class Interest(models.TextChoices):
        NOT_NOW = "not_now", "Not now"
        FOLLOW_UP = "follow_up", "Follow-up"
        PILOT = "pilot", "Pilot"

    rsvp = models.ForeignKey(RSVP, on_delete=models.CASCADE, related_name="feedback")
    pitch_slot = models.ForeignKey(PitchSlot, on_delete=models.CASCADE, related_name="feedback")
    interest = models.CharField(max_length=12, choices=Interest.choices)
    comment = models.TextField(blank=True, max_length=2000)
    opportunity = models.ForeignKey(
        "engagements.Opportunity", on_delete=models.SET_NULL, null=True, blank=True, related_name="pitch_feedback"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("rsvp__msp", "pitch_slot__vendor")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["pitch_slot", "-created_at", "pk"]
        verbose_name_plural = "pitch feedback"
        constraints = [models.UniqueConstraint(fields=["rsvp", "pitch_slot"], name="pitchfeedback_one_per_pitch")]

    def __str__(self) -> str:
        return f"{self.get_interest_display()} on {self.pitch_slot}"


class EventQuestion(models.Model):
    """A question the host asks on an event's RSVP form: free text or one of a list of choices, required or not."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        CHOICE = "choice", "Choice"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="questions")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(blank=True, help_text="For a choice question: one choice per line.")
    required = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["event", "order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["text", "choice"]), name="eventquestion_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def field_name(self) -> str:
        return f"q{self.pk}"


class RSVPAnswer(TenantOwnedModel):
    """An invitee's answer to one of an event's RSVP questions."""

    rsvp = models.ForeignKey(RSVP, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(EventQuestion, on_delete=models.CASCADE, related_name="answers")
    value = models.TextField(max_length=1000, blank=True)

    tenant_paths = ("rsvp__msp",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["rsvp", "question__order", "pk"]
        verbose_name = "RSVP answer"
        constraints = [models.UniqueConstraint(fields=["rsvp", "question"], name="rsvpanswer_one_per_question")]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"
