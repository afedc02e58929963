"""Target lists: build, snapshot, re-score diff, pin and exclude, visibility, pages and API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from diagnostics import services
from diagnostics.models import Diagnostic, IdealPartnerProfile, TargetEntry, TargetList
from diagnostics.selectors import latest_target_list
from tests.directory.tenant_objects import add_msps
from tmw.accounts.tenancy import operator_scope, tenant_scope
from tmw.directory import services as directory_services
from tmw.directory.models import MSPProfile
from tmw.errors import ApplicationError


def diagnostic_of(world, side="a") -> Diagnostic:
    return world.side(side).objects[Diagnostic]


def build(world, side="a") -> TargetList:
    with operator_scope():
        return services.target_list_build(diagnostic=diagnostic_of(world, side), actor=world.partner)


def complete(world, side="a") -> None:
    """Mark the side's diagnostic complete (what the vendor sees of target lists waits for it)."""
    with operator_scope():
        Diagnostic.objects.filter(pk=diagnostic_of(world, side).pk).update(status=Diagnostic.Status.COMPLETE)


def entries(target_list) -> dict[str, TargetEntry]:
    with operator_scope():
        return {e.msp_name: e for e in target_list.entries.all()}


def test_build_scores_every_msp_and_numbers_the_snapshot(world):
    target_list = build(world)
    with operator_scope():
        directory = MSPProfile.objects.count()
        assert target_list.number == 2  # the world already holds list #1
        assert target_list.scored_count == directory
        assert target_list.entries.count() == directory
        assert latest_target_list(diagnostic=diagnostic_of(world)) == target_list
        ranks = sorted(target_list.entries.values_list("rank", flat=True))
        assert ranks == list(range(1, directory + 1))
        first = target_list.entries.order_by("rank").first()
        assert {p["factor"] for p in first.breakdown} >= {"geography", "relationship"}
        assert target_list.profile_snapshot["regions"] == ["ON"]


def test_build_creates_a_default_profile_when_none_exists(world):
    with operator_scope():
        IdealPartnerProfile.objects.filter(diagnostic=diagnostic_of(world)).delete()
    target_list = build(world)
    with operator_scope():
        profile = IdealPartnerProfile.objects.get(diagnostic=diagnostic_of(world))
    assert profile.countries == ["US", "CA"]
    assert profile.preferred_service_lines == ["backup_dr"]  # the world's vendors sell backup
    assert target_list.profile_snapshot["countries"] == ["US", "CA"]


def test_only_partners_build(world):
    with tenant_scope([world.a.vendor.pk]), pytest.raises(ApplicationError):
        services.target_list_build(diagnostic=diagnostic_of(world), actor=world.a.vendor_admin)


def test_a_complete_diagnostic_keeps_its_target_list(world):
    with operator_scope():
        Diagnostic.objects.filter(pk=diagnostic_of(world).pk).update(status=Diagnostic.Status.COMPLETE)
    with pytest.raises(ApplicationError) as exc:
        build(world)
    assert exc.value.status == 409


def test_the_snapshot_stays_as_scored_when_the_directory_changes(world):
    target_list = build(world)
    before = entries(target_list)["Marlinspike MSP"]
    assert before.score > Decimal("0")
    with operator_scope():
        profile = MSPProfile.objects.get(legal_name="Marlinspike MSP")
        directory_services.msp_update(
            profile=profile, actor=world.partner, city="Vancouver", region="BC", legal_name="Renamed"
        )
        target = MSPProfile.objects.get(legal_name="Alphaquill Target MSP")
        directory_services.msp_remove(profile=target, actor=world.partner)
    after = entries(TargetList.all_objects.get(pk=target_list.pk))
    kept = after["Marlinspike MSP"]
    assert (kept.msp_city, kept.msp_region, kept.score, kept.breakdown) == (
        "Toronto",
        "ON",
        before.score,
        before.breakdown,
    )
    removed = after["Alphaquill Target MSP"]
    assert removed.msp_id is None  # the MSP left the directory; its entry stays as scored
    assert (removed.score, removed.msp_city) == (entries(target_list)["Alphaquill Target MSP"].score, "Ottawa")


def test_rescoring_records_who_moved_and_who_dropped(world, monkeypatch):
    monkeypatch.setattr(services, "TARGET_LIST_SIZE", 3)
    add_msps(3, prefix="Mover", relationship=0, verticals=[], community_member=False)
    first = build(world)
    firsts = entries(first)
    assert len(firsts) == 3
    assert all(e.movement == "new" or e.previous_rank is not None for e in firsts.values())
    # Lift one MSP far up: strong relationship and community membership, in Ontario.
    with operator_scope():
        last = MSPProfile.objects.filter(legal_name__startswith="Mover").order_by("legal_name").last()
        directory_services.msp_update(
            profile=last, actor=world.partner, relationship=3, community_member=True, verticals=["healthcare"]
        )
    second = build(world)
    seconds = entries(second)
    assert last.legal_name not in firsts
    lifted = seconds[last.legal_name]
    assert (lifted.rank, lifted.movement, lifted.previous_rank) == (1, "new", None)
    assert [d["name"] for d in second.dropped] == ["Quokkadale MSP"]
    assert seconds["Alphaquill Target MSP"].movement == "down"
    for name, e in seconds.items():
        if name in firsts and name != last.legal_name:
            assert e.previous_rank == firsts[name].rank
            assert e.movement in ("down", "same", "up")


def test_pin_and_exclude_need_a_reason_and_carry_over(world, monkeypatch):
    monkeypatch.setattr(services, "TARGET_LIST_SIZE", 1)
    add_msps(4, prefix="Pin")
    target_list = build(world)
    with operator_scope():
        entry = target_list.entries.get()  # only the best MSP makes a one-place list
        with pytest.raises(ApplicationError) as exc:
            services.target_entry_flag(entry=entry, actor=world.partner, pinned=True, excluded=False)
        assert "reason" in exc.value.extra
        with pytest.raises(ApplicationError):
            services.target_entry_flag(entry=entry, actor=world.partner, pinned=True, excluded=True, reason="x")
        services.target_entry_flag(entry=entry, actor=world.partner, pinned=False, excluded=True, reason="Competitor")
        pinned_msp = MSPProfile.objects.filter(legal_name__startswith="Pin").order_by("-legal_name").first()
    # Pin an MSP that is not on the list by flagging it on a list where it is: build a bigger one first.
    monkeypatch.setattr(services, "TARGET_LIST_SIZE", 100)
    wide = build(world)
    with operator_scope():
        wide_entry = wide.entries.get(msp=pinned_msp)
        assert wide.entries.get(msp_id=entry.msp_id).excluded  # the exclusion carried over
        services.target_entry_flag(entry=wide_entry, actor=world.partner, pinned=True, excluded=False, reason="Met")
        # an older snapshot cannot change any more
        with pytest.raises(ApplicationError) as exc:
            services.target_entry_flag(entry=entry, actor=world.partner, pinned=False, excluded=False)
        assert exc.value.status == 409
    monkeypatch.setattr(services, "TARGET_LIST_SIZE", 1)
    narrow = build(world)
    with operator_scope():
        kept = {e.msp_id: e for e in narrow.entries.all()}
    assert kept[pinned_msp.pk].pinned and kept[pinned_msp.pk].reason == "Met"
    assert kept[entry.msp_id].excluded and kept[entry.msp_id].reason == "Competitor"


def test_a_vendor_sees_only_the_msps_on_its_own_target_lists(world):
    with tenant_scope([world.a.vendor.pk]):
        visible = set(MSPProfile.objects.values_list("legal_name", flat=True))
    assert visible == {"Alphaquill Target MSP"}
    build(world)  # now every MSP is on vendor A's list, but the diagnostic is a draft
    with tenant_scope([world.a.vendor.pk]):
        assert set(MSPProfile.objects.values_list("legal_name", flat=True)) == visible
    complete(world)
    with tenant_scope([world.a.vendor.pk]):
        assert MSPProfile.objects.count() == 4
    with tenant_scope([world.b.vendor.pk]):
        assert set(MSPProfile.objects.values_list("legal_name", flat=True)) == {"Zebrawood Target MSP"}
    with tenant_scope([world.a.msp.pk]):
        assert set(MSPProfile.objects.values_list("legal_name", flat=True)) == {"Marlinspike MSP"}


def test_an_excluded_msp_is_hidden_from_the_vendor(world, monkeypatch):
    from diagnostics.selectors import msp_on_target_list
    from tmw.directory import models as directory

    monkeypatch.setattr(directory, "MSP_VISIBILITY_RULES", [msp_on_target_list])  # the target list, not the pipeline
    complete(world)
    with tenant_scope([world.a.vendor.pk]):
        assert MSPProfile.objects.exists()
    with operator_scope():
        Diagnostic.objects.filter(pk=diagnostic_of(world).pk).update(status=Diagnostic.Status.DRAFT)
        entry = TargetEntry.objects.get(target_list__diagnostic=diagnostic_of(world))
        services.target_entry_flag(entry=entry, actor=world.partner, pinned=False, excluded=True, reason="Conflict")
    complete(world)
    with tenant_scope([world.a.vendor.pk]):
        assert not MSPProfile.objects.exists()


def test_other_apps_can_add_reasons_to_see_an_msp(world, monkeypatch):
    from django.db.models import Q

    from diagnostics.selectors import msp_on_target_list
    from tmw.directory import models as directory

    monkeypatch.setattr(directory, "MSP_VISIBILITY_RULES", [msp_on_target_list])
    complete(world)
    directory.register_msp_visibility(lambda ids, ref: Q(legal_name="Quokkadale MSP") & Q(pk__gt=0))
    with tenant_scope([world.a.vendor.pk]):
        assert set(MSPProfile.objects.values_list("legal_name", flat=True)) == {
            "Alphaquill Target MSP",
            "Quokkadale MSP",
        }


def test_a_draft_diagnostics_target_list_shows_the_vendor_no_msp(world, monkeypatch):
    from diagnostics.selectors import msp_on_target_list
    from tmw.directory import models as directory

    monkeypatch.setattr(directory, "MSP_VISIBILITY_RULES", [msp_on_target_list])
    for status in (Diagnostic.Status.DRAFT, Diagnostic.Status.IN_REVIEW):
        with operator_scope():
            Diagnostic.objects.filter(pk=diagnostic_of(world).pk).update(status=status)
        with tenant_scope([world.a.vendor.pk]):
            assert not MSPProfile.objects.exists(), status
    complete(world)
    with tenant_scope([world.a.vendor.pk]):
        assert set(MSPProfile.objects.values_list("legal_name", flat=True)) == {"Alphaquill Target MSP"}
