"""Business actions on the MSP directory: profiles, contacts and CSV imports; one transaction each."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from tmw.accounts import policy
from tmw.accounts.models import Organisation
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError, application_error_from

from .imports import ImportPreview, ImportRow, read_import
from .models import CONTACT_FIELDS, PROFILE_FIELDS, MSPContact, MSPProfile, website_host


def msp_find_duplicate(
    *, legal_name: str, city: str, website: str = "", exclude_pk: int | None = None
) -> MSPProfile | None:
    """The directory MSP with the same legal name and city, or the same website, if any."""
    # unscoped: unique (the check must see every tenant's rows)
    candidates = MSPProfile.all_objects.filter(
        Q(legal_name__iexact=legal_name.strip(), city__iexact=city.strip())
        | (Q(website__icontains=website_host(website)) if website_host(website) else Q(pk__in=[]))
    )
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    for candidate in candidates:
        same_name = candidate.legal_name.lower() == legal_name.strip().lower()
        if (same_name and candidate.city.lower() == city.strip().lower()) or (
            website_host(website) and website_host(candidate.website) == website_host(website)
        ):
            return candidate
    return None


def _organisation_for(legal_name: str, city: str) -> Organisation:
    """A new MSP organisation with a unique name and slug."""
    names = [legal_name, f"{legal_name} ({city})"] + [f"{legal_name} ({city}) {n}" for n in range(2, 50)]
    taken = set(
        # unscoped: unique (the check must see every tenant's rows)
        Organisation.all_objects.filter(kind=Organisation.Kind.MSP, name__in=names).values_list("name", flat=True)
    )
    name = next(n for n in names if n not in taken)
    base = slugify(name)[:70] or "msp"
    slug, n = base, 2
    # unscoped: unique (the check must see every tenant's rows)
    while Organisation.all_objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return Organisation(kind=Organisation.Kind.MSP, name=name, slug=slug)


def _apply_profile_fields(profile: MSPProfile, data: dict[str, Any]) -> None:
    for name in PROFILE_FIELDS:
        if name in data:
            value = data[name]
            if isinstance(value, str) and name not in ("notes",):
                value = value.strip()
            setattr(profile, name, value)


def _sync_organisation(profile: MSPProfile) -> None:
    org = profile.organisation
    org.city, org.region, org.country, org.website = profile.city, profile.region, profile.country, profile.website
    org.save(update_fields=["city", "region", "country", "website"])


def _create_profile(*, data: dict[str, Any]) -> MSPProfile:
    profile = MSPProfile()
    _apply_profile_fields(profile, data)
    try:
        profile.full_clean(exclude=["organisation"])
    except ValidationError as exc:
        raise application_error_from("The MSP profile is not valid.", exc) from exc
    org = _organisation_for(profile.legal_name, profile.city)
    org.city, org.region, org.country, org.website = profile.city, profile.region, profile.country, profile.website
    org.save()
    profile.organisation = org
    profile.save()
    return profile


@transaction.atomic
def msp_create(*, actor: Actor, contacts: list[dict[str, Any]] | None = None, **data: Any) -> MSPProfile:
    """Add an MSP to the directory (its organisation and its profile), refusing duplicates."""
    policy.require(actor, "directory.manage", "change the MSP directory")
    duplicate = msp_find_duplicate(
        legal_name=data.get("legal_name", ""), city=data.get("city", ""), website=data.get("website", "")
    )
    if duplicate is not None:
        raise ApplicationError(
            f"{duplicate.legal_name} ({duplicate.location}) is already in the directory.",
            extra={"legal_name": ["An MSP with this legal name and city, or this website, exists."]},
            status=409,
        )
    profile = _create_profile(data=data)
    for contact in contacts or []:
        _contact_create(profile=profile, data=contact)
    audit_record(actor=actor, verb="msp.created", obj=profile, organisation=profile.organisation)
    return profile


@transaction.atomic
def msp_update(*, profile: MSPProfile, actor: Actor, **data: Any) -> MSPProfile:
    """Change an MSP's directory profile; its organisation's place and website follow."""
    policy.require(actor, "directory.manage", "change the MSP directory")
    profile = MSPProfile.objects.select_for_update().select_related("organisation").get(pk=profile.pk)
    _apply_profile_fields(profile, data)
    duplicate = msp_find_duplicate(
        legal_name=profile.legal_name, city=profile.city, website=profile.website, exclude_pk=profile.pk
    )
    if duplicate is not None:
        raise ApplicationError(
            f"{duplicate.legal_name} ({duplicate.location}) already has this legal name and city, or this website.",
            extra={"legal_name": ["Another MSP in the directory matches."]},
            status=409,
        )
    try:
        profile.full_clean()
    except ValidationError as exc:
        raise application_error_from("The MSP profile is not valid.", exc) from exc
    profile.save()
    _sync_organisation(profile)
    audit_record(actor=actor, verb="msp.updated", obj=profile, organisation=profile.organisation)
    return profile


@transaction.atomic
def msp_remove(*, profile: MSPProfile, actor: Actor) -> None:
    """Take an MSP out of the directory; target lists keep their frozen entries for it."""
    policy.require(actor, "directory.manage", "change the MSP directory")
    organisation = profile.organisation
    audit_record(actor=actor, verb="msp.removed", obj=profile, organisation=organisation)
    profile.delete()


def _contact_create(*, profile: MSPProfile, data: dict[str, Any]) -> MSPContact:
    contact = MSPContact(msp=profile, **{k: v for k, v in data.items() if k in CONTACT_FIELDS})
    try:
        contact.full_clean()
    except ValidationError as exc:
        raise application_error_from("The contact is not valid.", exc) from exc
    contact.save()
    return contact


@transaction.atomic
def msp_contact_add(*, profile: MSPProfile, actor: Actor, **data: Any) -> MSPContact:
    """Add a person to an MSP's contacts."""
    policy.require(actor, "directory.manage", "change the MSP directory")
    contact = _contact_create(profile=profile, data=data)
    audit_record(actor=actor, verb="msp.contact_added", obj=profile, organisation=profile.organisation)
    return contact


@transaction.atomic
def msp_contact_remove(*, contact: MSPContact, actor: Actor) -> None:
    """Remove a person from an MSP's contacts."""
    policy.require(actor, "directory.manage", "change the MSP directory")
    profile = contact.msp
    contact.delete()
    audit_record(
        actor=actor,
        verb="msp.contact_removed",
        obj=profile,
        organisation=profile.organisation,
        data={"name": str(contact.name)},
    )


def _import_row(row: ImportRow) -> str:
    """Create or update the MSP of one valid import row; "create" or "update"."""
    data = dict(row.data)
    contact = data.pop("contact", None)
    existing = msp_find_duplicate(legal_name=data["legal_name"], city=data["city"], website=data.get("website", ""))
    if (existing.pk if existing else None) != row.existing_pk:
        raise ApplicationError("the directory changed while importing; upload the file again.", status=409)
    if existing is None:
        profile = _create_profile(data=data)
        action = "create"
    else:
        # unscoped: lock (lock a row the caller already holds)
        profile = MSPProfile.all_objects.select_for_update().select_related("organisation").get(pk=existing.pk)
        _apply_profile_fields(profile, data)
        profile.full_clean()
        profile.save()
        _sync_organisation(profile)
        action = "update"
    # unscoped: unique (the check must see every tenant's rows)
    if contact and not MSPContact.all_objects.filter(msp=profile, name__iexact=contact["name"]).exists():
        _contact_create(profile=profile, data=contact)
    return action


def msp_import(
    *, actor: Actor, text: str, dry_run: bool = False, plan: list[int | None] | None = None
) -> ImportPreview:
    """Import a CSV text into the directory, all or nothing; ``dry_run`` validates everything and writes nothing.

    A dry run and a real run take the same path: every row is read and checked against the file
    and the directory (``imports.read_import``), then created or updated in one transaction, and
    an error met while writing is recorded on its row. A dry run then rolls everything back and
    returns what would be created and updated with every row's errors: that is the preview. A real
    run commits only when no row has an error. Given the ``plan`` of the dry run a partner
    confirmed, a real run refuses (409) when the directory changed since. Raises
    ``imports.ImportFileError`` when the file as a whole cannot be used.
    """
    policy.require(actor, "directory.manage", "change the MSP directory")
    importer = policy.user_of(actor)
    assert importer is not None  # the policy lets only partners import
    result = read_import(text)
    result.dry_run = dry_run
    with transaction.atomic():
        if not dry_run and plan is not None and plan != result.plan:
            raise ApplicationError(
                "The directory changed since the preview; check the new preview and confirm again.", status=409
            )
        for row in result.rows:
            if row.errors:
                continue
            try:
                action = _import_row(row)
            except (ApplicationError, ValidationError) as exc:
                row.errors.append(("", exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)))
                continue
            if action == "create":
                result.created += 1
            else:
                result.updated += 1
        first_error = next((row for row in result.rows if row.errors), None)
        if dry_run:
            transaction.set_rollback(True)
            return result
        if first_error is not None:
            raise ApplicationError(f"Row {first_error.number} has errors; nothing was imported.", status=400)
        audit_record(
            actor=actor,
            verb="msp.imported",
            obj=importer.organisation,
            organisation=None,
            data={"created": result.created, "updated": result.updated},
        )
    return result
