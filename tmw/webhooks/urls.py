"""Operators' webhook pages."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns: list = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_create, name="endpoint_create"),
    path("<int:webhook_endpoint_pk>/", views.endpoint_detail, name="endpoint_detail"),
    path("<int:webhook_endpoint_pk>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("<int:webhook_endpoint_pk>/active/", views.endpoint_toggle, name="endpoint_toggle"),
    path("<int:webhook_endpoint_pk>/rotate-secret/", views.endpoint_rotate, name="endpoint_rotate"),
    path("<int:webhook_endpoint_pk>/test/", views.endpoint_test, name="endpoint_test"),
    path("deliveries/<int:webhook_delivery_pk>/resend/", views.delivery_resend, name="delivery_resend"),
]
