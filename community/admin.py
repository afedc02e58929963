"""Admin for community events (operators only; the pages are the main way to work)."""

from __future__ import annotations

from django.contrib import admin

from .models import RSVP, Event, EventInvitation, PitchFeedback, PitchSlot


class PitchSlotInline(admin.TabularInline):
    model = PitchSlot
    extra = 0
    fields = ["order", "vendor", "minutes", "topic"]
    raw_id_fields = ["vendor"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "starts_at", "time_zone", "capacity", "access", "host"]
    list_filter = ["kind", "access"]
    search_fields = ["title", "venue"]
    inlines = [PitchSlotInline]
    raw_id_fields = ["host"]


@admin.register(EventInvitation)
class EventInvitationAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "msp", "event", "sent_at", "walk_in"]
    search_fields = ["name", "email"]
    raw_id_fields = ["event", "msp", "contact", "invited_by"]


@admin.register(RSVP)
class RSVPAdmin(admin.ModelAdmin):
    list_display = ["invitation", "status", "waitlist_position", "attendance", "responded_at"]
    list_filter = ["status", "attendance"]
    raw_id_fields = ["invitation", "event", "msp"]


@admin.register(PitchFeedback)
class PitchFeedbackAdmin(admin.ModelAdmin):
    list_display = ["pitch_slot", "rsvp", "interest", "opportunity", "created_at"]
    list_filter = ["interest"]
    raw_id_fields = ["rsvp", "pitch_slot", "opportunity"]
