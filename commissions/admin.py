"""Admin for commercial terms (operators only; pages and services are the way to work).

Every field that drives billing is read-only here: agreements, terms versions, rates, the
retainer, the tail and the equity layer, revenue, statements and their lines change only through
the pages and their services, which check the policy, validate, keep history and write the audit
trail. Each change form says which page changes it, with a link. A retainer tier's name, text,
order and whether it is offered stay editable (they bill nothing); its fees are read-only and new
tiers are added on the tiers page. Drafts can be approved from the statement list (through the
service).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from tmw.errors import ApplicationError

from .models import (
    AccountingSettings,
    Agreement,
    AgreementTerms,
    RetainerTier,
    RevenueReport,
    RevenueReportRevision,
    RevenueShareStep,
    Statement,
    StatementLine,
    StatementRun,
    StatementSequence,
)


def _page_hint(url: str, label: str) -> str:
    return format_html(
        'Read-only here: billing changes only on <a href="{}">{}</a>, which keeps the audit trail.', url, label
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows every field, changes nothing, and links to the page that changes it."""

    def page_for(self, obj) -> tuple[str, str]:
        """The URL and name of the page that changes ``obj``."""
        return reverse("commissions:agreement_list"), "the agreements page"

    def get_fieldsets(self, request, obj=None):
        fields = [f.name for f in self.model._meta.fields if f.name != "id"]
        if obj is None:
            return [(None, {"fields": fields})]
        return [(None, {"fields": fields, "description": _page_hint(*self.page_for(obj))})]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RetainerTier)
class RetainerTierAdmin(admin.ModelAdmin):
    list_display = ["name", "monthly_fee_usd", "monthly_fee_cad", "active", "order"]
    list_editable = ["active", "order"]
    search_fields = ["name"]
    readonly_fields = ["monthly_fee_usd", "monthly_fee_cad"]

    def get_fieldsets(self, request, obj=None):
        fields = ["name", "description", "active", "order", "monthly_fee_usd", "monthly_fee_cad"]
        url = reverse("commissions:tier_edit", args=[obj.pk]) if obj is not None else reverse("commissions:tier_list")
        return [(None, {"fields": fields, "description": _page_hint(url, "the retainer tier's page")})]

    def has_add_permission(self, request, obj=None):
        return False  # a tier's fees are set on the tiers page, through the service


class StepInline(ReadOnlyInline):
    model = RevenueShareStep


@admin.register(AgreementTerms)
class AgreementTermsAdmin(ReadOnlyAdmin):
    list_display = [
        "agreement",
        "effective_month",
        "retainer_tier",
        "monthly_amount",
        "tail_months",
        "equity_kind",
        "tax_kind",
    ]
    list_select_related = ["agreement__vendor", "retainer_tier"]
    inlines = [StepInline]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:agreement_detail", args=[obj.agreement_id]), "the agreement's page"


@admin.register(RevenueShareStep)
class RevenueShareStepAdmin(ReadOnlyAdmin):
    list_display = ["terms", "year", "rate"]
    list_select_related = ["terms__agreement__vendor"]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:agreement_detail", args=[obj.terms.agreement_id]), "the agreement's page"


class TermsInline(ReadOnlyInline):
    model = AgreementTerms
    fields = ["effective_month", "retainer_tier", "monthly_amount", "tail_months", "tail_rate", "equity_share"]
    show_change_link = True


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "engagement", "currency", "created_at"]
    list_select_related = ["vendor", "engagement__vendor"]
    list_filter = ["currency"]
    inlines = [TermsInline]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:agreement_detail", args=[obj.pk]), "the agreement's page"


class RevisionInline(ReadOnlyInline):
    model = RevenueReportRevision
    fk_name = "report"


@admin.register(RevenueReport)
class RevenueReportAdmin(ReadOnlyAdmin):
    list_display = ["attribution", "vendor", "period", "amount", "currency", "source", "revision"]
    list_select_related = ["attribution__msp", "vendor"]
    list_filter = ["source", "currency", "period"]
    inlines = [RevisionInline]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:revenue_list") + f"?period={obj.period:%Y-%m}", "the revenue grid"


class LineInline(ReadOnlyInline):
    model = StatementLine
    fields = ["order", "kind", "description", "revenue", "account_year", "rate", "amount", "corrects_period"]


@admin.action(description="Approve the selected draft statements")
def approve_statements(modeladmin, request, queryset):
    from .services import statement_approve

    approved = 0
    for statement in queryset.filter(status=Statement.Status.DRAFT):
        try:
            statement_approve(statement=statement, actor=request.user)
            approved += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{statement}: {exc.message}", messages.ERROR)
    modeladmin.message_user(request, f"{approved} statement(s) approved.")


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "vendor", "period", "status", "number", "currency", "total"]
    list_select_related = ["vendor"]
    list_filter = ["status", "currency", "period"]
    search_fields = ["number", "vendor__name"]
    inlines = [LineInline]
    actions = [approve_statements]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:statement_detail", args=[obj.pk]), "the statement's page"

    def has_change_permission(self, request, obj=None):
        # Needed for the approve action on the list (it calls the service); an open statement is read-only.
        return obj is None and request.user.has_perm("commissions.change_statement")


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyAdmin):
    list_display = ["statement", "kind", "description", "amount"]
    list_select_related = ["statement__vendor"]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:statement_detail", args=[obj.statement_id]), "the statement's page"


@admin.register(StatementRun)
class StatementRunAdmin(ReadOnlyAdmin):
    list_display = ["period", "status", "done", "failed", "total", "started_by", "created_at", "finished_at"]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:run_detail", args=[obj.pk]), "the run's page"


@admin.register(StatementSequence)
class StatementSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:statement_list"), "the statements page (issuing takes the next number)"


@admin.register(AccountingSettings)
class AccountingSettingsAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "retainer_account", "revenue_share_account", "tax_account", "updated_at"]

    def page_for(self, obj) -> tuple[str, str]:
        return reverse("commissions:accounting_settings"), "the accounting export settings page"
