"""Admin for rubrics, diagnostics, ideal-partner profiles and target lists (operators only; pages are the main
way to work)."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    ChannelThesis,
    Criterion,
    CriterionScore,
    Decision,
    Diagnostic,
    IdealPartnerProfile,
    RubricVersion,
    TargetEntry,
    TargetList,
)


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ["order", "group", "key", "title", "weight", "is_gate", "gate_min_level"]


@admin.register(RubricVersion)
class RubricVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "created_at", "created_by"]
    inlines = [CriterionInline]
    readonly_fields = ["created_at"]


class CriterionScoreInline(admin.TabularInline):
    model = CriterionScore
    extra = 0
    fields = ["criterion", "level", "evidence", "scored_by"]
    raw_id_fields = ["criterion", "scored_by"]


@admin.register(Diagnostic)
class DiagnosticAdmin(admin.ModelAdmin):
    list_display = ["vendor", "status", "lead_partner", "started_on", "due_on", "rubric"]
    list_filter = ["status"]
    search_fields = ["vendor__name"]
    list_select_related = ["vendor", "lead_partner", "rubric"]
    inlines = [CriterionScoreInline]


@admin.register(ChannelThesis)
class ChannelThesisAdmin(admin.ModelAdmin):
    list_display = ["diagnostic", "updated_at"]
    list_select_related = ["diagnostic__vendor"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["diagnostic", "outcome", "recommended_option", "option", "decided_at"]
    list_filter = ["outcome", "option"]
    list_select_related = ["diagnostic__vendor"]


@admin.register(IdealPartnerProfile)
class IdealPartnerProfileAdmin(admin.ModelAdmin):
    list_display = ["diagnostic", "pe_preference", "updated_at"]
    list_select_related = ["diagnostic__vendor"]


class TargetEntryInline(admin.TabularInline):
    model = TargetEntry
    extra = 0
    can_delete = False
    fields = ["rank", "msp_name", "score", "tier", "pinned", "excluded", "reason", "movement"]
    readonly_fields = ["rank", "msp_name", "score", "tier", "pinned", "excluded", "reason", "movement"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TargetList)
class TargetListAdmin(admin.ModelAdmin):
    list_display = ["diagnostic", "number", "created_at", "created_by", "scored_count"]
    list_select_related = ["diagnostic__vendor", "created_by"]
    readonly_fields = [
        "diagnostic",
        "number",
        "created_at",
        "created_by",
        "profile_snapshot",
        "scored_count",
        "dropped",
    ]
    inlines = [TargetEntryInline]
