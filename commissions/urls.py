"""Pages of the commissions app."""

from django.urls import path

from . import views

app_name = "commissions"

urlpatterns = [
    path("tiers/", views.tier_list, name="tier_list"),
    path("tiers/<int:retainertier_pk>/", views.tier_edit, name="tier_edit"),
    path("agreements/", views.agreement_list, name="agreement_list"),
    path("engagements/<int:engagement_pk>/agreement/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:agreement_pk>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:agreement_pk>/terms/", views.agreement_terms_add, name="agreement_terms_add"),
    path(
        "agreements/<int:agreement_pk>/acknowledgement-window/",
        views.agreement_acknowledgement_window,
        name="agreement_acknowledgement_window",
    ),
    path("revenue/", views.revenue_list, name="revenue_list"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:statementrun_pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:statementrun_pk>/progress/", views.run_progress, name="run_progress"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/export.zip", views.statement_zip, name="statement_zip"),
    path("statements/lines.csv", views.statement_lines_csv, name="statement_lines_csv"),
    path("statements/<int:statement_pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:statement_pk>/approve/", views.statement_approve, name="statement_approve"),
    path("statements/<int:statement_pk>/issue/", views.statement_issue, name="statement_issue"),
    path("statements/<int:statement_pk>/paid/", views.statement_mark_paid, name="statement_mark_paid"),
    path("statements/<int:statement_pk>/void/", views.statement_void, name="statement_void"),
    path("statements/<int:statement_pk>/pdf/", views.statement_pdf, name="statement_pdf"),
    path("accounting/", views.accounting_exports, name="accounting_exports"),
    path("accounting/settings/", views.accounting_settings, name="accounting_settings"),
    path(
        "accounting/qbo-invoices.csv",
        views.accounting_export_file,
        {"file": "qbo_invoices"},
        name="accounting_qbo_invoices",
    ),
    path(
        "accounting/qbo-credit-memos.csv",
        views.accounting_export_file,
        {"file": "qbo_credit_memos"},
        name="accounting_qbo_credit_memos",
    ),
    path(
        "accounting/xero-sales-invoices.csv",
        views.accounting_export_file,
        {"file": "xero_invoices"},
        name="accounting_xero_invoices",
    ),
    path(
        "accounting/equity-journal.csv",
        views.accounting_export_file,
        {"file": "equity_journal"},
        name="accounting_equity_journal",
    ),
    path("statements/<int:statement_pk>/payments/", views.payment_add, name="payment_add"),
    path("statements/<int:statement_pk>/payments/reverse/", views.payment_reverse, name="payment_reverse"),
    path("aging/", views.aging, name="aging"),
    path("aging.csv", views.aging_csv, name="aging_csv"),
    path("bulk/", views.bulk_list, name="bulk_list"),
    path("bulk/<int:bulkrun_pk>/", views.bulk_detail, name="bulk_detail"),
    path("bulk/<int:bulkrun_pk>/progress/", views.bulk_progress, name="bulk_progress"),
    path("statements/<int:statement_pk>/resend/", views.statement_resend, name="statement_resend"),
    path("queries/", views.query_list, name="query_list"),
    path("queries/<int:statementquery_pk>/answer/", views.query_answer, name="query_answer"),
    path("vendors/<int:organisation_pk>/billing-contacts/", views.billing_contacts, name="billing_contacts"),
    path("portal/statements/", views.portal_statements, name="portal_statements"),
    path("portal/statements/lines.csv", views.portal_lines_csv, name="portal_lines_csv"),
    path("portal/statements/<int:statement_pk>/", views.portal_statement_detail, name="portal_statement_detail"),
    path("portal/statements/<int:statement_pk>/queries/", views.query_raise, name="query_raise"),
    path("portal/billing-contacts/", views.portal_billing_contacts, name="portal_billing_contacts"),
    path("portal/revenue/", views.portal_revenue_upload, name="portal_revenue_upload"),
]
