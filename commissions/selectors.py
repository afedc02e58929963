"""Reads shared by the commissions pages, the API and the dashboards."""

from __future__ import annotations


def finance_summary() -> dict:
    """Figures for the finance dashboard (read across tenants: call inside an operator scope)."""
    raise NotImplementedError
