"""Reads of the MSP directory and target lists shared by pages, the API and the PDF report."""

from __future__ import annotations

from django.db import connections
from django.db.models import Count, QuerySet

from diagnostics.models import Diagnostic, MSPProfile, TargetEntry, TargetList
from tmw.accounts.tenancy import operator_scope

from .scoring import ROW_FIELDS


def latest_target_list(*, diagnostic: Diagnostic) -> TargetList | None:
    """The newest target-list snapshot of a diagnostic, or None before the first build."""
    return TargetList.objects.filter(diagnostic=diagnostic).order_by("-number").first()


def directory_rows() -> list[tuple]:
    """Every MSP in the directory as the plain rows the scorer reads: tuples in ``scoring.ROW_FIELDS`` order.

    A target list scores the whole directory, TMW's own data, whoever asks; what the
    caller then sees of the result is scoped as usual. This is the one place that reads
    the directory across tenants for scoring. The ORM writes the query; the rows are read
    straight from the cursor (booleans may come back as 0/1), which keeps 20,000 rows fast.
    """
    with operator_scope():
        queryset = MSPProfile.objects.order_by().values_list(*ROW_FIELDS)
        sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def msp_directory(*, user) -> QuerySet[MSPProfile]:
    """The MSP profiles the user may see (partners all; vendors those on their target lists), light columns."""
    return MSPProfile.objects.only(
        "organisation_id",
        "legal_name",
        "city",
        "region",
        "country",
        "website",
        "employees",
        "technicians",
        "endpoints",
        "clients",
        "verticals",
        "service_lines",
        "psa_tools",
        "rmm_tools",
        "pe_backed",
        "community_member",
        "relationship",
    ).order_by("legal_name", "pk")


def visible_entries(*, target_list: TargetList, user) -> QuerySet[TargetEntry]:
    """Entries of a target list in rank order; vendors do not see the MSPs TMW excluded."""
    entries = TargetEntry.objects.filter(target_list=target_list).order_by("rank", "pk")
    if not user.is_operator:
        entries = entries.filter(excluded=False)
    return entries


def tier_distribution(*, entries: QuerySet[TargetEntry]) -> dict[str, int]:
    """How many entries sit in each tier, A to C."""
    counts = {"A": 0, "B": 0, "C": 0}
    for tier, n in entries.order_by().values_list("tier").annotate(n=Count("pk")):
        counts[tier] = n
    return counts
