"""Target-list ranks are counted among the included entries (no gaps after exclusions), and the page is paginated."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from diagnostics import pdf, services
from diagnostics.models import TargetEntry
from tests.diagnostics.test_target_pages import build, complete, diagnostic_of
from tests.directory.tenant_objects import add_msps
from tmw.accounts.tenancy import operator_scope


def _exclude_two(world):
    """Build a list of 60+ MSPs and exclude the ones ranked 2 and 4: stored ranks then have gaps."""
    add_msps(60, prefix="Ranked")
    target_list = build(world)
    with operator_scope():
        for rank in (2, 4):
            entry = target_list.entries.get(rank=rank)
            services.target_entry_flag(entry=entry, actor=world.partner, pinned=False, excluded=True, reason="Conflict")
        included = list(target_list.entries.filter(excluded=False).order_by("rank").values_list("msp_name", flat=True))
    return target_list, included


def test_vendors_see_ranks_without_gaps_on_the_page_csv_api_and_report(world, client_for):
    target_list, included = _exclude_two(world)
    complete(world)
    pk = diagnostic_of(world).pk
    vendor = client_for(world.a.vendor_admin)

    # The page, first page: ranks 1..50 in score order, names in stored order.
    html = vendor.get(reverse("diagnostics:target_list", args=[pk])).content.decode()
    assert html.count('<tr id="entry-') == 50
    assert f"<strong>{included[0]}</strong>" in html and f"<strong>{included[49]}</strong>" in html
    assert f"<strong>{included[50]}</strong>" not in html
    assert '<td class="num"><strong>50</strong>' in html and '<td class="num"><strong>51</strong>' not in html

    # The CSV: every included entry, ranks 1..N.
    export = vendor.get(reverse("diagnostics:target_list_export", args=[pk])).content.decode()
    rows = list(csv.DictReader(io.StringIO(export)))
    assert [int(r["rank"]) for r in rows] == list(range(1, len(included) + 1))
    assert [r["msp"] for r in rows] == included

    # The API: rank 1..N; the stored score rank stays for partners only.
    api = vendor.get(f"/api/v1/target-lists/{target_list.pk}/").json()["entries"]
    assert [e["rank"] for e in api] == list(range(1, len(included) + 1))
    assert "score_rank" not in api[0]

    # The report's top 25 runs 1..25.
    with operator_scope():
        context = pdf.report_context(diagnostic=diagnostic_of(world), user=world.a.vendor_admin)
    assert [e.list_rank for e in context["targets"]] == list(range(1, 26))


def test_partners_see_excluded_entries_without_a_rank(world, client_for):
    target_list, included = _exclude_two(world)
    partner = client_for(world.partner)
    api = partner.get(f"/api/v1/target-lists/{target_list.pk}/").json()["entries"]
    excluded = [e for e in api if e["excluded"]]
    assert [e["rank"] for e in excluded] == [None, None] and [e["score_rank"] for e in excluded] == [2, 4]
    assert [e["rank"] for e in api if not e["excluded"]] == list(range(1, len(included) + 1))
    rows = list(
        csv.DictReader(
            io.StringIO(
                partner.get(reverse("diagnostics:target_list_export", args=[diagnostic_of(world).pk])).content.decode()
            )
        )
    )
    assert [r["rank"] for r in rows if r["excluded"]] == ["", ""]
    with operator_scope():
        assert TargetEntry.objects.filter(target_list=target_list, rank=4, excluded=True).exists()


def test_the_target_list_pages_keep_the_tier_filter_and_ranks(world, client_for):
    _exclude_two(world)
    pk = diagnostic_of(world).pk
    client = client_for(world.partner)
    url = reverse("diagnostics:target_list", args=[pk])
    first = client.get(url).content.decode()
    assert "page 1 of 2" in first and "page=2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "page 2 of 2" in second and second.count('<tr id="entry-') >= 10
    with operator_scope():
        tier = TargetEntry.objects.filter(target_list__diagnostic_id=pk).order_by("rank").last().tier
    filtered = client.get(url, {"tier": tier}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="target-entries"' in filtered
    if "page=2" in filtered:
        assert f"tier={tier}" in filtered  # the next page keeps the filter
    assert client.get(url, {"page": "abc"}).status_code == 400
