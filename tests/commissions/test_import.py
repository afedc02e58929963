"""The vendor's revenue CSV: preview with row and field errors, all or nothing, then the import."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commissions import imports
from commissions.forms import last_month
from commissions.models import RevenueReport
from tests.commissions.tenant_objects import billing_attribution_for
from tmw.accounts.tenancy import operator_scope, tenant_scope

URL = "commissions:portal_revenue_upload"


def csv_file(text: str, name: str = "revenue.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def month(offset: int = 0) -> str:
    period = last_month()
    for _ in range(-offset):
        period = (period - datetime.timedelta(days=1)).replace(day=1)
    return f"{period:%Y-%m}"


def check(world, text: str):
    with tenant_scope((world.a.vendor.pk,)):
        return imports.preview_upload(text, vendor=world.a.vendor, actor=world.a.vendor_admin)


def errors(preview) -> set[tuple[int, str]]:
    return {(e["row"], e["field"]) for e in preview.errors}


def test_a_good_file_previews_then_imports(world, client_for):
    attribution = billing_attribution_for(world, world.a)
    text = f"account,period,amount,currency\n{world.a.marker} Billing MSP,{month()},2750.50,USD\n"
    client = client_for(world.a.vendor_admin)
    preview = client.post(reverse(URL), {"file": csv_file(text)})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "1 row ready" in body and "confirm-import" in body
    with operator_scope():
        assert RevenueReport.objects.get(attribution=attribution, period=last_month()).amount != 2750.50
    done = client.post(reverse(URL), {"content": text, "confirm": "1"})
    assert done.status_code == 302
    with operator_scope():
        report = RevenueReport.objects.get(attribution=attribution, period=last_month())
    assert str(report.amount) == "2750.50" and report.source == RevenueReport.Source.VENDOR_CSV


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("Nobody MSP,{m},100,USD", "account"),
        ("{b} Billing MSP,{m},100,USD", "account"),  # another vendor's account
        ("{a} Billing MSP,2001-01,100,USD", "account"),  # before the attribution started
        ("{a} Billing MSP,{m},-5,USD", "amount"),
        ("{a} Billing MSP,{m},12abc,USD", "amount"),
        ("{a} Billing MSP,{m},10.005,USD", "amount"),
        ("{a} Billing MSP,{future},100,USD", "period"),
        ("{a} Billing MSP,March,100,USD", "period"),
        ("{a} Billing MSP,{m},100,CAD", "currency"),
        ("{a} Billing MSP,{m},100,EUR", "currency"),
    ],
)
def test_bad_rows_name_their_row_and_field(world, row, field):
    billing_attribution_for(world, world.a)
    billing_attribution_for(world, world.b)
    future = (datetime.date.today().replace(day=28) + datetime.timedelta(days=40)).replace(day=1)
    line = row.format(a=world.a.marker, b=world.b.marker, m=month(), future=f"{future:%Y-%m}")
    good = f"{world.a.marker} Billing MSP,{month(-1)},100,USD"
    preview = check(world, f"account,period,amount,currency\n{good}\n{line}\n")
    assert errors(preview) == {(3, field)}, preview.errors
    assert not preview.is_valid


def test_a_duplicate_row_is_refused(world):
    billing_attribution_for(world, world.a)
    line = f"{world.a.marker} Billing MSP,{month()},100,USD"
    preview = check(world, f"account,period,amount,currency\n{line}\n{line.replace('100', '200')}\n")
    assert errors(preview) == {(3, "account")}
    assert "Duplicate of row 2" in preview.errors[0]["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"account,period,amount\nX,2026-01,1\n", "Missing column: currency"),
        (b"", "empty"),
        (b"account,period,amount,currency\n", "no rows"),
        ("account,period,amount,currency\nCaf\u00e9,2026-01,1,USD\n".encode("latin-1"), "UTF-8"),
        (b"account,period,amount,currency\n" + b"x,2026-01,1,USD\n" * 80000, "limit"),
    ],
)
def test_unreadable_files_are_refused_whole(world, client_for, content, message):
    response = client_for(world.a.vendor_admin).post(
        reverse(URL), {"file": SimpleUploadedFile("r.csv", content, content_type="text/csv")}
    )
    assert response.status_code == 400
    assert message in response.content.decode()


def test_one_bad_row_imports_nothing(world, client_for):
    attribution = billing_attribution_for(world, world.a)
    with operator_scope():
        before = list(RevenueReport.objects.filter(vendor=world.a.vendor).values_list("pk", "amount", "revision"))
    text = (
        "account,period,amount,currency\n"
        f"{world.a.marker} Billing MSP,{month()},999.00,USD\n"
        f"{world.a.marker} Billing MSP,{month(-1)},-1,USD\n"
    )
    client = client_for(world.a.vendor_admin)
    response = client.post(reverse(URL), {"file": csv_file(text)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "nothing imported" in body and "confirm-import" not in body
    # Forcing the confirm step with the bad content imports nothing either.
    response = client.post(reverse(URL), {"content": text, "confirm": "1"})
    assert response.status_code == 400
    with operator_scope():
        after = list(RevenueReport.objects.filter(vendor=world.a.vendor).values_list("pk", "amount", "revision"))
    assert before == after
    assert attribution.pk


def test_columns_may_come_in_any_order_with_aliases_and_semicolons(world):
    billing_attribution_for(world, world.a)
    text = f"Currency;MRR;Month;MSP\nUSD;1 234.00;{month()};{world.a.marker} billing msp\n".replace("1 234", "1234")
    preview = check(world, text)
    assert preview.is_valid, preview.errors
    assert preview.rows[0].attribution.msp.name == f"{world.a.marker} Billing MSP"


def test_upload_page_permissions(world, client_for):
    url = reverse(URL)
    assert client_for(None).get(url).status_code == 302
    for user in (world.a.msp_member, world.partner, world.finance):
        assert client_for(user).get(url).status_code == 403
    for user in (world.a.vendor_admin, world.b.vendor_member):
        assert client_for(user).get(url).status_code == 200


@pytest.mark.parametrize(("amount", "ok"), [('"$1,234.50"', True), ("1234.50", True), ("١٢٣", False), ("1.234", False)])
def test_the_preview_and_the_import_read_amounts_alike(world, client_for, amount, ok):
    """One money rule: what the preview accepts the import records, what it refuses nothing records."""
    billing_attribution_for(world, world.a)
    text = f"account,period,amount,currency\n{world.a.marker} Billing MSP,{month()},{amount},USD\n"
    preview = check(world, text)
    assert preview.is_valid is ok, preview.errors
    if ok:
        assert preview.rows[0].amount == (Decimal("1234.50"))
    else:
        assert {(e["row"], e["field"]) for e in preview.errors} == {(2, "amount")}
    response = client_for(world.a.vendor_admin).post(reverse(URL), {"content": text, "confirm": "1"})
    assert response.status_code == (302 if ok else 400)
    with operator_scope():
        stored = list(RevenueReport.objects.filter(vendor=world.a.vendor, period=last_month(), source="vendor_csv"))
    assert [r.amount for r in stored] == ([Decimal("1234.50")] if ok else [])
