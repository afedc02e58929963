"""Pages of Phase One diagnostics."""

from django.urls import path

from . import views
from .directory.urls import urlpatterns as directory_urlpatterns

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
    *directory_urlpatterns,
]
