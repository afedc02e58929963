"""The FilterSets of Phase Two desks: the pipeline's (shared by its list page and the API) and the API lists'.

Ids in filters are whole numbers a database row can have; anything else (``-9.83e+34``,
``1.5``, a number past 64 bits) is a 400 naming the field, never a query.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from tmw.web import MAX_ID, bounded_int

from .models import Activity, Attribution, Milestone, NextStep, Opportunity


class IdField(forms.IntegerField):
    """A row id: a whole number from 1 to the largest 64-bit integer."""

    default_error_messages = {"invalid": "Enter a whole number id."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_python(self, value):
        # IntegerField reads "1e3" and "2.0" as numbers; an id is digits only.
        if value not in self.empty_values and bounded_int(str(value), minimum=0) is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IdFilter(django_filters.Filter):
    """Filter on a foreign key by its id, bounded (see ``IdField``)."""

    field_class = IdField


TIER_CHOICES = [("A", "Tier A"), ("B", "Tier B"), ("C", "Tier C"), ("none", "Not on the target list")]


class OpportunityFilterSet(django_filters.FilterSet):
    """Filter opportunities by stage, source, target-list tier, engagement and MSP name."""

    q = django_filters.CharFilter(method="search", label="Search")
    stage = django_filters.ChoiceFilter(choices=Opportunity.Stage.choices, empty_label="Any stage")
    source = django_filters.ChoiceFilter(choices=Opportunity.Source.choices, empty_label="Any source")
    tier = django_filters.ChoiceFilter(choices=TIER_CHOICES, method="by_tier", label="Tier", empty_label="Any tier")
    engagement = IdFilter(field_name="engagement_id")

    class Meta:
        model = Opportunity
        fields = ["q", "stage", "source", "tier", "engagement"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(msp__name__icontains=value) | Q(msp__city__icontains=value) | Q(source_detail__icontains=value)
        )

    def by_tier(self, queryset, name, value):
        """Needs the ``tier`` annotation of ``selectors.opportunities_for``."""
        if value == "none":
            return queryset.filter(tier__isnull=True)
        return queryset.filter(tier=value)


class MilestoneFilterSet(django_filters.FilterSet):
    """Milestones of one engagement, by status."""

    engagement = IdFilter(field_name="engagement_id")

    class Meta:
        model = Milestone
        fields = ["engagement", "status"]


class ActivityFilterSet(django_filters.FilterSet):
    """Activities of one engagement, by kind."""

    engagement = IdFilter(field_name="engagement_id")

    class Meta:
        model = Activity
        fields = ["engagement", "kind"]


class AttributionFilterSet(django_filters.FilterSet):
    """Attributions of one engagement."""

    engagement = IdFilter(field_name="engagement_id")

    class Meta:
        model = Attribution
        fields = ["engagement"]


class NextStepFilterSet(django_filters.FilterSet):
    """Next steps of one engagement, opportunity or owner; ``done`` true or false."""

    engagement = IdFilter(field_name="engagement_id")
    opportunity = IdFilter(field_name="opportunity_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = NextStep
        fields = ["engagement", "opportunity", "owner", "done"]
