"""Forms of the MSP directory, the CSV import and the ideal-partner profile."""

from __future__ import annotations

from django import forms

from diagnostics.models import IdealPartnerProfile, MSPContact, MSPProfile
from diagnostics.models.directory import REGION_NAMES, REGIONS, PSATool, RMMTool, ServiceLine, Vertical
from diagnostics.models.targeting import FACTORS
from tmw.accounts.models import Country

from .imports import MAX_BYTES
from .services import PROFILE_FIELDS


def _checkboxes(choices, label: str, required: bool = False) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, label=label, required=required, widget=forms.CheckboxSelectMultiple
    )


REGION_CHOICES = [
    ("United States", [(c, c) for c in REGIONS["US"]]),
    ("Canada", [(c, REGION_NAMES.get(c, c)) for c in REGIONS["CA"]]),
]


class MSPProfileForm(forms.ModelForm):
    """An MSP's directory profile."""

    verticals = _checkboxes(Vertical.choices, "Verticals served")
    service_lines = _checkboxes(ServiceLine.choices, "Service lines")
    psa_tools = _checkboxes(PSATool.choices, "PSA tools")
    rmm_tools = _checkboxes(RMMTool.choices, "RMM tools")
    region = forms.ChoiceField(choices=[("", "—")] + REGION_CHOICES, label="State / province")

    class Meta:
        model = MSPProfile
        fields = list(PROFILE_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class MSPContactForm(forms.ModelForm):
    """A person at an MSP."""

    class Meta:
        model = MSPContact
        fields = ["name", "title", "email", "phone", "is_primary"]


class ImportUploadForm(forms.Form):
    """The CSV file to import."""

    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV, at most {MAX_BYTES // (1024 * 1024)} MB and 5,000 rows. Required columns: "
        "legal_name, city, region, country. Lists (verticals, service_lines, psa_tools, rmm_tools) "
        "are separated by semicolons.",
    )


class IdealPartnerProfileForm(forms.ModelForm):
    """The ideal partner of a diagnostic and the weight of each factor."""

    countries = _checkboxes(Country.choices, "Target countries")
    regions = forms.MultipleChoiceField(
        choices=REGION_CHOICES,
        required=False,
        label="Target states / provinces",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Leave empty to target whole countries. Hold Ctrl / ⌘ to pick several.",
    )
    verticals = _checkboxes(Vertical.choices, "Target verticals")
    required_service_lines = _checkboxes(ServiceLine.choices, "Required service lines")
    preferred_service_lines = _checkboxes(ServiceLine.choices, "Preferred service lines")
    psa_integrations = _checkboxes(PSATool.choices, "PSA tools the product integrates with")
    rmm_integrations = _checkboxes(RMMTool.choices, "RMM tools the product integrates with")

    class Meta:
        model = IdealPartnerProfile
        fields = [
            "countries",
            "regions",
            "min_employees",
            "max_employees",
            "min_technicians",
            "max_technicians",
            "min_endpoints",
            "max_endpoints",
            "verticals",
            "required_service_lines",
            "preferred_service_lines",
            "psa_integrations",
            "rmm_integrations",
            "pe_preference",
            *(f"weight_{factor}" for factor in FACTORS),
        ]


class EntryFlagForm(forms.Form):
    """Pin, exclude or clear an MSP on a target list."""

    action = forms.ChoiceField(choices=[("pin", "Pin"), ("exclude", "Exclude"), ("clear", "Clear")])
    reason = forms.CharField(max_length=300, required=False)
