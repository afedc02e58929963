"""Admin for commercial terms (operators only; pages and services are the way to work).

Money rows are read-only here: agreements, revenue and statements change only through
the services, which validate, keep history and write the audit trail. Retainer tiers are
operator data and editable. A statement is never editable in the admin, and once approved
it cannot be deleted either; drafts can be approved from the list.
"""

from __future__ import annotations

from django.contrib import admin, messages

from tmw.errors import ApplicationError

from .models import (
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows every field, changes nothing."""

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


class StepInline(ReadOnlyInline):
    model = RevenueShareStep


@admin.register(AgreementTerms)
class AgreementTermsAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "effective_month", "retainer_tier", "monthly_amount", "tail_months", "equity_kind"]
    list_select_related = ["agreement__vendor", "retainer_tier"]
    inlines = [StepInline]


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


class RevisionInline(ReadOnlyInline):
    model = RevenueReportRevision
    fk_name = "report"


@admin.register(RevenueReport)
class RevenueReportAdmin(ReadOnlyAdmin):
    list_display = ["attribution", "vendor", "period", "amount", "currency", "source", "revision"]
    list_select_related = ["attribution__msp", "vendor"]
    list_filter = ["source", "currency", "period"]
    inlines = [RevisionInline]


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

    def has_change_permission(self, request, obj=None):
        # Needed for the approve action on the list; an open statement still shows read-only fields.
        return obj is None and request.user.has_perm("commissions.change_statement")


@admin.register(StatementRun)
class StatementRunAdmin(ReadOnlyAdmin):
    list_display = ["period", "status", "done", "failed", "total", "started_by", "created_at", "finished_at"]


@admin.register(StatementSequence)
class StatementSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]
