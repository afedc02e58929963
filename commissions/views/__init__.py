"""Pages of the commercial terms: retainer tiers, agreements, revenue intake, statement runs and statements,
and the vendor portal's statements and revenue upload. Pages call services and selectors; the rules live there.

One module per sub-domain (``agreements``, ``revenue``, ``runs``, ``statements``, ``portal``, ``queries``); every
page is importable from ``commissions.views``, as ``commissions.urls`` does.
"""

from __future__ import annotations

from commissions.views.agreements import (
    agreement_acknowledgement_window,
    agreement_create,
    agreement_detail,
    agreement_forecast,
    agreement_list,
    agreement_terms_add,
    current_terms,
    tier_edit,
    tier_list,
)
from commissions.views.bulk import bulk_detail, bulk_list, bulk_progress
from commissions.views.exports import accounting_export_file, accounting_exports, accounting_settings
from commissions.views.payments import aging, aging_csv, payment_add, payment_reverse
from commissions.views.portal import (
    portal_lines_csv,
    portal_revenue_upload,
    portal_statement_detail,
    portal_statements,
)
from commissions.views.queries import (
    billing_contacts,
    portal_billing_contacts,
    query_answer,
    query_list,
    query_raise,
)
from commissions.views.revenue import revenue_list
from commissions.views.runs import run_detail, run_list, run_progress
from commissions.views.statements import (
    statement_approve,
    statement_detail,
    statement_file,
    statement_issue,
    statement_lines_csv,
    statement_list,
    statement_mark_paid,
    statement_pdf,
    statement_resend,
    statement_void,
    statement_zip,
)

__all__ = [
    "agreement_acknowledgement_window",
    "accounting_export_file",
    "accounting_exports",
    "accounting_settings",
    "aging",
    "aging_csv",
    "bulk_detail",
    "bulk_list",
    "bulk_progress",
    "payment_add",
    "payment_reverse",
    "agreement_create",
    "agreement_detail",
    "agreement_forecast",
    "agreement_list",
    "agreement_terms_add",
    "billing_contacts",
    "current_terms",
    "portal_billing_contacts",
    "portal_lines_csv",
    "portal_revenue_upload",
    "portal_statement_detail",
    "portal_statements",
    "query_answer",
    "query_list",
    "query_raise",
    "revenue_list",
    "run_detail",
    "run_list",
    "run_progress",
    "statement_approve",
    "statement_detail",
    "statement_file",
    "statement_issue",
    "statement_lines_csv",
    "statement_list",
    "statement_mark_paid",
    "statement_pdf",
    "statement_resend",
    "statement_void",
    "statement_zip",
    "tier_edit",
    "tier_list",
]
