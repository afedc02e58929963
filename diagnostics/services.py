"""Business actions on rubrics, diagnostics, ideal-partner profiles and target lists; one transaction each."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from tmw.accounts import policy
from tmw.accounts.models import Organisation, User
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError, application_error_from

from .models import (
    ChannelThesis,
    Criterion,
    CriterionScore,
    Decision,
    Diagnostic,
    IdealPartnerProfile,
    RubricVersion,
    TargetEntry,
    TargetList,
)
from .models.core import MAX_LEVEL
from .rubric_default import DEFAULT_CRITERIA, DEFAULT_RUBRIC_NAME
from .scoring import score_rows
from .selectors import directory_rows, latest_target_list


def rubric_latest() -> RubricVersion | None:
    """The newest rubric version, or None when none exists yet."""
    return RubricVersion.objects.order_by("-number").first()


@transaction.atomic
def rubric_create_default(*, actor: Actor) -> RubricVersion:
    """Create the shipped default rubric as the next version."""
    policy.require(actor, "rubric.manage")
    latest = rubric_latest()
    rubric = RubricVersion.objects.create(
        name=DEFAULT_RUBRIC_NAME,
        number=(latest.number + 1) if latest else 1,
        notes="Default rubric.",
        created_by=policy.user_of(actor),
    )
    for order, spec in enumerate(DEFAULT_CRITERIA, start=1):
        criterion = Criterion(rubric=rubric, order=order, **spec)
        criterion.full_clean()
        criterion.save()
    audit_record(actor=actor, verb="rubric.created", obj=rubric)
    return rubric


def rubric_current(*, actor: Actor) -> RubricVersion:
    """The rubric new diagnostics use: the latest version, creating the default one (as ``actor``) if none exists."""
    return rubric_latest() or rubric_create_default(actor=actor)


@transaction.atomic
def diagnostic_start(
    *, vendor: Organisation, lead_partner: User, actor: Actor, started_on: datetime.date | None = None
) -> Diagnostic:
    """Open a draft diagnostic of a vendor against the latest rubric version."""
    policy.require(actor, "diagnostic.manage")
    if not vendor.is_vendor:
        raise ApplicationError("A diagnostic is for a vendor organisation.", extra={"vendor": ["Pick a vendor."]})
    if not lead_partner.is_partner or not lead_partner.is_active:
        raise ApplicationError("The lead must be an active TMW partner.", extra={"lead_partner": ["Pick a partner."]})
    diagnostic = Diagnostic(
        vendor=vendor,
        lead_partner=lead_partner,
        rubric=rubric_current(actor=actor),
        started_on=started_on or timezone.localdate(),
    )
    diagnostic.full_clean()
    diagnostic.save()
    audit_record(actor=actor, verb="diagnostic.started", obj=diagnostic, organisation=vendor)
    return diagnostic


# --- Rubric versions


@transaction.atomic
def rubric_version_create(
    *, base: RubricVersion, criteria: list[dict[str, Any]], actor: Actor, notes: str = ""
) -> RubricVersion:
    """Save an edited rubric as a new version; diagnostics keep the version they started with.

    ``criteria`` are dicts of criterion fields (key, group, title, description, weight, levels,
    is_gate, gate_min_level, order); criteria left out are dropped from the new version.
    """
    policy.require(actor, "rubric.manage")
    if not criteria:
        raise ApplicationError("A rubric needs at least one criterion.")
    keys = [c["key"] for c in criteria]
    if len(set(keys)) != len(keys):
        raise ApplicationError("Two criteria share a key.", extra={"key": ["Keys must be unique."]})
    latest = RubricVersion.objects.select_for_update().order_by("-number").first()
    rubric = RubricVersion.objects.create(
        name=base.name,
        number=(latest.number + 1) if latest else 1,
        notes=notes,
        created_by=policy.user_of(actor),
    )
    allowed = {"key", "group", "title", "description", "weight", "levels", "is_gate", "gate_min_level", "order"}
    for order, spec in enumerate(criteria, start=1):
        values = {k: v for k, v in spec.items() if k in allowed}
        values.setdefault("order", order)
        if not values.get("is_gate"):
            values["gate_min_level"] = 0
        criterion = Criterion(rubric=rubric, **values)
        try:
            criterion.full_clean(exclude=["rubric"])
        except ValidationError as exc:
            raise ApplicationError(
                f"Criterion “{values.get('title', values['key'])}” is not valid.", extra=exc.message_dict
            ) from exc
        criterion.save()
    audit_record(actor=actor, verb="rubric.versioned", obj=rubric, data={"base": base.number})
    return rubric


# --- Diagnostic editing


def _diagnostic_locked(diagnostic: Diagnostic) -> Diagnostic:
    """Reload the diagnostic for update (scoped) and refuse changes once complete."""
    locked = Diagnostic.objects.select_for_update().get(pk=diagnostic.pk)
    if locked.status == Diagnostic.Status.COMPLETE:
        raise ApplicationError("This diagnostic is complete and can no longer change.", status=409)
    return locked


@transaction.atomic
def diagnostic_update(
    *,
    diagnostic: Diagnostic,
    actor: Actor,
    lead_partner: User | None = None,
    due_on: datetime.date | None = None,
    has_us_sales: bool | None = None,
    has_us_marketing: bool | None = None,
    has_us_channel: bool | None = None,
) -> Diagnostic:
    """Change the lead, the due date or the vendor's US teams of an open diagnostic."""
    policy.require(actor, "diagnostic.manage")
    locked = _diagnostic_locked(diagnostic)
    changes = {}
    for name, value in (
        ("lead_partner", lead_partner),
        ("due_on", due_on),
        ("has_us_sales", has_us_sales),
        ("has_us_marketing", has_us_marketing),
        ("has_us_channel", has_us_channel),
    ):
        if value is not None and getattr(locked, name) != value:
            setattr(locked, name, value)
            changes[name] = str(value)
    if lead_partner is not None and (not lead_partner.is_partner or not lead_partner.is_active):
        raise ApplicationError("The lead must be an active TMW partner.", extra={"lead_partner": ["Pick a partner."]})
    try:
        locked.full_clean()
    except ValidationError as exc:
        raise ApplicationError("The diagnostic is not valid.", extra=exc.message_dict) from exc
    locked.save()
    if changes:
        audit_record(actor=actor, verb="diagnostic.updated", obj=locked, organisation=locked.vendor, data=changes)
    return locked


@transaction.atomic
def criterion_score_set(
    *, diagnostic: Diagnostic, criterion: Criterion, level: int, evidence: str = "", actor: Actor
) -> CriterionScore:
    """Record the level (0-5) and evidence of one criterion of an open diagnostic."""
    policy.require(actor, "diagnostic.manage")
    locked = _diagnostic_locked(diagnostic)
    if criterion.rubric_id != locked.rubric_id:
        raise ApplicationError("That criterion is not part of this diagnostic's rubric.", status=400)
    if not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
        raise ApplicationError("A level is a whole number from 0 to 5.", extra={"level": ["Pick 0 to 5."]})
    score = CriterionScore.objects.filter(diagnostic=locked, criterion=criterion).first()
    if score is None:
        score = CriterionScore(diagnostic=locked, criterion=criterion)
    score.level = level
    score.evidence = evidence.strip()
    score.scored_by = policy.user_of(actor)
    score.full_clean(validate_unique=False)
    score.save()
    audit_record(
        actor=actor,
        verb="diagnostic.scored",
        obj=locked,
        organisation=locked.vendor,
        data={"criterion": criterion.key, "level": level},
    )
    return score


@transaction.atomic
def thesis_save(*, diagnostic: Diagnostic, actor: Actor, **fields: str) -> ChannelThesis:
    """Write the channel thesis of an open diagnostic."""
    policy.require(actor, "diagnostic.manage")
    locked = _diagnostic_locked(diagnostic)
    unknown = set(fields) - set(ChannelThesis.FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown thesis fields: {', '.join(sorted(unknown))}.")
    thesis = ChannelThesis.objects.filter(diagnostic=locked).first() or ChannelThesis(diagnostic=locked)
    for name, value in fields.items():
        setattr(thesis, name, (value or "").strip())
    thesis.updated_by = policy.user_of(actor)
    thesis.full_clean(validate_unique=False)
    thesis.save()
    audit_record(actor=actor, verb="diagnostic.thesis_saved", obj=locked, organisation=locked.vendor)
    return thesis


@transaction.atomic
def decision_record(
    *,
    diagnostic: Diagnostic,
    outcome: str,
    rationale: str,
    actor: Actor,
    conditions: str = "",
    gate_override_reason: str = "",
    option: str | None = None,
    option_override_reason: str = "",
) -> Decision:
    """Record go / go with conditions / no-go and the Phase Two option.

    A failed gate blocks a 'go' (with or without conditions) unless a reason overrides it;
    the recommended option (A when the vendor has US sales, marketing and channel teams, else B)
    may be overridden with a reason.
    """
    from .selectors import diagnostic_scorecard

    policy.require(actor, "diagnostic.manage")
    locked = _diagnostic_locked(diagnostic)
    errors: dict[str, list[str]] = {}
    if outcome not in Decision.Outcome.values:
        errors["outcome"] = ["Pick go, go with conditions or no-go."]
    rationale = (rationale or "").strip()
    conditions = (conditions or "").strip()
    gate_override_reason = (gate_override_reason or "").strip()
    option_override_reason = (option_override_reason or "").strip()
    if not rationale:
        errors["rationale"] = ["Explain the decision."]
    if outcome == Decision.Outcome.GO_WITH_CONDITIONS and not conditions:
        errors["conditions"] = ["List the conditions."]
    if errors:
        raise ApplicationError("The decision is not complete.", extra=errors)

    recommended = locked.recommended_option
    option = option or recommended
    if option not in Decision.Option.values:
        raise ApplicationError("Pick Option A or B.", extra={"option": ["Pick A or B."]})
    if option != recommended and not option_override_reason:
        raise ApplicationError(
            f"Option {recommended} is recommended; give a reason to choose Option {option}.",
            extra={"option_override_reason": ["Give a reason for overriding the recommended option."]},
        )
    if option == recommended:
        option_override_reason = ""

    is_go = outcome in (Decision.Outcome.GO, Decision.Outcome.GO_WITH_CONDITIONS)
    failed = diagnostic_scorecard(diagnostic=locked).failed_gates
    if is_go and failed and not gate_override_reason:
        names = ", ".join(r.criterion.title for r in failed)
        raise ApplicationError(
            f"A failed gate blocks “go”: {names}. Give a reason to override it, or decide no-go.",
            extra={"gate_override_reason": ["Give a reason to override the failed gate."]},
            status=409,
        )
    if not (is_go and failed):
        gate_override_reason = ""

    decision = Decision.objects.filter(diagnostic=locked).first() or Decision(diagnostic=locked)
    decision.outcome = outcome
    decision.rationale = rationale
    decision.conditions = conditions if outcome == Decision.Outcome.GO_WITH_CONDITIONS else ""
    decision.gate_override_reason = gate_override_reason
    decision.recommended_option = recommended
    decision.option = option
    decision.option_override_reason = option_override_reason
    decision.decided_by = policy.user_of(actor)
    decision.decided_at = timezone.now()
    decision.full_clean(validate_unique=False)
    decision.save()
    audit_record(
        actor=actor,
        verb="diagnostic.decided",
        obj=locked,
        organisation=locked.vendor,
        data={"outcome": outcome, "option": option, "gate_override": bool(gate_override_reason)},
    )
    return decision


# --- Status


TRANSITIONS = {
    Diagnostic.Status.DRAFT: {Diagnostic.Status.IN_REVIEW},
    Diagnostic.Status.IN_REVIEW: {Diagnostic.Status.DRAFT, Diagnostic.Status.COMPLETE},
    Diagnostic.Status.COMPLETE: set(),
}


@transaction.atomic
def diagnostic_transition(*, diagnostic: Diagnostic, to: str, actor: Actor) -> Diagnostic:
    """Move a diagnostic draft → in review → complete (or back to draft from review), checking it is ready."""
    from .selectors import diagnostic_scorecard

    policy.require(actor, "diagnostic.manage")
    locked = Diagnostic.objects.select_for_update().get(pk=diagnostic.pk)
    if to not in TRANSITIONS.get(Diagnostic.Status(locked.status), set()):
        raise ApplicationError(
            f"A diagnostic cannot go from {locked.get_status_display().lower()} to "
            f"{Diagnostic.Status(to).label.lower() if to in Diagnostic.Status.values else to}.",
            status=409,
        )
    problems: list[str] = []
    if to in (Diagnostic.Status.IN_REVIEW, Diagnostic.Status.COMPLETE):
        card = diagnostic_scorecard(diagnostic=locked)
        if not card.all_scored:
            problems.append(f"Score every criterion ({card.scored_count} of {len(card.rows)} scored).")
    if to == Diagnostic.Status.COMPLETE:
        thesis = ChannelThesis.objects.filter(diagnostic=locked).first()
        if thesis is None or not thesis.is_filled:
            problems.append("Write every part of the channel thesis.")
        if not Decision.objects.filter(diagnostic=locked).exists():
            problems.append("Record the decision.")
    if problems:
        raise ApplicationError(
            "The diagnostic is not ready: " + " ".join(problems), extra={"status": problems}, status=409
        )
    previous = locked.status
    locked.status = to
    locked.completed_at = timezone.now() if to == Diagnostic.Status.COMPLETE else None
    locked.save(update_fields=["status", "completed_at", "updated_at"])
    audit_record(
        actor=actor,
        verb="diagnostic.status_changed",
        obj=locked,
        organisation=locked.vendor,
        data={"from": previous, "to": to},
    )
    return locked


def diagnostic_complete(*, diagnostic: Diagnostic, actor: Actor) -> Diagnostic:
    """Mark a diagnostic in review as complete."""
    policy.require(actor, "diagnostic.manage")
    return diagnostic_transition(diagnostic=diagnostic, to=Diagnostic.Status.COMPLETE, actor=actor)


# --- Ideal-partner profiles and target lists

# A target list keeps the best-ranked MSPs, plus every MSP pinned or excluded on the previous snapshot.
TARGET_LIST_SIZE = 250


def _open_diagnostic(diagnostic: Diagnostic) -> Diagnostic:
    """Reload the diagnostic (scoped, locked) and refuse changes once it is complete."""
    locked = Diagnostic.objects.select_for_update().select_related("vendor").get(pk=diagnostic.pk)
    if locked.status == Diagnostic.Status.COMPLETE:
        raise ApplicationError(
            "This diagnostic is complete; its profile and target list can no longer change.", status=409
        )
    return locked


# Vendor category words → the MSP service line that sells the product.
CATEGORY_SERVICE_LINES = (
    (("identity", "access"), "identity"),
    (("backup", "recovery"), "backup_dr"),
    (("security", "detection", "soc", "mdr", "threat"), "soc_mdr"),
    (("compliance", "governance"), "compliance"),
    (("cloud", "saas"), "cloud"),
    (["ai", "automation"], "ai_automation"),
)


def default_profile_values(vendor: Organisation) -> dict[str, Any]:
    """A sensible starting profile: the US and Canada, 5-150 technicians, the service line of the vendor's category."""
    words = set(slugify(vendor.category or "").split("-"))
    preferred = [line for keys, line in CATEGORY_SERVICE_LINES if words & set(keys)]
    return {
        "countries": ["US", "CA"],
        "min_technicians": 5,
        "max_technicians": 150,
        "preferred_service_lines": preferred[:1],
    }


def ideal_partner_profile_get_or_create(*, diagnostic: Diagnostic) -> IdealPartnerProfile:
    """The diagnostic's ideal-partner profile, created with defaults from the vendor's category when missing."""
    profile = IdealPartnerProfile.objects.filter(diagnostic=diagnostic).first()
    if profile is None:
        profile = IdealPartnerProfile(diagnostic=diagnostic, **default_profile_values(diagnostic.vendor))
        profile.full_clean()
        profile.save()
    return profile


@transaction.atomic
def ideal_partner_profile_update(*, diagnostic: Diagnostic, actor: Actor, **fields: Any) -> IdealPartnerProfile:
    """Save the ideal-partner profile of an open diagnostic."""
    policy.require(actor, "targets.manage", "change ideal-partner profiles")
    locked = _open_diagnostic(diagnostic)
    profile = ideal_partner_profile_get_or_create(diagnostic=locked)
    allowed = {f.name for f in IdealPartnerProfile._meta.concrete_fields} - {
        "id",
        "diagnostic",
        "updated_at",
        "updated_by",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.updated_by = policy.user_of(actor)
    try:
        profile.full_clean()
    except ValidationError as exc:
        raise application_error_from("The ideal-partner profile is not valid.", exc) from exc
    profile.save()
    audit_record(actor=actor, verb="ideal_partner_profile.saved", obj=profile, organisation=locked.vendor)
    return profile


# --- Target lists


def _movement(previous_rank: int | None, rank: int) -> str:
    if previous_rank is None:
        return TargetEntry.Movement.NEW
    if rank < previous_rank:
        return TargetEntry.Movement.UP
    if rank > previous_rank:
        return TargetEntry.Movement.DOWN
    return TargetEntry.Movement.SAME


@transaction.atomic
def target_list_build(*, diagnostic: Diagnostic, actor: Actor) -> TargetList:
    """Score every MSP in the directory against the diagnostic's profile and save a new snapshot.

    Keeps the best-ranked MSPs plus those pinned or excluded on the previous snapshot (with
    their flags and reasons), and records each entry's previous rank; MSPs that fell off the
    list are kept in ``dropped``.
    """
    policy.require(actor, "targets.manage", "build target lists")
    locked = _open_diagnostic(diagnostic)
    profile = ideal_partner_profile_get_or_create(diagnostic=locked)
    spec = profile.as_spec()
    scored = score_rows(spec, directory_rows())

    previous = latest_target_list(diagnostic=locked)
    before = {e.msp_id: e for e in previous.entries.all()} if previous else {}
    flagged = {msp_id for msp_id, e in before.items() if msp_id is not None and (e.pinned or e.excluded)}
    keep = [s for s in scored if s.rank <= TARGET_LIST_SIZE or s.pk in flagged]

    number = (TargetList.objects.filter(diagnostic=locked).aggregate(n=Max("number"))["n"] or 0) + 1
    target_list = TargetList(
        diagnostic=locked,
        number=number,
        created_by=policy.user_of(actor),
        profile_snapshot=spec,
        scored_count=len(scored),
    )
    kept_ids = {s.pk for s in keep}
    target_list.dropped = [
        {"msp": e.msp_id, "name": e.msp_name, "rank": e.rank, "location": e.location}
        for e in sorted(before.values(), key=lambda e: e.rank)
        if e.msp_id not in kept_ids
    ]
    target_list.full_clean()
    target_list.save()

    entries = []
    for s in keep:
        row = s.row
        prev = before.get(row["pk"])
        entries.append(
            TargetEntry(
                target_list=target_list,
                msp_id=row["pk"],
                msp_name=row["legal_name"],
                msp_city=row["city"],
                msp_region=row["region"],
                msp_country=row["country"],
                score=s.score,
                tier=s.tier,
                rank=s.rank,
                breakdown=s.breakdown,
                pinned=bool(prev and prev.pinned),
                excluded=bool(prev and prev.excluded),
                reason=prev.reason if prev and (prev.pinned or prev.excluded) else "",
                previous_rank=prev.rank if prev else None,
                movement=_movement(prev.rank if prev else None, s.rank),
            )
        )
    TargetEntry.objects.bulk_create(entries, batch_size=500)
    audit_record(
        actor=actor,
        verb="target_list.built",
        obj=target_list,
        organisation=locked.vendor,
        data={"number": number, "entries": len(entries), "scored": len(scored), "dropped": len(target_list.dropped)},
    )
    return target_list


@transaction.atomic
def target_entry_flag(
    *, entry: TargetEntry, actor: Actor, pinned: bool, excluded: bool, reason: str = ""
) -> TargetEntry:
    """Pin or exclude an MSP on the latest target list (with a reason), or clear both flags."""
    policy.require(actor, "targets.manage", "pin or exclude MSPs on target lists")
    entry = TargetEntry.objects.select_for_update().select_related("target_list").get(pk=entry.pk)
    locked = _open_diagnostic(entry.target_list.diagnostic)
    latest = latest_target_list(diagnostic=locked)
    if latest is None or latest.pk != entry.target_list_id:
        raise ApplicationError("Only the latest target list can change; build a new one first.", status=409)
    reason = (reason or "").strip()
    if pinned and excluded:
        raise ApplicationError("An MSP is either pinned or excluded, not both.", extra={"excluded": ["Pick one."]})
    if (pinned or excluded) and not reason:
        raise ApplicationError("Say why you pin or exclude this MSP.", extra={"reason": ["Give a reason."]})
    entry.pinned, entry.excluded = pinned, excluded
    entry.reason = reason if (pinned or excluded) else ""
    entry.full_clean()
    entry.save(update_fields=["pinned", "excluded", "reason"])
    verb = "target_entry.pinned" if pinned else "target_entry.excluded" if excluded else "target_entry.cleared"
    audit_record(actor=actor, verb=verb, obj=entry, organisation=locked.vendor, data={"reason": entry.reason})
    return entry
