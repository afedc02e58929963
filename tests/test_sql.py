"""Rows sent to PostgreSQL in bulk (tmw.sql) and the audit rows of a batch (accounts.services.audit_records)."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tmw.accounts.models import AuditEvent, Organisation
from tmw.accounts.policy import SYSTEM
from tmw.accounts.services import audit_record, audit_records
from tmw.accounts.tenancy import operator_scope
from tmw.sql import pg_array, unnest_rows

pytestmark = pytest.mark.django_db


def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("array literals are read by PostgreSQL only")


def test_array_literals_read_back_as_the_values_they_were_built_from():
    """The batch's columns reach ``unnest`` as literals: quotes, backslashes, NULLs and types survive."""
    needs_postgresql()
    texts = ['Acme "IT", Inc.', "back\\slash", "", "NULL", None, "{braces}", "tab\there"]
    numbers = [D("1.50"), None, D("-0.01"), D("99999999.99")]
    moments = [datetime.datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=datetime.UTC), None]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::varchar[], %s::numeric[], %s::timestamptz[], %s::date[], %s::bigint[]",
            [
                pg_array(texts),
                pg_array(numbers),
                pg_array(moments),
                pg_array([datetime.date(2026, 11, 1)]),
                pg_array([]),
            ],
        )
        assert cursor.fetchone() == (texts, numbers, moments, [datetime.date(2026, 11, 1)], [])


def select(rows, types):
    sql, params = unnest_rows(rows, types)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sql, cursor.fetchall()


def test_rows_come_back_in_order_with_one_value_columns_sent_once():
    needs_postgresql()
    day = datetime.date(2026, 11, 1)
    rows = [(1, "Acme", day, None, D("10.00"), True), (2, 'Quote "d"', day, None, D("10.00"), False)]
    sql, found = select(rows, ("bigint", "varchar", "date", "date", "numeric", "boolean"))
    assert found == rows
    # The period, the empty column and the amount are one parameter each; the others arrays.
    assert sql.count("[]") == 3 and sql.count("%s::") == 6


def test_a_column_of_equal_values_of_different_types_stays_an_array():
    needs_postgresql()
    rows = [(1, 1), (2, True)]
    sql, found = select(rows, ("bigint", "varchar"))
    assert sql.count("[]") == 2
    assert found == [(1, "1"), (2, "t")]


def test_one_row_all_one_value_columns_and_no_rows():
    needs_postgresql()
    assert select([(7, "x", None)], ("bigint", "varchar", "date"))[1] == [(7, "x", None)]
    assert select([(7, "x"), (7, "x"), (7, "x")], ("bigint", "varchar"))[1] == [(7, "x")] * 3
    assert select([], ("bigint", "varchar"))[1] == []


def test_a_batch_of_audit_rows_reads_as_the_same_rows_written_one_by_one(world, caplog):
    """``audit_records`` writes what ``audit_record`` writes, per object; the action is logged once."""
    with operator_scope():
        vendor, msp = world.a.vendor, world.a.msp
        audit_record(actor=world.finance, verb="bench.checked", obj=vendor, organisation=vendor, data={"n": 1})
        single = AuditEvent.objects.filter(verb="bench.checked").get()
        with caplog.at_level(logging.INFO, logger="tmw.accounts"):
            audit_records(
                actor=world.finance,
                verb="bench.batched",
                entries=[(vendor, vendor.pk, {"n": 1}), (msp, None, {"n": 2, "text": 'a "quote"'})],
            )
        batched = list(AuditEvent.objects.filter(verb="bench.batched").order_by("pk"))
        audit_records(actor=SYSTEM, verb="bench.empty", entries=[])
        assert not AuditEvent.objects.filter(verb="bench.empty").exists()
    fields = ("organisation_id", "actor_id", "object_type", "object_id", "object_repr", "data")
    assert [getattr(batched[0], f) for f in fields] == [getattr(single, f) for f in fields]
    assert (batched[1].organisation_id, batched[1].object_id, batched[1].data) == (
        None,
        str(msp.pk),
        {"n": 2, "text": 'a "quote"'},
    )
    if connection.vendor == "postgresql":  # one INSERT, one time
        assert batched[0].created_at == batched[1].created_at
    logged = [r for r in caplog.records if getattr(r, "action", None) == "bench.batched"]
    assert len(logged) == 1 and logged[0].count == 2


def test_in_ids_reads_the_same_rows_as_in_with_one_parameter(world):
    with operator_scope():
        ids = [world.a.vendor.pk, world.b.vendor.pk, world.a.msp.pk]
        expected = sorted(Organisation.objects.filter(pk__in=ids).values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as queries:
            found = sorted(Organisation.objects.filter(pk__in_ids=[*ids, str(ids[0])]).values_list("pk", flat=True))
        assert found == expected and len(expected) == 3
        if connection.vendor == "postgresql":
            assert "= ANY(" in queries[0]["sql"]
        assert list(Organisation.objects.filter(pk__in_ids=[])) == []
        # Through a relation, as the statement run filters by agreement and engagement.
        assert AuditEvent.objects.filter(organisation_id__in_ids=ids).count() == (
            AuditEvent.objects.filter(organisation_id__in=ids).count()
        )
