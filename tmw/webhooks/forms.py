"""The endpoint form of the webhook pages (the service validates; the form only collects)."""

from __future__ import annotations

from django import forms

from tmw.accounts.models import Organisation

from .models import Event


class EndpointForm(forms.Form):
    """Where to send, what to send, and for which vendor; on registration, optionally one's own secret."""

    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="An https:// address on the public internet; redirects are not followed.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/tmw", "inputmode": "url"}),
    )
    description = forms.CharField(max_length=200, required=False, help_text="What receives these events.")
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple)
    vendor = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.VENDOR).order_by("name"),
        required=False,
        empty_label="Every vendor",
        help_text="Send only the events about this vendor.",
    )
    secret = forms.CharField(
        max_length=128,
        required=False,
        strip=True,
        help_text="Leave empty to have one generated. It is shown once, right after you save.",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, with_secret: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_secret:
            del self.fields["secret"]


class RotateSecretForm(forms.Form):
    """A new secret: generated, or one's own."""

    secret = forms.CharField(
        label="New secret",
        max_length=128,
        required=False,
        help_text="Leave empty to have one generated.",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
