"""The diagnostics API: who sees what, partner writes through services, business errors as {message, extra}."""

from __future__ import annotations

import pytest

from diagnostics.models import Criterion, Diagnostic
from tests.diagnostics.objects_core import SENTINEL_LEVELS, THESIS, make_complete, score_all, start_diagnostic
from tmw.accounts.tenancy import operator_scope

BASE = "/api/v1/diagnostics/"


@pytest.fixture
def diag(world):
    with operator_scope():
        return start_diagnostic(world)


def test_list_permission_matrix(world, client_for, diag):
    expected = {
        "anonymous": (None, {401, 403}),
        "other vendor": (world.b.vendor_admin, {200}),
        "own vendor": (world.a.vendor_admin, {200}),
        "MSP user": (world.a.msp_member, {403}),
        "partner": (world.partner, {200}),
        "finance": (world.finance, {403}),
    }
    for label, (user, statuses) in expected.items():
        response = client_for(user).get(BASE)
        assert response.status_code in statuses, label
    own = client_for(world.a.vendor_admin).get(BASE).json()
    rows = own["results"] if isinstance(own, dict) else own
    assert {r["vendor"] for r in rows} == {world.a.vendor.pk}
    assert client_for(world.b.vendor_admin).get(f"{BASE}{diag.pk}/").status_code == 404


def test_vendor_sees_results_only_once_complete(world, client_for, diag):
    with operator_scope():
        score_all(diag, world.partner, SENTINEL_LEVELS)
    vendor = client_for(world.a.vendor_member)
    data = vendor.get(f"{BASE}{diag.pk}/").json()
    assert data["status"] == "draft"
    assert data["overall_score"] is None and data["groups"] is None
    response = vendor.get(f"{BASE}{diag.pk}/scores/")
    assert response.status_code == 409
    assert set(response.json()) == {"message", "extra"}
    partner = client_for(world.partner).get(f"{BASE}{diag.pk}/").json()
    assert partner["overall_score"] == "82.8"
    with operator_scope():
        make_complete(diag, world.partner)
    data = vendor.get(f"{BASE}{diag.pk}/").json()
    assert data["overall_score"] == "82.8"
    assert {g["key"]: g["score"] for g in data["groups"]} == {
        "product": "81.3",
        "business_model": "85.3",
        "readiness": "81.7",
    }
    assert vendor.get(f"{BASE}{diag.pk}/decision/").json()["outcome"] == "go"
    assert vendor.get(f"{BASE}{diag.pk}/thesis/").json()["key_risks"] == THESIS["key_risks"]


def test_vendors_cannot_write(world, client_for, diag):
    vendor = client_for(world.a.vendor_admin)
    assert vendor.post(f"{BASE}{diag.pk}/complete/").status_code == 403
    assert vendor.patch(f"{BASE}{diag.pk}/", {"has_us_sales": True}, content_type="application/json").status_code == 403
    assert vendor.post(BASE, {"vendor": world.a.vendor.pk}, content_type="application/json").status_code == 403
    assert (
        vendor.put(f"{BASE}{diag.pk}/thesis/", {"key_risks": "x"}, content_type="application/json").status_code == 403
    )


def test_partner_runs_a_diagnostic_through_the_api(world, client_for):
    api = client_for(world.partner)
    response = api.post(
        BASE, {"vendor": world.b.vendor.pk, "lead_partner": world.partner.pk}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "draft"
    response = api.patch(
        f"{BASE}{pk}/",
        {"has_us_sales": True, "has_us_marketing": True, "has_us_channel": True},
        content_type="application/json",
    )
    assert response.json()["recommended_option"] == "A"
    with operator_scope():
        criteria = list(Criterion.objects.filter(rubric=Diagnostic.objects.get(pk=pk).rubric))
    for c in criteria:
        r = api.post(
            f"{BASE}{pk}/scores/",
            {"criterion": c.pk, "level": SENTINEL_LEVELS[c.key], "evidence": "seen"},
            content_type="application/json",
        )
        assert r.status_code == 200, r.content
    bad = api.post(f"{BASE}{pk}/scores/", {"criterion": criteria[0].pk, "level": 7}, content_type="application/json")
    assert bad.status_code == 400 and "level" in bad.json()["extra"]
    assert len(api.get(f"{BASE}{pk}/scores/").json()) == 12
    early = api.post(f"{BASE}{pk}/complete/")
    assert early.status_code == 409
    assert "not ready" in early.json()["message"] or "cannot go" in early.json()["message"]
    assert api.put(f"{BASE}{pk}/thesis/", THESIS, content_type="application/json").status_code == 200
    override = api.put(
        f"{BASE}{pk}/decision/", {"outcome": "go", "rationale": "Fit", "option": "B"}, content_type="application/json"
    )
    assert override.status_code == 400
    assert "option_override_reason" in override.json()["extra"]
    decision = api.put(f"{BASE}{pk}/decision/", {"outcome": "go", "rationale": "Fit"}, content_type="application/json")
    assert decision.status_code == 200 and decision.json()["option"] == "A"
    assert api.post(f"{BASE}{pk}/transition/", {"to": "in_review"}, content_type="application/json").status_code == 200
    done = api.post(f"{BASE}{pk}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "complete"


def test_failed_gate_answers_409_with_the_field(world, client_for, diag):
    with operator_scope():
        score_all(diag, world.partner, {**SENTINEL_LEVELS, "psa-rmm-integration": 0})
    response = client_for(world.partner).put(
        f"{BASE}{diag.pk}/decision/", {"outcome": "go", "rationale": "Fit"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert "gate_override_reason" in response.json()["extra"]


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_constant(world, client_for, django_assert_num_queries):
    api = client_for(world.partner)
    with operator_scope():
        score_all(start_diagnostic(world), world.partner, SENTINEL_LEVELS)
    small = _queries(api, BASE)
    with operator_scope():
        for _ in range(4):
            score_all(start_diagnostic(world), world.partner, SENTINEL_LEVELS)
    with django_assert_num_queries(small):
        api.get(BASE)
