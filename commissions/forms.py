"""Forms and the statement filter of the commissions pages; business rules stay in services.

Rates are typed in percent on the pages (15 means 15 %) and handed to services as fractions (0.15).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import django_filters
from django import forms
from django.utils import dateformat

from tmw import months
from tmw.accounts.models import Organisation
from tmw.web import QuickSelect

from .models import AccountingSettings, AgreementTerms, BulkRun, Payment, RetainerTier, Statement, TaxKind

HUNDRED = Decimal("100")
last_month = months.previous_month  # the month a statement run or a revenue grid starts on


class PeriodField(forms.CharField):
    """A calendar month typed as ``YYYY-MM`` (an ``<input type=month>``)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return months.parse_month(value)
        except months.InvalidMonth as exc:
            raise forms.ValidationError(exc.message) from exc


class PercentField(forms.DecimalField):
    """A rate typed in percent, cleaned to a fraction."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", HUNDRED)
        kwargs.setdefault("max_digits", 8)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return None if value is None else value / HUNDRED


class RetainerTierForm(forms.ModelForm):
    class Meta:
        model = RetainerTier
        fields = ["name", "monthly_fee_usd", "monthly_fee_cad", "description", "active"]
        labels = {"monthly_fee_usd": "Monthly fee (USD)", "monthly_fee_cad": "Monthly fee (CAD)"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class TermsForm(forms.Form):
    """A new terms version of an agreement, effective from a month."""

    effective_month = PeriodField(label="Effective from (month)")
    retainer_tier = forms.ModelChoiceField(
        queryset=RetainerTier.objects.none(), required=False, empty_label="— negotiated amount —"
    )
    monthly_amount = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, label="Negotiated monthly retainer"
    )
    rates = forms.CharField(
        label="Revenue-share schedule (% by account year)",
        help_text="Rates by account year, e.g. “15, 10, 5”: the last one applies to later years.",
    )
    tail_months = forms.IntegerField(min_value=0, max_value=120, initial=0, label="Tail (months)")
    tail_rate = PercentField(required=False, label="Fixed tail rate (%)", help_text="Blank: the schedule's rate.")
    equity_kind = forms.ChoiceField(choices=AgreementTerms.EquityKind.choices, label="Equity layer")
    equity_share = PercentField(required=False, label="Retainer taken as equity (%)")
    stake_percent = forms.DecimalField(
        required=False, min_value=0, max_value=100, max_digits=6, decimal_places=3, label="Stake (%)"
    )
    principal = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    valuation_cap = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    discount = PercentField(required=False, label="Discount (%)")
    maturity_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tax_kind = forms.ChoiceField(choices=TaxKind.choices, initial=TaxKind.NONE, required=False, label="Sales tax")
    tax_rate = PercentField(required=False, label="Custom tax rate (%)", help_text="Only for a custom tax.")
    tax_name = forms.CharField(required=False, max_length=40, label="Custom tax name", help_text="e.g. PST")
    tax_registration = forms.CharField(
        required=False, max_length=40, label="Tax registration number", help_text="Printed with the tax line."
    )
    tax_on_equity = forms.BooleanField(required=False, label="Tax the retainer taken as equity too")
    payment_terms_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        initial=30,
        required=False,
        label="Payment terms (net days)",
        help_text="Due this many days after issue; blank is net 30.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why the terms change")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        retainer_tier_field = cast(forms.ModelChoiceField, self.fields["retainer_tier"])
        retainer_tier_field.queryset = RetainerTier.objects.filter(active=True)

    def clean_rates(self) -> list[Decimal]:
        raw = [p for p in re.split(r"[,;/\s]+", self.cleaned_data["rates"].replace("%", "")) if p]
        try:
            rates = [Decimal(p) for p in raw]
        except InvalidOperation as exc:
            raise forms.ValidationError("Give numbers separated by commas, e.g. 15, 10, 5.") from exc
        if not rates:
            raise forms.ValidationError("Give at least the year-1 rate.")
        if any(not r.is_finite() or r < 0 or r > HUNDRED for r in rates):
            raise forms.ValidationError("Each rate is between 0 and 100 %.")
        return [r / HUNDRED for r in rates]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("retainer_tier") is None and data.get("monthly_amount") is None:
            self.add_error("monthly_amount", "Choose a retainer tier or give a negotiated monthly amount.")
        if data.get("retainer_tier") is not None and data.get("monthly_amount") is not None:
            self.add_error("monthly_amount", "Choose a tier or a negotiated amount, not both.")
        if data.get("equity_share") is None:
            data["equity_share"] = Decimal("0")
        data["tax_kind"] = data.get("tax_kind") or TaxKind.NONE
        if data["tax_kind"] == TaxKind.CUSTOM:
            if not (data.get("tax_name") or "").strip():
                self.add_error("tax_name", "A custom tax needs its name.")
            if data.get("tax_rate") is None and "tax_rate" not in self.errors:
                self.add_error("tax_rate", "A custom tax needs its rate.")
        if data.get("payment_terms_days") is None:
            data["payment_terms_days"] = 30
        return data

    def service_kwargs(self) -> dict:
        """The cleaned values as ``agreement_terms_change`` keywords."""
        return dict(self.cleaned_data)

    @classmethod
    def initial_from(cls, terms: AgreementTerms | None) -> dict:
        """Start a new version from the current one."""
        if terms is None:
            return {
                "rates": "15, 10, 5",
                "equity_kind": AgreementTerms.EquityKind.NONE,
                "tax_kind": TaxKind.NONE,
                "payment_terms_days": 30,
            }

        def pct(v):  # 0.40 -> 40, 0.125 -> 12.5: no trailing zeros and never an exponent ("4E+1")
            return None if v is None else Decimal(f"{(v * HUNDRED).normalize():f}")

        return {
            "retainer_tier": terms.retainer_tier_id,
            "monthly_amount": terms.monthly_amount,
            "rates": ", ".join(f"{pct(s.rate):f}" for s in terms.steps.all()),
            "tail_months": terms.tail_months,
            "tail_rate": pct(terms.tail_rate),
            "equity_kind": terms.equity_kind,
            "equity_share": pct(terms.equity_share) if terms.equity_share else None,
            "stake_percent": terms.stake_percent,
            "principal": terms.principal,
            "valuation_cap": terms.valuation_cap,
            "discount": pct(terms.discount),
            "maturity_date": terms.maturity_date,
            "tax_kind": terms.tax_kind,
            "tax_rate": pct(terms.tax_rate),
            "tax_name": terms.tax_name,
            "tax_registration": terms.tax_registration,
            "tax_on_equity": terms.tax_on_equity,
            "payment_terms_days": terms.payment_terms_days,
        }


class AgreementCreateForm(TermsForm):
    """The first terms of an engagement's agreement, with its currency."""

    currency = forms.ChoiceField(choices=[("USD", "USD"), ("CAD", "CAD")])

    field_order = ["currency", "effective_month"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("note")
        self.fields["effective_month"].label = "First billed month"


class AccountingSettingsForm(forms.ModelForm):
    """The ledger accounts and tax codes of the accounting exports (finance)."""

    class Meta:
        model = AccountingSettings
        fields = [
            "retainer_account",
            "revenue_share_account",
            "tail_account",
            "adjustment_account",
            "tax_account",
            "equity_asset_account",
            "equity_income_account",
            "qbo_tax_code",
            "xero_tax_type",
        ]


class ExportMonthForm(forms.Form):
    """The month of an accounting export: statements and credit notes issued in it."""

    period = PeriodField(label="Issued in (month)")


class RunStartForm(forms.Form):
    period = PeriodField(label="Month")

    def clean_period(self):
        period = self.cleaned_data["period"]
        if period > last_month():
            raise forms.ValidationError("Statements are run for a month that has ended.")
        return period


class MarkPaidForm(forms.Form):
    paid_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Paid on")
    reference = forms.CharField(max_length=120, label="Payment reference")


class VoidForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Reason")


class RevenueUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", required=False)
    content = forms.CharField(widget=forms.HiddenInput, required=False)


class StatementFilter(django_filters.FilterSet):
    """Filters shared by the statements page and the statements API."""

    period = django_filters.CharFilter(method="filter_period", label="Month")
    vendor = django_filters.ModelChoiceFilter(queryset=Organisation.objects.none(), empty_label="All vendors")
    status = django_filters.ChoiceFilter(choices=Statement.Status.choices, empty_label="Any status")

    class Meta:
        model = Statement
        fields = ["period", "vendor", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["vendor"].queryset = Organisation.objects.filter(kind=Organisation.Kind.VENDOR).order_by("name")
        vendor = self.form.fields["vendor"]
        vendor.widget = QuickSelect(attrs=vendor.widget.attrs)  # every vendor: options written in one pass
        vendor.widget.choices = vendor.choices
        self.form.fields["period"].widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def filter_period(self, queryset, name, value):
        period = months.parse_month_or_none(value)
        if period is None:
            return queryset.none()
        return queryset.filter(period=period)


class AcknowledgementWindowForm(forms.Form):
    """The days a vendor has to acknowledge or dispute a new attribution of this agreement's desk."""

    acknowledgement_days = forms.IntegerField(
        label="Acknowledgement window (days)",
        min_value=1,
        max_value=90,
        help_text="A new attribution counts as acknowledged when the vendor has not answered within these days.",
    )


class PaymentForm(forms.Form):
    """A payment received against an issued statement; the service checks the amount against the balance."""

    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Received on")
    amount = forms.CharField(max_length=32, label="Amount", widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    method = forms.ChoiceField(choices=Payment.Method.choices, label="Method")
    reference = forms.CharField(max_length=120, label="Reference", help_text="Wire, ACH or cheque number.")


class PaymentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{dateformat.format(obj.received_on, 'j M Y')} · {obj.reference} · {obj.amount:,.2f}"


class PaymentReverseForm(forms.Form):
    """Which of a statement's payments was recorded in error, and why (the wrong statement, a bounced cheque)."""

    payment = PaymentChoiceField(queryset=Payment.objects.none(), label="Payment", empty_label=None)
    reason = forms.CharField(
        max_length=Payment._meta.get_field("reversal_reason").max_length or 200,
        label="Reason",
        help_text="e.g. recorded on the wrong statement; the cheque bounced.",
    )

    def __init__(self, *args, payments, **kwargs):
        super().__init__(*args, **kwargs)
        payment_field = cast(forms.ModelChoiceField, self.fields["payment"])
        payment_field.queryset = payments


class OverdueScheduleForm(forms.Form):
    """When overdue reminders go out."""

    enabled = forms.BooleanField(required=False, label="Send overdue reminders")
    first_after_days = forms.IntegerField(min_value=1, max_value=365, label="First, days after due")
    repeat_every_days = forms.IntegerField(min_value=1, max_value=365, label="Then every (days)")
    max_reminders = forms.IntegerField(min_value=1, max_value=52, label="At most (reminders)")


class BulkRunForm(forms.Form):
    """Approve a month's drafts, issue its approved statements, or both, as one run."""

    period = PeriodField(label="Month")
    action = forms.ChoiceField(choices=BulkRun.Action.choices, label="What to do")


# --- Delivery and queries


class QueryRaiseForm(forms.Form):
    """A vendor's query on a statement or one line: a reason from the list, a comment, the amount it expects."""

    line = forms.ChoiceField(required=False, label="About", choices=[("", "The whole statement")])
    reason = forms.ChoiceField(choices=[("", "Choose a reason")], label="Reason")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, label="What looks wrong")
    expected_amount = forms.CharField(
        required=False, max_length=40, label="Amount you believe is right", help_text="Optional, e.g. 1,250.00"
    )

    def __init__(self, *args, lines=(), **kwargs):
        from commissions.models import StatementQuery

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["reason"]).choices = [
            ("", "Choose a reason"),
            *StatementQuery.Reason.choices,
        ]
        cast(forms.ChoiceField, self.fields["line"]).choices = [
            ("", "The whole statement"),
            *((str(line.pk), f"{line.description} ({line.amount})"[:120]) for line in lines),
        ]


class QueryAnswerForm(forms.Form):
    """Finance's answer to a query: accept as an adjustment, accept with credit note and reissue, or decline."""

    decision = forms.ChoiceField(label="Answer", widget=forms.RadioSelect)
    amount = forms.CharField(
        required=False,
        max_length=40,
        label="Adjustment amount",
        help_text="Negative credits the vendor. Blank: the amount the vendor expects less what was billed.",
    )
    answer = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        label="Note to the vendor",
        help_text="Required when declining: say why.",
    )

    def __init__(self, *args, **kwargs):
        from commissions.services import QUERY_DECISIONS

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["decision"]).choices = list(QUERY_DECISIONS.items())


class BillingContactsForm(forms.Form):
    """A vendor's billing contacts, one per line: ``Name <email>``, ``email, name`` or just the email."""

    contacts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Billing contacts",
        help_text="One per line: Name <email> or just the email. Empty: statements go to the vendor's admins.",
    )

    def parsed(self) -> list[tuple[str, str]]:
        """The (name, email) pairs written in the text box, in order."""
        pairs = []
        for raw in (self.cleaned_data.get("contacts") or "").splitlines():
            text = raw.strip()
            if not text:
                continue
            if "<" in text and text.endswith(">"):
                name, _, email = text[:-1].partition("<")
                pairs.append((name.strip().strip('"'), email.strip()))
            elif "," in text:
                first, _, second = text.partition(",")
                email, name = (first, second) if "@" in first else (second, first)
                pairs.append((name.strip(), email.strip()))
            else:
                pairs.append(("", text))
        return pairs
