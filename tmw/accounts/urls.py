from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .permissions import public

app_name = "accounts"

urlpatterns = [
    path("login/", public(views.LoginView.as_view()), name="login"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.api_token_create, name="api_token_create"),
    path("profile/token/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("profile/calendar/", views.calendar_feed_regenerate, name="calendar_feed_regenerate"),
    path("profile/calendar/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("calendar/<str:token>/tmw.ics", public(views.calendar_feed), name="calendar_feed"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", public(views.PasswordResetView.as_view()), name="password_reset"),
    path(
        "password/reset/sent/",
        public(auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        public(views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        public(auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html")),
        name="password_reset_complete",
    ),
    path("team/", views.team, name="team"),
    path("people/", views.people, name="people"),
    path("people/organisations/", views.organisation_options, name="organisation_options"),
    path("vendors/new/", views.vendor_create, name="vendor_create"),
    path("invitations/<int:invitation_pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("users/<int:user_pk>/active/", views.user_set_active, name="user_set_active"),
    path("invitations/accept/<str:token>/", public(views.invitation_accept), name="invitation_accept"),
]
