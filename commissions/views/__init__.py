"""Pages of the commercial terms: retainer tiers, agreements, revenue intake, statement runs and statements,
and the vendor portal's statements and revenue upload. Pages call services and selectors; the rules live there.

One module per sub-domain (``agreements``, ``revenue``, ``runs``, ``statements``, ``portal``); every
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
from commissions.views.payments import aging, aging_csv, payment_add
from commissions.views.portal import portal_revenue_upload, portal_statements
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
    "agreement_create",
    "agreement_detail",
    "agreement_forecast",
    "agreement_list",
    "agreement_terms_add",
    "current_terms",
    "portal_revenue_upload",
    "portal_statements",
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
    "statement_void",
    "statement_zip",
    "tier_edit",
    "tier_list",
]
