"""Admin for Phase Two desks: plan templates are edited here; the rest is for looking things up.

The fields that drive billing (an engagement's status and dates, an attribution's start and
end, an opportunity's stage and its dates) are read-only here: the desk pages change them
through the services, which keep the rules, the history and the audit trail.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import (
    Activity,
    Attribution,
    Engagement,
    Milestone,
    Opportunity,
    OpportunityStageChange,
    PlanTemplate,
    PlanTemplateItem,
    TeamMember,
)


class PlanTemplateItemInline(admin.TabularInline):
    model = PlanTemplateItem
    extra = 1
    fields = ["order", "workstream", "title", "owner_role", "offset_days"]


@admin.register(PlanTemplate)
class PlanTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "option", "is_active", "created_at"]
    list_filter = ["option", "is_active"]
    inlines = [PlanTemplateItemInline]


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    fields = ["side", "user", "name", "title", "email", "role", "allocation_percent"]
    raw_id_fields = ["user"]


ENGAGEMENT_BILLING_FIELDS = ("status", "start_date", "end_date", "terminated_on")
ATTRIBUTION_BILLING_FIELDS = ("starts_on", "ended_on", "end_reason")
# Set through the services (the agreement page, the desk page, the vendor portal), which audit them.
ENGAGEMENT_DESK_FIELDS = ("acknowledgement_days", "stage_probabilities")
ATTRIBUTION_REVIEW_FIELDS = (
    "acknowledgement",
    "acknowledge_by",
    "acknowledged_at",
    "acknowledged_by",
    "dispute_reason",
    "disputed_at",
    "disputed_by",
    "resolution_reason",
    "resolved_at",
    "resolved_by",
)
OPPORTUNITY_STAGE_FIELDS = ("stage", "introduced_on", "signed_on", "live_on", "lost_on", "lost_reason")


def _desk_link(engagement_id: int | None, anchor: str = "") -> str:
    if engagement_id is None:
        return "Saved first; then change it on the desk page."
    url = reverse("engagements:engagement_detail", args=[engagement_id]) + anchor
    return format_html('Change these on <a href="{}">the desk page</a>; they drive billing.', url)


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["vendor", "option", "status", "lead_partner", "start_date", "end_date", "terminated_on"]
    list_filter = ["option", "status"]
    search_fields = ["vendor__name"]
    list_select_related = ["vendor", "lead_partner"]
    raw_id_fields = ["vendor", "diagnostic", "lead_partner"]
    readonly_fields = [*ENGAGEMENT_BILLING_FIELDS, *ENGAGEMENT_DESK_FIELDS, "where_to_change_dates"]
    inlines = [TeamMemberInline]

    @admin.display(description="Status and dates")
    def where_to_change_dates(self, obj: Engagement | None) -> str:
        return _desk_link(obj.pk if obj is not None else None)


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["title", "engagement", "workstream", "due_on", "status"]
    list_filter = ["status"]
    list_select_related = ["engagement__vendor", "workstream"]
    raw_id_fields = ["engagement", "workstream", "owner"]


STAGE_CHANGE_FIELDS = ("changed_on", "from_stage", "to_stage", "changed_by", "note")


class StageChangeInline(admin.TabularInline):
    model = OpportunityStageChange
    extra = 0
    fields = STAGE_CHANGE_FIELDS
    readonly_fields = STAGE_CHANGE_FIELDS
    can_delete = False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["msp", "vendor", "stage", "source", "expected_mrr", "signed_on"]
    list_filter = ["stage", "source"]
    search_fields = ["msp__name", "vendor__name"]
    list_select_related = ["msp", "vendor"]
    raw_id_fields = ["engagement", "msp", "created_by"]
    readonly_fields = [*OPPORTUNITY_STAGE_FIELDS, "where_to_move"]
    inlines = [StageChangeInline]

    @admin.display(description="Stage and dates")
    def where_to_move(self, obj: Opportunity | None) -> str:
        if obj is None or obj.pk is None:
            return "Add opportunities on the desk's pipeline page."
        url = reverse("engagements:opportunity_detail", args=[obj.pk])
        return format_html('Move it on <a href="{}">the opportunity page</a>; signing drives attribution.', url)


@admin.register(Attribution)
class AttributionAdmin(admin.ModelAdmin):
    list_display = ["msp", "vendor", "starts_on", "ended_on"]
    list_select_related = ["msp", "vendor"]
    raw_id_fields = ["engagement", "msp", "opportunity", "created_by"]
    readonly_fields = [*ATTRIBUTION_BILLING_FIELDS, *ATTRIBUTION_REVIEW_FIELDS, "where_to_change_dates"]

    @admin.display(description="Start and end")
    def where_to_change_dates(self, obj: Attribution | None) -> str:
        return _desk_link(obj.engagement_id if obj is not None else None, "#attributions")

    def has_add_permission(self, request) -> bool:
        return False  # attributions are added on the desk page (with the day they start)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["summary", "engagement", "kind", "visibility", "occurred_on"]
    list_filter = ["kind", "visibility"]
    list_select_related = ["engagement__vendor"]
    raw_id_fields = ["engagement", "msp", "opportunity", "created_by"]
