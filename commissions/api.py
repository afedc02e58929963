"""API of the commercial terms: agreements (read), revenue reports (create with an idempotency key, list),
statements (list, detail, PDF, approve, issue, mark paid, void, deliveries, resend), statement queries
(list, raise, answer) and billing contacts (list, replace).

Who may do what is ``tmw.accounts.policy``; each view declares its actions in ``access``: finance
and admins act; partners read; vendors read their own issued statements and report revenue for
their own attributed accounts. Amounts taken in are at most 1,000,000,000.00 each
(``commissions.limits``); every refusal answers ``{"message", "extra"}`` naming the field.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from engagements.models import Engagement
from tmw import months
from tmw.accounts import policy
from tmw.accounts.models import BillingContact, Organisation
from tmw.accounts.services import billing_contacts_set
from tmw.api import RefuseUnknownFields, ScopedAPIView, ScopedGenericViewSet, router
from tmw.errors import ApplicationError
from tmw.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from tmw.months import format_month

from . import services
from .forms import StatementFilter
from .limits import TOTAL_DIGITS, bounded_amount
from .models import (
    Agreement,
    AgreementTerms,
    BulkRun,
    Currency,
    OverdueSchedule,
    Payment,
    RetainerTier,
    RevenueReport,
    RevenueReportRevision,
    Statement,
    StatementDelivery,
    StatementLine,
    StatementQuery,
    StatementRun,
)

# --- Serializers


class CommissionsErrorSerializer(serializers.Serializer):
    """What a refused request answers: a message, and the messages by field (``extra``)."""

    message = serializers.CharField()
    extra = serializers.DictField(child=serializers.JSONField(), help_text="Messages by field; rows for a CSV import.")


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers of a write endpoint, for the schema."""
    meaning = {
        400: "Invalid input; extra names the field (amounts: at most 1,000,000,000.00).",
        403: "The policy does not let this role take the action.",
        404: "No such object in the caller's scope.",
        409: "The object's state (or an idempotency key used with other content) does not allow it.",
    }
    return {code: OpenApiResponse(CommissionsErrorSerializer, description=meaning[code]) for code in codes}


class TermsSerializer(serializers.ModelSerializer):
    retainer_tier = serializers.CharField(source="retainer_tier.name", default=None, read_only=True, allow_null=True)
    monthly_retainer = serializers.SerializerMethodField()
    rates = serializers.SerializerMethodField()

    class Meta:
        model = AgreementTerms
        fields = [
            "id",
            "effective_month",
            "retainer_tier",
            "monthly_amount",
            "monthly_retainer",
            "rates",
            "tail_months",
            "tail_rate",
            "equity_kind",
            "equity_share",
            "stake_percent",
            "principal",
            "valuation_cap",
            "discount",
            "maturity_date",
            "tax_kind",
            "tax_rate",
            "tax_name",
            "tax_registration",
            "tax_on_equity",
            "payment_terms_days",
            "note",
            "created_at",
        ]

    def get_monthly_retainer(self, terms) -> str:
        return str(terms.monthly_retainer(terms.agreement.currency))

    def get_rates(self, terms) -> list[str]:
        return [str(s.rate) for s in sorted(terms.steps.all(), key=lambda s: s.year)]


class AgreementSerializer(serializers.ModelSerializer):
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    engagement_option = serializers.CharField(source="engagement.option", read_only=True)
    engagement_status = serializers.CharField(source="engagement.status", read_only=True)
    start_date = serializers.DateField(source="engagement.start_date", read_only=True, allow_null=True)
    stop_date = serializers.DateField(source="engagement.stop_date", read_only=True, allow_null=True)
    versions = TermsSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "vendor",
            "vendor_name",
            "engagement",
            "engagement_option",
            "engagement_status",
            "start_date",
            "stop_date",
            "currency",
            "versions",
        ]


@extend_schema_field(OpenApiTypes.DECIMAL)
class AmountField(serializers.Field):
    """An amount of money read by ``tmw.money.parse_amount`` (a JSON number or a string such as "$1,234.50")."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> Decimal:
        if isinstance(data, float):  # a JSON number: read as written, then held to the same rule
            data = repr(data)
        try:
            return bounded_amount(data, self.field_name or "amount", allow_negative=self.allow_negative)
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.message) from exc

    def to_representation(self, value: Decimal) -> str:
        return f"{value:.2f}"


class RevenueReportInputSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=200, help_text="The MSP's name, slug or id.")
    period = serializers.CharField(max_length=10, help_text="YYYY-MM")
    amount = AmountField(
        help_text='e.g. 1234.50 or "$1,234.50"; at most two decimals, not negative, at most 1,000,000,000.00.'
    )
    currency = serializers.ChoiceField(choices=["USD", "CAD"])

    def validate_period(self, value):
        try:
            return months.parse_month(value)
        except months.InvalidMonth as exc:
            raise serializers.ValidationError(exc.message) from exc


class RevenueReportSerializer(serializers.Serializer):
    """A revenue report as one of its revisions says it (the first answer of an idempotent request)."""

    id = serializers.IntegerField(source="report.pk")
    account = serializers.CharField(source="report.attribution.msp.name")
    account_id = serializers.IntegerField(source="report.attribution.msp_id")
    attribution = serializers.IntegerField(source="report.attribution_id")
    vendor = serializers.IntegerField(source="report.vendor_id")
    period = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the metaclass pops declared fields; no clash with Field.source
    revision = serializers.IntegerField(source="number")
    created_at = serializers.DateTimeField()

    def get_period(self, revision) -> str:
        return f"{format_month(revision.report.period)}"


class StatementLineSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="attribution.msp.name", default=None, read_only=True, allow_null=True)

    class Meta:
        model = StatementLine
        fields = [
            "kind",
            "description",
            "attribution",
            "account",
            "revenue",
            "account_year",
            "rate",
            "amount",
            "corrects_period",
        ]


class StatementSerializer(serializers.ModelSerializer):
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    period = serializers.SerializerMethodField()
    cash_total = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2, read_only=True)
    amount_paid = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2, read_only=True)
    balance = serializers.DecimalField(
        max_digits=TOTAL_DIGITS, decimal_places=2, read_only=True, help_text="Cash due less payments; 0 once paid."
    )
    credit_note_for: serializers.PrimaryKeyRelatedField[Statement] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "number",
            "agreement",
            "vendor",
            "vendor_name",
            "period",
            "status",
            "currency",
            "total",
            "equity_total",
            "cash_total",
            "credit_note_for",
            "approved_at",
            "issued_at",
            "due_on",
            "amount_paid",
            "balance",
            "paid_on",
            "payment_reference",
            "voided_at",
        ]

    def get_period(self, statement) -> str:
        return f"{format_month(statement.period)}"


class StatementDetailSerializer(StatementSerializer):
    lines = StatementLineSerializer(many=True, read_only=True)

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines"]


class MarkPaidSerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    reference = serializers.CharField(max_length=120)


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class EmptySerializer(serializers.Serializer):
    pass


class MonthField(serializers.CharField):
    """A calendar month as ``YYYY-MM`` (``tmw.months``), read as its first day."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "YYYY-MM")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any):
        text = super().to_internal_value(data)
        if len(text) > 10:
            raise serializers.ValidationError("Give the month as YYYY-MM.")
        try:
            return months.parse_month(text)
        except months.InvalidMonth as exc:
            raise serializers.ValidationError(exc.message) from exc


def _fraction_field(help_text: str, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=7, decimal_places=6, min_value=Decimal("0"), max_value=Decimal("1"), help_text=help_text, **kwargs
    )


class TermsInputSerializer(RefuseUnknownFields):
    """One version of the commercial terms, from its effective month on."""

    effective_month = MonthField(help_text="YYYY-MM: the first month these terms bill.")
    retainer_tier = serializers.PrimaryKeyRelatedField(
        queryset=RetainerTier.objects.filter(active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="A retainer tier; or give monthly_amount instead.",
    )
    monthly_amount = AmountField(
        required=False, allow_null=True, default=None, help_text="A negotiated monthly retainer (instead of a tier)."
    )
    rates = serializers.ListField(
        child=_fraction_field("A fraction: 0.15 is 15 %."),
        min_length=1,
        max_length=20,
        help_text="Revenue-share rate by account year, declining: [0.15, 0.10, 0.05].",
    )
    tail_months = serializers.IntegerField(min_value=0, max_value=120, default=0)
    tail_rate = _fraction_field(
        "A fixed tail rate; empty uses the schedule.", required=False, allow_null=True, default=None
    )
    equity_share = _fraction_field("Share of the retainer taken as equity (0.40 = 40 %).", default=Decimal("0"))
    equity_kind = serializers.ChoiceField(
        choices=AgreementTerms.EquityKind.choices, default=AgreementTerms.EquityKind.NONE
    )
    stake_percent = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
        allow_null=True,
        default=None,
    )
    principal = AmountField(required=False, allow_null=True, default=None)
    valuation_cap = AmountField(required=False, allow_null=True, default=None)
    discount = _fraction_field("Conversion discount (0.20 = 20 %).", required=False, allow_null=True, default=None)
    maturity_date = serializers.DateField(required=False, allow_null=True, default=None)


class TermsChangeSerializer(TermsInputSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", help_text="Why.")


class AgreementCreateSerializer(TermsInputSerializer):
    engagement = serializers.PrimaryKeyRelatedField(queryset=Engagement.objects)
    currency = serializers.ChoiceField(choices=Currency.choices)


class StatementRunSerializer(serializers.ModelSerializer):
    """A statement run and its progress: ``done`` and ``failed`` of ``total`` agreements, and each failure."""

    period = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    is_finished = serializers.BooleanField(read_only=True)
    failures = serializers.SerializerMethodField()

    class Meta:
        model = StatementRun
        fields = [
            "id",
            "period",
            "status",
            "total",
            "done",
            "failed",
            "percent",
            "is_finished",
            "failures",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_period(self, run) -> str:
        return format_month(run.period)

    def get_failures(self, run) -> list[str]:
        return [line for line in run.error.splitlines() if line.strip()]


class StatementRunInputSerializer(RefuseUnknownFields):
    period = MonthField(help_text="YYYY-MM: the month to bill (not in the future).")


class StatementDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementDelivery
        fields = [
            "id",
            "statement",
            "reason",
            "status",
            "recipients",
            "attempts",
            "response",
            "created_at",
            "attempted_at",
            "sent_at",
        ]


class StatementQuerySerializer(serializers.ModelSerializer):
    statement_number = serializers.CharField(source="statement.number", read_only=True, allow_null=True)
    expected_amount = serializers.DecimalField(
        max_digits=TOTAL_DIGITS, decimal_places=2, read_only=True, allow_null=True
    )
    adjustment_amount = serializers.DecimalField(
        max_digits=TOTAL_DIGITS, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = StatementQuery
        fields = [
            "id",
            "statement",
            "statement_number",
            "line",
            "reason",
            "comment",
            "expected_amount",
            "status",
            "resolution",
            "answer",
            "adjustment_amount",
            "carry_from",
            "adjustment_statement",
            "credit_note",
            "reissued_statement",
            "raised_at",
            "answered_at",
        ]


class StatementQueryInputSerializer(serializers.Serializer):
    statement = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    line = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    reason = serializers.ChoiceField(choices=StatementQuery.Reason.choices)
    comment = serializers.CharField(max_length=2000)
    expected_amount = AmountField(
        required=False,
        allow_null=True,
        help_text="The amount you believe is right: not negative, at most 1,000,000,000.00.",
    )


class StatementQueryAnswerSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(services.QUERY_DECISIONS.items()))
    answer = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    amount = AmountField(
        allow_negative=True,
        required=False,
        allow_null=True,
        help_text="The adjustment (negative credits the vendor); blank: what the vendor expects less what was billed.",
    )


class BillingContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingContact
        fields = ["id", "organisation", "name", "email", "created_at"]


class BillingContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254)


class BillingContactsReplaceSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    contacts = serializers.ListField(child=BillingContactInputSerializer(), max_length=20)


# --- Views


TERMS_WRITE = "TMW operators only (``terms.manage``); amounts at most 1,000,000,000.00, rates fractions 0-1."


@extend_schema_view(
    list=extend_schema(summary="List agreements", description="Agreements with every terms version (TMW only)."),
    retrieve=extend_schema(summary="Read an agreement", description="One agreement with every terms version."),
)
class AgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Agreements with every terms version (TMW partners, finance and admins), created and versioned by them."""

    queryset = Agreement.objects.all()
    serializer_class = AgreementSerializer
    access = {"read": "terms.view", "create": "terms.manage", "terms": "terms.manage"}
    filterset_fields = ["vendor", "currency"]

    def get_queryset(self):
        return (
            Agreement.objects.select_related("vendor", "engagement")
            .prefetch_related("versions__steps", "versions__retainer_tier", "versions__agreement")
            .order_by("vendor__name", "pk")
        )

    def _answer(self, agreement: Agreement, code: int = status.HTTP_200_OK) -> Response:
        return Response(AgreementSerializer(self.get_queryset().get(pk=agreement.pk)).data, status=code)

    @extend_schema(
        summary="Create an engagement's agreement",
        description=(
            "The commercial terms of an engagement, in USD or CAD, with its first terms version: a retainer tier "
            "or a negotiated monthly amount, the revenue-share rates by account year, the tail (months and an "
            "optional fixed rate) and the equity taken in place of part of the retainer. One agreement per "
            "engagement (409). " + TERMS_WRITE
        ),
        request=AgreementCreateSerializer,
        responses={201: AgreementSerializer, **_errors(400, 403, 404, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = AgreementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = services.agreement_create(actor=request.user, **data.validated_data)
        return self._answer(agreement, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add a terms version",
        description=(
            "New terms from ``effective_month`` on; earlier months keep the version in force then. A month whose "
            "statement is approved or issued, or one that already has a version, is refused with 409 naming "
            "``effective_month``. Answers the agreement with every version. " + TERMS_WRITE
        ),
        request=TermsChangeSerializer,
        responses={201: AgreementSerializer, **_errors(400, 403, 404, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def terms(self, request, pk=None):
        agreement = self.get_object()
        data = TermsChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.agreement_terms_change(agreement=agreement, actor=request.user, **data.validated_data)
        return self._answer(agreement, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List statement runs", description="The latest monthly statement runs and their progress (finance)."
    ),
    retrieve=extend_schema(
        summary="Read a statement run's progress",
        description=(
            "Poll this while ``is_finished`` is false: ``done`` and ``failed`` of ``total`` agreements, "
            "``percent``, and one line per agreement that failed in ``failures``. Finance only (``statement.run``)."
        ),
    ),
)
class StatementRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Monthly statement runs: finance starts one and reads its progress and failures."""

    queryset = StatementRun.objects.all()
    serializer_class = StatementRunSerializer
    access = "statement.run"
    filterset_class = None
    filter_backends: list = []

    def get_queryset(self):
        return StatementRun.objects.order_by("-created_at", "-pk")

    @extend_schema(
        summary="Start a statement run",
        description=(
            "Computes the month's draft statement of every agreement whose engagement had started by its end, in "
            "batches on the worker; drafts are replaced, approved and issued statements are left alone, so a "
            "second run is safe. Answers 202 with the queued run; read its progress at ``/statement-runs/{id}/``. "
            "A month in the future is a 400 naming ``period``. Finance only (``statement.run``)."
        ),
        request=StatementRunInputSerializer,
        responses={202: StatementRunSerializer, **_errors(400, 403, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = StatementRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.statement_run_start(period=data.validated_data["period"], actor=request.user)
        return Response(StatementRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


def _revision_for(report: RevenueReport, key: str | None) -> RevenueReportRevision:
    revisions = RevenueReportRevision.objects.select_related("report__attribution__msp").filter(report=report)
    if key:
        found = revisions.filter(idempotency_key=key).first()
        if found is not None:
            return found
    found = revisions.order_by("-number").first()
    if found is None:  # a report always has its first revision; be safe anyway
        found = RevenueReportRevision(
            report=report, number=report.revision, amount=report.amount, currency=report.currency, source=report.source
        )
        found.created_at = report.created_at
    return found


class RevenueReportViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """Monthly recurring revenue per attributed account: list, and create with an ``Idempotency-Key`` header.

    A retry with the same key and content answers as the first request did; the same key
    with other content answers 409.
    """

    queryset = RevenueReport.objects.all()
    serializer_class = RevenueReportSerializer
    filterset_class = None
    filter_backends: list = []
    access = {"list": "revenue.view", "create": "revenue.report"}

    def get_queryset(self):
        qs = RevenueReport.objects.select_related("attribution__msp").order_by("-period", "attribution__msp__name")
        period = months.parse_month_or_none(self.request.query_params.get("period", ""))
        if self.request.query_params.get("period") and period is None:
            raise ApplicationError("Give the month as YYYY-MM.", extra={"period": ["Give the month as YYYY-MM."]})
        if period is not None:
            qs = qs.filter(period=period)
        return qs

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the API always paginates its lists
        latest = {
            (r.report_id, r.number): r
            for r in RevenueReportRevision.objects.filter(report__in=[p.pk for p in page]).select_related(
                "report__attribution__msp"
            )
        }
        rows = []
        for report in page:
            revision = latest.get((report.pk, report.revision))
            if revision is None:
                revision = _revision_for(report, None)
            rows.append(revision)
        return self.get_paginated_response(RevenueReportSerializer(rows, many=True).data)

    @extend_schema(
        request=RevenueReportInputSerializer,
        responses={201: RevenueReportSerializer, **_errors(400, 403, 404, 409)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def create(self, request, *args, **kwargs):
        data_in = RevenueReportInputSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        report = services.revenue_report_submit(
            account=data["account"],
            period=data["period"],
            amount=data["amount"],
            currency=data["currency"],
            source=RevenueReport.Source.API,
            actor=request.user,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        revision = getattr(report, "revision_replayed", None) or _revision_for(
            report, (request.headers.get("Idempotency-Key") or "").strip() or None
        )
        return Response(RevenueReportSerializer(revision).data, status=status.HTTP_201_CREATED)


def _lines_prefetch() -> Prefetch:
    """A statement's lines with their accounts in one joined query, however many accounts it bills."""
    return Prefetch("lines", queryset=StatementLine.objects.select_related("attribution__msp").order_by("order", "pk"))


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Statements: operators see all, vendors their own issued and paid ones; finance approves, issues,
    records payment and voids."""

    queryset = Statement.objects.all()
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    access = {
        "list": "statement.view",
        "retrieve": "statement.view",
        "pdf": "statement.view",
        "approve": "statement.approve",
        "issue": "statement.issue",
        "mark_paid": "statement.pay",
        "void": "statement.void",
        "deliveries": "statement.workspace",
        "resend": "statement.resend",
    }

    def get_queryset(self):
        qs = services.with_paid_sum(
            Statement.objects.select_related("vendor", "credit_note_for").order_by("-period", "vendor__name", "pk")
        )
        if not policy.sees_draft_statement(self.request.user):
            qs = qs.filter(status__in=Statement.FINAL)
        if self.action == "retrieve":
            qs = qs.prefetch_related(_lines_prefetch())
        return qs

    def get_serializer_class(self):
        if self.action == "retrieve":
            return StatementDetailSerializer
        return StatementSerializer

    def _answer(self, statement: Statement, code=status.HTTP_200_OK) -> Response:
        fresh = get_object_or_404(
            services.with_paid_sum(Statement.objects.select_related("vendor", "credit_note_for")).prefetch_related(
                _lines_prefetch()
            ),
            pk=statement.pk,
        )
        return Response(StatementDetailSerializer(fresh).data, status=code)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The statement's PDF: stored at issue; a watermarked preview before."""
        from .views import statement_file

        statement = self.get_object()
        filename, content_type, content = statement_file(statement)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(request=EmptySerializer, responses={200: StatementDetailSerializer, **_errors(403, 404, 409)})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        statement = services.statement_approve(statement=self.get_object(), actor=request.user)
        return self._answer(statement)

    @extend_schema(request=EmptySerializer, responses={200: StatementDetailSerializer, **_errors(403, 404, 409)})
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        statement = services.statement_issue(statement=self.get_object(), actor=request.user)
        return self._answer(statement)

    @extend_schema(
        request=MarkPaidSerializer, responses={200: StatementDetailSerializer, **_errors(400, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        statement = self.get_object()
        data = MarkPaidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        statement = services.statement_mark_paid(
            statement=statement,
            paid_on=data.validated_data["paid_on"],
            reference=data.validated_data["reference"],
            actor=request.user,
        )
        return self._answer(statement)

    @extend_schema(request=VoidSerializer, responses={201: StatementDetailSerializer, **_errors(400, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void an issued statement; answers the credit note."""
        statement = self.get_object()
        data = VoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credit = services.statement_void(statement=statement, reason=data.validated_data["reason"], actor=request.user)
        return self._answer(credit, code=status.HTTP_201_CREATED)

    @extend_schema(responses={200: StatementDeliverySerializer(many=True), **_errors(403, 404)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """Every email of this statement to the billing contacts, newest first, with the mail system's answer."""
        statement = self.get_object()
        rows = StatementDelivery.objects.filter(statement=statement).order_by("-created_at", "-pk")
        page = self.paginate_queryset(rows)
        assert page is not None  # the API always paginates its lists
        return self.get_paginated_response(StatementDeliverySerializer(page, many=True).data)

    @extend_schema(request=EmptySerializer, responses={202: StatementDeliverySerializer, **_errors(403, 404, 409)})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Email the issued statement or credit note again (its stored PDF) to today's billing contacts."""
        delivery = services.statement_delivery_resend(statement=self.get_object(), actor=request.user)
        return Response(StatementDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class StatementQueryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Queries on issued statements: vendors raise them on their own statements (the statement or one line);
    finance accepts (an adjustment on the next statement, or a credit note and a reissue) or declines."""

    queryset = StatementQuery.objects.all()
    serializer_class = StatementQuerySerializer
    filterset_fields = ["status", "statement"]
    access = {
        "list": "statement.query_view",
        "retrieve": "statement.query_view",
        "create": "statement.query",
        "answer": "statement.query_answer",
    }

    def get_queryset(self):
        return StatementQuery.objects.select_related("statement", "line").order_by("-raised_at", "-pk")

    @extend_schema(
        request=StatementQueryInputSerializer, responses={201: StatementQuerySerializer, **_errors(400, 403, 404, 409)}
    )
    def create(self, request, *args, **kwargs):
        data_in = StatementQueryInputSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        visible = Statement.objects.filter(status__in=(*Statement.FINAL, Statement.Status.VOID))
        statement = visible.filter(pk=data["statement"]).first()
        if statement is None:
            raise ApplicationError("No such statement.", extra={"statement": ["No such statement."]})
        line = None
        if data.get("line") is not None:
            line = StatementLine.objects.filter(pk=data["line"]).first()
            if line is None:
                raise ApplicationError(
                    "That line is not on this statement.", extra={"line": ["Not on this statement."]}
                )
        query = services.statement_query_raise(
            statement=statement,
            line=line,
            reason=data["reason"],
            comment=data["comment"],
            expected_amount=data.get("expected_amount"),
            actor=request.user,
        )
        return Response(StatementQuerySerializer(query).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=StatementQueryAnswerSerializer, responses={200: StatementQuerySerializer, **_errors(400, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Accept (``adjustment`` or ``credit_note``) or ``decline`` (with a reason) an open query."""
        query = self.get_object()
        data = StatementQueryAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answered = services.statement_query_answer(
            query=query,
            decision=data.validated_data["decision"],
            answer=data.validated_data.get("answer", ""),
            amount=data.validated_data.get("amount"),
            actor=request.user,
        )
        return Response(StatementQuerySerializer(answered).data)


class BillingContactViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """Who at each vendor receives statements and credit notes; ``replace`` sets a vendor's whole list.

    Operators see every vendor's, a vendor admin its own. An empty list means the vendor's active admins.
    """

    queryset = BillingContact.objects.all()
    serializer_class = BillingContactSerializer
    filterset_fields = ["organisation"]
    access = {"list": "billing_contacts.manage", "replace": "billing_contacts.manage"}

    def get_queryset(self):
        return BillingContact.objects.select_related("organisation").order_by("organisation__name", "email")

    @extend_schema(
        request=BillingContactsReplaceSerializer,
        responses={200: BillingContactSerializer(many=True), **_errors(400, 403, 404)},
    )
    @action(detail=False, methods=["post"])
    def replace(self, request):
        """Replace a vendor's billing contacts with the list given (at most 20; empty: its admins)."""
        data = BillingContactsReplaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vendor = Organisation.objects.filter(
            pk=data.validated_data["organisation"], kind=Organisation.Kind.VENDOR
        ).first()
        if vendor is None:
            raise ApplicationError("No such vendor.", extra={"organisation": ["No such vendor."]})
        rows = billing_contacts_set(
            actor=request.user,
            organisation=vendor,
            contacts=[(c.get("name", ""), c["email"]) for c in data.validated_data["contacts"]],
        )
        return Response(BillingContactSerializer(rows, many=True).data)


# --- Payments, aging, overdue reminders, bulk runs


class PaymentSerializer(serializers.ModelSerializer):
    statement_number = serializers.CharField(source="statement.number", read_only=True, allow_null=True)
    currency = serializers.CharField(source="statement.currency", read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "statement",
            "statement_number",
            "vendor",
            "received_on",
            "amount",
            "currency",
            "method",
            "reference",
            "created_at",
            "reversed_at",
            "reversal_reason",
        ]
        extra_kwargs = {
            "reversed_at": {"help_text": "When the payment was reversed (recorded in error); null while it counts."},
            "reversal_reason": {"help_text": "Why it was reversed; empty while it counts."},
        }


class PaymentReverseSerializer(RefuseUnknownFields, serializers.Serializer):
    reason = serializers.CharField(
        max_length=Payment._meta.get_field("reversal_reason").max_length or 200,
        help_text="Why the payment is reversed, e.g. recorded on the wrong statement; a cheque bounced.",
    )


class PaymentInputSerializer(serializers.Serializer):
    statement = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The issued statement's id.")
    received_on = serializers.DateField(help_text="Not in the future, not before the issue date.")
    amount = AmountField(help_text="More than zero and at most the balance, e.g. 1234.50.")
    method = serializers.ChoiceField(choices=Payment.Method.choices, default=Payment.Method.WIRE)
    reference = serializers.CharField(max_length=120)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Payments received against issued statements: finance records them (the statement is paid when its balance
    reaches zero); vendors read their own."""

    queryset = Payment.objects.all()
    serializer_class = PaymentSerializer
    filterset_fields = ["statement"]
    access = {
        "list": "statement.view",
        "retrieve": "statement.view",
        "create": "statement.pay",
        "reverse": "statement.pay",
    }

    def get_queryset(self):
        return Payment.objects.select_related("statement").order_by("-received_on", "-pk")

    @extend_schema(
        summary="Reverse a payment recorded in error",
        description=(
            "The payment stays listed with ``reversed_at`` and ``reversal_reason`` and no longer counts towards "
            "what was paid; a paid statement it had settled is issued again (its balance due once more). "
            "A payment already reversed is a 409; no reason is a 400 naming ``reason``. Finance only."
        ),
        request=PaymentReverseSerializer,
        responses={200: PaymentSerializer, **_errors(400, 403, 404, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reverse(self, request, pk=None):
        payment = self.get_object()
        data = PaymentReverseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.payment_reverse(payment=payment, reason=data.validated_data["reason"], actor=request.user)
        return Response(PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data)

    @extend_schema(request=PaymentInputSerializer, responses={201: PaymentSerializer, **_errors(400, 403, 404, 409)})
    def create(self, request, *args, **kwargs):
        data = PaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        statement = Statement.objects.filter(pk=data.validated_data["statement"]).first()
        if statement is None:
            raise ApplicationError("No such statement.", extra={"statement": ["No such statement."]}, status=404)
        payment = services.payment_record(
            statement=statement,
            received_on=data.validated_data["received_on"],
            amount=data.validated_data["amount"],
            method=data.validated_data["method"],
            reference=data.validated_data["reference"],
            actor=request.user,
        )
        fresh = Payment.objects.select_related("statement").get(pk=payment.pk)
        return Response(PaymentSerializer(fresh).data, status=status.HTTP_201_CREATED)


class AgingRowSerializer(serializers.Serializer):
    vendor = serializers.IntegerField(source="vendor_id", allow_null=True, help_text="Null on a currency's total row.")
    vendor_name = serializers.CharField(source="vendor")
    currency = serializers.CharField()
    statements = serializers.IntegerField()
    current = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2, source="buckets.current")
    days_1_30 = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2, source="buckets.days_1_30")
    days_31_60 = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2, source="buckets.days_31_60")
    days_61_90 = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2, source="buckets.days_61_90")
    over_90 = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2, source="buckets.over_90")
    total = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)


class AgingSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    rows = AgingRowSerializer(many=True)
    totals = AgingRowSerializer(many=True)


class AgingView(ScopedAPIView):
    """Open balances of issued statements by vendor and currency, by days past due (finance)."""

    access = "aging.view"

    @extend_schema(
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE, required=False, description="Default: today.")],
        responses={200: AgingSerializer, **_errors(400, 403)},
    )
    def get(self, request, *args, **kwargs):
        raw = request.query_params.get("as_of", "")
        try:
            as_of = datetime.date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ApplicationError("Give the date as YYYY-MM-DD.", extra={"as_of": ["YYYY-MM-DD."]}) from None
        rows, totals = services.aging_by_vendor(as_of=as_of)
        for row in totals:
            row.vendor_id = None  # type: ignore[assignment]  # a currency's total names no vendor
        answer = {"as_of": as_of or timezone.localdate(), "rows": rows, "totals": totals}
        return Response(AgingSerializer(answer).data)


class OverdueScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = OverdueSchedule
        fields = ["enabled", "first_after_days", "repeat_every_days", "max_reminders", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            "first_after_days": {"min_value": 1, "max_value": 365},
            "repeat_every_days": {"min_value": 1, "max_value": 365},
            "max_reminders": {"min_value": 1, "max_value": 52},
        }


class OverdueScheduleView(ScopedAPIView):
    """When overdue reminders go out: GET reads the schedule, POST sets it (finance)."""

    access = {"GET": "aging.view", "POST": "reminder.schedule"}

    @extend_schema(responses={200: OverdueScheduleSerializer, **_errors(403)})
    def get(self, request, *args, **kwargs):
        return Response(OverdueScheduleSerializer(services.overdue_schedule()).data)

    @extend_schema(request=OverdueScheduleSerializer, responses={200: OverdueScheduleSerializer, **_errors(400, 403)})
    def post(self, request, *args, **kwargs):
        data = OverdueScheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        schedule = services.overdue_schedule_save(
            enabled=values.get("enabled", True),
            first_after_days=values.get("first_after_days", 7),
            repeat_every_days=values.get("repeat_every_days", 14),
            max_reminders=values.get("max_reminders", 6),
            actor=request.user,
        )
        return Response(OverdueScheduleSerializer(schedule).data)


class BulkRunSerializer(serializers.ModelSerializer):
    period = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = BulkRun
        fields = [
            "id",
            "period",
            "action",
            "status",
            "phase",
            "percent",
            "total",
            "to_approve",
            "approved",
            "to_issue",
            "rendered",
            "issued",
            "failed",
            "failures",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_period(self, run) -> str:
        return f"{format_month(run.period)}"


class BulkRunInputSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=10, help_text="YYYY-MM")
    action = serializers.ChoiceField(choices=BulkRun.Action.choices)


class BulkRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Bulk runs over a month: approve every draft, issue every approved statement, or both (finance)."""

    queryset = BulkRun.objects.all()
    serializer_class = BulkRunSerializer
    filterset_class = None
    filter_backends: list = []
    access = "statement.bulk"

    def get_queryset(self):
        return BulkRun.objects.order_by("-created_at", "-pk")

    @extend_schema(request=BulkRunInputSerializer, responses={201: BulkRunSerializer, **_errors(400, 403)})
    def create(self, request, *args, **kwargs):
        data = BulkRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.bulk_run_start(
            period=data.validated_data["period"], action=data.validated_data["action"], actor=request.user
        )
        return Response(BulkRunSerializer(BulkRun.objects.get(pk=run.pk)).data, status=status.HTTP_201_CREATED)


router.register("agreements", AgreementViewSet, basename="agreement")
router.register("revenue-reports", RevenueReportViewSet, basename="revenue-report")
router.register("statements", StatementViewSet, basename="statement")


from commissions import api_exports  # noqa: E402,F401  (registers the accounting export routes)

router.register("statement-runs", StatementRunViewSet, basename="statement-run")
router.register("payments", PaymentViewSet, basename="payment")
router.register("bulk-runs", BulkRunViewSet, basename="bulk-run")
router.register("statement-queries", StatementQueryViewSet, basename="statement-query")
router.register("billing-contacts", BillingContactViewSet, basename="billing-contact")
