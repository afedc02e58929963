"""The MSP's own pages of the directory: its profile, kept up to date by the MSP and reviewed by TMW."""

from django.urls import path

from . import views

app_name = "msp_profile"

urlpatterns: list = [
    path("", views.my_profile, name="edit"),
    path("confirm/", views.my_profile_confirm, name="confirm"),
]
