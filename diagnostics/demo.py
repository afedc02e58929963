"""Demo diagnostics: one in progress for the Phase One vendor, completed ones for the two desk vendors."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from tmw.accounts import policy
from tmw.directory import demo as directory_demo

from . import selectors, services
from .models import Criterion, Diagnostic

# criterion key -> (level, evidence)
SENTINEL_SCORES = {
    "psa-rmm-integration": (4, "Native ConnectWise, Autotask and NinjaOne integrations; alerts open tickets."),
    "multi-tenant-console": (5, "Built for MSPs: one console, policies per client, technician roles."),
    "technician-usability": (4, "Tier-1 technicians at two pilot MSPs deployed agents through the RMM."),
    "unbillable-support-load": (3, "Restore tests create some unpaid work during onboarding."),
    "margin-headroom": (4, "35% margin at list, plus billable restore testing."),
    "monthly-per-seat-pricing": (5, "Monthly per device, no minimum, one invoice across clients."),
    "channel-conflict": (4, "Direct team sells only above 2,000 seats; deal registration honoured."),
    "contract-terms": (4, "Standard MSP agreement, co-terming, client data portable."),
    "us-channel-team": (4, "Channel director in Austin with two partner managers."),
    "partner-program": (3, "Three tiers and deal registration; no MDF yet."),
    "references": (4, "Three US MSP references, one case study."),
    "runway": (5, "Profitable for four quarters."),
}
LUMEN_SCORES = {
    "psa-rmm-integration": (3, "HaloPSA and NinjaOne integrations; ConnectWise in beta."),
    "multi-tenant-console": (4, "Multi-tenant console with per-client roles."),
    "technician-usability": (3, "Needs a half-day of training for tier-2 technicians."),
    "unbillable-support-load": (3, "Model tuning questions land on the MSP first."),
    "margin-headroom": (4, "30% margin plus automation services the MSP bills."),
    "monthly-per-seat-pricing": (4, "Monthly per user with a 25-seat minimum."),
    "channel-conflict": (5, "No direct sales team in North America."),
    "contract-terms": (3, "Reseller agreement; liability cap needs work."),
    "us-channel-team": (1, "The founder covers partners from Boston."),
    "partner-program": (2, "A discount schedule, nothing more."),
    "references": (2, "Two US end clients, no MSP yet."),
    "runway": (4, "Series A closed; 26 months of runway."),
}
NORTHWIND_SCORES = {
    "psa-rmm-integration": (2, "Autotask integration only; API documented."),
    "multi-tenant-console": (3, "MSP console in beta."),
    "technician-usability": (4, "Clean admin screens; deployment scripted."),
    "margin-headroom": (3, "20-25% margin proposed."),
    "runway": (3, "18 months of runway after the seed extension."),
}

THESES = {
    "Option A desk": {
        "target_segment": "US MSPs with 15-60 technicians serving healthcare, legal and financial services "
        "clients, running ConnectWise or Autotask.",
        "category_positioning": "Backup and disaster recovery built for MSPs: one console across clients, "
        "restore testing as a billable service.",
        "msp_reason_to_buy": "Replace a consumer-grade backup tool with one that proves restores to auditors, "
        "at a margin the MSP keeps.",
        "pricing_margin": "Monthly per protected device; 35% margin at list, 40% for Gold partners; restore "
        "testing billed by the MSP.",
        "key_risks": "Crowded category; MSPs switch backup vendors rarely. Mitigate with a migration offer.",
    },
    "Option B desk": {
        "target_segment": "US MSPs with 10-40 technicians that already sell AI and automation services.",
        "category_positioning": "AI operations assistant for MSP service desks: fewer tickets per client.",
        "msp_reason_to_buy": "Cut ticket volume per client, so flat-fee contracts earn more.",
        "pricing_margin": "Monthly per user, 30% margin, onboarding fee kept by the MSP.",
        "key_risks": "No US channel team yet; TMW runs the desk until one is hired. Early category.",
    },
}

DESKS: dict[str, dict[str, Any]] = {
    "Option A desk": {
        "lead": "marcus.okafor",
        "weeks_ago": 10,
        "us_teams": True,
        "scores": SENTINEL_SCORES,
        "rationale": "Strong product fit and margin; the vendor's US teams are ready to work with TMW's desk.",
    },
    "Option B desk": {
        "lead": "dana.whitfield",
        "weeks_ago": 9,
        "us_teams": False,
        "scores": LUMEN_SCORES,
        "rationale": "The product earns MSPs money on flat-fee contracts; TMW supplies the channel team it lacks.",
    },
}


def _diagnostic(vendor, lead, started_on) -> Diagnostic:
    existing = Diagnostic.objects.filter(vendor=vendor).order_by("pk").first()
    if existing is not None:
        return existing
    return services.diagnostic_start(vendor=vendor, lead_partner=lead, actor=lead, started_on=started_on)


def _score(diagnostic: Diagnostic, scores: dict, actor) -> None:
    criteria = {c.key: c for c in Criterion.objects.filter(rubric=diagnostic.rubric)}
    for key, (level, evidence) in scores.items():
        if key in criteria:
            services.criterion_score_set(
                diagnostic=diagnostic, criterion=criteria[key], level=level, evidence=evidence, actor=actor
            )


def _build_target_list(diagnostic: Diagnostic, actor) -> None:
    if selectors.latest_target_list(diagnostic=diagnostic) is None:
        services.target_list_build(diagnostic=diagnostic, actor=actor)


def seed(context: dict) -> None:
    """Create the demo diagnostics; running it again changes nothing."""
    staff = context["staff"]
    vendors = context["vendors"]
    today = timezone.localdate()
    services.rubric_current(actor=policy.SYSTEM)
    directory_demo.seed(context)  # idempotent: the target lists below score the demo directory

    # Phase One vendor: a diagnostic in progress, five criteria scored.
    dana = staff["dana.whitfield"]
    northwind = _diagnostic(vendors["Phase One"], dana, today - datetime.timedelta(weeks=3))
    if northwind.status == Diagnostic.Status.DRAFT and not northwind.scores.exists():
        _score(northwind, NORTHWIND_SCORES, dana)

    # Desk vendors: completed diagnostics decided "go", Option A and Option B.
    for label, spec in DESKS.items():
        lead = staff[spec["lead"]]
        diagnostic = _diagnostic(vendors[label], lead, today - datetime.timedelta(weeks=spec["weeks_ago"]))
        if diagnostic.status == Diagnostic.Status.COMPLETE:
            continue
        flag = spec["us_teams"]
        diagnostic = services.diagnostic_update(
            diagnostic=diagnostic, actor=lead, has_us_sales=flag, has_us_marketing=flag, has_us_channel=flag
        )
        _score(diagnostic, spec["scores"], lead)
        services.thesis_save(diagnostic=diagnostic, actor=lead, **THESES[label])
        services.decision_record(diagnostic=diagnostic, outcome="go", rationale=spec["rationale"], actor=lead)
        _build_target_list(diagnostic, lead)
        if diagnostic.status == Diagnostic.Status.DRAFT:
            services.diagnostic_transition(diagnostic=diagnostic, to=Diagnostic.Status.IN_REVIEW, actor=lead)
        services.diagnostic_transition(diagnostic=diagnostic, to=Diagnostic.Status.COMPLETE, actor=lead)
