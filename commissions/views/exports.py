"""Finance's accounting exports: a month's QuickBooks Online and Xero files, the equity journal, their settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from commissions import exports, services
from commissions.forms import AccountingSettingsForm, ExportMonthForm, last_month
from commissions.models import AccountingSettings
from commissions.services.accounting import ACCOUNT_FIELDS, TAX_CODE_FIELDS
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.months import format_month
from tmw.web import add_application_error, htmx_redirect


def _month_form(request) -> ExportMonthForm:
    return ExportMonthForm(request.GET if request.GET.get("period") else {"period": format_month(last_month())})


@allow("statement.export")
def accounting_exports(request):
    """A month's accounting exports: what they hold per currency and the four files to download."""
    form = _month_form(request)
    period = form.cleaned_data["period"] if form.is_valid() else None
    statements = exports.issued_in(period) if period is not None else []
    context = {
        "form": form,
        "period": period,
        "summaries": exports.summary_of(statements),
        "statements": statements,
        "files": [
            {"title": f.title, "filename": f.filename(period), "url": reverse(f"commissions:accounting_{key}")}
            for key, f in exports.EXPORTS.items()
        ]
        if period is not None
        else [],
        "settings": AccountingSettings.current(),
    }
    return render(request, "commissions/accounting_exports.html", context, status=200 if period else 400)


@allow("statement.export")
def accounting_export_file(request, file: str):
    """One export of a month as a CSV download (``?period=YYYY-MM``, last month by default)."""
    form = _month_form(request)
    if not form.is_valid():
        return HttpResponse(f"period: {form.errors['period'][0]}", status=400, content_type="text/plain; charset=utf-8")
    filename, content = exports.export_file(file, form.cleaned_data["period"])
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@allow(GET="statement.export", POST="accounting.manage")
def accounting_settings(request):
    """The ledger account of each line kind and the tax codes the exports write (finance)."""
    current = AccountingSettings.current()
    form = AccountingSettingsForm(request.POST or None, instance=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in (*ACCOUNT_FIELDS, *TAX_CODE_FIELDS)}
            try:
                services.accounting_settings_save(actor=request.user, **values)
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, "Accounting export settings saved.")
                return htmx_redirect(request, reverse("commissions:accounting_settings"))
        status = 400
    products = list(dict.fromkeys(name for kind, name in exports.PRODUCTS.items() if kind != "equity_accrual"))
    context = {"form": form, "products": products}
    return render(request, "commissions/accounting_settings.html", context, status=status)
