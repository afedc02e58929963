"""Business actions on rubrics and diagnostics; one transaction each."""

from __future__ import annotations

import datetime

from django.db import transaction

from tmw.accounts.models import Organisation, User
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError

from .models import Criterion, Diagnostic, RubricVersion
from .rubric_default import DEFAULT_CRITERIA, DEFAULT_RUBRIC_NAME


def rubric_latest() -> RubricVersion | None:
    """The newest rubric version, or None when none exists yet."""
    return RubricVersion.objects.order_by("-number").first()


@transaction.atomic
def rubric_create_default(*, actor: User | None = None) -> RubricVersion:
    """Create the shipped default rubric as the next version."""
    latest = rubric_latest()
    rubric = RubricVersion.objects.create(
        name=DEFAULT_RUBRIC_NAME,
        number=(latest.number + 1) if latest else 1,
        notes="Default rubric.",
        created_by=actor,
    )
    for order, spec in enumerate(DEFAULT_CRITERIA, start=1):
        criterion = Criterion(rubric=rubric, order=order, **spec)
        criterion.full_clean()
        criterion.save()
    if actor is not None:
        audit_record(actor=actor, verb="rubric.created", obj=rubric)
    return rubric


def rubric_current(*, actor: User | None = None) -> RubricVersion:
    """The rubric new diagnostics use: the latest version, creating the default one if none exists."""
    return rubric_latest() or rubric_create_default(actor=actor)


@transaction.atomic
def diagnostic_start(
    *, vendor: Organisation, lead_partner: User, actor: User, started_on: datetime.date | None = None
) -> Diagnostic:
    """Open a draft diagnostic of a vendor against the latest rubric version."""
    if not vendor.is_vendor:
        raise ApplicationError("A diagnostic is for a vendor organisation.", extra={"vendor": ["Pick a vendor."]})
    if not lead_partner.is_partner or not lead_partner.is_active:
        raise ApplicationError("The lead must be an active TMW partner.", extra={"lead_partner": ["Pick a partner."]})
    diagnostic = Diagnostic(
        vendor=vendor,
        lead_partner=lead_partner,
        rubric=rubric_current(actor=actor),
        started_on=started_on or datetime.date.today(),
    )
    diagnostic.full_clean()
    diagnostic.save()
    audit_record(actor=actor, verb="diagnostic.started", obj=diagnostic, organisation=vendor)
    return diagnostic
