"""Builders of the MSP directory's tenant-owned models (see tests/factories.py).

Side X's MSP profile and contact belong to side X's MSP (its name carries ``msp_marker``).
"""

from __future__ import annotations

from tests.factories import OrganisationFactory, Side, World, tenant_object
from tmw.accounts.models import Organisation
from tmw.directory.models import MSPContact, MSPProfile, MSPProfileChange


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


@tenant_object(MSPProfile)
def _msp_profile(world: World, side: Side):
    return msp_profile_for(side.msp)


@tenant_object(MSPContact)
def _msp_contact(world: World, side: Side):
    profile = msp_profile_for(side.msp)
    return MSPContact.all_objects.create(
        msp=profile, name=f"{side.msp_marker} Contact", title="Owner", email=f"contact@{side.key}-msp.example"
    )


@tenant_object(MSPProfileChange)
def _msp_profile_change(world: World, side: Side):
    from django.utils import timezone

    return MSPProfileChange.all_objects.create(
        msp=msp_profile_for(side.msp),
        proposed={"technicians": 21},
        note=f"{side.msp_marker} grew",
        proposed_by=side.msp_member,
        proposed_at=timezone.now(),
    )


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
