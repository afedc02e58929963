"""The default rubric, rubric versions and the rubric pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from diagnostics import services
from diagnostics.forms import CriterionEditForm
from diagnostics.models import Criterion, RubricVersion
from diagnostics.rubric_default import DEFAULT_CRITERIA
from tests.diagnostics.objects_core import start_diagnostic
from tmw.accounts import policy
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError


@pytest.fixture(autouse=True)
def _operator_scope():
    with operator_scope():
        yield


def test_default_rubric_has_twelve_criteria_in_three_groups(db):
    assert len(DEFAULT_CRITERIA) == 12
    rubric = services.rubric_current(actor=policy.SYSTEM)
    criteria = list(rubric.criteria.all())
    assert len(criteria) == 12
    by_group = {g: [c for c in criteria if c.group == g] for g in Criterion.Group.values}
    assert {g: len(cs) for g, cs in by_group.items()} == {"product": 4, "business_model": 4, "readiness": 4}
    for c in criteria:
        assert len(c.levels) == 6 and all(text.strip() for text in c.levels)
        assert c.weight > 0
        c.full_clean()
    gates = {c.key: c.gate_min_level for c in criteria if c.is_gate}
    assert gates == {"psa-rmm-integration": 2, "runway": 3}
    # rubric_current does not create a second default
    assert services.rubric_current(actor=policy.SYSTEM) == rubric
    assert RubricVersion.objects.count() == 1


def test_editing_the_rubric_makes_a_new_version_and_diagnostics_keep_theirs(world):
    old = services.rubric_current(actor=policy.SYSTEM)
    diagnostic = start_diagnostic(world)
    assert diagnostic.rubric == old
    specs = [CriterionEditForm.initial_for(c) for c in old.criteria.all()]
    values = []
    for spec in specs:
        spec = {**spec, "levels": [spec.pop(f"level_{i}") for i in range(6)]}
        values.append(spec)
    values[0]["weight"] = Decimal("4")
    values[0]["title"] = "Integrates with PSA and RMM"
    new = services.rubric_version_create(base=old, criteria=values, actor=world.partner, notes="Heavier integration")
    assert new.number == old.number + 1
    assert new.criteria.count() == 12
    assert new.criteria.get(key="psa-rmm-integration").weight == Decimal("4")
    assert old.criteria.get(key="psa-rmm-integration").weight == Decimal("3")
    diagnostic.refresh_from_db()
    assert diagnostic.rubric == old
    assert start_diagnostic(world).rubric == new


def test_invalid_rubric_edit_is_refused(world):
    old = services.rubric_current(actor=policy.SYSTEM)
    bad = {"key": "x", "group": "product", "title": "X", "weight": Decimal("1"), "levels": ["only one"]}
    with pytest.raises(ApplicationError):
        services.rubric_version_create(base=old, criteria=[bad], actor=world.partner)
    with pytest.raises(ApplicationError):
        services.rubric_version_create(base=old, criteria=[], actor=world.partner)
    assert RubricVersion.objects.count() == 1


def _matrix(world):
    return {
        "anonymous": None,
        "other vendor": world.b.vendor_admin,
        "own vendor": world.a.vendor_admin,
        "MSP user": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
    }


@pytest.mark.parametrize("name", ["diagnostics:rubric", "diagnostics:rubric_edit"])
def test_rubric_pages_permission_matrix(world, client_for, name):
    url = reverse(name)
    expected = {
        "anonymous": 302,
        "other vendor": 403,
        "own vendor": 403,
        "MSP user": 403,
        "partner": 200,
        "finance": 403,
    }
    got = {label: client_for(user).get(url).status_code for label, user in _matrix(world).items()}
    assert got == expected


def test_rubric_edit_page_saves_a_new_version(world, client_for):
    rubric = services.rubric_current(actor=policy.SYSTEM)
    client = client_for(world.partner)
    data = {"c-TOTAL_FORMS": "12", "c-INITIAL_FORMS": "12", "notes": "Runway gate at 4"}
    for i, c in enumerate(rubric.criteria.order_by("order")):
        for k, v in CriterionEditForm.initial_for(c).items():
            if k == "is_gate":
                if v:
                    data[f"c-{i}-{k}"] = "on"
                continue
            data[f"c-{i}-{k}"] = str(v)
        if c.key == "runway":
            data[f"c-{i}-gate_min_level"] = "4"
    response = client.post(reverse("diagnostics:rubric_edit"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = RubricVersion.objects.order_by("-number").first()
    assert latest.number == 2
    assert latest.criteria.get(key="runway").gate_min_level == 4
    page = client.get(reverse("diagnostics:rubric")).content.decode()
    assert "v2" in page and "Runway gate at 4" in page
    old_page = client.get(reverse("diagnostics:rubric_version", args=[rubric.pk])).content.decode()
    assert "An earlier version" in old_page


def test_rubric_edit_page_adds_and_removes_criteria(world, client_for):
    rubric = services.rubric_current(actor=policy.SYSTEM)
    client = client_for(world.partner)
    page = client.get(reverse("diagnostics:rubric_edit")).content.decode()
    assert 'name="c-TOTAL_FORMS" value="13"' in page
    data = {"c-TOTAL_FORMS": "13", "c-INITIAL_FORMS": "12", "notes": "Swap references for security posture"}
    for i, c in enumerate(rubric.criteria.order_by("order")):
        for k, v in CriterionEditForm.initial_for(c).items():
            if k == "is_gate":
                if v:
                    data[f"c-{i}-{k}"] = "on"
                continue
            data[f"c-{i}-{k}"] = str(v)
        if c.key == "references":
            data[f"c-{i}-DELETE"] = "on"
    new = {"group": "product", "title": "Security posture", "weight": "1.5", "is_gate": "on", "gate_min_level": "2"}
    new.update({f"level_{i}": f"Security level {i}" for i in range(6)})
    data.update({f"c-12-{k}": v for k, v in new.items()})
    response = client.post(reverse("diagnostics:rubric_edit"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    latest = RubricVersion.objects.order_by("-number").first()
    keys = list(latest.criteria.values_list("key", flat=True))
    assert "references" not in keys and "security-posture" in keys and len(keys) == 12
    added = latest.criteria.get(key="security-posture")
    assert added.is_gate and added.gate_min_level == 2 and added.weight == Decimal("1.5")
    assert rubric.criteria.filter(key="references").exists()


def test_blank_extra_criterion_adds_nothing(world, client_for):
    rubric = services.rubric_current(actor=policy.SYSTEM)
    data = {"c-TOTAL_FORMS": "13", "c-INITIAL_FORMS": "12", "notes": "No change", "c-12-group": "", "c-12-title": ""}
    for i, c in enumerate(rubric.criteria.order_by("order")):
        for k, v in CriterionEditForm.initial_for(c).items():
            if k == "is_gate":
                if v:
                    data[f"c-{i}-{k}"] = "on"
                continue
            data[f"c-{i}-{k}"] = str(v)
    response = client_for(world.partner).post(reverse("diagnostics:rubric_edit"), data)
    assert response.status_code == 302
    assert RubricVersion.objects.order_by("-number").first().criteria.count() == 12
