"""MSP directory and target-list pages (included by diagnostics.urls)."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("msps/", views.msp_list, name="msp_list"),
    path("msps/new/", views.msp_create, name="msp_create"),
    path("msps/import/", views.msp_import, name="msp_import"),
    path("msps/export.csv", views.msp_export, name="msp_export"),
    path("msps/<int:msp_profile_pk>/", views.msp_detail, name="msp_detail"),
    path("msps/<int:msp_profile_pk>/edit/", views.msp_edit, name="msp_edit"),
    path("msps/<int:msp_profile_pk>/contacts/", views.msp_contact_add, name="msp_contact_add"),
    path("msps/contacts/<int:msp_contact_pk>/remove/", views.msp_contact_remove, name="msp_contact_remove"),
    path("<int:diagnostic_pk>/ideal-partner/", views.ideal_partner_profile_edit, name="ideal_partner_profile"),
    path("<int:diagnostic_pk>/targets/", views.target_list, name="target_list"),
    path("<int:diagnostic_pk>/targets/build/", views.target_list_build, name="target_list_build"),
    path("<int:diagnostic_pk>/targets/export.csv", views.target_list_export, name="target_list_export"),
    path("targets/entries/<int:target_entry_pk>/flag/", views.target_entry_flag, name="target_entry_flag"),
]
