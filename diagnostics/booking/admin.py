"""Admin pages for availability windows, blocked days and channel-review bookings."""

from django.contrib import admin

from .models import AvailabilityWindow, BlackoutDate, Booking


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(admin.ModelAdmin):
    list_display = ["partner", "weekday", "start_time", "end_time", "active"]
    list_filter = ["weekday", "active", "partner"]
    list_select_related = ["partner"]


@admin.register(BlackoutDate)
class BlackoutDateAdmin(admin.ModelAdmin):
    list_display = ["partner", "date", "reason"]
    list_filter = ["partner"]
    list_select_related = ["partner"]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "company", "contact_name", "email", "partner", "status", "vendor"]
    list_filter = ["status", "partner"]
    search_fields = ["company", "contact_name", "email"]
    list_select_related = ["partner", "vendor"]
    date_hierarchy = "starts_at"
    readonly_fields = ["created_at", "cancelled_at", "converted_at"]
