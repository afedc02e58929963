"""Builders for ideal-partner profile and target-list models.

Side X's target list is for side X's vendor diagnostic and lists one MSP of its own,
"<marker> Target MSP", so the vendor sees that MSP and no other side's MSP.
"""

from __future__ import annotations

from decimal import Decimal

from diagnostics.models import Diagnostic, IdealPartnerProfile, TargetEntry, TargetList
from tests.directory.tenant_objects import msp_profile_for
from tests.factories import OrganisationFactory, Side, World, tenant_object
from tmw.accounts.models import Organisation
from tmw.directory.models import MSPProfile


def diagnostic_for(world: World, side: Side) -> Diagnostic:
    """The side's vendor diagnostic: the one the core builders made, else a new one."""
    existing = side.objects.get(Diagnostic)
    if existing is not None:
        return existing
    from diagnostics.services import diagnostic_start

    diagnostic = diagnostic_start(vendor=side.vendor, lead_partner=world.partner, actor=world.partner)
    side.objects[Diagnostic] = diagnostic
    return diagnostic


def target_msp_for(side: Side) -> MSPProfile:
    org = OrganisationFactory(
        kind=Organisation.Kind.MSP, name=f"{side.marker} Target MSP", city="Ottawa", region="ON", country="CA"
    )
    return msp_profile_for(org)


@tenant_object(IdealPartnerProfile)
def _ideal_partner_profile(world: World, side: Side):
    diagnostic = diagnostic_for(world, side)
    profile, _ = IdealPartnerProfile.all_objects.get_or_create(
        diagnostic=diagnostic, defaults={"countries": ["CA"], "regions": ["ON"], "verticals": ["healthcare"]}
    )
    return profile


@tenant_object(TargetList)
def _target_list(world: World, side: Side):
    diagnostic = diagnostic_for(world, side)
    existing = TargetList.all_objects.filter(diagnostic=diagnostic).first()
    if existing is not None:
        return existing
    target = target_msp_for(side)
    target_list = TargetList.all_objects.create(
        diagnostic=diagnostic,
        number=1,
        created_by=world.partner,
        profile_snapshot={"countries": ["CA"]},
        scored_count=1,
    )
    TargetEntry.all_objects.create(
        target_list=target_list,
        msp=target,
        msp_name=target.legal_name,
        msp_city=target.city,
        msp_region=target.region,
        msp_country=target.country,
        score=Decimal("80.0"),
        tier="A",
        rank=1,
        breakdown=[
            {"factor": "geography", "points": "20.0", "max_points": "20.0", "why": "in Ontario, a target province"}
        ],
    )
    return target_list


@tenant_object(TargetEntry)
def _target_entry(world: World, side: Side):
    return TargetEntry.all_objects.filter(target_list=_target_list(world, side)).first()
