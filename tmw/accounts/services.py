"""Business actions on users, organisations and invitations; one transaction each."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

from .models import OPERATOR_ROLES, ROLES_BY_KIND, AuditEvent, Invitation, Organisation, Role, User
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


def _log_action(event: AuditEvent, obj: models.Model) -> None:
    """Log a business action to the logger of the app that owns its object (``commissions``, ``tmw.accounts``)."""
    app_config = obj._meta.app_config
    logger = logging.getLogger(app_config.name if app_config is not None else __name__)
    logger.info(
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


def hash_token(raw: str) -> str:
    """Invitation tokens are stored only as a SHA-256 digest."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _can_invite(actor: User, organisation: Organisation, role: str) -> bool:
    if actor.role in (Role.PARTNER, Role.ADMIN):
        return True
    if actor.role == Role.VENDOR_ADMIN:
        return organisation.pk == actor.organisation_id and role in ROLES_BY_KIND[Organisation.Kind.VENDOR]
    return False


@transaction.atomic
def invitation_create(*, actor: User, organisation: Organisation, email: str, role: str) -> tuple[Invitation, str]:
    """Invite a person by email into an organisation with a role; emails them a one-time link."""
    email = email.strip().lower()
    if not _can_invite(actor, organisation, role):
        raise ApplicationError("You may not invite people into this organisation with that role.", status=403)
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise ApplicationError(
            f"{Role(role).label} is not a role in a {organisation.get_kind_display()} organisation.",
            extra={
                "role": [
                    "Choose one of: " + ", ".join(Role(r).label for r in sorted(ROLES_BY_KIND[organisation.kind])) + "."
                ]
            },
        )
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError("A user with this email address already exists.", extra={"email": ["Already a user."]})
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        role=role,
        invited_by=actor,
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
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Withdraw an open invitation so its link no longer works."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not _can_invite(actor, invitation.organisation, invitation.role):
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


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str, time_zone: str | None = None) -> User:
    """Turn an open invitation into a user account, exactly once."""
    found = invitation_for_token(token)
    if found is None:
        raise ApplicationError("This invitation link is not valid.", status=404)
    # unscoped: lock (lock a row the caller already holds)
    invitation = Invitation.all_objects.select_for_update().select_related("organisation").get(pk=found.pk)
    if not invitation.is_open:
        raise ApplicationError(f"This invitation is {invitation.status}. Ask for a new one.", status=409)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ApplicationError("An account with this email address already exists; log in instead.", status=409)
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
def user_update_profile(*, user: User, full_name: str, time_zone: str) -> User:
    """Change a user's display name and time zone."""
    user.full_name = full_name.strip()
    user.time_zone = time_zone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "time_zone"])
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor: User) -> User:
    """Deactivate or reactivate a colleague; nobody can lock themselves out this way."""
    if user.pk == actor.pk:
        raise ApplicationError("You cannot deactivate your own account.")
    same_vendor = actor.role == Role.VENDOR_ADMIN and user.organisation_id == actor.organisation_id
    if not (actor.role in OPERATOR_ROLES - {Role.FINANCE} or same_vendor):
        raise ApplicationError("You may not change this user.", status=403)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        verb="user.activated" if active else "user.deactivated",
        obj=user,
        organisation=user.organisation,
    )
    return user
