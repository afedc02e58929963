"""Public channel-review booking and the partners' booking pages."""

from django.urls import path

from tmw.accounts.permissions import public

from . import views

app_name = "booking"

urlpatterns: list = [
    path("book/", public(views.book), name="book"),
    path("book/confirmed/<str:token>/", public(views.confirmation), name="confirmation"),
    path("book/manage/<str:token>/", public(views.manage), name="manage"),
    path("book/manage/<str:token>/cancel/", public(views.manage_cancel), name="manage_cancel"),
    path("book/manage/<str:token>/channel-review.ics", public(views.manage_ics), name="manage_ics"),
    path("book/reschedule/<str:token>/", public(views.reschedule), name="reschedule"),
    path("bookings/", views.booking_list, name="booking_list"),
    path("bookings/availability/", views.availability, name="availability"),
    path(
        "bookings/availability/<int:availability_window_pk>/remove/",
        views.availability_window_remove,
        name="availability_window_remove",
    ),
    path(
        "bookings/availability/<int:availability_window_pk>/toggle/",
        views.availability_window_toggle,
        name="availability_window_toggle",
    ),
    path(
        "bookings/availability/blocked/<int:blackout_date_pk>/remove/",
        views.blackout_date_remove,
        name="blackout_date_remove",
    ),
    path("bookings/<int:booking_pk>/", views.booking_detail, name="booking_detail"),
    path("bookings/<int:booking_pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<int:booking_pk>/convert/", views.booking_convert, name="booking_convert"),
    path("bookings/<int:booking_pk>/channel-review.ics", views.booking_ics, name="booking_ics"),
]
