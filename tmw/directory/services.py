"""Business actions on the MSP directory: profiles, contacts and CSV imports; one transaction each."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.models import Organisation
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record, organisation_slug
from tmw.errors import ApplicationError, application_error_from
from tmw.tasks import enqueue_on_commit

from .imports import ImportPreview, ImportRow, read_import
from .models import (
    CONTACT_FIELDS,
    MAX_SELF_SERVICE_CONTACTS,
    PROFILE_FIELDS,
    SELF_SERVICE_FIELDS,
    MSPContact,
    MSPProfile,
    MSPProfileChange,
    website_host,
)


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
    return Organisation(kind=Organisation.Kind.MSP, name=name, slug=organisation_slug(name, fallback="msp"))


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


# --- MSP self-service: the MSP proposes, a partner reviews, the directory changes


def _require_own_msp(actor: Actor, profile: MSPProfile) -> None:
    user = policy.user_of(actor)
    if user is None or user.organisation_id != profile.organisation_id:
        raise ApplicationError("You may change only your own MSP's profile.", status=403)


def contact_rows(profile: MSPProfile) -> list[dict[str, Any]]:
    """An MSP's contacts as the plain rows a change proposes and compares."""
    contacts = MSPContact.objects.filter(msp=profile).order_by("-is_primary", "name", "pk")
    return [{name: getattr(c, name) for name in CONTACT_FIELDS} for c in contacts]


def _clean_contacts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate proposed contacts, naming the row of the first problem; blank rows are dropped."""
    cleaned: list[dict[str, Any]] = []
    for position, row in enumerate(rows, start=1):
        values = {name: row.get(name) for name in CONTACT_FIELDS}
        for name in ("name", "title", "email", "phone"):
            values[name] = (values[name] or "").strip()
        values["is_primary"] = bool(values["is_primary"])
        if not any(values[name] for name in ("name", "title", "email", "phone")):
            continue
        contact = MSPContact(**values)
        try:
            contact.full_clean(exclude=["msp"])
        except ValidationError as exc:
            detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise ApplicationError(
                f"Contact {position}: {detail}", extra={"contacts": [f"Contact {position}: {detail}"]}
            ) from exc
        cleaned.append(values)
    if len(cleaned) > MAX_SELF_SERVICE_CONTACTS:
        raise ApplicationError(
            f"At most {MAX_SELF_SERVICE_CONTACTS} contacts.",
            extra={"contacts": [f"At most {MAX_SELF_SERVICE_CONTACTS} contacts."]},
        )
    if sum(1 for c in cleaned if c["is_primary"]) > 1:
        raise ApplicationError("Only one contact can be primary.", extra={"contacts": ["Mark one primary contact."]})
    return cleaned


def _proposed_profile(profile: MSPProfile, values: dict[str, Any]) -> MSPProfile:
    """A copy of ``profile`` with ``values`` applied and validated (raises naming the fields)."""
    draft = MSPProfile(**{f.attname: getattr(profile, f.attname) for f in MSPProfile._meta.concrete_fields})
    _apply_profile_fields(draft, values)
    try:
        draft.full_clean(exclude=["organisation"], validate_unique=False)
    except ValidationError as exc:
        raise application_error_from("The profile is not valid.", exc) from exc
    duplicate = msp_find_duplicate(
        legal_name=draft.legal_name, city=draft.city, website=draft.website, exclude_pk=profile.pk
    )
    if duplicate is not None:
        raise ApplicationError(
            "Another MSP in the directory has this legal name and city, or this website; TMW can merge them.",
            extra={"legal_name": ["Another MSP in the directory matches."]},
            status=409,
        )
    return draft


@transaction.atomic
def msp_change_propose(
    *,
    actor: Actor,
    profile: MSPProfile,
    data: dict[str, Any],
    contacts: list[dict[str, Any]] | None = None,
    note: str = "",
) -> MSPProfileChange:
    """Propose changes to one's own MSP profile; a partner reviews them before they enter the directory.

    Only what differs from the profile is kept. A second proposal while one waits replaces it.
    """
    policy.require(actor, "msp_profile.update_own", "change your MSP's profile")
    _require_own_msp(actor, profile)
    unknown = sorted(set(data) - set(SELF_SERVICE_FIELDS))
    if unknown:
        raise ApplicationError(
            f"TMW keeps these itself: {', '.join(unknown)}.",
            extra={name: ["Not something an MSP changes."] for name in unknown},
        )
    profile = MSPProfile.objects.select_for_update().get(pk=profile.pk)
    draft = _proposed_profile(profile, data)
    changed = {
        name: getattr(draft, name)
        for name in SELF_SERVICE_FIELDS
        if name in data and getattr(draft, name) != getattr(profile, name)
    }
    proposed_contacts: list[dict[str, Any]] | None = None
    if contacts is not None:
        cleaned = _clean_contacts(contacts)
        if cleaned != contact_rows(profile):
            proposed_contacts = cleaned
    if not changed and proposed_contacts is None:
        raise ApplicationError(
            "Nothing differs from your profile. If it is still right, confirm it as it is.",
            extra={"non_field_errors": ["Nothing changed."]},
        )
    note = (note or "").strip()
    if len(note) > 2000:
        raise ApplicationError("The note is too long.", extra={"note": ["At most 2,000 characters."]})
    user = policy.user_of(actor)
    change = MSPProfileChange.objects.select_for_update().filter(msp=profile, status="pending").first()
    if change is None:
        change = MSPProfileChange(msp=profile)
    change.proposed, change.contacts, change.note = changed, proposed_contacts, note
    change.proposed_by, change.proposed_at = user, timezone.now()
    change.save()
    audit_record(
        actor=actor,
        verb="msp.change_proposed",
        obj=change,
        organisation=profile.organisation,
        data={"fields": sorted(changed), "contacts": proposed_contacts is not None},
    )
    enqueue_on_commit("directory.notify_profile_change", change.pk, "proposed")
    return change


@transaction.atomic
def msp_profile_confirm(*, actor: Actor, profile: MSPProfile) -> MSPProfile:
    """The MSP says its profile is still right: it counts as confirmed today."""
    policy.require(actor, "msp_profile.update_own", "confirm your MSP's profile")
    _require_own_msp(actor, profile)
    profile = MSPProfile.objects.select_for_update().get(pk=profile.pk)
    profile.confirmed_at = timezone.now()
    profile.save(update_fields=["confirmed_at"])
    audit_record(actor=actor, verb="msp.profile_confirmed", obj=profile, organisation=profile.organisation)
    return profile


def _pending(change: MSPProfileChange) -> MSPProfileChange:
    locked = MSPProfileChange.objects.select_for_update().select_related("msp__organisation").get(pk=change.pk)
    if locked.status != MSPProfileChange.Status.PENDING:
        raise ApplicationError(f"This change was already {locked.get_status_display().lower()}.", status=409)
    return locked


@transaction.atomic
def msp_change_approve(*, actor: Actor, change: MSPProfileChange) -> MSPProfile:
    """Apply an MSP's proposed change to the directory; the profile counts as confirmed when it was proposed."""
    policy.require(actor, "msp_profile.review", "review MSP profile changes")
    change = _pending(change)
    profile = MSPProfile.objects.select_for_update().select_related("organisation").get(pk=change.msp_id)
    draft = _proposed_profile(profile, change.proposed)
    for name in change.proposed:
        setattr(profile, name, getattr(draft, name))
    profile.confirmed_at = change.proposed_at
    profile.save()
    _sync_organisation(profile)
    if change.contacts is not None:
        MSPContact.objects.filter(msp=profile).delete()
        for row in change.contacts:
            _contact_create(profile=profile, data=row)
    change.status = MSPProfileChange.Status.APPROVED
    change.reviewed_by, change.reviewed_at = policy.user_of(actor), timezone.now()
    change.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=actor,
        verb="msp.change_approved",
        obj=change,
        organisation=profile.organisation,
        data={"fields": sorted(change.proposed), "contacts": change.contacts is not None},
    )
    enqueue_on_commit("directory.notify_profile_change", change.pk, "approved")
    return profile


@transaction.atomic
def msp_change_reject(*, actor: Actor, change: MSPProfileChange, reason: str) -> MSPProfileChange:
    """Decline an MSP's proposed change, saying why; the directory keeps what it had."""
    policy.require(actor, "msp_profile.review", "review MSP profile changes")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why, so the MSP can correct it.", extra={"reason": ["Give a reason."]})
    if len(reason) > 2000:
        raise ApplicationError("The reason is too long.", extra={"reason": ["At most 2,000 characters."]})
    change = _pending(change)
    change.status = MSPProfileChange.Status.REJECTED
    change.review_reason = reason
    change.reviewed_by, change.reviewed_at = policy.user_of(actor), timezone.now()
    change.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=actor,
        verb="msp.change_rejected",
        obj=change,
        organisation=change.msp.organisation,
        data={"reason": reason},
    )
    enqueue_on_commit("directory.notify_profile_change", change.pk, "rejected")
    return change
