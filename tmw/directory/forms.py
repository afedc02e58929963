"""Forms of the MSP directory and its CSV import."""

from __future__ import annotations

from django import forms

from .imports import MAX_BYTES
from .models import (
    CONTACT_FIELDS,
    PROFILE_FIELDS,
    REGION_NAMES,
    REGIONS,
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


class ImportUploadForm(forms.Form):
    """The CSV file to import."""

    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV, at most {MAX_BYTES // (1024 * 1024)} MB and 5,000 rows. Required columns: "
        "legal_name, city, region, country. Lists (verticals, service_lines, psa_tools, rmm_tools) "
        "are separated by semicolons.",
    )
