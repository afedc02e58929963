"""Statement runs: start one for a month and watch its progress."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from commissions import services
from commissions.forms import (
    RunStartForm,
    last_month,
)
from commissions.models import (
    Statement,
    StatementRun,
)
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.months import format_month
from tmw.web import add_application_error, htmx_redirect


@allow("statement.run")
def run_list(request):
    """Start a statement run for a month and see the recent runs."""
    form = RunStartForm(request.POST or None, initial={"period": f"{format_month(last_month())}"})
    if request.method == "POST" and form.is_valid():
        try:
            run = services.statement_run_start(period=form.cleaned_data["period"], actor=request.user)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            return htmx_redirect(request, reverse("commissions:run_detail", args=[run.pk]))
    runs = StatementRun.objects.select_related("started_by").order_by("-created_at", "-pk")[:20]
    status = 400 if request.method == "POST" else 200
    return render(request, "commissions/run_list.html", {"form": form, "runs": runs}, status=status)


def _run_context(run: StatementRun) -> dict:
    statements = list(
        Statement.objects.filter(period=run.period, credit_note_for__isnull=True)
        .select_related("vendor", "agreement__engagement")
        .order_by("vendor__name", "pk")
    )
    return {"run": run, "statements": statements}


@allow("statement.run")
def run_detail(request, statementrun_pk: int):
    """A statement run: its progress bar (polled while it runs) and the statements of its month."""
    run = get_object_or_404(StatementRun.objects.select_related("started_by"), pk=statementrun_pk)
    return render(request, "commissions/run_detail.html", _run_context(run))


@allow("statement.run")
def run_progress(request, statementrun_pk: int):
    """The htmx partial polled every second: it stops polling once the run is finished."""
    run = get_object_or_404(StatementRun.objects.select_related("started_by"), pk=statementrun_pk)
    return render(request, "commissions/partials/run_progress.html", _run_context(run))


# --- Statements (finance and partners)
