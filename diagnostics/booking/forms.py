"""Forms of the public booking page and the partners' availability and conversion pages."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils import timezone

from tmw.accounts.models import TIME_ZONE_CHOICES, Country, Role, User

from .models import NOTES_MAX_LENGTH, AvailabilityWindow, Booking
from .selectors import DEFAULT_VISITOR_TIME_ZONE, is_offered_zone, parse_slot_key, unknown_zone_message, zone_or_default
from .services import work_email_problem

QUARTER_HOURS = [
    (f"{h:02d}:{m:02d}", f"{(h % 12) or 12}:{m:02d} {'AM' if h < 12 else 'PM'}")
    for h in range(24)
    for m in (0, 15, 30, 45)
]


class BookingForm(forms.Form):
    """What a prospect tells us when booking a review; the slot is checked again by the service."""

    slot = forms.CharField(widget=forms.HiddenInput, error_messages={"required": "Pick a day and a time first."})
    tz = forms.CharField(label="Your time zone", required=False, initial=DEFAULT_VISITOR_TIME_ZONE)
    company = forms.CharField(label="Company", max_length=200)
    website = forms.URLField(label="Company website", max_length=300, assume_scheme="https")
    contact_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="Work email", help_text="We send the confirmation and calendar invitation here.")
    phone = forms.CharField(label="Phone", max_length=40)
    role = forms.CharField(label="Your role", max_length=120, help_text="e.g. VP Sales, CEO, Head of Partnerships")
    has_us_sales = forms.BooleanField(label="US-based sales team", required=False)
    has_us_marketing = forms.BooleanField(label="US-based marketing team", required=False)
    has_us_channel = forms.BooleanField(label="US-based channel / partner team", required=False)
    sells = forms.CharField(
        label="What do you sell?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Product, category and who buys it today.",
    )
    notes = forms.CharField(
        label="Anything we should know before the call?",
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-maxlength-counter": "id_notes_counter"}),
        help_text=f"Up to {NOTES_MAX_LENGTH:,} characters.",
        error_messages={
            "max_length": "Notes: keep them to %(limit_value)s characters (these have %(show_value)s). "
            "Nothing was booked yet; shorten them and book again."
        },
    )

    time_zone_choices = TIME_ZONE_CHOICES

    def clean_tz(self):
        name = (self.cleaned_data.get("tz") or "").strip()
        if name and not is_offered_zone(name):
            raise forms.ValidationError(unknown_zone_message(name))
        return zone_or_default(name).key

    def clean_slot(self):
        parsed = parse_slot_key(self.cleaned_data["slot"])
        if parsed is None:
            raise forms.ValidationError("Pick a day and a time first.")
        return parsed

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        problem = work_email_problem(email)
        if problem:
            raise forms.ValidationError(problem)
        return email

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if sum(c.isdigit() for c in phone) < 7:
            raise forms.ValidationError("Give a phone number we can reach you on.")
        return phone


class AvailabilityWindowForm(forms.Form):
    """One weekly window, on the quarter hour."""

    weekday = forms.TypedChoiceField(choices=AvailabilityWindow.Weekday.choices, coerce=int)
    start_time = forms.TimeField(widget=forms.Select(choices=QUARTER_HOURS), initial="09:00")
    end_time = forms.TimeField(widget=forms.Select(choices=QUARTER_HOURS), initial="12:00")


class BlackoutDateForm(forms.Form):
    """A day without reviews."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=120, required=False)

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day < timezone.localdate():
            raise forms.ValidationError("Pick today or a later day.")
        return day


class ClosedDayOpenForm(forms.Form):
    """A public holiday or TMW closure the partner opens for reviews."""

    date = forms.DateField(
        error_messages={"required": "Date: pick the holiday to open.", "invalid": "Date: give a date."}
    )


class BookingFilterForm(forms.Form):
    """Filters of the partners' booking list."""

    when = forms.ChoiceField(
        choices=[("upcoming", "Upcoming"), ("past", "Past"), ("all", "All")], required=False, initial="upcoming"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Booking.Status.choices], required=False)
    partner = forms.ChoiceField(required=False)
    q = forms.CharField(required=False)

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["partner"]).choices = [("", "Every partner")] + [
            (str(p.pk), p.get_full_name()) for p in partners
        ]


class ConvertForm(forms.Form):
    """The vendor to create from a booking, prefilled from what the prospect told us."""

    name = forms.CharField(label="Vendor name", max_length=200)
    website = forms.URLField(max_length=200, assume_scheme="https")
    category = forms.CharField(max_length=120, help_text="Product category, used to spot competing vendors.")
    city = forms.CharField(label="HQ city", max_length=120, required=False)
    region = forms.CharField(label="HQ state / province", max_length=2, required=False, help_text="Two letters.")
    country = forms.ChoiceField(label="HQ country", choices=Country.choices)
    lead_partner = forms.ModelChoiceField(queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["lead_partner"]).queryset = User.objects.filter(
            role=Role.PARTNER, is_active=True
        ).order_by("full_name")

    @classmethod
    def initial_for(cls, booking: Booking) -> dict:
        return {
            "name": booking.company,
            "website": booking.website,
            "category": booking.sells[:120].split("\n")[0],
            "country": Country.US,
            "lead_partner": booking.partner_id,
        }


class RescheduleForm(forms.Form):
    """A prospect moving their review: a new slot, picked in their time zone (checked again by the service)."""

    slot = forms.CharField(widget=forms.HiddenInput, error_messages={"required": "Slot: pick a day and a new time."})
    tz = forms.CharField(label="Your time zone", required=False, initial=DEFAULT_VISITOR_TIME_ZONE)

    time_zone_choices = TIME_ZONE_CHOICES

    def clean_tz(self):
        name = (self.cleaned_data.get("tz") or "").strip()
        if name and not is_offered_zone(name):
            raise forms.ValidationError(unknown_zone_message(name))
        return zone_or_default(name).key

    def clean_slot(self):
        parsed = parse_slot_key(self.cleaned_data["slot"])
        if parsed is None:
            raise forms.ValidationError("Slot: pick a day and a new time.")
        return parsed
