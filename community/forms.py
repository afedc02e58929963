"""Forms of the community pages; times are typed in the event's own time zone."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any, cast

from django import forms
from django.utils import timezone

from tmw.accounts.models import TIME_ZONE_CHOICES, Organisation, Role, User
from tmw.directory.models import CA_PROVINCES, US_STATES, ServiceLine
from tmw.web import use_search_select

from . import selectors
from .models import Event, EventQuestion, PitchFeedback

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
FIRST_YEAR, LAST_YEAR = 2000, 2999  # event times, typed; beyond them a time zone can push the date out of range


class LocalDateTimeField(forms.CharField):
    """A wall-clock time (``datetime-local``); the form attaches the event's zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            when = datetime.datetime.fromisoformat(value).replace(tzinfo=None, second=0, microsecond=0)
        except ValueError as exc:
            raise forms.ValidationError("Enter a date and time.") from exc
        if not FIRST_YEAR <= when.year <= LAST_YEAR:
            raise forms.ValidationError(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")
        return when


class EventForm(forms.Form):
    """Create or edit an event; start, end and deadline are read in the event's time zone."""

    kind = forms.ChoiceField(choices=Event.Kind.choices)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, help_text="Where the event happens.")
    starts_at = LocalDateTimeField(label="Starts")
    ends_at = LocalDateTimeField(label="Ends")
    venue = forms.CharField(max_length=300, required=False)
    virtual_link = forms.URLField(required=False, assume_scheme="https")
    capacity = forms.IntegerField(min_value=1, max_value=10000)
    access = forms.ChoiceField(choices=Event.Access.choices)
    host = forms.ModelChoiceField(queryset=User.objects.none(), help_text="The TMW partner who hosts it.")
    rsvp_deadline = LocalDateTimeField(label="RSVP deadline", required=False, help_text="Empty: when it starts.")

    def __init__(self, *args, event: Event | None = None, **kwargs):
        if event is not None and "initial" not in kwargs:
            zone = event.zone
            kwargs["initial"] = {
                "kind": event.kind,
                "title": event.title,
                "description": event.description,
                "time_zone": event.time_zone,
                "starts_at": timezone.localtime(event.starts_at, zone).strftime(LOCAL_FORMAT),
                "ends_at": timezone.localtime(event.ends_at, zone).strftime(LOCAL_FORMAT),
                "venue": event.venue,
                "virtual_link": event.virtual_link,
                "capacity": event.capacity,
                "access": event.access,
                "host": event.host_id,
                "rsvp_deadline": (
                    timezone.localtime(event.rsvp_deadline, zone).strftime(LOCAL_FORMAT) if event.rsvp_deadline else ""
                ),
            }
        super().__init__(*args, **kwargs)
        host_field = cast(forms.ModelChoiceField, self.fields["host"])
        host_field.queryset = User.objects.filter(role__in=[Role.PARTNER, Role.ADMIN], is_active=True).order_by(
            "full_name"
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        zone = zoneinfo.ZoneInfo(data.get("time_zone") or "UTC")
        for name in ("starts_at", "ends_at", "rsvp_deadline"):
            if data.get(name):
                data[name] = data[name].replace(tzinfo=zone)
        return data


class PitchSlotForm(forms.Form):
    vendor = forms.ModelChoiceField(queryset=Organisation.objects.none())
    minutes = forms.IntegerField(min_value=5, max_value=120, initial=15)
    topic = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vendor_field = cast(forms.ModelChoiceField, self.fields["vendor"])
        vendor_field.queryset = Organisation.objects.filter(kind=Organisation.Kind.VENDOR).order_by("name")


REGION_CHOICES = [("", "Any")] + [(r, r) for r in US_STATES] + [(r, r) for r in CA_PROVINCES]


class InviteFilterForm(forms.Form):
    """Filters of the directory contact picker."""

    vendor = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False, label="Tier A of vendor", empty_label="Any"
    )
    region = forms.ChoiceField(choices=REGION_CHOICES, required=False, label="State / province")
    service_line = forms.ChoiceField(choices=[("", "Any"), *ServiceLine.choices], required=False)
    community = forms.BooleanField(required=False, label="Community members only")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vendor_field = cast(forms.ModelChoiceField, self.fields["vendor"])
        vendor_field.queryset = Organisation.objects.filter(kind=Organisation.Kind.VENDOR).order_by("name")


class WalkInForm(forms.Form):
    msp = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="MSP")
    name = forms.CharField(max_length=150)
    email = forms.EmailField()

    def __init__(self, *args, search_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        msp_field = cast(forms.ModelChoiceField, self.fields["msp"])
        msp_field.queryset = selectors.walk_in_msps()
        use_search_select(msp_field, search_url)  # the whole directory: searched, not listed


class RSVPForm(forms.Form):
    """Going or not going: nothing is chosen for the invitee, so sending without a choice is refused."""

    answer = forms.ChoiceField(
        choices=[("going", "Going"), ("not_going", "Not going")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose Going or Not going.",
            "invalid_choice": "Choose Going or Not going.",
        },
    )
    dietary = forms.CharField(max_length=300, required=False, label="Dietary needs")

    def __init__(self, *args, questions: list[EventQuestion] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions or [])
        for question in self.questions:
            label = question.label + ("" if question.required else " (optional)")
            help_text = "Needed if you're going." if question.required else ""
            field: forms.Field
            if question.kind == EventQuestion.Kind.CHOICE:
                # Checked by the service, which names the question: a value not in the list is refused there.
                field = forms.CharField(
                    label=label,
                    required=False,
                    max_length=200,
                    help_text=help_text,
                    widget=forms.Select(choices=[("", "Choose…"), *((c, c) for c in question.choice_list)]),
                )
            else:
                field = forms.CharField(
                    label=label,
                    required=False,
                    max_length=1000,
                    help_text=help_text,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
            self.fields[question.field_name] = field

    def answers(self) -> dict[str, str]:
        """The answers to the event's questions, keyed ``q<id>``, as typed (the service checks them)."""
        return {q.field_name: self.cleaned_data.get(q.field_name) or "" for q in self.questions}

    def question_fields(self):
        return [self[q.field_name] for q in self.questions]


class EventQuestionForm(forms.Form):
    """A partner adds a question to an event's RSVP form."""

    label = forms.CharField(label="Question", max_length=200)
    kind = forms.ChoiceField(choices=EventQuestion.Kind.choices, initial=EventQuestion.Kind.TEXT, label="Answer")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a choice question: one choice per line.",
    )
    required = forms.BooleanField(required=False, label="Required when going")


class EventCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, required=False, label="Reason (in the email)", help_text="e.g. the venue closed."
    )


class CommentField(forms.CharField):
    """Free text whose line breaks count once, as the browser counts them against ``maxlength``."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("\r\n", "\n")
        return super().to_python(value)


COMMENT_MAX = PitchFeedback._meta.get_field("comment").max_length or 2000


class FeedbackForm(forms.Form):
    interest = forms.ChoiceField(
        choices=PitchFeedback.Interest.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how interested you are.", "invalid_choice": "Choose one of the three."},
    )
    comment = CommentField(
        widget=forms.Textarea(attrs={"rows": 3, "data-maxlength-counter": ""}),
        required=False,
        max_length=COMMENT_MAX,
        error_messages={"max_length": "At most %(limit_value)s characters (it has %(show_value)s)."},
        help_text=f"Up to {COMMENT_MAX:,} characters.",
    )
    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
