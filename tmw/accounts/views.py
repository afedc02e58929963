"""Account pages: login, password, profile and API token, team and people, invitations."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import BadRequest
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tmw.errors import ApplicationError
from tmw.web import add_application_error, htmx_redirect, search_options

from . import calendar_feeds, policy, services
from .auth import normalise_username
from .forms import (
    AcceptInvitationForm,
    EmailAuthenticationForm,
    InvitationForm,
    ProfileForm,
    VendorForm,
    invitable_organisations,
)
from .models import CalendarFeed, Invitation, Organisation, User
from .permissions import AllowMixin, allow
from .tenancy import scope_for_user, tenant_scope


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordChangeView(AllowMixin, auth_views.PasswordChangeView):
    """Change one's own password; the user's API token goes with the old one (``User.save``)."""

    access = "profile.edit"
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed. Your API token, if you had one, was revoked.")
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the emailed link: lifts the account's login lockout and revokes its API token."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=normalise_username(form.user.email))
        return response


@allow("profile.edit")
def profile(request):
    """The user's own name, time zone, password and API token."""
    user = request.user
    form = ProfileForm(
        request.POST or None, initial={"full_name": user.full_name, "time_zone": user.time_zone, "clock": user.clock}
    )
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=user, actor=user, **form.cleaned_data)
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile")
    return _profile_page(request, form)


def _profile_page(request, form=None, *, new_token: str | None = None, status: int = 200):
    user = request.user
    if form is None:
        form = ProfileForm(initial={"full_name": user.full_name, "time_zone": user.time_zone, "clock": user.clock})
    context = {"form": form, "tokens": services.api_tokens(user), "new_token": new_token}
    if policy.can(user, "calendar.feed"):
        feed = CalendarFeed.objects.filter(user=user).first()
        context["calendar_feed"] = feed
        context["calendar_feed_url"] = calendar_feeds.feed_url(feed) if feed is not None else None
    return render(request, "accounts/profile.html", context, status=status)


@allow("api.token")
@require_POST
def api_token_create(request):
    """A new API token, shown once on the page that answers (it replaces the old one)."""
    token = services.api_token_create(actor=request.user)
    messages.success(request, "A new API token was created. Copy it now: it is not shown again.")
    return _profile_page(request, new_token=token.key)


@allow("api.token")
@require_POST
def api_token_revoke(request):
    """Revoke the user's API token: requests that carry it are refused from now on."""
    if services.api_token_revoke(actor=request.user):
        messages.success(request, "Your API token was revoked.")
    return redirect("accounts:profile")


@allow("calendar.feed")
@require_POST
def calendar_feed_regenerate(request):
    """Create the partner's private calendar feed URL, or replace it (the old URL stops working)."""
    had = CalendarFeed.objects.filter(user=request.user).exists()
    services.calendar_feed_regenerate(actor=request.user)
    if had:
        messages.success(request, "A new calendar feed URL was made; the old one no longer works. Subscribe again.")
    else:
        messages.success(request, "Your calendar feed URL is ready: copy it into Google Calendar or Outlook.")
    return redirect(reverse("accounts:profile") + "#calendar-feed")


@allow("calendar.feed")
@require_POST
def calendar_feed_revoke(request):
    """Switch the calendar feed off: calendars subscribed to it stop getting updates."""
    if services.calendar_feed_revoke(actor=request.user):
        messages.success(request, "Your calendar feed is switched off.")
    return redirect(reverse("accounts:profile") + "#calendar-feed")


@require_http_methods(["GET", "HEAD"])
def calendar_feed(request, token: str):
    """Public: a partner's calendar feed, read by Google Calendar or Outlook with the secret in the URL (no login).

    Only the feed's own partner's bookings and events, read in that partner's scope; 404 for a
    token that is unknown or was regenerated.
    """
    feed = calendar_feeds.feed_for_token(token)
    if feed is None or not policy.can(feed.user, "calendar.feed"):
        return HttpResponse("This calendar feed does not exist or was replaced.", status=404, content_type="text/plain")
    with scope_for_user(feed.user):
        text = calendar_feeds.feed_calendar(feed.user)
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tmw.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def _with_can_manage(actor: User, users) -> list[User]:
    """The users, each with ``can_manage``: whether ``actor`` may switch them off or on."""
    rows = list(users)
    for person in rows:
        person.can_manage = policy.may_manage_user(actor, person)  # read by the template
    return rows


def _invitation_page(request, *, template: str, users, invitations, heading: str):
    form = InvitationForm(request.POST or None, actor=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation, _ = services.invitation_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                add_application_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                form = InvitationForm(actor=request.user)
        else:
            status = 400
    context = {
        "form": form,
        "users": _with_can_manage(request.user, users),
        "invitations": invitations,
        "heading": heading,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "accounts/partials/invite_panel.html", context, status=status)
    return render(request, template, context, status=status)


@allow("people.view")
def organisation_options(request):
    """The organisations matching what a partner types in the invitation form's organisation picker."""
    return search_options(request, invitable_organisations())


@allow(GET="team.view", POST="people.invite")
def team(request):
    """A vendor's people and open invitations; vendor admins invite colleagues here."""
    org = request.user.organisation
    users = User.objects.filter(organisation=org).select_related("organisation").order_by("full_name")
    invitations = Invitation.objects.filter(organisation=org).select_related("invited_by", "organisation")[:50]
    return _invitation_page(
        request, template="accounts/team.html", users=users, invitations=invitations, heading=org.name
    )


@allow("people.view")
def people(request):
    """Every user of every organisation; partners invite anyone here."""
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    users = User.objects.select_related("organisation").order_by("organisation__name", "full_name")
    if q:
        users = users.filter(Q(email__icontains=q) | Q(full_name__icontains=q) | Q(organisation__name__icontains=q))
    if kind in Organisation.Kind.values:
        users = users.filter(organisation__kind=kind)
    invitations = Invitation.objects.select_related("organisation", "invited_by")[:50]
    return _invitation_page(
        request, template="accounts/people.html", users=users[:200], invitations=invitations, heading="People"
    )


@allow("people.invite")
@require_POST
def invitation_revoke(request, invitation_pk: int):
    invitation = get_object_or_404(Invitation, pk=invitation_pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
        messages.success(request, f"Invitation to {invitation.email} revoked.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return htmx_redirect(request, reverse(_people_page(request.user)))


@allow("people.deactivate")
@require_POST
def user_set_active(request, user_pk: int):
    user = get_object_or_404(User, pk=user_pk, organisation__in=Organisation.objects.all())
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        raise BadRequest("Say active=1 to switch the user on or active=0 to switch them off.")
    try:
        services.user_set_active(user=user, active=wanted == "1", actor=request.user)
        messages.success(request, f"{user} is now {'active' if user.is_active else 'deactivated'}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(_people_page(request.user))


def _people_page(user: User) -> str:
    return "accounts:people" if policy.can(user, "people.view") else "accounts:team"


def invitation_accept(request, token: str):
    """Public: set a name and password for an invitation and log straight in."""
    invitation = services.invitation_for_token(token)
    if invitation is None or not invitation.is_open:
        return render(request, "accounts/invitation_invalid.html", {"invitation": invitation}, status=404)
    if services.invitation_email_has_account(invitation):
        context = {"invitation": invitation, "message": services.ALREADY_A_USER}
        return render(request, "accounts/invitation_invalid.html", context, status=409)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with tenant_scope((invitation.organisation_id,)):
                user = services.invitation_accept(
                    token=token,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                    time_zone=form.cleaned_data["time_zone"],
                    actor=policy.VISITOR,
                )
        except ApplicationError as exc:
            for error in exc.extra.get("password", []):
                form.add_error("password", error)
            if not exc.extra:
                form.add_error(None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to TMW Channel Desk, {user.get_short_name()}.")
            return redirect("dashboard:home")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})


@allow("vendor.manage")
def vendor_create(request):
    """A partner onboards a vendor directly (no booking needed), then starts its diagnostic."""
    form = VendorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                vendor, invitation = services.vendor_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                add_application_error(form, exc)
                status = exc.status if exc.status in (403, 409) else 400
            else:
                invited = f"; {invitation.email} is invited as its admin" if invitation else ""
                messages.success(request, f"{vendor.name} is now a vendor{invited}. Start its diagnostic next.")
                return redirect(f"{reverse('diagnostics:diagnostic_create')}?vendor={vendor.pk}")
        else:
            status = 400
    return render(request, "accounts/vendor_create.html", {"form": form}, status=status)
