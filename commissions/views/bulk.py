"""Bulk runs: approve a month's drafts and issue its approved statements as one run, with a progress bar."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from commissions import services
from commissions.forms import BulkRunForm, last_month
from commissions.models import BulkRun, Statement
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.months import format_month
from tmw.web import add_application_error, htmx_redirect


@allow("statement.bulk")
def bulk_list(request):
    """Start a bulk approve / issue run for a month and see the recent ones."""
    form = BulkRunForm(
        request.POST or None,
        initial={"period": f"{format_month(last_month())}", "action": BulkRun.Action.APPROVE_ISSUE},
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = services.bulk_run_start(
                period=form.cleaned_data["period"], action=form.cleaned_data["action"], actor=request.user
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            return htmx_redirect(request, reverse("commissions:bulk_detail", args=[run.pk]))
    runs = BulkRun.objects.select_related("started_by").order_by("-created_at", "-pk")[:20]
    status = 400 if request.method == "POST" else 200
    return render(request, "commissions/bulk_list.html", {"form": form, "runs": runs}, status=status)


def _bulk_context(run: BulkRun) -> dict:
    statements = list(
        Statement.objects.filter(period=run.period, credit_note_for__isnull=True)
        .exclude(status=Statement.Status.VOID)
        .select_related("vendor")
        .order_by("vendor__name", "pk")
    )
    return {"run": run, "statements": statements, "failures": services.bulk_run_failures(run)}


@allow("statement.bulk")
def bulk_detail(request, bulkrun_pk: int):
    """A bulk run: its progress bar (polled while it runs), its failures and the month's statements."""
    run = get_object_or_404(BulkRun.objects.select_related("started_by"), pk=bulkrun_pk)
    return render(request, "commissions/bulk_detail.html", _bulk_context(run))


@allow("statement.bulk")
def bulk_progress(request, bulkrun_pk: int):
    """The htmx partial polled every second: it stops polling once the run is finished."""
    run = get_object_or_404(BulkRun.objects.select_related("started_by"), pk=bulkrun_pk)
    return render(request, "commissions/partials/bulk_progress.html", _bulk_context(run))
