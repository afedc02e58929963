"""Business actions on agreements, revenue reports and statements; one transaction each.

Every service is keyword-only, validates, writes an audit row and raises
``tmw.errors.ApplicationError`` with field messages when a business rule says no.
The computation of statement lines is pure and lives in ``commissions.engine``.

One module per sub-domain: ``terms`` (retainer tiers, agreements, terms versions),
``revenue`` (revenue intake), ``statements`` (computing, writing and the lifecycle),
``runs`` (monthly statement runs), ``payments`` (payments, due dates, aging, overdue reminders),
``bulk`` (approving and issuing a month's statements as one run), ``notifications`` (missing-report emails),
``delivery`` (emailing issued statements and credit notes, recorded) and ``queries`` (vendors' statement queries).
Every name is importable from ``commissions.services``. Every service that writes takes a
required ``actor`` (a user, or ``tmw.accounts.policy.SYSTEM`` for scheduled work) and asks
``tmw.accounts.policy`` whether it may act.
"""

from __future__ import annotations

from commissions.limits import MAX_INPUT_AMOUNT
from commissions.services.accounting import accounting_settings_save
from commissions.services.bulk import (
    bulk_run_failures,
    bulk_run_issue,
    bulk_run_plan,
    bulk_run_render_one,
    bulk_run_start,
)
from commissions.services.delivery import (
    statement_delivery_queue,
    statement_delivery_resend,
    statement_delivery_send,
)
from commissions.services.notifications import missing_reports_notify
from commissions.services.payments import (
    AGING_BUCKETS,
    AgingRow,
    aging_by_vendor,
    due_date_for,
    overdue_reminders_send,
    overdue_schedule,
    overdue_schedule_save,
    payment_record,
    payment_reverse,
    statement_mark_paid,
    with_paid_sum,
)
from commissions.services.queries import (
    QUERY_DECISIONS,
    statement_query_answer,
    statement_query_notify,
    statement_query_raise,
)
from commissions.services.revenue import revenue_report_record, revenue_report_submit, revenue_reports_import
from commissions.services.runs import (
    agreements_for_period,
    statement_run_batches,
    statement_run_fan_out,
    statement_run_generate_batch,
    statement_run_generate_one,
    statement_run_now,
    statement_run_record_failure,
    statement_run_start,
)
from commissions.services.statements import (
    PreRendered,
    lifecycle_refusal,
    statement_approve,
    statement_compute,
    statement_generate,
    statement_issue,
    statement_void,
)
from commissions.services.terms import agreement_create, agreement_terms_change, retainer_tier_save
from tmw.money import MAX_AMOUNT

__all__ = [
    "AGING_BUCKETS",
    "AgingRow",
    "PreRendered",
    "aging_by_vendor",
    "bulk_run_failures",
    "bulk_run_issue",
    "bulk_run_plan",
    "bulk_run_render_one",
    "bulk_run_start",
    "due_date_for",
    "overdue_reminders_send",
    "overdue_schedule",
    "overdue_schedule_save",
    "payment_record",
    "payment_reverse",
    "with_paid_sum",
    "MAX_AMOUNT",
    "MAX_INPUT_AMOUNT",
    "accounting_settings_save",
    "QUERY_DECISIONS",
    "agreement_create",
    "agreement_terms_change",
    "agreements_for_period",
    "missing_reports_notify",
    "retainer_tier_save",
    "revenue_report_record",
    "revenue_report_submit",
    "revenue_reports_import",
    "lifecycle_refusal",
    "statement_approve",
    "statement_compute",
    "statement_delivery_queue",
    "statement_delivery_resend",
    "statement_delivery_send",
    "statement_generate",
    "statement_issue",
    "statement_mark_paid",
    "statement_query_answer",
    "statement_query_notify",
    "statement_query_raise",
    "statement_run_batches",
    "statement_run_fan_out",
    "statement_run_generate_batch",
    "statement_run_generate_one",
    "statement_run_now",
    "statement_run_record_failure",
    "statement_run_start",
    "statement_void",
]
