"""Pages of the community app: partners' events and check-in, the MSP portal, signed RSVP links, vendors' pitches."""

from django.urls import path

from tmw.accounts.permissions import public

from . import (
    admin,  # noqa: F401  (registers the community models in the admin)
    views,
)

app_name = "community"

urlpatterns: list = [
    # Partners
    path("events/", views.event_list, name="event_list"),
    path("events/new/", views.event_create, name="event_create"),
    path("events/<int:event_pk>/", views.event_detail, name="event_detail"),
    path("events/<int:event_pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:event_pk>/event.ics", views.event_ics, name="event_ics"),
    path("events/<int:event_pk>/cancel/", views.event_cancel, name="event_cancel"),
    path("events/<int:event_pk>/questions/", views.event_question_add, name="event_question_add"),
    path("questions/<int:event_question_pk>/edit/", views.event_question_edit, name="event_question_edit"),
    path("questions/<int:event_question_pk>/remove/", views.event_question_remove, name="event_question_remove"),
    path("events/<int:event_pk>/guests.csv", views.event_guests_csv, name="event_guests_csv"),
    path("events/<int:event_pk>/pitches/add/", views.pitch_slot_add, name="pitch_slot_add"),
    path("pitches/<int:pitch_slot_pk>/move/", views.pitch_slot_move, name="pitch_slot_move"),
    path("pitches/<int:pitch_slot_pk>/remove/", views.pitch_slot_remove, name="pitch_slot_remove"),
    path("events/<int:event_pk>/invite/", views.event_invite, name="event_invite"),
    path("events/<int:event_pk>/check-in/", views.check_in, name="check_in"),
    path("events/<int:event_pk>/walk-in/", views.walk_in, name="walk_in"),
    path("events/<int:event_pk>/walk-in/msps/", views.walk_in_msp_options, name="walk_in_msp_options"),
    path("events/<int:event_pk>/no-shows/", views.no_shows, name="no_shows"),
    path("rsvps/<int:rsvp_pk>/check-in/", views.check_in_toggle, name="check_in_toggle"),
    # MSP portal
    path("portal/invitations/", views.msp_invitations, name="msp_invitations"),
    path("portal/invitations/<int:event_invitation_pk>/", views.msp_invitation, name="msp_invitation"),
    path("portal/invitations/<int:event_invitation_pk>/rsvp/", views.msp_rsvp, name="msp_rsvp"),
    path("portal/invitations/<int:event_invitation_pk>/cancel/", views.msp_cancel, name="msp_cancel"),
    path("portal/invitations/<int:event_invitation_pk>/event.ics", views.msp_ics, name="msp_ics"),
    path("portal/invitations/<int:event_invitation_pk>/feedback/", views.msp_feedback, name="msp_feedback"),
    path("portal/events/<int:event_pk>/join/", views.msp_join, name="msp_join"),
    # The signed RSVP link (no password)
    path("r/<str:token>/", public(views.rsvp_link), name="rsvp_link"),
    path("r/<str:token>/cancel/", public(views.rsvp_link_cancel), name="rsvp_link_cancel"),
    path("r/<str:token>/event.ics", public(views.rsvp_link_ics), name="rsvp_link_ics"),
    path("r/<str:token>/feedback/", public(views.rsvp_link_feedback), name="rsvp_link_feedback"),
    path("f/<str:token>/", public(views.feedback_link), name="feedback_link"),
    # Vendors
    path("vendor/events/", views.vendor_events, name="vendor_events"),
    path("vendor/pitches/<int:pitch_slot_pk>/", views.vendor_pitch, name="vendor_pitch"),
]
