"""One FilterSet for the pipeline, shared by the opportunity list page and the API list."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from .models import Opportunity

TIER_CHOICES = [("A", "Tier A"), ("B", "Tier B"), ("C", "Tier C"), ("none", "Not on the target list")]


class OpportunityFilterSet(django_filters.FilterSet):
    """Filter opportunities by stage, source, target-list tier, engagement and MSP name."""

    q = django_filters.CharFilter(method="search", label="Search")
    stage = django_filters.ChoiceFilter(choices=Opportunity.Stage.choices, empty_label="Any stage")
    source = django_filters.ChoiceFilter(choices=Opportunity.Source.choices, empty_label="Any source")
    tier = django_filters.ChoiceFilter(choices=TIER_CHOICES, method="by_tier", label="Tier", empty_label="Any tier")
    engagement = django_filters.NumberFilter(field_name="engagement_id")

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
