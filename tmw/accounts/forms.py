"""Forms for login, profile and invitations."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse

from tmw.web import use_search_select

from . import policy
from .models import CLOCK_CHOICES, ROLES_BY_KIND, TIME_ZONE_CHOICES, Country, Organisation, Role, User


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with email and password."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(max_length=150)
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES)
    clock = forms.ChoiceField(label="Time format", choices=CLOCK_CHOICES, required=False)

    def clean_clock(self) -> str | None:
        return self.cleaned_data.get("clock") or None  # left out: keep the one saved


def invitable_organisations():
    """The organisations a partner may invite someone into: every one."""
    return Organisation.objects.order_by("kind", "name")


class InvitationForm(forms.Form):
    """Partners pick any organisation; vendor admins invite into their own vendor."""

    email = forms.EmailField()
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none())
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        organisation = cast(forms.ModelChoiceField, self.fields["organisation"])
        grantable = policy.grantable_roles(actor)
        if policy.can(actor, "people.view"):
            organisation.queryset = invitable_organisations()
            # Every vendor and all 20,000 MSPs: searched, not listed.
            use_search_select(organisation, reverse("accounts:organisation_options"))
        else:
            organisation.queryset = Organisation.objects.filter(pk=actor.organisation_id)
            organisation.initial = actor.organisation_id
            organisation.widget = forms.HiddenInput()
            grantable = grantable & ROLES_BY_KIND[Organisation.Kind.VENDOR]
        role = cast(forms.ChoiceField, self.fields["role"])
        role.choices = [(r.value, r.label) for r in Role if r in grantable]


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="America/New_York")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class VendorForm(forms.Form):
    """A partner onboards a vendor: who it is, where, who gets its statements, and its first admin."""

    name = forms.CharField(label="Legal name", max_length=200)
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")
    category = forms.CharField(
        max_length=120, required=False, help_text="Product category, used to spot competing vendors."
    )
    city = forms.CharField(label="HQ city", max_length=120, required=False)
    region = forms.CharField(label="HQ state / province", max_length=2, required=False, help_text="Two letters.")
    country = forms.ChoiceField(label="HQ country", choices=Country.choices)
    billing_contacts = forms.CharField(
        label="Billing contacts",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: a name, a comma and an email (or an email alone). Empty: the vendor's admins.",
    )
    admin_email = forms.EmailField(
        label="First admin's email", required=False, help_text="Gets an invitation to set up the vendor's login."
    )

    def clean_billing_contacts(self) -> list[tuple[str, str]]:
        contacts = []
        for line in (self.cleaned_data.get("billing_contacts") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            name, _, rest = line.partition("<")  # "Name <email>", as mail clients write it
            if not rest:
                name, _, rest = line.rpartition(",")  # "Name, email"
            contacts.append((name.strip(), rest.rstrip(">").strip()))
        return contacts
