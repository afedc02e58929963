"""Forms of the MSP directory and its CSV import."""

from __future__ import annotations

from django import forms

from .imports import MAX_BYTES
from .models import (
    CONTACT_FIELDS,
    MAX_SELF_SERVICE_CONTACTS,
    PROFILE_FIELDS,
    REGION_NAMES,
    REGIONS,
    SELF_SERVICE_FIELDS,
    MSPContact,
    MSPProfile,
    PSATool,
    RMMTool,
    ServiceLine,
    Vertical,
)


def checkboxes(choices, label: str, required: bool = False) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, label=label, required=required, widget=forms.CheckboxSelectMultiple
    )


REGION_CHOICES = [
    ("United States", [(c, c) for c in REGIONS["US"]]),
    ("Canada", [(c, REGION_NAMES.get(c, c)) for c in REGIONS["CA"]]),
]


class MSPProfileForm(forms.ModelForm):
    """An MSP's directory profile."""

    verticals = checkboxes(Vertical.choices, "Verticals served")
    service_lines = checkboxes(ServiceLine.choices, "Service lines")
    psa_tools = checkboxes(PSATool.choices, "PSA tools")
    rmm_tools = checkboxes(RMMTool.choices, "RMM tools")
    region = forms.ChoiceField(choices=[("", "—"), *REGION_CHOICES], label="State / province")

    class Meta:
        model = MSPProfile
        fields = list(PROFILE_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class MSPContactForm(forms.ModelForm):
    """A person at an MSP."""

    class Meta:
        model = MSPContact
        fields = list(CONTACT_FIELDS)


class MSPSelfProfileForm(MSPProfileForm):
    """What an MSP keeps up to date itself; TMW reviews it before the directory changes."""

    note = forms.CharField(
        label="Note to TMW",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "data-maxlength-counter": ""}),
        help_text="Optional: what changed and why (an acquisition, a new service line, ...).",
    )

    class Meta(MSPProfileForm.Meta):
        fields = list(SELF_SERVICE_FIELDS)


class SelfContactForm(forms.Form):
    """One person at the MSP; a row left blank is dropped."""

    name = forms.CharField(max_length=150, required=False)
    title = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    is_primary = forms.BooleanField(label="Primary", required=False)

    def clean(self):
        data = super().clean() or {}
        if any(data.get(k) for k in ("title", "email", "phone")) and not data.get("name"):
            self.add_error("name", "Give the person's name.")
        return data


SelfContactFormSet = forms.formset_factory(
    SelfContactForm,
    extra=1,
    max_num=MAX_SELF_SERVICE_CONTACTS,
    validate_max=True,
    absolute_max=MAX_SELF_SERVICE_CONTACTS,
)


class ReviewRejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="The MSP reads this in an email."
    )


class ImportUploadForm(forms.Form):
    """The CSV file to import."""

    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV, at most {MAX_BYTES // (1024 * 1024)} MB and 5,000 rows. Required columns: "
        "legal_name, city, region, country. Lists (verticals, service_lines, psa_tools, rmm_tools) "
        "are separated by semicolons.",
    )
