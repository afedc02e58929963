"""Builders for MSP directory and target-list models.

Side X's MSP profile and contact belong to side X's MSP (its name carries ``msp_marker``).
Side X's target list is for side X's vendor diagnostic and lists one MSP of its own,
"<marker> Target MSP", so the vendor sees that MSP and no other side's MSP.
"""

from __future__ import annotations

from decimal import Decimal

from diagnostics.models import (
    Diagnostic,
    IdealPartnerProfile,
    MSPContact,
    MSPProfile,
    TargetEntry,
    TargetList,
)
from tests.factories import OrganisationFactory, Side, World, tenant_object
from tmw.accounts.models import Organisation


def msp_profile_for(org: Organisation, **extra) -> MSPProfile:
    """A directory profile for an MSP organisation (created once)."""
    existing = MSPProfile.all_objects.filter(pk=org.pk).first()
    if existing is not None:
        return existing
    values = {
        "legal_name": org.name,
        "city": org.city or "Toronto",
        "region": org.region or "ON",
        "country": org.country or "CA",
        "employees": 40,
        "technicians": 15,
        "endpoints": 4000,
        "clients": 60,
        "verticals": ["healthcare", "legal"],
        "service_lines": ["managed_it", "soc_mdr"],
        "psa_tools": ["connectwise_psa"],
        "rmm_tools": ["ninjaone"],
    }
    values.update(extra)
    profile = MSPProfile(organisation=org, **values)
    profile.full_clean()
    profile.save()
    return profile


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


@tenant_object(MSPProfile)
def _msp_profile(world: World, side: Side):
    return msp_profile_for(side.msp)


@tenant_object(MSPContact)
def _msp_contact(world: World, side: Side):
    profile = msp_profile_for(side.msp)
    return MSPContact.all_objects.create(
        msp=profile, name=f"{side.msp_marker} Contact", title="Owner", email=f"contact@{side.key}-msp.example"
    )


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


def add_msps(count: int, prefix: str = "Extra", **extra) -> list[MSPProfile]:
    """Add ``count`` MSPs to the directory, in Ontario, varied a little."""
    from tmw.accounts.tenancy import operator_scope

    with operator_scope():
        return _add_msps(count, prefix, **extra)


def _add_msps(count: int, prefix: str, **extra) -> list[MSPProfile]:
    profiles = []
    for i in range(count):
        org = OrganisationFactory(
            kind=Organisation.Kind.MSP, name=f"{prefix} MSP {i:03d}", city="London", region="ON", country="CA"
        )
        values = {"technicians": 5 + (i * 7) % 90, "relationship": i % 4, "community_member": i % 2 == 0}
        values.update(extra)
        profiles.append(msp_profile_for(org, **values))
    return profiles
