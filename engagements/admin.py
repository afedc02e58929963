"""Admin for Phase Two desks: plan templates are edited here; the rest is for looking things up."""

from __future__ import annotations

from django.contrib import admin

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


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["vendor", "option", "status", "lead_partner", "start_date", "end_date", "terminated_on"]
    list_filter = ["option", "status"]
    search_fields = ["vendor__name"]
    list_select_related = ["vendor", "lead_partner"]
    raw_id_fields = ["vendor", "diagnostic", "lead_partner"]
    inlines = [TeamMemberInline]


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
    inlines = [StageChangeInline]


@admin.register(Attribution)
class AttributionAdmin(admin.ModelAdmin):
    list_display = ["msp", "vendor", "starts_on", "ended_on"]
    list_select_related = ["msp", "vendor"]
    raw_id_fields = ["engagement", "msp", "opportunity", "created_by"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["summary", "engagement", "kind", "visibility", "occurred_on"]
    list_filter = ["kind", "visibility"]
    list_select_related = ["engagement__vendor"]
    raw_id_fields = ["engagement", "msp", "opportunity", "created_by"]
