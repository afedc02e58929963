"""Closing the finance loop: issued statements emailed and recorded, vendors' queries answered, the portal."""

from __future__ import annotations

import csv
import datetime
import io
import smtplib

import pytest
from django.core import mail
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from commissions import services
from commissions.models import Statement, StatementDelivery, StatementLine, StatementQuery
from commissions.tasks import statement_deliver_task
from tests.commissions.money import D, agreement, attribute, engagement, fake_pdf, report
from tmw.accounts.models import AuditEvent
from tmw.accounts.policy import SYSTEM
from tmw.accounts.services import billing_contacts_set
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError

JAN, FEB, MAR = datetime.date(2025, 1, 1), datetime.date(2025, 2, 1), datetime.date(2025, 3, 1)
K = StatementLine.Kind


@pytest.fixture(autouse=True)
def _fake_renderer(monkeypatch):
    monkeypatch.setattr(services.statements, "_render_pdf", fake_pdf)


class Loop:
    """Vendor A's desk: 1,000 a month, 10 % revenue share on "Queried MSP", January approved."""

    def __init__(self, world):
        self.world = world
        with operator_scope():
            eng = engagement(world.a.vendor, world.partner, start=JAN)
            self.agreement = agreement(eng, world.finance, monthly_amount=D("1000.00"), rates=[D("0.10")])
            self.account = attribute(eng, world.partner, starts_on=JAN, name="=Queried MSP")
            for period in (JAN, FEB, MAR):
                report(self.account, period, "1000.00", world.finance)
            billing_contacts_set(
                actor=world.finance,
                organisation=world.a.vendor,
                contacts=[("Ana Billing", "billing@vendor-a.example"), ("", "ap@vendor-a.example")],
            )
            draft = services.statement_generate(agreement=self.agreement, period=JAN, actor=SYSTEM)
            self.january = services.statement_approve(statement=draft, actor=world.finance)

    def issue(self, statement, capture):
        with operator_scope(), capture(execute=True):
            return services.statement_issue(statement=statement, actor=self.world.finance)

    def issued_january(self, capture) -> Statement:
        self.january = self.issue(self.january, capture)
        return self.january

    def share_line(self, statement) -> StatementLine:
        with operator_scope():
            return StatementLine.all_objects.get(statement=statement, kind=K.REVENUE_SHARE)


@pytest.fixture
def loop(world):
    return Loop(world)


@pytest.fixture
def api_client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _answer(query, **fields):
    return {f"q{query.pk}-{name}": value for name, value in fields.items()}


# --- delivery


def test_issuing_in_the_browser_emails_the_stored_pdf_to_the_billing_contacts_and_finance_can_resend(
    world, loop, client_for, django_capture_on_commit_callbacks
):
    finance = client_for(world.finance)
    url = reverse("commissions:statement_issue", args=[loop.january.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert finance.post(url).status_code == 302
    with operator_scope():
        statement = Statement.objects.get(pk=loop.january.pk)
        stored = statement.pdf.open("rb").read()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ap@vendor-a.example", "billing@vendor-a.example"]
    assert statement.number in message.subject
    ((filename, content, mimetype),) = message.attachments
    assert filename.endswith(".pdf") and mimetype == "application/pdf" and content == stored
    portal = reverse("commissions:portal_statement_detail", args=[statement.pk])
    assert portal in message.body

    with operator_scope():
        delivery = StatementDelivery.objects.get(statement=statement)
    assert delivery.status == "sent" and delivery.recipients == message.to and delivery.sent_at is not None
    assert delivery.response == "Accepted by the mail system."
    page = finance.get(reverse("commissions:statement_detail", args=[statement.pk])).content.decode()
    assert 'id="statement-deliveries"' in page and "billing@vendor-a.example" in page and "Resend" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(reverse("commissions:statement_resend", args=[statement.pk]))
    assert response.status_code == 302 and len(mail.outbox) == 2
    with operator_scope():
        reasons = list(StatementDelivery.objects.filter(statement=statement).values_list("reason", "status"))
    assert sorted(reasons) == [("issued", "sent"), ("resent", "sent")]

    api = finance.get(f"/api/v1/statements/{statement.pk}/deliveries/")
    assert api.status_code == 200 and api.json()["count"] == 2
    assert (
        client_for(world.a.vendor_admin).post(reverse("commissions:statement_resend", args=[statement.pk])).status_code
        == 403
    )


def test_a_failed_send_records_the_mail_systems_error_and_a_later_attempt_sends(
    world, loop, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"billing@vendor-a.example": (550, b"mailbox unavailable")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    statement = loop.issued_january(django_capture_on_commit_callbacks)  # issuing still succeeds
    with operator_scope():
        delivery = StatementDelivery.objects.get(statement=statement)
        assert delivery.status == "failed"
        assert "SMTPRecipientsRefused" in delivery.response and "mailbox unavailable" in delivery.response
        assert delivery.attempts == 1 and statement.status == "issued"
        assert AuditEvent.objects.filter(verb="statement.delivery_failed", object_id=str(statement.pk)).exists()

    monkeypatch.undo()
    monkeypatch.setattr(services.statements, "_render_pdf", fake_pdf)
    with operator_scope():
        statement_deliver_task.apply(args=[delivery.pk])
        delivery.refresh_from_db()
    assert delivery.status == "sent" and len(mail.outbox) == 1


def test_a_vendor_without_billing_contacts_is_billed_through_its_admins_and_credit_notes_go_the_same_way(
    world, loop, django_capture_on_commit_callbacks
):
    with operator_scope():
        billing_contacts_set(actor=world.finance, organisation=world.a.vendor, contacts=[])
    statement = loop.issued_january(django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == [world.a.vendor_admin.email]
    with operator_scope(), django_capture_on_commit_callbacks(execute=True):
        credit = services.statement_void(statement=statement, reason="Wrong month", actor=world.finance)
    assert credit.number in mail.outbox[-1].subject and "Credit note" in mail.outbox[-1].subject
    assert mail.outbox[-1].attachments[0][1] == fake_pdf(credit)[2]
    with operator_scope():
        assert StatementDelivery.objects.get(statement=credit).status == "sent"


# --- queries


def test_a_line_query_accepted_as_an_adjustment_is_carried_once_by_the_next_months_statement(
    world, loop, client_for, django_capture_on_commit_callbacks
):
    january = loop.issued_january(django_capture_on_commit_callbacks)
    line = loop.share_line(january)  # 1,000 × 10 % = 100.00
    vendor = client_for(world.a.vendor_admin)
    page = vendor.get(reverse("commissions:portal_statement_detail", args=[january.pk]))
    assert page.status_code == 200 and 'id="raise-query"' in page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = vendor.post(
            reverse("commissions:query_raise", args=[january.pk]),
            {
                "line": line.pk,
                "reason": "wrong_revenue",
                "comment": "Revenue was 800 in January.",
                "expected_amount": "80.00",
            },
        )
    assert response.status_code == 302
    with operator_scope():
        query = StatementQuery.objects.get(statement=january)
    assert query.line_id == line.pk and query.expected_amount == D("80.00") and query.is_open
    assert mail.outbox[-1].to == [world.finance.email] and "Revenue was 800" in mail.outbox[-1].body

    finance = client_for(world.finance)
    detail = finance.get(reverse("commissions:statement_detail", args=[january.pk])).content.decode()
    assert 'id="statement-queries"' in detail and "1 open" in detail
    home = finance.get(reverse("dashboard:finance")).content.decode()
    assert 'id="finance-queries"' in home and january.number in home
    listing = finance.get(reverse("commissions:query_list")).content.decode()
    assert "Revenue figure is wrong" in listing

    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(
            reverse("commissions:query_answer", args=[query.pk]),
            _answer(query, decision="adjustment", amount="", answer="January revenue corrected."),
        )
    assert response.status_code == 302
    with operator_scope():
        query.refresh_from_db()
    assert query.status == "accepted" and query.resolution == "adjustment" and query.adjustment_amount == D("-20.00")
    assert query.carry_from == FEB
    assert sorted(mail.outbox[-1].to) == sorted(
        ["ap@vendor-a.example", "billing@vendor-a.example", world.a.vendor_admin.email]
    )
    assert "accepted" in mail.outbox[-1].subject

    with operator_scope():
        february = services.statement_generate(agreement=loop.agreement, period=FEB, actor=SYSTEM)
        again = services.statement_generate(agreement=loop.agreement, period=FEB, actor=SYSTEM)
        assert again.pk == february.pk
        adjustments = list(february.lines.filter(kind=K.ADJUSTMENT).values_list("amount", "corrects_period"))
        assert adjustments == [(D("-20.00"), JAN)]
        assert february.total == D("1000.00") + D("100.00") - D("20.00")
        query.refresh_from_db()
        assert query.adjustment_statement_id == february.pk
        february = services.statement_approve(statement=february, actor=world.finance)
        march = services.statement_generate(agreement=loop.agreement, period=MAR, actor=SYSTEM)
        assert not march.lines.filter(kind=K.ADJUSTMENT).exists()
        assert services.statement_compute(agreement=loop.agreement, period=MAR)[-1].kind != K.ADJUSTMENT
        audit = set(AuditEvent.objects.filter(object_id=str(january.pk)).values_list("verb", flat=True))
    assert {"statement.queried", "statement.query_accepted"} <= audit


def test_a_query_declined_with_a_reason_and_a_closed_query_cannot_be_answered_again(
    world, loop, client_for, django_capture_on_commit_callbacks
):
    january = loop.issued_january(django_capture_on_commit_callbacks)
    with operator_scope():
        query = services.statement_query_raise(
            statement=january, reason="retainer", comment="The retainer looks high.", actor=world.a.vendor_admin
        )
    finance = client_for(world.finance)
    url = reverse("commissions:query_answer", args=[query.pk])
    refused = finance.post(url, _answer(query, decision="decline", answer=""))
    assert refused.status_code == 400 and "Say why the query is declined." in refused.content.decode()
    with operator_scope():
        query.refresh_from_db()
        assert query.is_open
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            finance.post(
                url, _answer(query, decision="decline", answer="The tier fee is per the contract.")
            ).status_code
            == 302
        )
    with operator_scope():
        query.refresh_from_db()
    assert query.status == "declined" and query.answer == "The tier fee is per the contract."
    assert "declined: The tier fee is per the contract." in mail.outbox[-1].body
    again = finance.post(url, _answer(query, decision="adjustment", amount="5.00"))
    assert again.status_code == 409 and "already declined" in again.content.decode()
    with operator_scope(), pytest.raises(ApplicationError) as exc:
        services.statement_query_answer(query=query, decision="adjustment", amount="5.00", actor=world.finance)
    assert "status" in exc.value.extra
    portal = client_for(world.a.vendor_member).get(reverse("commissions:portal_statement_detail", args=[january.pk]))
    assert "Declined: The tier fee is per the contract." in portal.content.decode()


def test_a_query_accepted_as_credit_note_and_reissue(world, loop, client_for, django_capture_on_commit_callbacks):
    january = loop.issued_january(django_capture_on_commit_callbacks)
    line = loop.share_line(january)
    with operator_scope():
        query = services.statement_query_raise(
            statement=january,
            line=line,
            reason="not_ours",
            comment="This account left us in December.",
            expected_amount="0",
            actor=world.a.vendor_admin,
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.finance).post(
            reverse("commissions:query_answer", args=[query.pk]), _answer(query, decision="credit_note", answer="")
        )
    assert response.status_code == 302
    with operator_scope():
        query.refresh_from_db()
        january.refresh_from_db()
        credit, reissued = query.credit_note, query.reissued_statement
        assert january.status == "void" and credit.credit_note_for_id == january.pk and credit.total == D("-1100.00")
        assert reissued.status == "issued" and reissued.period == JAN and reissued.number
        assert reissued.total == D("1000.00")  # recomputed 1,100.00 and the query's -100.00
        assert list(reissued.lines.filter(kind=K.ADJUSTMENT).values_list("amount", flat=True)) == [D("-100.00")]
        assert response.url == reverse("commissions:statement_detail", args=[reissued.pk])
        assert query.resolution == "credit_note" and query.adjustment_statement_id == reissued.pk
        # The next month does not carry it again.
        february = services.statement_generate(agreement=loop.agreement, period=FEB, actor=SYSTEM)
        assert not february.lines.filter(kind=K.ADJUSTMENT).exists()
    subjects = [m.subject for m in mail.outbox]
    assert any(credit.number in s for s in subjects) and any(reissued.number in s for s in subjects)
    assert any("accepted" in s for s in subjects)


def test_bad_queries_name_the_field_and_write_nothing(world, loop, django_capture_on_commit_callbacks, client_for):
    vendor = world.a.vendor_admin
    with operator_scope():
        with pytest.raises(ApplicationError) as draft:
            services.statement_query_raise(statement=loop.january, reason="other", comment="x", actor=vendor)
        assert "statement" in draft.value.extra
    january = loop.issued_january(django_capture_on_commit_callbacks)
    line = loop.share_line(january)
    with operator_scope():
        before = StatementQuery.objects.count()  # the world's own
        other = services.statement_generate(agreement=loop.agreement, period=FEB, actor=SYSTEM)
        other_line = other.lines.first()
        cases = [
            ({"expected_amount": "-5.00"}, "expected_amount"),
            ({"expected_amount": "1000000000.01"}, "expected_amount"),
            ({"expected_amount": "12.345"}, "expected_amount"),
            ({"line": other_line}, "line"),
            ({"reason": "because"}, "reason"),
            ({"comment": "  "}, "comment"),
        ]
        for change, field in cases:
            fields = {"statement": january, "reason": "other", "comment": "Looks off.", "actor": vendor, **change}
            with pytest.raises(ApplicationError) as exc:
                services.statement_query_raise(**fields)
            assert field in exc.value.extra, (change, exc.value.extra)
        assert StatementQuery.objects.count() == before
        with pytest.raises(ApplicationError) as foreign:
            services.statement_query_raise(statement=january, reason="other", comment="x", actor=world.b.vendor_admin)
        assert foreign.value.status == 404
        services.statement_query_raise(statement=january, line=line, reason="other", comment="One.", actor=vendor)
        with pytest.raises(ApplicationError) as twice:
            services.statement_query_raise(statement=january, line=line, reason="other", comment="Two.", actor=vendor)
        assert twice.value.status == 409 and "line" in twice.value.extra
        assert StatementQuery.objects.count() == before + 1
        credit = services.statement_void(statement=january, reason="Wrong", actor=world.finance)
        with pytest.raises(ApplicationError) as void:
            services.statement_query_raise(statement=january, reason="other", comment="x", actor=vendor)
        assert "statement" in void.value.extra and "void" in void.value.message
        with pytest.raises(ApplicationError):
            services.statement_query_raise(statement=credit, reason="other", comment="x", actor=vendor)
    page = client_for(vendor).post(
        reverse("commissions:query_raise", args=[january.pk]), {"reason": "other", "comment": "x"}
    )
    assert page.status_code == 404  # a void statement takes no query in the portal either
    with operator_scope():
        assert StatementQuery.objects.count() == before + 1


def test_an_open_query_holds_back_no_run_and_no_issue(world, loop, django_capture_on_commit_callbacks):
    january = loop.issued_january(django_capture_on_commit_callbacks)
    with operator_scope():
        services.statement_query_raise(statement=january, reason="other", comment="Why?", actor=world.a.vendor_admin)
        services.statement_run_now(period=FEB, actor=world.finance)
        february = Statement.objects.get(agreement=loop.agreement, period=FEB)
        february = services.statement_approve(statement=february, actor=world.finance)
    february = loop.issue(february, django_capture_on_commit_callbacks)
    assert february.status == "issued" and february.number


# --- the portal


def test_the_portal_lists_statements_with_pdf_queries_and_one_csv_of_all_lines(
    world, loop, client_for, django_capture_on_commit_callbacks
):
    january = loop.issued_january(django_capture_on_commit_callbacks)
    with operator_scope():
        february = services.statement_approve(
            statement=services.statement_generate(agreement=loop.agreement, period=FEB, actor=SYSTEM),
            actor=world.finance,
        )
    february = loop.issue(february, django_capture_on_commit_callbacks)
    with operator_scope():
        services.statement_query_raise(statement=february, reason="other", comment="Check.", actor=world.a.vendor_admin)
    vendor = client_for(world.a.vendor_member)
    page = vendor.get(reverse("commissions:portal_statements")).content.decode()
    assert january.number in page and february.number in page and "1 open" in page
    assert reverse("commissions:statement_pdf", args=[january.pk]) in page and 'id="portal-queries"' in page
    pdf = vendor.get(reverse("commissions:statement_pdf", args=[january.pk]))
    assert pdf.status_code == 200 and pdf.content == fake_pdf(january)[2]

    response = vendor.get(reverse("commissions:portal_lines_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {january.number, february.number} <= {r["statement"] for r in rows}
    rows = [r for r in rows if r["statement"] in (january.number, february.number)]
    assert len(rows) == 4 and {r["account"] for r in rows} == {"", "'=Queried MSP"}
    # Another vendor sees none of it.
    other = client_for(world.b.vendor_admin)
    assert january.number not in other.get(reverse("commissions:portal_lines_csv")).content.decode()
    assert other.get(reverse("commissions:portal_statement_detail", args=[january.pk])).status_code == 404


def test_billing_contacts_are_edited_by_finance_and_the_vendor_admin_and_read_by_members(world, client_for):
    admin = client_for(world.a.vendor_admin)
    url = reverse("commissions:portal_billing_contacts")
    saved = admin.post(url, {"contacts": "Ana Billing <ana@vendor-a.example>\nap@vendor-a.example"})
    assert saved.status_code == 302
    with operator_scope():
        from tmw.accounts.services import billing_recipients

        assert billing_recipients(world.a.vendor) == ["ana@vendor-a.example", "ap@vendor-a.example"]
    bad = admin.post(url, {"contacts": "not-an-address"})
    assert bad.status_code == 400 and "Billing contact 1" in bad.content.decode()
    member = client_for(world.a.vendor_member)
    assert "ana@vendor-a.example" in member.get(url).content.decode()
    assert member.post(url, {"contacts": ""}).status_code == 403
    finance = client_for(world.finance)
    operator_url = reverse("commissions:billing_contacts", args=[world.a.vendor.pk])
    assert finance.post(operator_url, {"contacts": "Bo <bo@vendor-a.example>"}).status_code == 302
    assert "bo@vendor-a.example" in admin.get(url).content.decode()


# --- the API


def test_the_api_raises_and_answers_queries_and_sets_billing_contacts(
    world, loop, api_client_for, django_capture_on_commit_callbacks
):
    january = loop.issued_january(django_capture_on_commit_callbacks)
    line = loop.share_line(january)
    vendor = api_client_for(world.a.vendor_admin)
    bad = vendor.post(
        "/api/v1/statement-queries/",
        {"statement": january.pk, "line": line.pk, "reason": "other", "comment": "x", "expected_amount": "-1"},
        format="json",
    )
    assert bad.status_code == 400 and "expected_amount" in bad.json()["extra"]
    raised = vendor.post(
        "/api/v1/statement-queries/",
        {"statement": january.pk, "line": line.pk, "reason": "wrong_rate", "comment": "Rate is 8 %."},
        format="json",
    )
    assert raised.status_code == 201, raised.json()
    query_id = raised.json()["id"]
    finance = api_client_for(world.finance)
    answered = finance.post(
        f"/api/v1/statement-queries/{query_id}/answer/", {"decision": "adjustment", "amount": "-20.00"}, format="json"
    )
    assert answered.status_code == 200 and answered.json()["adjustment_amount"] == "-20.00"
    closed = finance.post(
        f"/api/v1/statement-queries/{query_id}/answer/", {"decision": "decline", "answer": "No."}, format="json"
    )
    assert closed.status_code == 409 and "status" in closed.json()["extra"]
    listed = vendor.get("/api/v1/statement-queries/").json()
    assert query_id in [q["id"] for q in listed["results"]]
    assert query_id not in [
        q["id"] for q in api_client_for(world.b.vendor_admin).get("/api/v1/statement-queries/").json()["results"]
    ]

    contacts = vendor.post(
        "/api/v1/billing-contacts/replace/",
        {"organisation": world.a.vendor.pk, "contacts": [{"name": "Ana", "email": "ana@vendor-a.example"}]},
        format="json",
    )
    assert contacts.status_code == 200 and contacts.json()[0]["email"] == "ana@vendor-a.example"
    foreign = vendor.post(
        "/api/v1/billing-contacts/replace/", {"organisation": world.b.vendor.pk, "contacts": []}, format="json"
    )
    assert foreign.status_code in (400, 403, 404)
    resent = finance.post(f"/api/v1/statements/{january.pk}/resend/", {}, format="json")
    assert resent.status_code == 202 and resent.json()["reason"] == "resent"

    schema = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in (
        "/api/v1/statement-queries/",
        "/api/v1/statement-queries/{id}/answer/",
        "/api/v1/statements/{id}/deliveries/",
        "/api/v1/statements/{id}/resend/",
        "/api/v1/billing-contacts/replace/",
    ):
        assert path in schema, path
