"""Forms of the diagnostic, ideal-partner profile and target-list pages; business rules stay in services."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.text import slugify

from tmw.accounts.models import Country, Organisation, Role, User
from tmw.directory.forms import REGION_CHOICES, checkboxes
from tmw.directory.models import PSATool, RMMTool, ServiceLine, Vertical

from .models import ChannelThesis, Criterion, Decision, IdealPartnerProfile
from .models.core import MAX_LEVEL
from .models.targeting import FACTORS

LEVEL_CHOICES = [(i, str(i)) for i in range(MAX_LEVEL + 1)]


def _partners():
    return User.objects.filter(role=Role.PARTNER, is_active=True).order_by("full_name", "email")


class DiagnosticStartForm(forms.Form):
    vendor = forms.ModelChoiceField(queryset=Organisation.objects.none())
    lead_partner = forms.ModelChoiceField(queryset=User.objects.none(), label="Lead partner")
    started_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["vendor"]).queryset = Organisation.objects.filter(
            kind=Organisation.Kind.VENDOR
        ).order_by("name")
        cast(forms.ModelChoiceField, self.fields["lead_partner"]).queryset = _partners()


class DiagnosticSettingsForm(forms.Form):
    lead_partner = forms.ModelChoiceField(queryset=User.objects.none(), label="Lead partner")
    due_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Due on")
    has_us_sales = forms.BooleanField(required=False, label="US sales team")
    has_us_marketing = forms.BooleanField(required=False, label="US marketing team")
    has_us_channel = forms.BooleanField(required=False, label="US channel team")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["lead_partner"]).queryset = _partners()


class ScoreForm(forms.Form):
    level = forms.TypedChoiceField(choices=LEVEL_CHOICES, coerce=int)
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)


class ThesisForm(forms.ModelForm):
    class Meta:
        model = ChannelThesis
        fields = list(ChannelThesis.FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in ChannelThesis.FIELDS}


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    conditions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    gate_override_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Reason to override a failed gate"
    )
    option = forms.ChoiceField(choices=Decision.Option.choices, label="Phase Two option")
    option_override_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Reason to override the recommended option"
    )


class CriterionEditForm(forms.Form):
    """One criterion of the rubric editor (the blank extra form adds a criterion)."""

    key = forms.SlugField(widget=forms.HiddenInput, required=False)
    group = forms.ChoiceField(choices=[("", "—"), *Criterion.Group.choices])
    title = forms.CharField(max_length=160)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    weight = forms.DecimalField(min_value=0, max_digits=5, decimal_places=2)
    is_gate = forms.BooleanField(required=False, label="Gate")
    gate_min_level = forms.IntegerField(min_value=0, max_value=MAX_LEVEL, required=False, label="Gate minimum")
    level_0 = forms.CharField(max_length=500, label="0")
    level_1 = forms.CharField(max_length=500, label="1")
    level_2 = forms.CharField(max_length=500, label="2")
    level_3 = forms.CharField(max_length=500, label="3")
    level_4 = forms.CharField(max_length=500, label="4")
    level_5 = forms.CharField(max_length=500, label="5")

    @classmethod
    def initial_for(cls, criterion: Criterion) -> dict:
        data = {
            "key": criterion.key,
            "group": criterion.group,
            "title": criterion.title,
            "description": criterion.description,
            "weight": criterion.weight,
            "is_gate": criterion.is_gate,
            "gate_min_level": criterion.gate_min_level,
        }
        for i, text in enumerate(criterion.levels[: MAX_LEVEL + 1]):
            data[f"level_{i}"] = text
        return data

    def criterion_values(self) -> dict:
        d = self.cleaned_data
        return {
            "key": d["key"] or slugify(d["title"])[:60],
            "group": d["group"],
            "title": d["title"],
            "description": d["description"],
            "weight": d["weight"],
            "is_gate": d["is_gate"],
            "gate_min_level": d.get("gate_min_level") or 0,
            "levels": [d[f"level_{i}"] for i in range(MAX_LEVEL + 1)],
        }


CriterionFormSet = forms.formset_factory(CriterionEditForm, extra=1, can_delete=True)


class RubricNotesForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="What changed", max_length=2000)


class IdealPartnerProfileForm(forms.ModelForm):
    """The ideal partner of a diagnostic and the weight of each factor."""

    countries = checkboxes(Country.choices, "Target countries")
    regions = forms.MultipleChoiceField(
        choices=REGION_CHOICES,
        required=False,
        label="Target states / provinces",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Leave empty to target whole countries. Hold Ctrl / ⌘ to pick several.",
    )
    verticals = checkboxes(Vertical.choices, "Target verticals")
    required_service_lines = checkboxes(ServiceLine.choices, "Required service lines")
    preferred_service_lines = checkboxes(ServiceLine.choices, "Preferred service lines")
    psa_integrations = checkboxes(PSATool.choices, "PSA tools the product integrates with")
    rmm_integrations = checkboxes(RMMTool.choices, "RMM tools the product integrates with")

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
