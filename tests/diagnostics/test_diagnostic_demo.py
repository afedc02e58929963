"""Demo diagnostics: one in progress, two completed with go decisions; running the seed twice doubles nothing."""

from __future__ import annotations

from django.core.management import call_command

from diagnostics.models import ChannelThesis, CriterionScore, Decision, Diagnostic, RubricVersion
from tmw.accounts.tenancy import operator_scope


def _counts() -> dict:
    with operator_scope():
        counts = {
            m.__name__: m.objects.count() for m in (Diagnostic, CriterionScore, ChannelThesis, Decision, RubricVersion)
        }
        try:
            from diagnostics.models import TargetList

            counts["TargetList"] = TargetList.objects.count()
        except ImportError:
            pass
    return counts


def test_seed_demo_diagnostics_and_idempotence(db):
    call_command("seed_demo", quiet=True)
    first = _counts()
    call_command("seed_demo", quiet=True)
    assert _counts() == first
    with operator_scope():
        by_vendor = {d.vendor.name: d for d in Diagnostic.objects.select_related("vendor")}
        phase_one = by_vendor["Northwind Identity"]
        assert phase_one.status == Diagnostic.Status.DRAFT
        assert 0 < phase_one.scores.count() < phase_one.rubric.criteria.count()
        option_a, option_b = by_vendor["Sentinel Backup"], by_vendor["Lumen AI Ops"]
        for diagnostic, option in ((option_a, "A"), (option_b, "B")):
            assert diagnostic.status == Diagnostic.Status.COMPLETE
            assert diagnostic.decision.outcome == Decision.Outcome.GO
            assert diagnostic.decision.option == option == diagnostic.recommended_option
        if "TargetList" in first:
            assert option_a.target_lists.count() == 1
            assert option_b.target_lists.count() == 1
