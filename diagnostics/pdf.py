"""The PDF report of a completed diagnostic."""

from __future__ import annotations

from django.utils import timezone
from django.utils.text import slugify

from tmw.pdf import render_pdf

from . import selectors
from .models import Diagnostic

REPORT_TEMPLATE = "diagnostics/pdf/report.html"
TOP_TARGETS = 25


def report_context(*, diagnostic: Diagnostic, user: object) -> dict:
    """What the report shows: scores, gates, thesis, decision and the top target MSPs the reader may see."""
    card = selectors.diagnostic_scorecard(diagnostic=diagnostic)
    target_list, targets = selectors.top_targets(diagnostic=diagnostic, user=user, limit=TOP_TARGETS)
    return {
        "diagnostic": diagnostic,
        "card": card,
        "thesis": selectors.diagnostic_thesis(diagnostic=diagnostic),
        "decision": selectors.diagnostic_decision(diagnostic=diagnostic),
        "target_list": target_list,
        "targets": targets,
        "generated_on": timezone.localdate(),
    }


def diagnostic_report(*, diagnostic: Diagnostic, user: object) -> tuple[str, str, bytes]:
    """Render the report for ``user``: ``(filename, content type, PDF bytes)``."""
    content = render_pdf(REPORT_TEMPLATE, report_context(diagnostic=diagnostic, user=user))
    filename = f"phase-one-diagnostic-{slugify(diagnostic.vendor.name)}-{diagnostic.started_on:%Y-%m-%d}.pdf"
    return filename, "application/pdf", content
