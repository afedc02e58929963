"""One FilterSet for the MSP directory, shared by the page and the API list."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone

from tmw.accounts.models import Country

from .models import REGIONS, MSPProfile, PSATool, RMMTool, ServiceLine, Vertical, stale_after

SIZE_BANDS = {
    "small": ("Under 25 staff", None, 24),
    "mid": ("25–100 staff", 25, 100),
    "large": ("Over 100 staff", 101, None),
}
YES_NO = [("yes", "Yes"), ("no", "No")]
REGION_CHOICES = [(code, code) for country in ("US", "CA") for code in REGIONS[country]]


class MSPFilterSet(django_filters.FilterSet):
    """Search and filters of the MSP directory: text, place, verticals, services, stack, ownership, size."""

    q = django_filters.CharFilter(method="search", label="Search")
    country = django_filters.ChoiceFilter(choices=Country.choices, empty_label="Any country")
    region = django_filters.ChoiceFilter(choices=REGION_CHOICES, label="State / province", empty_label="Any")
    vertical = django_filters.ChoiceFilter(
        choices=Vertical.choices, method="has_tag", label="Vertical", empty_label="Any vertical"
    )
    service = django_filters.ChoiceFilter(
        choices=ServiceLine.choices, method="has_tag", label="Service line", empty_label="Any service"
    )
    psa = django_filters.ChoiceFilter(choices=PSATool.choices, method="has_tag", label="PSA", empty_label="Any PSA")
    rmm = django_filters.ChoiceFilter(choices=RMMTool.choices, method="has_tag", label="RMM", empty_label="Any RMM")
    pe = django_filters.ChoiceFilter(choices=YES_NO, method="yes_no", label="PE-backed", empty_label="PE: any")
    community = django_filters.ChoiceFilter(
        choices=YES_NO, method="yes_no", label="Community member", empty_label="Community: any"
    )
    size = django_filters.ChoiceFilter(
        choices=[(k, v[0]) for k, v in SIZE_BANDS.items()], method="size_band", label="Size", empty_label="Any size"
    )
    confirmed = django_filters.ChoiceFilter(
        choices=[("current", "Confirmed lately"), ("stale", "Stale or never confirmed")],
        method="freshness",
        label="Confirmed",
        empty_label="Confirmed: any",
    )

    TAG_FIELDS = {"vertical": "verticals", "service": "service_lines", "psa": "psa_tools", "rmm": "rmm_tools"}
    BOOL_FIELDS = {"pe": "pe_backed", "community": "community_member"}

    class Meta:
        model = MSPProfile
        fields = ["q", "country", "region", "vertical", "service", "psa", "rmm", "pe", "community", "size", "confirmed"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(legal_name__icontains=value) | Q(city__icontains=value) | Q(website__icontains=value))

    def has_tag(self, queryset, name, value):
        return queryset.filter(tag_index__contains=MSPProfile.tag(self.TAG_FIELDS[name], value))

    def yes_no(self, queryset, name, value):
        return queryset.filter(**{self.BOOL_FIELDS[name]: value == "yes"})

    def size_band(self, queryset, name, value):
        _label, low, high = SIZE_BANDS[value]
        if low is not None:
            queryset = queryset.filter(employees__gte=low)
        if high is not None:
            queryset = queryset.filter(employees__lte=high)
        return queryset

    def freshness(self, queryset, name, value):
        fresh = Q(confirmed_at__gte=timezone.now() - stale_after())
        return queryset.filter(fresh) if value == "current" else queryset.exclude(fresh)
