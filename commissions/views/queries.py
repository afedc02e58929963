"""Statement queries (the finance list and answers, the vendor's raise form) and who receives statements."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from commissions import selectors, services
from commissions.forms import BillingContactsForm, QueryAnswerForm, QueryRaiseForm
from commissions.models import Statement, StatementLine, StatementQuery
from tmw.accounts import policy
from tmw.accounts.models import BillingContact, Organisation
from tmw.accounts.permissions import allow
from tmw.accounts.services import billing_contacts_set, billing_recipients
from tmw.errors import ApplicationError
from tmw.web import add_application_error, bounded_int, htmx_redirect

QUERY_LIST_LIMIT = 200


@allow("statement.query_list")
def query_list(request):
    """Every vendor's statement queries, open ones first by default; filter by status."""
    status = request.GET.get("status", "open")
    queries = selectors.statement_queries()
    if status in StatementQuery.Status.values:
        queries = queries.filter(status=status)
    else:
        status = "all"
    context = {
        "queries": list(queries[:QUERY_LIST_LIMIT]),
        "status": status,
        "statuses": [("open", "Open"), ("accepted", "Accepted"), ("declined", "Declined"), ("all", "All")],
        "limit": QUERY_LIST_LIMIT,
    }
    return render(request, "commissions/query_list.html", context)


@allow(POST="statement.query")
@require_POST
def query_raise(request, statement_pk: int):
    """The vendor raises a query on one of its issued statements, or on one line of it."""
    from commissions.views.portal import portal_statement_page

    statement = get_object_or_404(Statement.objects.filter(status__in=Statement.FINAL), pk=statement_pk)
    line = None
    line_id = request.POST.get("line", "").strip()
    if line_id:
        number = bounded_int(line_id)
        line = StatementLine.objects.filter(pk=number).first() if number is not None else None
    form = QueryRaiseForm(request.POST, lines=[line] if line is not None else [])
    if line_id and line is None:
        form.is_valid()
        form.add_error("line", "That line is not on this statement.")
        messages.error(request, "That line is not on this statement.")
        return portal_statement_page(request, statement, raise_form=form, status=400)
    if not form.is_valid():
        messages.error(request, "Choose a reason and say what looks wrong.")
        return portal_statement_page(request, statement, raise_form=form, status=400)
    try:
        services.statement_query_raise(
            statement=statement,
            line=line,
            reason=form.cleaned_data["reason"],
            comment=form.cleaned_data["comment"],
            expected_amount=form.cleaned_data.get("expected_amount"),
            actor=request.user,
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        messages.error(request, exc.message)
        return portal_statement_page(request, statement, raise_form=form, status=exc.status)
    messages.success(request, "Query sent to TMW finance. You will get an email with the answer.")
    return htmx_redirect(request, reverse("commissions:portal_statement_detail", args=[statement.pk]))


@allow(POST="statement.query_answer")
@require_POST
def query_answer(request, statementquery_pk: int):
    """Finance answers an open query from the statement's page."""
    from commissions.views.statements import statement_page

    query = get_object_or_404(StatementQuery.objects.select_related("statement"), pk=statementquery_pk)
    form = QueryAnswerForm(request.POST, prefix=f"q{query.pk}")
    if not form.is_valid():
        messages.error(request, "Choose an answer.")
        return statement_page(request, query.statement_id, answer_forms={query.pk: form}, status=400)
    try:
        answered = services.statement_query_answer(
            query=query,
            decision=form.cleaned_data["decision"],
            answer=form.cleaned_data.get("answer", ""),
            amount=form.cleaned_data.get("amount"),
            actor=request.user,
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        messages.error(request, exc.message)
        return statement_page(request, query.statement_id, answer_forms={query.pk: form}, status=exc.status)
    if answered.reissued_statement_id:
        messages.success(request, "Query accepted: credit note issued and the statement reissued.")
        return htmx_redirect(request, reverse("commissions:statement_detail", args=[answered.reissued_statement_id]))
    messages.success(request, f"Query {answered.get_status_display().lower()}; the vendor is told by email.")
    return htmx_redirect(request, reverse("commissions:statement_detail", args=[query.statement_id]))


def _contacts_page(request, vendor: Organisation, *, template: str, back: str, can_edit: bool):
    contacts = list(BillingContact.objects.filter(organisation=vendor).order_by("email"))
    initial = "\n".join(f"{c.name} <{c.email}>" if c.name else c.email for c in contacts)
    form = BillingContactsForm(
        request.POST if request.method == "POST" and can_edit else None, initial={"contacts": initial}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            billing_contacts_set(actor=request.user, organisation=vendor, contacts=form.parsed())
        except ApplicationError as exc:
            add_application_error(form, exc)
            status = exc.status if exc.status != 403 else 400
        else:
            messages.success(request, "Billing contacts saved.")
            return htmx_redirect(request, back)
    elif request.method == "POST":
        status = 400
    context = {
        "vendor": vendor,
        "contacts": contacts,
        "recipients": billing_recipients(vendor),
        "form": form,
        "can_edit": can_edit,
        "action": request.path,
    }
    return render(request, template, context, status=status)


@allow("statement.workspace")
def billing_contacts(request, organisation_pk: int):
    """Finance and partners: who at a vendor receives its statements, credit notes and reminders."""
    vendor = get_object_or_404(Organisation.objects.filter(kind=Organisation.Kind.VENDOR), pk=organisation_pk)
    return _contacts_page(
        request,
        vendor,
        template="commissions/billing_contacts.html",
        back=request.path,
        can_edit=True,
    )


@allow(GET="statement.portal", POST="billing_contacts.portal")
def portal_billing_contacts(request):
    """The vendor's own billing contacts: vendor admins edit them, members read them."""
    return _contacts_page(
        request,
        request.user.organisation,
        template="commissions/portal_billing_contacts.html",
        back=reverse("commissions:portal_billing_contacts"),
        can_edit=policy.can(request.user, "billing_contacts.portal"),
    )
