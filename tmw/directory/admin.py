"""Admin pages of the MSP directory (operators only)."""

from django.contrib import admin

from .models import MSPContact, MSPProfile


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
