"""API of the accounting exports: a month's files (QuickBooks Online invoices and credit memos, Xero sales
invoices, the equity journal) as CSV, what they hold, and the ledger accounts and tax codes they use.

Finance only (``statement.export`` to read, ``accounting.manage`` to change the settings). The month is
``?period=YYYY-MM`` (last month when absent); a bad month is a 400 naming ``period``.
"""

from __future__ import annotations

import datetime

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from tmw import months
from tmw.api import ScopedGenericViewSet, router
from tmw.errors import ApplicationError
from tmw.schema import AutoSchema

from . import exports, services
from .api import CommissionsErrorSerializer, _errors
from .forms import last_month
from .limits import TOTAL_DIGITS
from .models import AccountingSettings
from .services.accounting import ACCOUNT_FIELDS, TAX_CODE_FIELDS

PERIOD = OpenApiParameter(
    "period",
    str,
    OpenApiParameter.QUERY,
    required=False,
    description="YYYY-MM: the month of issue (default last month).",
)


class OneObjectSchema(AutoSchema):
    """The schema of a route whose ``list`` answers one object (a month's summary, the settings), not a list."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


def _period(request) -> datetime.date:
    raw = (request.query_params.get("period") or "").strip()
    if not raw:
        return last_month()
    try:
        return months.parse_month(raw)
    except months.InvalidMonth as exc:
        raise ApplicationError(exc.message, extra={"period": [exc.message]}) from exc


class ExportTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    statements = serializers.IntegerField()
    credit_notes = serializers.IntegerField()
    invoiced = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)
    credited = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)
    tax = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)
    equity = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)
    net = serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)


class ExportFileSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    filename = serializers.CharField()
    url = serializers.CharField()


class ExportMonthSerializer(serializers.Serializer):
    period = serializers.CharField()
    totals = ExportTotalsSerializer(many=True)
    files = ExportFileSerializer(many=True)


class AccountingSettingsSerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null until finance saves them.")

    class Meta:
        model = AccountingSettings
        fields = [*ACCOUNT_FIELDS, *TAX_CODE_FIELDS, "updated_at"]


class AccountingSettingsInputSerializer(serializers.Serializer):
    """The settings to change; those left out keep their value. Account codes: one word, not empty."""

    retainer_account = serializers.CharField(required=False, allow_blank=True, max_length=30, trim_whitespace=False)
    revenue_share_account = serializers.CharField(
        required=False, allow_blank=True, max_length=30, trim_whitespace=False
    )
    tail_account = serializers.CharField(required=False, allow_blank=True, max_length=30, trim_whitespace=False)
    adjustment_account = serializers.CharField(required=False, allow_blank=True, max_length=30, trim_whitespace=False)
    tax_account = serializers.CharField(required=False, allow_blank=True, max_length=30, trim_whitespace=False)
    equity_asset_account = serializers.CharField(required=False, allow_blank=True, max_length=30, trim_whitespace=False)
    equity_income_account = serializers.CharField(
        required=False, allow_blank=True, max_length=30, trim_whitespace=False
    )
    qbo_tax_code = serializers.CharField(required=False, allow_blank=True, max_length=40)
    xero_tax_type = serializers.CharField(required=False, allow_blank=True, max_length=40)


def _csv_answer(key: str, request) -> HttpResponse:
    filename, content = exports.export_file(key, _period(request))
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CSV_ANSWERS = {
    (200, "text/csv"): OpenApiTypes.STR,
    400: OpenApiResponse(CommissionsErrorSerializer, description="The month is not YYYY-MM; extra names period."),
}


class AccountingExportViewSet(ScopedGenericViewSet):
    """A month's accounting exports (finance): what they hold per currency, and each file as CSV."""

    serializer_class = ExportMonthSerializer
    schema = OneObjectSchema()
    filterset_class = None
    filter_backends: list = []
    pagination_class = None
    access = {
        "list": "statement.export",
        "qbo_invoices": "statement.export",
        "qbo_credit_memos": "statement.export",
        "xero_invoices": "statement.export",
        "equity_journal": "statement.export",
    }

    @extend_schema(parameters=[PERIOD], responses={200: ExportMonthSerializer, **_errors(400, 403)})
    def list(self, request, *args, **kwargs):
        """Per currency, what the month's files add up to, and where to download them."""
        period = _period(request)
        summaries = exports.summary_of(exports.issued_in(period))
        label = months.format_month(period)
        files = [
            {
                "key": key,
                "title": f.title,
                "filename": f.filename(period),
                "url": request.build_absolute_uri(reverse(f"api:accounting-export-{f.slug}") + f"?period={label}"),
            }
            for key, f in exports.EXPORTS.items()
        ]
        data = {
            "period": label,
            "totals": [{**s.__dict__, "net": s.net} for s in summaries],
            "files": files,
        }
        return Response(ExportMonthSerializer(data).data)

    @extend_schema(parameters=[PERIOD], responses=CSV_ANSWERS)
    @action(detail=False, methods=["get"], url_path="qbo-invoices", url_name="qbo-invoices")
    def qbo_invoices(self, request):
        """QuickBooks Online invoice import file: the statements issued in the month."""
        return _csv_answer("qbo_invoices", request)

    @extend_schema(parameters=[PERIOD], responses=CSV_ANSWERS)
    @action(detail=False, methods=["get"], url_path="qbo-credit-memos", url_name="qbo-credit-memos")
    def qbo_credit_memos(self, request):
        """QuickBooks Online credit memo import file: the credit notes issued in the month."""
        return _csv_answer("qbo_credit_memos", request)

    @extend_schema(parameters=[PERIOD], responses=CSV_ANSWERS)
    @action(detail=False, methods=["get"], url_path="xero-sales-invoices", url_name="xero-sales-invoices")
    def xero_invoices(self, request):
        """Xero sales invoice import file: statements and credit notes (negative) issued in the month."""
        return _csv_answer("xero_invoices", request)

    @extend_schema(parameters=[PERIOD], responses=CSV_ANSWERS)
    @action(detail=False, methods=["get"], url_path="equity-journal", url_name="equity-journal")
    def equity_journal(self, request):
        """The equity accrued in the month as a journal (date, account, debit, credit, description, reference)."""
        return _csv_answer("equity_journal", request)


class AccountingSettingsViewSet(ScopedGenericViewSet):
    """The ledger account of each line kind and the tax codes of the exports: read (GET), change (POST)."""

    serializer_class = AccountingSettingsSerializer
    schema = OneObjectSchema()
    filterset_class = None
    filter_backends: list = []
    pagination_class = None
    access = {"list": "statement.export", "create": "accounting.manage"}

    @extend_schema(responses={200: AccountingSettingsSerializer, **_errors(403)})
    def list(self, request, *args, **kwargs):
        return Response(AccountingSettingsSerializer(AccountingSettings.current()).data)

    @extend_schema(
        request=AccountingSettingsInputSerializer, responses={200: AccountingSettingsSerializer, **_errors(400, 403)}
    )
    def create(self, request, *args, **kwargs):
        """Change some or all settings; a refusal names the field and changes nothing."""
        data = AccountingSettingsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.accounting_settings_save(actor=request.user, **data.validated_data)
        return Response(AccountingSettingsSerializer(saved).data)


router.register("accounting-exports", AccountingExportViewSet, basename="accounting-export")
router.register("accounting-settings", AccountingSettingsViewSet, basename="accounting-settings")
