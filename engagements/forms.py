"""Forms of the engagements pages; they carry no business rules (the services do)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone

from tmw.accounts.models import Organisation, Role, User
from tmw.web import QuickSelect, use_search_select

from .models import Activity, DisputeOutcome, Engagement, Milestone, Opportunity, TeamMember


class DateInput(forms.DateInput):
    input_type = "date"


class EngagementCreateForm(forms.Form):
    """Propose an engagement for a vendor, optionally from its go diagnostic."""

    vendor = forms.ModelChoiceField(queryset=Organisation.objects.filter(kind=Organisation.Kind.VENDOR))
    diagnostic: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, help_text="A diagnostic decided go."
    )
    option = forms.ChoiceField(choices=Engagement.Option.choices)
    lead_partner = forms.ModelChoiceField(queryset=User.objects.filter(role=Role.PARTNER, is_active=True))
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from diagnostics.models import Diagnostic

        diagnostic_field = cast(forms.ModelChoiceField, self.fields["diagnostic"])
        diagnostic_field.queryset = Diagnostic.objects.filter(
            decision__outcome__in=["go", "go_with_conditions"]
        ).select_related("vendor", "decision")


class TransitionForm(forms.Form):
    """Move an engagement to another status on a day, with a reason for a termination."""

    status = forms.ChoiceField(choices=Engagement.Status.choices)
    on = forms.DateField(widget=DateInput, required=False)
    reason = forms.CharField(required=False, max_length=500)


class TeamMemberForm(forms.Form):
    """Add TMW desk staff (Option B) or a vendor contact."""

    side = forms.ChoiceField(choices=TeamMember.Side.choices)
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(role__in=[Role.PARTNER, Role.FINANCE, Role.ADMIN], is_active=True),
        required=False,
        label="TMW person",
    )
    role = forms.ChoiceField(choices=TeamMember.Role.choices, initial=TeamMember.Role.CHANNEL_ACCOUNT_MANAGER)
    allocation_percent = forms.IntegerField(min_value=1, max_value=100, required=False, label="Allocation %")
    name = forms.CharField(required=False, max_length=150)
    title = forms.CharField(required=False, max_length=150)
    email = forms.EmailField(required=False)
    phone = forms.CharField(required=False, max_length=40)


class MilestoneForm(forms.Form):
    """Change a milestone's status or due date."""

    status = forms.ChoiceField(choices=Milestone.Status.choices)
    due_on = forms.DateField(widget=DateInput, required=False)


class OpportunityAddForm(forms.Form):
    """Put an MSP in the pipeline; vendor users only add vendor-sourced opportunities."""

    msp = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="MSP")
    source = forms.ChoiceField(choices=Opportunity.Source.choices, initial=Opportunity.Source.TMW)
    stage = forms.ChoiceField(
        choices=[c for c in Opportunity.Stage.choices if c[0] != Opportunity.Stage.LOST],
        initial=Opportunity.Stage.TARGET,
    )
    expected_mrr = forms.DecimalField(
        label="Expected MRR ($)", min_value=0, max_digits=12, decimal_places=2, required=False
    )
    source_detail = forms.CharField(required=False, max_length=200, label="Source detail")

    def __init__(self, *args, msp_queryset=None, search_url: str = "", vendor_user: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        msp_field = cast(forms.ModelChoiceField, self.fields["msp"])
        if msp_queryset is not None:
            msp_field.queryset = msp_queryset
        use_search_select(msp_field, search_url)  # up to the whole directory: searched, not listed
        if vendor_user:
            del self.fields["source"]


class MoveForm(forms.Form):
    """Move an opportunity to a stage (a lost one needs a reason)."""

    stage = forms.ChoiceField(choices=Opportunity.Stage.choices)
    lost_reason = forms.CharField(required=False, max_length=300)
    on = forms.DateField(widget=DateInput, required=False, help_text="Partners may record the day it happened.")


class AttributionAddForm(forms.Form):
    """A partner attributes an MSP account to the engagement, with a reason."""

    msp = forms.ModelChoiceField(queryset=Organisation.objects.none(), label="MSP")
    starts_on = forms.DateField(widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, msp_queryset=None, search_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        msp_field = cast(forms.ModelChoiceField, self.fields["msp"])
        if msp_queryset is not None:
            msp_field.queryset = msp_queryset
        use_search_select(msp_field, search_url)  # up to the whole directory: searched, not listed


class AttributionEndForm(forms.Form):
    """A partner ends an attribution from a day, with a reason."""

    ended_on = forms.DateField(widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(max_length=500)


class ActivityForm(forms.Form):
    """Log an introduction, meeting, pitch appearance or note."""

    kind = forms.ChoiceField(choices=Activity.Kind.choices)
    visibility = forms.ChoiceField(choices=Activity.Visibility.choices)
    occurred_on = forms.DateField(widget=DateInput, initial=timezone.localdate)
    summary = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class OpportunityEditForm(forms.Form):
    """Change an opportunity's expected MRR, source detail or expected close date."""

    expected_mrr = forms.DecimalField(label="Expected MRR ($)", min_value=0, max_digits=12, decimal_places=2)
    source_detail = forms.CharField(required=False, max_length=200, label="Source detail")
    expected_close_on = forms.DateField(widget=DateInput, required=False, label="Expected close date")


class AttributionDisputeForm(forms.Form):
    """The vendor disputes an attribution, with a reason."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Why TMW did not source this account"
    )


class AttributionResolveForm(forms.Form):
    """A partner resolves a dispute: kept, or ended from a date, with a reason."""

    outcome = forms.ChoiceField(choices=DisputeOutcome.choices)
    ended_on = forms.DateField(widget=DateInput, required=False, label="Ended on", help_text="When ending it.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class StageProbabilityForm(forms.Form):
    """The desk's probability in percent per stage (lost is always 0)."""

    def __init__(self, *args, engagement: Engagement, **kwargs):
        super().__init__(*args, **kwargs)
        probabilities = engagement.probabilities
        for stage, label in Opportunity.Stage.choices:
            if stage == Opportunity.Stage.LOST:
                continue
            # Integer-looking text: the service checks 0-100 and names the stage.
            self.fields[stage] = forms.CharField(
                label=f"{label} %", initial=probabilities.get(stage, 0), max_length=5, required=True
            )
            self.fields[stage].widget.attrs.update({"inputmode": "numeric", "size": 4})


def _msp_name(opportunity) -> str:
    return opportunity.msp.name


class NextStepForm(forms.Form):
    """Add a next step: title, TMW owner, due date, on the engagement or one of its opportunities."""

    title = forms.CharField(max_length=200)
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(role__in=[Role.PARTNER, Role.ADMIN, Role.FINANCE], is_active=True).order_by(
            "full_name"
        )
    )
    due_on = forms.DateField(widget=DateInput, label="Due date", initial=timezone.localdate)
    # Every opportunity of the desk (a few hundred on a large one): options written in one pass.
    opportunity = forms.ModelChoiceField(
        queryset=Opportunity.objects.none(), required=False, label="Opportunity", widget=QuickSelect
    )

    def __init__(self, *args, engagement: Engagement | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["opportunity"])
        if engagement is not None:
            field.queryset = (
                Opportunity.objects.filter(engagement=engagement).select_related("msp").order_by("msp__name")
            )
        field.label_from_instance = _msp_name  # type: ignore[method-assign,assignment]
