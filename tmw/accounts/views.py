"""Account pages: login, password, profile, team and people, invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from tmw.errors import ApplicationError
from tmw.web import add_application_error, htmx_redirect

from . import services
from .forms import AcceptInvitationForm, EmailAuthenticationForm, InvitationForm, ProfileForm
from .models import Invitation, Organisation, User
from .permissions import PARTNERS, VENDOR_ADMINS, VENDORS, role_required
from .tenancy import tenant_scope


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


@login_required
def profile(request):
    """The user's own name, time zone and password."""
    user = request.user
    form = ProfileForm(request.POST or None, initial={"full_name": user.full_name, "time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=user, **form.cleaned_data)
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


def _invitation_page(request, *, template: str, users, invitations, heading: str):
    form = InvitationForm(request.POST or None, actor=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation, _ = services.invitation_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                add_application_error(form, exc)
                status = 400
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                form = InvitationForm(actor=request.user)
        else:
            status = 400
    context = {"form": form, "users": users, "invitations": invitations, "heading": heading}
    if request.htmx and not request.htmx.boosted:
        return render(request, "accounts/partials/invite_panel.html", context, status=status)
    return render(request, template, context, status=status)


@role_required(VENDORS)
def team(request):
    """A vendor's people and open invitations; vendor admins invite colleagues here."""
    org = request.user.organisation
    users = User.objects.filter(organisation=org).order_by("full_name")
    invitations = Invitation.objects.filter(organisation=org).select_related("invited_by")[:50]
    if request.method == "POST" and not request.user.is_vendor_admin:
        return HttpResponse(status=403)
    return _invitation_page(
        request, template="accounts/team.html", users=users, invitations=invitations, heading=org.name
    )


@role_required(PARTNERS)
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


@require_POST
@role_required(PARTNERS, VENDOR_ADMINS)
def invitation_revoke(request, invitation_pk: int):
    invitation = get_object_or_404(Invitation, pk=invitation_pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
        messages.success(request, f"Invitation to {invitation.email} revoked.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return htmx_redirect(request, reverse("accounts:people" if request.user.is_operator else "accounts:team"))


@require_POST
@role_required(PARTNERS, VENDOR_ADMINS)
def user_set_active(request, user_pk: int):
    user = get_object_or_404(User, pk=user_pk, organisation__in=Organisation.objects.all())
    try:
        services.user_set_active(user=user, active=request.POST.get("active") == "1", actor=request.user)
        messages.success(request, f"{user} is now {'active' if user.is_active else 'deactivated'}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:people" if request.user.is_operator else "accounts:team")


def invitation_accept(request, token: str):
    """Public: set a name and password for an invitation and log straight in."""
    invitation = services.invitation_for_token(token)
    if invitation is None or not invitation.is_open:
        return render(request, "accounts/invitation_invalid.html", {"invitation": invitation}, status=404)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with tenant_scope((invitation.organisation_id,)):
                user = services.invitation_accept(
                    token=token,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                    time_zone=form.cleaned_data["time_zone"],
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
