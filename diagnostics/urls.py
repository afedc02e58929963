"""Pages of Phase One diagnostics, ideal-partner profiles and target lists."""

from django.urls import path

from . import views

app_name = "diagnostics"

urlpatterns: list = [
    path("", views.diagnostic_list, name="diagnostic_list"),
    path("new/", views.diagnostic_create, name="diagnostic_create"),
    path("<int:diagnostic_pk>/", views.diagnostic_detail, name="diagnostic_detail"),
    path("<int:diagnostic_pk>/settings/", views.diagnostic_settings, name="diagnostic_settings"),
    path(
        "<int:diagnostic_pk>/criteria/<int:criterion_pk>/score/",
        views.score_save,
        name="score_save",
    ),
    path("<int:diagnostic_pk>/thesis/", views.thesis_save, name="thesis_save"),
    path("<int:diagnostic_pk>/decision/", views.decision_save, name="decision_save"),
    path("<int:diagnostic_pk>/status/", views.diagnostic_transition, name="diagnostic_transition"),
    path("<int:diagnostic_pk>/report.pdf", views.report_pdf, name="report_pdf"),
    path("rubric/", views.rubric, name="rubric"),
    path("rubric/edit/", views.rubric_edit, name="rubric_edit"),
    path("rubric/<int:rubricversion_pk>/", views.rubric_version, name="rubric_version"),
    path("portal/", views.portal, name="portal"),
    path("<int:diagnostic_pk>/ideal-partner/", views.ideal_partner_profile_edit, name="ideal_partner_profile"),
    path("<int:diagnostic_pk>/targets/", views.target_list, name="target_list"),
    path("<int:diagnostic_pk>/targets/build/", views.target_list_build, name="target_list_build"),
    path("<int:diagnostic_pk>/targets/export.csv", views.target_list_export, name="target_list_export"),
    path("targets/entries/<int:target_entry_pk>/flag/", views.target_entry_flag, name="target_entry_flag"),
]
