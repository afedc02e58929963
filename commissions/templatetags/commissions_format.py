"""Template filters for money and rates on the commissions pages."""

from __future__ import annotations

from django import template

from commissions.pdf import money as _money
from commissions.pdf import percent as _percent

register = template.Library()


@register.filter
def money(value) -> str:
    """``1234.5`` → ``1,234.50``."""
    return _money(value)


@register.filter
def pct(value) -> str:
    """A fraction as a percentage: ``0.15`` → ``15%``."""
    return _percent(value)


@register.filter
def schedule(terms) -> str:
    """A terms version's revenue-share steps: ``Year 1 15% · Year 2 10% · Year 3+ 5%``."""
    steps = sorted(terms.steps.all(), key=lambda s: s.year)
    parts = []
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        parts.append(f"Year {step.year}{'+' if last else ''} {_percent(step.rate)}")
    return " · ".join(parts) or "No revenue share"
