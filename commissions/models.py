"""Tables of the commissions app: retainer tiers, agreements and their versioned terms,
revenue reports, statement runs, statements and their lines.

Money is ``Decimal`` with two places; rates and shares are fractions (0.15 means 15 %).
The rules that turn these rows into statement lines are in ``commissions/engine.py``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Final, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from commissions.limits import TOTAL_DIGITS
from tmw.accounts.tenancy import TenantOwnedModel
from tmw.months import format_month, month_label

__all__ = [
    "AccountingSettings",
    "Agreement",
    "AgreementTerms",
    "BulkRun",
    "BulkRunRender",
    "OverdueReminder",
    "OverdueSchedule",
    "Payment",
    "Currency",
    "RetainerTier",
    "RevenueReport",
    "RevenueReportRevision",
    "RevenueShareStep",
    "Statement",
    "StatementDelivery",
    "StatementLine",
    "StatementQuery",
    "StatementRun",
    "StatementSequence",
    "TaxKind",
]


class Digits(TypedDict):
    """The precision of a ``DecimalField``, spread into it as ``**MONEY`` or ``**RATE``."""

    max_digits: int
    decimal_places: int


MONEY: Final[Digits] = {"max_digits": 14, "decimal_places": 2}
# Statement totals and line amounts add up bounded inputs (``commissions.limits``): wider than any input.
TOTAL: Final[Digits] = {"max_digits": TOTAL_DIGITS, "decimal_places": 2}
RATE: Final[Digits] = {"max_digits": 7, "decimal_places": 6}
ZERO = Decimal("0")
ONE = Decimal("1")


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    CAD = "CAD", "Canadian dollar"


def _month_start_validator(value: datetime.date) -> None:
    if value is not None and value.day != 1:
        raise ValidationError("A period is a calendar month: use the first day of the month.")


class RetainerTier(models.Model):
    """A standard monthly retainer level with its fee in each currency and what it includes (TMW's own data)."""

    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True, help_text="What the retainer includes.")
    monthly_fee_usd = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    monthly_fee_cad = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "monthly_fee_usd", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_fee_usd__gte=0, monthly_fee_cad__gte=0), name="retainer_tier_fees_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def fee_for(self, currency: str) -> Decimal:
        """The monthly fee in ``currency`` (USD or CAD)."""
        return self.monthly_fee_cad if currency == Currency.CAD else self.monthly_fee_usd


class Agreement(TenantOwnedModel):
    """The commercial agreement of one engagement: its currency and a history of versioned terms."""

    engagement = models.OneToOneField("engagements.Engagement", on_delete=models.PROTECT, related_name="agreement")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="agreements")
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("vendor",)

    # Set by the agreement list page: the terms in force this month.
    terms_now: AgreementTerms | None

    class Meta(TenantOwnedModel.Meta):
        ordering = ["vendor__name", "pk"]
        constraints = [models.CheckConstraint(condition=Q(currency__in=Currency.values), name="agreement_currency")]

    def __str__(self) -> str:
        return f"Agreement: {self.vendor}"

    @property
    def current_terms(self) -> AgreementTerms | None:
        """The newest terms version, whatever month it takes effect."""
        return (
            AgreementTerms.objects.filter(agreement=self).order_by("-effective_month").prefetch_related("steps").first()
        )


class TaxKind(models.TextChoices):
    """The sales tax a terms version charges on the cash due (``commissions/tax.py`` holds the rates)."""

    NONE = "none", "No tax"
    GST = "gst", "GST 5 %"
    HST_13 = "hst13", "HST 13 %"
    HST_15 = "hst15", "HST 15 %"
    QST = "qst", "QST 9.975 %"
    CUSTOM = "custom", "Custom rate"


class AgreementTerms(TenantOwnedModel):
    """One version of an agreement's terms, in force from its effective month until the next version."""

    class EquityKind(models.TextChoices):
        NONE = "none", "No equity"
        STAKE = "stake", "Minority stake"
        CONVERTIBLE = "convertible", "Convertible instrument"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    effective_month = models.DateField(
        validators=[_month_start_validator], help_text="First day of the first month these terms apply to."
    )
    retainer_tier = models.ForeignKey(
        RetainerTier, on_delete=models.PROTECT, null=True, blank=True, related_name="terms"
    )
    monthly_amount = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)], help_text="A negotiated monthly retainer."
    )
    tail_months = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(120)], help_text="Calendar months after the stop month that earn."
    )
    tail_rate = models.DecimalField(
        **RATE,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO), MaxValueValidator(ONE)],
        help_text="A fixed revenue-share rate for tail months; blank uses the schedule.",
    )
    equity_share = models.DecimalField(
        **RATE,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(ONE)],
        help_text="Share of the retainer taken as equity instead of cash (0.40 = 40 %).",
    )
    equity_kind = models.CharField(max_length=12, choices=EquityKind.choices, default=EquityKind.NONE)
    stake_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
        help_text="Minority stake, in percent.",
    )
    principal = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)])
    valuation_cap = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)])
    discount = models.DecimalField(
        **RATE,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO), MaxValueValidator(ONE)],
        help_text="Conversion discount (0.20 = 20 %).",
    )
    maturity_date = models.DateField(null=True, blank=True)
    tax_kind = models.CharField(max_length=8, choices=TaxKind.choices, default=TaxKind.NONE)
    tax_rate = models.DecimalField(
        **RATE,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO), MaxValueValidator(ONE)],
        help_text="A custom tax's rate (0.05 = 5 %); the named taxes carry their own.",
    )
    tax_name = models.CharField(max_length=40, blank=True, help_text="A custom tax's name, e.g. “PST”.")
    tax_registration = models.CharField(
        max_length=40, blank=True, help_text="The registration number printed with the tax line."
    )
    tax_on_equity = models.BooleanField(
        default=False, help_text="Tax the retainer taken as equity too (by default only the cash due is taxed)."
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="Net days: a statement is due this many days after its issue date (30 is net 30).",
    )
    note = models.TextField(blank=True, help_text="Why the terms changed.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("agreement__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["agreement", "-effective_month"]
        verbose_name_plural = "agreement terms"
        constraints = [
            models.UniqueConstraint(fields=["agreement", "effective_month"], name="terms_one_version_per_month"),
            models.CheckConstraint(
                condition=(Q(retainer_tier__isnull=False, monthly_amount__isnull=True))
                | (Q(retainer_tier__isnull=True, monthly_amount__isnull=False)),
                name="terms_tier_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(equity_share__gte=0, equity_share__lte=1), name="terms_equity_share_fraction"
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0) | Q(monthly_amount__isnull=True), name="terms_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(tail_rate__isnull=True) | Q(tail_rate__gte=0, tail_rate__lte=1),
                name="terms_tail_rate_fraction",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__isnull=True) | Q(tax_rate__gte=0, tax_rate__lte=1),
                name="terms_tax_rate_fraction",
            ),
            models.CheckConstraint(condition=Q(tax_kind__in=TaxKind.values), name="terms_tax_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} from {format_month(self.effective_month)}"

    def clean(self) -> None:
        super().clean()
        if (self.retainer_tier_id is None) == (self.monthly_amount is None):
            raise ValidationError("Choose a retainer tier or a negotiated monthly amount, not both.")
        if self.equity_kind == self.EquityKind.NONE and self.equity_share:
            raise ValidationError({"equity_share": "Choose an equity kind to take part of the retainer as equity."})
        if self.equity_kind == self.EquityKind.STAKE and self.stake_percent is None:
            raise ValidationError({"stake_percent": "A minority stake needs its percentage."})
        if self.equity_kind == self.EquityKind.CONVERTIBLE and self.principal is None:
            raise ValidationError({"principal": "A convertible instrument needs its principal."})
        if self.tax_kind == TaxKind.CUSTOM:
            if not self.tax_name.strip():
                raise ValidationError({"tax_name": "A custom tax needs its name."})
            if self.tax_rate is None:
                raise ValidationError({"tax_rate": "A custom tax needs its rate."})

    def monthly_retainer(self, currency: str) -> Decimal:
        """The full-month retainer in ``currency``."""
        if self.monthly_amount is not None:
            return self.monthly_amount
        tier = self.retainer_tier
        assert tier is not None  # the check constraint: a tier when there is no negotiated amount
        return tier.fee_for(currency)


class RevenueShareStep(TenantOwnedModel):
    """The revenue-share rate for one account year of a terms version; the last step applies to later years."""

    terms = models.ForeignKey(AgreementTerms, on_delete=models.CASCADE, related_name="steps")
    year = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    rate = models.DecimalField(**RATE, validators=[MinValueValidator(ZERO), MaxValueValidator(ONE)])

    tenant_paths = ("terms__agreement__vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["terms", "year"]
        constraints = [
            models.UniqueConstraint(fields=["terms", "year"], name="step_one_rate_per_year"),
            models.CheckConstraint(condition=Q(year__gte=1), name="step_year_positive"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=1), name="step_rate_fraction"),
        ]

    def __str__(self) -> str:
        return f"Year {self.year}: {self.rate * 100:.2f} %"


class RevenueReport(TenantOwnedModel):
    """The current monthly recurring revenue of one attributed account for one month."""

    class Source(models.TextChoices):
        FINANCE = "finance", "Entered by finance"
        VENDOR_CSV = "vendor_csv", "Vendor CSV upload"
        API = "api", "API"

    attribution = models.ForeignKey("engagements.Attribution", on_delete=models.PROTECT, related_name="revenue_reports")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="revenue_reports")
    period = models.DateField(validators=[_month_start_validator], help_text="First day of the month reported.")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    currency = models.CharField(max_length=3, choices=Currency.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    revision = models.PositiveIntegerField(default=1, help_text="1 for the first report, then one more per correction.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-period", "attribution__msp__name"]
        constraints = [
            models.UniqueConstraint(fields=["attribution", "period"], name="revenue_report_one_per_account_month"),
            models.UniqueConstraint(fields=["vendor", "idempotency_key"], name="revenue_report_idempotency_key"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="revenue_report_amount_not_negative"),
            models.CheckConstraint(condition=Q(currency__in=Currency.values), name="revenue_report_currency"),
        ]
        # Covers the statement run's currency check (vendor, period -> currencies) without reading rows.
        indexes = [models.Index(fields=["vendor", "period", "currency"])]

    # Set by ``services.revenue_report_record`` on the report it returns (not columns): whether it
    # answers a retried request, and the revision that request first created.
    replayed: bool = False
    revision_replayed: RevenueReportRevision | None = None

    def __str__(self) -> str:
        return f"{self.attribution} {format_month(self.period)}: {self.amount} {self.currency}"


class RevenueReportRevision(TenantOwnedModel):
    """Every value a revenue report has had, with who sent it and how; the first revision is the original."""

    report = models.ForeignKey(RevenueReport, on_delete=models.CASCADE, related_name="revisions")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    amount = models.DecimalField(**MONEY)
    previous_amount = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    source = models.CharField(max_length=12, choices=RevenueReport.Source.choices)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="revenue_revision_number"),
            models.UniqueConstraint(fields=["vendor", "idempotency_key"], name="revenue_revision_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.report} (revision {self.number})"


class StatementRun(models.Model):
    """One monthly statement run over every agreement; the progress bar reads its counts."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    period = models.DateField(validators=[_month_start_validator])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Agreements to compute.")
    done = models.PositiveIntegerField(default=0, help_text="Agreements computed (or skipped as already locked).")
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Statement run {format_month(self.period)} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        """How far the run is, 0-100."""
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int((self.done + self.failed) * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class StatementSequence(models.Model):
    """The last statement number used in a year; locked with select_for_update to keep numbers gap-free."""

    year = models.PositiveIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Statement(TenantOwnedModel):
    """A monthly statement of one agreement (or a credit note voiding an issued one)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        ISSUED = "issued", "Issued"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    LOCKED = (Status.APPROVED, Status.ISSUED, Status.PAID)  # never recomputed
    FINAL = (Status.ISSUED, Status.PAID)  # numbered, PDF stored

    # Indexed by the (agreement, period) index below, not on its own.
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="statements", db_index=False)
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="statements")
    period = models.DateField(validators=[_month_start_validator])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=20, null=True, blank=True, unique=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    total = models.DecimalField(**TOTAL, default=ZERO, help_text="Sum of the lines.")
    equity_total = models.DecimalField(**TOTAL, default=ZERO, help_text="Sum of the equity accrual lines.")
    run = models.ForeignKey(StatementRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="statements")
    credit_note_for = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    generated_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(
        null=True, blank=True, help_text="The issue date plus the payment terms in force for the period."
    )
    paid_on = models.DateField(null=True, blank=True, help_text="The date of the payment that settled the balance.")
    payment_reference = models.CharField(
        max_length=120, blank=True, help_text="The reference of the payment that settled the balance."
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    pdf = models.FileField(upload_to="statements/%Y/", null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-period", "vendor__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "period"],
                condition=Q(credit_note_for__isnull=True) & ~Q(status="void"),
                name="statement_one_per_agreement_period",
            ),
            models.CheckConstraint(condition=Q(currency__in=Currency.values), name="statement_currency"),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(status__in=["issued", "paid", "void"]),
                name="statement_number_only_when_issued",
            ),
        ]
        indexes = [models.Index(fields=["period", "status"]), models.Index(fields=["agreement", "period"])]

    def __str__(self) -> str:
        return f"{self.title} · {self.vendor} · {month_label(self.period)}"

    @property
    def title(self) -> str:
        """What the statement is called at its stage: "Draft statement", "Approved statement", "Statement TMW-…"."""
        noun = "credit note" if self.credit_note_for_id else "statement"
        if self.number:
            return f"{noun.capitalize()} {self.number}"
        return f"{_STATEMENT_STATUS_LABELS.get(self.status, self.status)} {noun}"

    @property
    def is_credit_note(self) -> bool:
        return self.credit_note_for_id is not None

    @property
    def is_locked(self) -> bool:
        """Approved, issued, paid or void: nothing may recompute or edit it."""
        return self.status != self.Status.DRAFT

    @property
    def cash_total(self) -> Decimal:
        """What the vendor pays in cash: the total less the equity accrued."""
        return self.total - self.equity_total

    @property
    def amount_paid(self) -> Decimal:
        """The sum of the payments recorded and not reversed (``paid_sum`` when a query annotated it)."""
        annotated = getattr(self, "paid_sum", None)
        if annotated is not None:
            return annotated
        if self.pk is None:
            return Decimal("0.00")
        found = self.payments.filter(reversed_at__isnull=True).aggregate(total=models.Sum("amount"))["total"]
        return found if found is not None else Decimal("0.00")

    @property
    def balance(self) -> Decimal:
        """What is still to be paid: the cash due less the payments; zero for a credit note or an unissued statement."""
        if self.is_credit_note or self.status not in self.FINAL:
            return Decimal("0.00")
        return max(self.cash_total - self.amount_paid, Decimal("0.00"))


# What ``get_status_display`` says, read once (it rebuilds its mapping on every call, and a run
# names a thousand statements in its audit rows).
_STATEMENT_STATUS_LABELS = dict(Statement.Status.choices)


class StatementLine(TenantOwnedModel):
    """One line of a statement: retainer cash, equity accrual, revenue share, tail, adjustment, credit or tax."""

    class Kind(models.TextChoices):
        RETAINER_CASH = "retainer_cash", "Retainer (cash)"
        EQUITY_ACCRUAL = "equity_accrual", "Retainer taken as equity"
        REVENUE_SHARE = "revenue_share", "Revenue share"
        TAIL = "tail", "Post-termination tail"
        ADJUSTMENT = "adjustment", "Adjustment"
        CREDIT = "credit", "Credit"
        TAX = "tax", "Sales tax"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=300)
    attribution = models.ForeignKey(  # indexed by the (attribution, kind) index below, not on its own
        "engagements.Attribution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_lines",
        db_index=False,
    )
    revenue = models.DecimalField(**TOTAL, null=True, blank=True)
    account_year = models.PositiveSmallIntegerField(null=True, blank=True)
    rate = models.DecimalField(**RATE, null=True, blank=True)
    amount = models.DecimalField(**TOTAL)
    corrects_period = models.DateField(null=True, blank=True, help_text="The month an adjustment corrects.")
    order = models.PositiveIntegerField(default=0)

    tenant_paths = ("statement__vendor",)

    # Set by the portal's statement page (not a column): whether the line has an open query.
    has_open_query: bool = False

    class Meta(TenantOwnedModel.Meta):
        ordering = ["statement", "order", "pk"]
        indexes = [models.Index(fields=["attribution", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description} {self.amount}"


def _account_code_validator(value: str) -> None:
    if not value or not value.strip():
        raise ValidationError("Give an account code.")
    if any(c.isspace() for c in value):
        raise ValidationError("An account code has no spaces.")


def _account_code(default: str, label: str) -> models.CharField:
    return models.CharField(max_length=30, default=default, validators=[_account_code_validator], verbose_name=label)


class AccountingSettings(models.Model):
    """TMW's ledger account per statement line kind and its tax codes, for the accounting exports (one row)."""

    retainer_account = _account_code("4000", "Retainer (cash) account")
    revenue_share_account = _account_code("4100", "Revenue share account")
    tail_account = _account_code("4110", "Post-termination tail account")
    adjustment_account = _account_code("4120", "Adjustments account")
    tax_account = _account_code("2200", "Sales tax payable account")
    equity_asset_account = _account_code("1500", "Equity investments account (debit)")
    equity_income_account = _account_code("4010", "Retainer taken as equity account (credit)")
    qbo_tax_code = models.CharField(
        max_length=40, default="Out of Scope", verbose_name="QuickBooks tax code on exported lines"
    )
    xero_tax_type = models.CharField(
        max_length=40, default="Tax Exempt", verbose_name="Xero tax type on exported lines"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "accounting settings"
        verbose_name_plural = "accounting settings"

    def __str__(self) -> str:
        return "Accounting export settings"

    @classmethod
    def current(cls) -> AccountingSettings:
        """The one row (its defaults until finance saves it)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    def account_for(self, kind: str) -> str:
        """The ledger account of a line kind (credit lines take the kind of the line they credit)."""
        accounts: dict[str, str] = {
            StatementLine.Kind.RETAINER_CASH: self.retainer_account,
            StatementLine.Kind.REVENUE_SHARE: self.revenue_share_account,
            StatementLine.Kind.TAIL: self.tail_account,
            StatementLine.Kind.ADJUSTMENT: self.adjustment_account,
            StatementLine.Kind.CREDIT: self.adjustment_account,
            StatementLine.Kind.TAX: self.tax_account,
            StatementLine.Kind.EQUITY_ACCRUAL: self.equity_income_account,
        }
        return accounts[kind]


class Payment(TenantOwnedModel):
    """One payment received against an issued statement; a statement is paid when they add up to its cash due."""

    class Method(models.TextChoices):
        WIRE = "wire", "Wire transfer"
        ACH = "ach", "ACH / EFT"
        CHEQUE = "cheque", "Cheque"
        CARD = "card", "Card"
        OTHER = "other", "Other"

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="payments")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.WIRE)
    reference = models.CharField(max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A payment recorded in error (the wrong statement, a bounced cheque) is reversed, never deleted: it
    # stays on the statement, struck through with its reason, and no longer counts towards what was paid.
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reversal_reason = models.CharField(max_length=200, blank=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["statement", "received_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(reversed_at__isnull=True, reversal_reason="")
                | (Q(reversed_at__isnull=False) & ~Q(reversal_reason="")),
                name="payment_reversal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.received_on} ({self.get_method_display()} {self.reference})"

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None


class OverdueSchedule(models.Model):
    """When overdue reminders go out (TMW's own setting, one row): first N days after due, then every M days."""

    enabled = models.BooleanField(default=True)
    first_after_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(365)], help_text="Days after the due date."
    )
    repeat_every_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days between later reminders.",
    )
    max_reminders = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="At most this many per statement.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(first_after_days__gte=1, repeat_every_days__gte=1), name="overdue_schedule_days_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Reminders {self.first_after_days} days after due, then every {self.repeat_every_days}"

    def step_due(self, days_overdue: int) -> int:
        """The schedule step reached ``days_overdue`` days after the due date (0: none yet)."""
        if not self.enabled or days_overdue < self.first_after_days:
            return 0
        return min(self.max_reminders, 1 + (days_overdue - self.first_after_days) // self.repeat_every_days)

    def day_of_step(self, step: int) -> int:
        """Days after the due date at which ``step`` is reached."""
        return self.first_after_days + (step - 1) * self.repeat_every_days


class OverdueReminder(TenantOwnedModel):
    """An overdue reminder sent for a statement at one schedule step (sent once: one row per step)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="reminders")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    step = models.PositiveSmallIntegerField()
    days_overdue = models.PositiveIntegerField()
    balance = models.DecimalField(**TOTAL)
    recipients = models.TextField(blank=True, help_text="The addresses it went to, one a line.")
    sent_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["statement", "step"]
        constraints = [models.UniqueConstraint(fields=["statement", "step"], name="overdue_reminder_once_per_step")]

    def __str__(self) -> str:
        return f"Reminder {self.step} for {self.statement_id}"


class BulkRun(models.Model):
    """Approving every draft of a month, issuing every approved statement, or both, as one run with a progress bar."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approve every draft"
        ISSUE = "issue", "Issue every approved statement"
        APPROVE_ISSUE = "approve_issue", "Approve every draft, then issue"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Done with failures"

    period = models.DateField(validators=[_month_start_validator])
    action = models.CharField(max_length=16, choices=Action.choices)

    class Phase(models.TextChoices):
        PLANNING = "planning", "Planning"
        APPROVING = "approving", "Approving"
        RENDERING = "rendering", "Rendering PDFs"
        ISSUING = "issuing", "Issuing"
        FINISHED = "finished", "Finished"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.PLANNING)
    total = models.PositiveIntegerField(default=0, help_text="Statements in the run.")
    to_approve = models.PositiveIntegerField(default=0)
    to_issue = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    rendered = models.PositiveIntegerField(default=0, help_text="PDFs rendered ahead of issuing.")
    issued = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    plan = models.JSONField(default=list, blank=True, help_text="Statement ids to issue, in numbering order.")
    failures = models.JSONField(default=list, blank=True, help_text="[{statement, title, message}] per failure.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["approve", "issue", "approve_issue"]), name="bulk_run_action"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {format_month(self.period)} ({self.get_status_display()})"

    @property
    def issues(self) -> bool:
        return self.action in (self.Action.ISSUE, self.Action.APPROVE_ISSUE)

    @property
    def approves(self) -> bool:
        return self.action in (self.Action.APPROVE, self.Action.APPROVE_ISSUE)

    @property
    def percent(self) -> int:
        """How far the run is, 0-100: an approval is one step, an issue two (its PDF, then its number)."""
        if self.finished_at is not None:
            return 100
        steps = self.to_approve + 2 * self.to_issue
        if not steps:
            return 0
        return min(99, int((self.approved + self.rendered + self.issued) * 100 / steps))

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class BulkRunRender(models.Model):
    """A PDF a bulk run rendered ahead of issuing, for the number, issue date and due date it predicts.

    Kept in the database so that every worker reads what another rendered; deleted once the run has issued.
    """

    run = models.ForeignKey(BulkRun, on_delete=models.CASCADE, related_name="renders")
    statement_id = models.PositiveBigIntegerField()
    number = models.CharField(max_length=20)
    issued_on = models.DateField()
    due_on = models.DateField()
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "statement_id"], name="bulk_render_once")]

    def __str__(self) -> str:
        return f"{self.number} ({self.run_id})"


# --- Delivery and queries (finance loop)


class StatementDelivery(TenantOwnedModel):
    """One email of an issued statement or credit note to the vendor's billing contacts, and what the mail said."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Reason(models.TextChoices):
        ISSUED = "issued", "On issue"
        RESENT = "resent", "Resent by finance"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="deliveries")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.ISSUED)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    recipients = models.JSONField(default=list, blank=True, help_text="The addresses the email went to.")
    attempts = models.PositiveSmallIntegerField(default=0)
    response = models.TextField(blank=True, help_text="What the mail system answered: success, or the error.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    tenant_paths = ("vendor",)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "statement deliveries"

    def __str__(self) -> str:
        return f"{self.statement.title} to {', '.join(self.recipients) or 'nobody'} ({self.get_status_display()})"


class StatementQuery(TenantOwnedModel):
    """A vendor's question about an issued statement or one of its lines, and finance's answer."""

    class Reason(models.TextChoices):
        WRONG_REVENUE = "wrong_revenue", "Revenue figure is wrong"
        WRONG_RATE = "wrong_rate", "Wrong rate or account year"
        NOT_OURS = "not_ours", "Account not attributed to this desk"
        DUPLICATE = "duplicate", "Billed twice"
        RETAINER = "retainer", "Retainer or equity split is wrong"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    class Resolution(models.TextChoices):
        ADJUSTMENT = "adjustment", "Adjustment on the next statement"
        CREDIT_NOTE = "credit_note", "Credit note and reissue"

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="queries")
    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, null=True, blank=True, related_name="queries")
    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    comment = models.TextField(max_length=2000)
    expected_amount = models.DecimalField(
        **TOTAL, null=True, blank=True, help_text="The amount the vendor believes is right, if it says."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    answer = models.TextField(blank=True, help_text="Finance's note, or why the query was declined.")
    adjustment_amount = models.DecimalField(**TOTAL, null=True, blank=True)
    carry_from = models.DateField(
        null=True, blank=True, help_text="The first month whose statement carries the accepted adjustment."
    )
    adjustment_statement = models.ForeignKey(
        Statement, on_delete=models.SET_NULL, null=True, blank=True, related_name="query_adjustments"
    )
    credit_note = models.ForeignKey(Statement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reissued_statement = models.ForeignKey(
        Statement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    tenant_paths = ("vendor",)

    # Set by the statement page (not a column): the answer form of an open query.
    answer_form: Any = None

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-raised_at", "-pk"]
        verbose_name_plural = "statement queries"
        constraints = [
            models.UniqueConstraint(
                fields=["line"], condition=Q(status="open", line__isnull=False), name="query_one_open_per_line"
            ),
            models.UniqueConstraint(
                fields=["statement"], condition=Q(status="open", line__isnull=True), name="query_one_open_per_statement"
            ),
            models.CheckConstraint(
                condition=Q(resolution="") | Q(status="accepted"), name="query_resolution_only_when_accepted"
            ),
        ]

    def __str__(self) -> str:
        return f"Query on {self.statement.title}: {self.get_reason_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
