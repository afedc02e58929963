"""Diagnostic pages: permissions, htmx scoring, decision and status forms, the vendor portal, query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from diagnostics import services
from diagnostics.models import Criterion, Decision, Diagnostic
from tests.diagnostics.objects_core import SENTINEL_LEVELS, THESIS, make_complete, score_all, start_diagnostic
from tmw.accounts.tenancy import operator_scope


@pytest.fixture
def diag(world):
    with operator_scope():
        return start_diagnostic(world)


def _matrix(world):
    return {
        "anonymous": None,
        "other vendor": world.b.vendor_admin,
        "own vendor": world.a.vendor_admin,
        "MSP user": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
    }


PARTNER_ONLY = {
    "anonymous": 302,
    "other vendor": 403,
    "own vendor": 403,
    "MSP user": 403,
    "partner": 200,
    "finance": 403,
}


def test_list_and_detail_permission_matrix(world, client_for, diag):
    for url in (
        reverse("diagnostics:diagnostic_list"),
        reverse("diagnostics:diagnostic_create"),
        reverse("diagnostics:diagnostic_detail", args=[diag.pk]),
    ):
        got = {label: client_for(user).get(url).status_code for label, user in _matrix(world).items()}
        assert got == PARTNER_ONLY, url


def test_portal_permission_matrix(world, client_for, diag):
    url = reverse("diagnostics:portal")
    expected = {
        "anonymous": 302,
        "other vendor": 200,
        "own vendor": 200,
        "MSP user": 403,
        "partner": 403,
        "finance": 403,
    }
    got = {label: client_for(user).get(url).status_code for label, user in _matrix(world).items()}
    assert got == expected


def test_list_shows_status_due_overdue_and_score(world, client_for, diag):
    with operator_scope():
        score_all(diag, world.partner, SENTINEL_LEVELS)
    body = client_for(world.partner).get(reverse("diagnostics:diagnostic_list")).content.decode()
    assert world.a.vendor.name in body
    assert "82.8" in body
    assert "Draft" in body
    filtered = client_for(world.partner).get(reverse("diagnostics:diagnostic_list") + "?status=complete")
    assert world.a.vendor.name not in filtered.content.decode()


def test_start_a_diagnostic_from_the_page(world, client_for):
    client = client_for(world.partner)
    response = client.post(
        reverse("diagnostics:diagnostic_create"), {"vendor": world.b.vendor.pk, "lead_partner": world.partner.pk}
    )
    assert response.status_code == 302
    with operator_scope():
        created = Diagnostic.objects.filter(vendor=world.b.vendor).order_by("-pk").first()
    assert response["Location"] == reverse("diagnostics:diagnostic_detail", args=[created.pk])
    bad = client.post(
        reverse("diagnostics:diagnostic_create"), {"vendor": world.a.msp.pk, "lead_partner": world.partner.pk}
    )
    assert bad.status_code == 400


def test_htmx_score_save_swaps_the_row_and_the_summary(world, client_for, diag):
    with operator_scope():
        criterion = Criterion.objects.get(rubric=diag.rubric, key="runway")
    url = reverse("diagnostics:score_save", args=[diag.pk, criterion.pk])
    response = client_for(world.partner).post(
        url, {"level": "1", "evidence": "Six months of cash"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="criterion-{criterion.pk}"' in body
    assert 'hx-swap-oob="true"' in body
    assert "Saved" in body and "Six months of cash" in body
    assert "Failed gate" in body  # runway at 1 fails its gate (needs 3)
    with operator_scope():
        assert diag.scores.get(criterion=criterion).level == 1
    bad = client_for(world.partner).post(url, {"level": "9"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    assert "Pick a level" in bad.content.decode()


def test_decision_page_blocks_go_on_a_failed_gate_then_accepts_an_override(world, client_for, diag):
    with operator_scope():
        score_all(diag, world.partner, {**SENTINEL_LEVELS, "runway": 1})
    client = client_for(world.partner)
    url = reverse("diagnostics:decision_save", args=[diag.pk])
    data = {"outcome": "go", "rationale": "Strong fit", "option": "B"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "A failed gate blocks" in response.content.decode()
    response = client.post(url, {**data, "gate_override_reason": "Funding closes next week"})
    assert response.status_code == 302
    with operator_scope():
        decision = Decision.objects.get(diagnostic=diag)
    assert decision.gate_override_reason == "Funding closes next week"
    response = client.post(url, {**data, "option": "A"})
    assert response.status_code == 400
    assert "give a reason to choose Option A" in response.content.decode()


def test_status_buttons_validate_and_complete(world, client_for, diag):
    client = client_for(world.partner)
    url = reverse("diagnostics:diagnostic_transition", args=[diag.pk])
    response = client.post(url, {"to": "in_review"})
    assert response.status_code == 400
    assert "Score every criterion" in response.content.decode()
    with operator_scope():
        score_all(diag, world.partner, SENTINEL_LEVELS)
    assert client.post(url, {"to": "in_review"}).status_code == 302
    thesis = client.post(reverse("diagnostics:thesis_save", args=[diag.pk]), THESIS)
    assert thesis.status_code == 302
    decision = client.post(
        reverse("diagnostics:decision_save", args=[diag.pk]), {"outcome": "go", "rationale": "Fit", "option": "B"}
    )
    assert decision.status_code == 302
    assert client.post(url, {"to": "complete"}).status_code == 302
    diag.refresh_from_db()
    assert diag.status == Diagnostic.Status.COMPLETE
    page = client.get(reverse("diagnostics:diagnostic_detail", args=[diag.pk])).content.decode()
    assert "Download report (PDF)" in page
    assert 'name="level"' not in page  # read-only once complete


def test_settings_form_changes_the_recommended_option(world, client_for, diag):
    response = client_for(world.partner).post(
        reverse("diagnostics:diagnostic_settings", args=[diag.pk]),
        {
            "lead_partner": world.partner.pk,
            "due_on": diag.due_on.isoformat(),
            "has_us_sales": "on",
            "has_us_marketing": "on",
            "has_us_channel": "on",
        },
    )
    assert response.status_code == 302
    diag.refresh_from_db()
    assert diag.recommended_option == "A"


def test_portal_shows_only_status_while_open_and_results_once_complete(world, client_for, diag):
    client = client_for(world.a.vendor_member)
    body = client.get(reverse("diagnostics:portal")).content.decode()
    assert "Draft" in body
    assert "Channel thesis" not in body
    assert reverse("diagnostics:report_pdf", args=[diag.pk]) not in body
    with operator_scope():
        make_complete(diag, world.partner)
    body = client.get(reverse("diagnostics:portal")).content.decode()
    assert "Channel thesis" in body and THESIS["target_segment"] in body
    assert "82.8" in body
    assert reverse("diagnostics:report_pdf", args=[diag.pk]) in body
    assert "Option B" in body
    # the other vendor sees none of it
    other = client_for(world.b.vendor_admin).get(reverse("diagnostics:portal")).content.decode()
    assert THESIS["target_segment"] not in other
    assert world.a.marker not in other


def _grow(world, n: int) -> None:
    with operator_scope():
        for _ in range(n):
            d = start_diagnostic(world)
            score_all(d, world.partner, SENTINEL_LEVELS)
            services.decision_record(diagnostic=d, outcome="go", rationale="Fit", actor=world.partner)


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_page_query_count_is_constant(world, client_for, django_assert_num_queries):
    client = client_for(world.partner)
    url = reverse("diagnostics:diagnostic_list")
    _grow(world, 1)
    small = _count_queries(client, url)
    _grow(world, 5)
    with django_assert_num_queries(small):
        client.get(url)


def test_detail_page_query_count_is_constant(world, client_for, django_assert_num_queries, diag):
    client = client_for(world.partner)
    url = reverse("diagnostics:diagnostic_detail", args=[diag.pk])
    with operator_scope():
        criteria = list(Criterion.objects.filter(rubric=diag.rubric).order_by("order"))
        services.criterion_score_set(diagnostic=diag, criterion=criteria[0], level=2, actor=world.partner)
    small = _count_queries(client, url)
    with operator_scope():
        score_all(diag, world.partner, SENTINEL_LEVELS)
        services.thesis_save(diagnostic=diag, actor=world.partner, **THESIS)
        services.decision_record(diagnostic=diag, outcome="go", rationale="Fit", actor=world.partner)
    with django_assert_num_queries(small):
        client.get(url)


def test_home_cards_show_diagnostics(world, client_for, diag):
    partner_home = client_for(world.partner).get(reverse("dashboard:partner")).content.decode()
    assert reverse("diagnostics:diagnostic_detail", args=[diag.pk]) in partner_home
    vendor_home = client_for(world.a.vendor_admin).get(reverse("dashboard:vendor")).content.decode()
    assert "Draft" in vendor_home and reverse("diagnostics:portal") in vendor_home
    assert reverse("diagnostics:report_pdf", args=[diag.pk]) not in vendor_home
    with operator_scope():
        make_complete(diag, world.partner)
    vendor_home = client_for(world.a.vendor_admin).get(reverse("dashboard:vendor")).content.decode()
    assert reverse("diagnostics:report_pdf", args=[diag.pk]) in vendor_home
