"""Business actions on users, organisations and invitations; one transaction each."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework.authtoken.models import Token

from tmw.errors import ApplicationError
from tmw.sql import unnest_rows
from tmw.tasks import enqueue_on_commit

from . import policy
from .calendar_feeds import SALT as FEED_SALT
from .calendar_feeds import hash_token as feed_hash
from .models import ROLES_BY_KIND, AuditEvent, BillingContact, CalendarFeed, Invitation, Organisation, Role, User
from .policy import Actor, user_of


def audit_event(
    *,
    actor: Actor | None,
    verb: str,
    obj: models.Model,
    organisation: Organisation | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """An unsaved audit row saying who did what to which object (for ``bulk_create``); logs the action."""
    event = AuditEvent(
        organisation=organisation,
        actor=user_of(actor),
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        data=data or {},
    )
    _log_action(event, obj)
    return event


def _action_logger(obj: models.Model) -> logging.Logger:
    """The logger of the app that owns ``obj`` (``commissions``, ``tmw.accounts``), for its business actions."""
    app_config = obj._meta.app_config
    return logging.getLogger(app_config.name if app_config is not None else __name__)


def _log_action(event: AuditEvent, obj: models.Model) -> None:
    """Log a business action to the logger of the app that owns its object."""
    _action_logger(obj).info(
        "%s by user %s on %s %s",
        event.verb,
        event.actor_id,
        event.object_type,
        event.object_id,
        extra={
            "action": event.verb,
            "actor_id": event.actor_id,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "organisation_id": event.organisation_id,
        },
    )


def audit_record(
    *,
    actor: Actor | None,
    verb: str,
    obj: models.Model,
    organisation: Organisation | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row saying who did what to which object."""
    event = audit_event(actor=actor, verb=verb, obj=obj, organisation=organisation, data=data)
    event.save()
    return event


AUDIT_COLUMNS = ("organisation_id", "actor_id", "verb", "object_type", "object_id", "object_repr", "data", "created_at")
AUDIT_TYPES = ("bigint", "bigint", "varchar", "varchar", "varchar", "varchar", "jsonb", "timestamptz")


def audit_records(
    *,
    actor: Actor | None,
    verb: str,
    entries: Sequence[tuple[models.Model, int | None, dict[str, Any]]],
) -> None:
    """Write one audit row per ``(object, organisation id, data)`` of a batch, all saying the same action.

    The rows are those ``audit_record`` writes one by one. On PostgreSQL they go in one ``INSERT``
    from one array per column (``tmw.sql.unnest_rows``), with one creation time for the batch;
    elsewhere through ``bulk_create``. The action is logged once, with the number of rows.
    """
    if not entries:
        return
    actor_id = getattr(user_of(actor), "pk", None)
    now = timezone.now()  # what ``auto_now_add`` gives a row, once for the batch
    rows = [
        (organisation_id, actor_id, verb, obj._meta.label_lower, str(obj.pk), str(obj)[:200], data, now)
        for obj, organisation_id, data in entries
    ]
    if connection.vendor == "postgresql":
        q = connection.ops.quote_name
        values_sql, values = unnest_rows([(*row[:6], json.dumps(row[6]), row[7]) for row in rows], AUDIT_TYPES)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {q(AuditEvent._meta.db_table)} ({', '.join(q(c) for c in AUDIT_COLUMNS)}) {values_sql}",  # noqa: S608 (names from the model)
                values,
            )
    else:
        AuditEvent.objects.bulk_create([AuditEvent(**dict(zip(AUDIT_COLUMNS, row, strict=True))) for row in rows])
    first = entries[0][0]
    _action_logger(first).info(
        "%s by user %s on %d %s",
        verb,
        actor_id,
        len(rows),
        first._meta.label_lower,
        extra={"action": verb, "actor_id": actor_id, "object_type": first._meta.label_lower, "count": len(rows)},
    )


def hash_token(raw: str) -> str:
    """Invitation tokens are stored only as a SHA-256 digest."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _refuse_grant(actor: Actor, organisation: Organisation, role: str, verb: str) -> None:
    """403 unless ``actor`` may grant ``role`` in ``organisation`` (only admins make admins or finance users)."""
    if not policy.may_grant(actor, organisation=organisation, role=role):
        label = Role(role).label if role in Role.values else role
        raise ApplicationError(
            f"You may not {verb} {organisation} with the role {label}.",
            extra={"role": [f"You may not grant the role {label} in {organisation}."]},
            status=403,
        )


@transaction.atomic
def invitation_create(*, actor: Actor, organisation: Organisation, email: str, role: str) -> tuple[Invitation, str]:
    """Invite a person by email into an organisation with a role; emails them a one-time link.

    The answer is the same whether or not the address already has an account (so the form
    does not tell who has one); the email to an existing account says to log in instead.
    """
    policy.require(actor, "people.invite", "invite people")
    inviter = policy.user_of(actor)
    assert inviter is not None  # the policy lets only users invite
    email = email.strip().lower()
    _refuse_grant(actor, organisation, role, "invite people into")
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise ApplicationError(
            f"{Role(role).label} is not a role in a {organisation.get_kind_display()} organisation.",
            extra={
                "role": [
                    "Choose one of: " + ", ".join(Role(r).label for r in sorted(ROLES_BY_KIND[organisation.kind])) + "."
                ]
            },
        )
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        role=role,
        invited_by=inviter,
        token_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    invitation.full_clean(exclude=["token_hash"], validate_constraints=False)
    # unscoped: unique (the check must see every tenant's rows)
    if Invitation.all_objects.filter(
        organisation=organisation, email=email, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).exists():
        raise ApplicationError(
            "This person already has an open invitation to this organisation.",
            extra={"email": ["Already invited."]},
            status=409,
        )
    # An expired invitation still holds the one-open-per-email slot: retire it.
    # unscoped: unique (the check must see every tenant's rows)
    Invitation.all_objects.filter(organisation=organisation, email=email, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as exc:
        raise ApplicationError(
            "This person already has an open invitation to this organisation.",
            extra={"email": ["Already invited."]},
            status=409,
        ) from exc
    audit_record(actor=actor, verb="invitation.created", obj=invitation, organisation=organisation, data={"role": role})

    enqueue_on_commit("accounts.send_invitation_email", invitation.pk, raw, organisation_id=organisation.pk)
    return invitation, raw


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    """Withdraw an open invitation so its link no longer works."""
    policy.require(actor, "people.invite", "revoke invitations")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not policy.may_grant(actor, organisation=invitation.organisation, role=invitation.role):
        raise ApplicationError("You may not revoke this invitation.", status=403)
    if not invitation.is_open:
        raise ApplicationError(f"This invitation is already {invitation.status}.", status=409)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(actor=actor, verb="invitation.revoked", obj=invitation, organisation=invitation.organisation)
    return invitation


def invitation_for_token(raw: str) -> Invitation | None:
    """The invitation a raw token belongs to, whatever its state (read across tenants)."""
    # unscoped: token (the signed link is the authority)
    return Invitation.all_objects.select_related("organisation").filter(token_hash=hash_token(raw)).first()


ALREADY_A_USER = "This email address already has an account, so the invitation cannot be accepted: log in instead."


def invitation_email_has_account(invitation: Invitation) -> bool:
    """Whether the invited address already belongs to a user (who logs in rather than accepts)."""
    return User.objects.filter(email__iexact=invitation.email).exists()


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str, time_zone: str | None = None, actor: Actor) -> User:
    """Turn an open invitation into a user account, exactly once."""
    policy.require(actor, "people.join", "accept invitations")
    found = invitation_for_token(token)
    if found is None:
        raise ApplicationError("This invitation link is not valid.", status=404)
    # unscoped: lock (lock a row the caller already holds)
    invitation = Invitation.all_objects.select_for_update().select_related("organisation").get(pk=found.pk)
    if not invitation.is_open:
        raise ApplicationError(f"This invitation is {invitation.status}. Ask for a new one.", status=409)
    if invitation_email_has_account(invitation):
        raise ApplicationError(ALREADY_A_USER, status=409)
    user = User(
        email=invitation.email,
        full_name=full_name.strip(),
        organisation=invitation.organisation,
        role=invitation.role,
        time_zone=time_zone or settings.TIME_ZONE,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("Choose a stronger password.", extra={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    audit_record(actor=user, verb="invitation.accepted", obj=invitation, organisation=invitation.organisation)
    return user


@transaction.atomic
def user_update_profile(*, user: User, full_name: str, time_zone: str, actor: Actor, clock: str | None = None) -> User:
    """Change a user's display name, time zone and time format (each user edits their own)."""
    policy.require(actor, "profile.edit", "edit profiles")
    if policy.user_of(actor) != user:
        raise ApplicationError("You may edit only your own profile.", status=403)
    user.full_name = full_name.strip()
    user.time_zone = time_zone
    if clock is not None:
        user.clock = clock
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "time_zone", "clock"])
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor: Actor) -> User:
    """Deactivate or reactivate a colleague; nobody can lock themselves out this way.

    Switching a user off also revokes their API token.
    """
    policy.require(actor, "people.deactivate", "switch users off or on")
    if user.pk == actor.pk:
        raise ApplicationError("You cannot deactivate your own account.")
    if not policy.may_manage_user(actor, user):
        raise ApplicationError(f"You may not switch {user} off or on.", status=403)
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        Token.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        verb="user.activated" if active else "user.deactivated",
        obj=user,
        organisation=user.organisation,
    )
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: Actor) -> User:
    """Set a user's password (validated); their API token is revoked with the old password."""
    if policy.user_of(actor) != user:
        policy.require(actor, "admin.change", "set other people's passwords")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("Choose a stronger password.", extra={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])  # User.save revokes the API token
    audit_record(actor=actor, verb="user.password_changed", obj=user, organisation=user.organisation)
    return user


def api_tokens(user: User) -> list[Token]:
    """The user's API tokens (DRF keeps one per user)."""
    return list(Token.objects.filter(user=user))


@transaction.atomic
def api_token_create(*, actor: Actor) -> Token:
    """A new API token for the acting user, replacing any they had; its key is shown once."""
    policy.require(actor, "api.token", "create API tokens")
    user = policy.user_of(actor)
    if user is None:
        raise ApplicationError("Only a logged-in user has an API token.", status=403)
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit_record(actor=actor, verb="api_token.created", obj=user, organisation=user.organisation)
    return token


@transaction.atomic
def api_token_revoke(*, actor: Actor) -> int:
    """Revoke the acting user's API token; the number of tokens revoked."""
    policy.require(actor, "api.token", "revoke API tokens")
    user = policy.user_of(actor)
    if user is None:
        raise ApplicationError("Only a logged-in user has an API token.", status=403)
    revoked, _ = Token.objects.filter(user=user).delete()
    if revoked:
        audit_record(actor=actor, verb="api_token.revoked", obj=user, organisation=user.organisation)
    return revoked


MAX_BILLING_CONTACTS = 20


def billing_recipients(organisation: Organisation) -> list[str]:
    """The addresses a vendor's statements go to: its billing contacts, else its active vendor admins."""
    listed = list(BillingContact.objects.filter(organisation=organisation).values_list("email", flat=True))
    if listed:
        return listed
    return list(
        User.objects.filter(organisation=organisation, role=Role.VENDOR_ADMIN, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


@transaction.atomic
def billing_contacts_set(
    *, actor: Actor, organisation: Organisation, contacts: list[tuple[str, str]]
) -> list[BillingContact]:
    """Replace a vendor's billing contacts with ``contacts`` ((name, email) pairs); an empty list means its admins."""
    policy.require(actor, "billing_contacts.manage", "change billing contacts")
    user = user_of(actor)
    if user is not None and not user.organisation.is_operator and user.organisation_id != organisation.pk:
        raise ApplicationError("You may change only your own organisation's billing contacts.", status=403)
    if not organisation.is_vendor:
        raise ApplicationError("Only vendors have billing contacts.", extra={"organisation": ["Not a vendor."]})
    if len(contacts) > MAX_BILLING_CONTACTS:
        raise ApplicationError(
            f"At most {MAX_BILLING_CONTACTS} billing contacts.",
            extra={"billing_contacts": [f"At most {MAX_BILLING_CONTACTS} billing contacts."]},
        )
    rows: list[BillingContact] = []
    seen: set[str] = set()
    for position, (name, email) in enumerate(contacts, start=1):
        contact = BillingContact(organisation=organisation, name=(name or "").strip(), email=(email or "").strip())
        try:
            contact.full_clean(exclude=["organisation"], validate_unique=False)
        except ValidationError as exc:
            message = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
            raise ApplicationError(
                f"Billing contact {position}: {message}", extra={"billing_contacts": [f"Contact {position}: {message}"]}
            ) from exc
        key = contact.email.lower()
        if key in seen:
            raise ApplicationError(
                f"Billing contact {position}: {contact.email} is listed twice.",
                extra={"billing_contacts": [f"Contact {position}: {contact.email} is listed twice."]},
            )
        seen.add(key)
        rows.append(contact)
    BillingContact.objects.filter(organisation=organisation).delete()
    BillingContact.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        verb="billing_contacts.set",
        obj=organisation,
        organisation=organisation,
        data={"emails": [row.email for row in rows]},
    )
    return rows


# --- Calendar feeds (partners) ----------------------------------------------------------------------


@transaction.atomic
def calendar_feed_regenerate(*, actor: Actor) -> CalendarFeed:
    """Give the acting partner a new private calendar feed URL; the old one stops working at once."""
    policy.require(actor, "calendar.feed", "have a calendar feed")
    user = policy.user_of(actor)
    if user is None:
        raise ApplicationError("Only a logged-in partner has a calendar feed.", status=403)
    nonce = secrets.token_urlsafe(32)
    token = salted_hmac(FEED_SALT, f"{user.pk}:{nonce}", algorithm="sha256").hexdigest()
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(
        user=user, defaults={"nonce": nonce, "token_hash": feed_hash(token)}
    )
    if not created:
        feed.nonce = nonce
        feed.token_hash = feed_hash(token)
        feed.created_at = timezone.now()
        feed.save(update_fields=["nonce", "token_hash", "created_at"])
    audit_record(
        actor=actor,
        verb="calendar_feed.created" if created else "calendar_feed.regenerated",
        obj=user,
        organisation=user.organisation,
    )
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor: Actor) -> bool:
    """Switch the acting partner's calendar feed off (calendars subscribed to it stop updating)."""
    policy.require(actor, "calendar.feed", "revoke a calendar feed")
    user = policy.user_of(actor)
    if user is None:
        return False
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    if deleted:
        audit_record(actor=actor, verb="calendar_feed.revoked", obj=user, organisation=user.organisation)
    return bool(deleted)


# --- vendor onboarding ----------------------------------------------------------------------------

VENDOR_FIELDS = ("name", "website", "category", "city", "region", "country")


def _one_line(value: str) -> str:
    return " ".join((value or "").split())


def organisation_slug(name: str, *, fallback: str) -> str:
    """A slug for a new organisation named ``name`` that no organisation of any kind has yet."""
    from django.utils.text import slugify

    base = slugify(name)[:70] or fallback
    slug, n = base, 2
    # unscoped: unique (the check must see every tenant's rows)
    while Organisation.all_objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def _vendor_name_taken(name: str, *, exclude_pk: int | None = None) -> ApplicationError | None:
    # unscoped: unique (a legal name is unique among every vendor, whoever's scope is active)
    taken = Organisation.all_objects.filter(kind=Organisation.Kind.VENDOR, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        message = f"A vendor with the legal name “{name}” already exists."
        return ApplicationError(message, extra={"name": [message]})
    return None


def _vendor_clean(vendor: Organisation) -> None:
    try:
        vendor.full_clean(exclude=["slug"], validate_constraints=False)
    except ValidationError as exc:
        extra = {field: list(messages) for field, messages in exc.message_dict.items()}
        field, messages = next(iter(extra.items()))
        raise ApplicationError(f"{field}: {' '.join(messages)}", extra=extra) from exc


@transaction.atomic
def vendor_create(
    *,
    actor: Actor,
    name: str,
    country: str,
    website: str = "",
    category: str = "",
    city: str = "",
    region: str = "",
    billing_contacts: list[tuple[str, str]] | None = None,
    admin_email: str = "",
) -> tuple[Organisation, Invitation | None]:
    """Onboard a vendor: the organisation (legal name, website, HQ city and state or province, country,
    category), its billing contacts, and an invitation for its first admin when ``admin_email`` is given.

    A legal name already used by another vendor (in any letter case) is refused, naming ``name``.
    """
    policy.require(actor, "vendor.manage", "create vendors")
    name = _one_line(name)
    if not name:
        raise ApplicationError("Give the vendor's legal name.", extra={"name": ["Required."]})
    taken = _vendor_name_taken(name)
    if taken is not None:
        raise taken
    vendor = Organisation(
        kind=Organisation.Kind.VENDOR,
        name=name,
        slug=organisation_slug(name, fallback="vendor"),
        website=(website or "").strip(),
        category=_one_line(category),
        city=_one_line(city),
        region=(region or "").strip().upper(),
        country=country,
    )
    _vendor_clean(vendor)
    try:
        with transaction.atomic():
            vendor.save()
    except IntegrityError as exc:  # another request onboarded the same name (or slug) at the same moment
        raise _vendor_name_taken(name) or ApplicationError(
            "This vendor could not be saved; try again.", extra={"name": ["Try again."]}, status=409
        ) from exc
    audit_record(actor=actor, verb="organisation.created", obj=vendor, organisation=vendor)
    if billing_contacts:
        billing_contacts_set(actor=actor, organisation=vendor, contacts=billing_contacts)
    invitation = None
    email = (admin_email or "").strip()
    if email:
        invitation, _ = invitation_create(actor=actor, organisation=vendor, email=email, role=Role.VENDOR_ADMIN)
    return vendor, invitation


@transaction.atomic
def vendor_update(
    *, actor: Actor, vendor: Organisation, billing_contacts: list[tuple[str, str]] | None = None, **fields: Any
) -> Organisation:
    """Change a vendor's legal name, website, location or category, and (when given) its billing contacts."""
    policy.require(actor, "vendor.manage", "change vendors")
    unknown = set(fields) - set(VENDOR_FIELDS)
    if unknown:
        raise TypeError(f"Unknown vendor fields: {', '.join(sorted(unknown))}")
    # unscoped: lock (re-reads with FOR UPDATE the vendor the caller holds)
    vendor = Organisation.all_objects.select_for_update().get(pk=vendor.pk)
    if not vendor.is_vendor:
        raise ApplicationError("Not a vendor.", status=404)
    if "name" in fields:
        fields["name"] = _one_line(fields["name"])
        if not fields["name"]:
            raise ApplicationError("Give the vendor's legal name.", extra={"name": ["Required."]})
        taken = _vendor_name_taken(fields["name"], exclude_pk=vendor.pk)
        if taken is not None:
            raise taken
    if "region" in fields:
        fields["region"] = (fields["region"] or "").strip().upper()
    before = {name: getattr(vendor, name) for name in fields}
    for name, value in fields.items():
        setattr(vendor, name, value.strip() if isinstance(value, str) and name != "region" else value)
    _vendor_clean(vendor)
    vendor.save()
    changed = sorted(name for name in fields if before[name] != getattr(vendor, name))
    audit_record(actor=actor, verb="organisation.updated", obj=vendor, organisation=vendor, data={"fields": changed})
    if billing_contacts is not None:
        billing_contacts_set(actor=actor, organisation=vendor, contacts=billing_contacts)
    return vendor
