"""Partner availability and channel-review bookings."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

__all__ = ["AvailabilityWindow", "BlackoutDate", "Booking"]

SLOT_MINUTES = 45
NOTES_MAX_LENGTH = 4000


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def _on_quarter_hour(value: datetime.time) -> bool:
    return value.minute % 15 == 0 and value.second == 0 and value.microsecond == 0


class AvailabilityWindow(models.Model):
    """A weekly stretch of time in which a partner takes channel reviews, in the partner's own time zone."""

    Weekday = Weekday

    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="availability_windows",
        limit_choices_to={"role": "partner"},
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Local time in the partner's time zone, on the quarter hour.")
    end_time = models.TimeField(help_text="Local time in the partner's time zone, on the quarter hour.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="availability_window_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="availability_window_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.start_time is None or self.end_time is None:
            return
        if not (_on_quarter_hour(self.start_time) and _on_quarter_hour(self.end_time)):
            raise ValidationError("Start and end on the quarter hour (:00, :15, :30 or :45).")
        start = datetime.datetime.combine(datetime.date.min, self.start_time)
        end = datetime.datetime.combine(datetime.date.min, self.end_time)
        if end - start < datetime.timedelta(minutes=SLOT_MINUTES):
            raise ValidationError({"end_time": f"A window must hold at least one {SLOT_MINUTES}-minute review."})

    @property
    def slot_count(self) -> int:
        """How many back-to-back reviews fit in the window."""
        start = datetime.datetime.combine(datetime.date.min, self.start_time)
        end = datetime.datetime.combine(datetime.date.min, self.end_time)
        return int((end - start).total_seconds() // (SLOT_MINUTES * 60))


class BlackoutDate(models.Model):
    """A day a partner marks: blocked (no reviews: travel, an event), or, with ``opened``, a closed day opened.

    Public holidays and TMW's own closures are closed by default (``closures.closed_days``);
    an ``opened`` row lets the partner take reviews on one of them all the same.
    """

    partner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blackout_dates")
    date = models.DateField()
    reason = models.CharField(max_length=120, blank=True)
    opened = models.BooleanField(
        default=False, help_text="A public holiday or TMW closure the partner opens for reviews, not a blocked day."
    )

    class Meta:
        ordering = ["partner", "date"]
        constraints = [models.UniqueConstraint(fields=["partner", "date"], name="blackout_date_unique_per_partner")]

    def __str__(self) -> str:
        return f"{self.date:%b %d, %Y}" + (f" ({self.reason})" if self.reason else "")


class Booking(models.Model):
    """A prospect's 45-minute channel review with one partner; one live booking per partner and start time."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        CONVERTED = "converted", "Converted"

    partner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="channel_reviews")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    time_zone = models.CharField(max_length=64, default="America/New_York", help_text="The prospect's time zone.")

    company = models.CharField(max_length=200)
    website = models.URLField(max_length=300)
    contact_name = models.CharField(max_length=150)
    email = models.EmailField()
    phone = models.CharField(max_length=40)
    role = models.CharField("job title", max_length=120)
    has_us_sales = models.BooleanField("has a US-based sales team", default=False)
    has_us_marketing = models.BooleanField("has a US-based marketing team", default=False)
    has_us_channel = models.BooleanField("has a US-based channel team", default=False)
    sells = models.TextField("what they sell", max_length=2000)
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)

    vendor = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="channel_review_bookings",
        limit_choices_to={"kind": "vendor"},
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_prospect = models.BooleanField(default=False)
    converted_at = models.DateTimeField(null=True, blank=True)
    sequence = models.PositiveIntegerField(
        default=0, help_text="The iCalendar SEQUENCE: raised on each reschedule and on cancelling."
    )
    rescheduled_at = models.DateTimeField(null=True, blank=True)
    previous_starts_at = models.DateTimeField(null=True, blank=True, help_text="The start before the last reschedule.")

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "starts_at"],
                condition=~Q(status="cancelled"),
                name="booking_one_live_per_partner_slot",
                violation_error_message="That slot was just taken: pick another.",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after_start"),
            models.CheckConstraint(
                condition=Q(status__in=["confirmed", "cancelled", "converted"]), name="booking_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["email", "created_at"]), models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return f"{self.company} with {self.partner} ({self.starts_at:%Y-%m-%d %H:%M} UTC)"

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def us_teams(self) -> list[str]:
        """The US-based teams the prospect said it has."""
        return [
            label
            for label, present in (
                ("sales", self.has_us_sales),
                ("marketing", self.has_us_marketing),
                ("channel", self.has_us_channel),
            )
            if present
        ]
