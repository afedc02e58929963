"""Admin pages of the MSP directory, ideal-partner profiles and target lists (operators only)."""

from django.contrib import admin

from diagnostics.models import IdealPartnerProfile, MSPContact, MSPProfile, TargetEntry, TargetList


class MSPContactInline(admin.TabularInline):
    model = MSPContact
    extra = 0


@admin.register(MSPProfile)
class MSPProfileAdmin(admin.ModelAdmin):
    list_display = [
        "legal_name",
        "city",
        "region",
        "country",
        "employees",
        "technicians",
        "pe_backed",
        "community_member",
    ]
    list_filter = ["country", "pe_backed", "community_member", "relationship"]
    search_fields = ["legal_name", "city", "website"]
    readonly_fields = ["tag_index", "created_at", "updated_at"]
    inlines = [MSPContactInline]


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
