"""Pages of the MSP directory. Mounted under /diagnostics/ so that existing links keep working."""

from django.urls import path

from . import views

app_name = "directory"

urlpatterns: list = [
    path("msps/", views.msp_list, name="msp_list"),
    path("msps/new/", views.msp_create, name="msp_create"),
    path("msps/import/", views.msp_import, name="msp_import"),
    path("msps/export.csv", views.msp_export, name="msp_export"),
    path("msps/<int:msp_profile_pk>/", views.msp_detail, name="msp_detail"),
    path("msps/<int:msp_profile_pk>/edit/", views.msp_edit, name="msp_edit"),
    path("msps/<int:msp_profile_pk>/contacts/", views.msp_contact_add, name="msp_contact_add"),
    path("msps/contacts/<int:msp_contact_pk>/remove/", views.msp_contact_remove, name="msp_contact_remove"),
    path("msps/changes/", views.msp_changes, name="msp_changes"),
    path("msps/changes/<int:msp_profile_change_pk>/", views.msp_change, name="msp_change"),
]
