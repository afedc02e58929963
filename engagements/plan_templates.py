"""The default plan templates, as data: (workstream, milestone, owner role, days after the start)."""

from __future__ import annotations

from typing import TypedDict


class PlanTemplateSpec(TypedDict):
    name: str
    items: list[tuple[str, str, str, int]]


_OPTION_A_ITEMS: list[tuple[str, str, str, int]] = [
    ("Channel strategy guidance", "Kick-off and channel thesis review", "", 7),
    ("Channel strategy guidance", "US channel go-to-market plan agreed", "", 30),
    ("Channel strategy guidance", "Partner program and margin review", "", 60),
    ("Community introductions", "First community pitch appearance", "", 45),
    ("Community introductions", "Ten warm MSP introductions", "", 90),
    ("Community introductions", "Second community pitch appearance", "", 150),
    ("Reference MSPs", "Three reference MSPs in evaluation", "", 120),
    ("Reference MSPs", "First reference MSP live and quotable", "", 180),
    ("Quarterly reviews", "Quarterly business review 1", "", 90),
    ("Quarterly reviews", "Quarterly business review 2", "", 180),
    ("Quarterly reviews", "Quarterly business review 3", "", 270),
    ("Quarterly reviews", "Annual review and renewal decision", "", 360),
]

_OPTION_B_EXTRA = [
    ("Desk staffing", "Channel account manager assigned", "channel_account_manager", 14),
    ("Desk staffing", "Partner recruiter assigned", "partner_recruiter", 21),
    ("Desk staffing", "Marketing operations assigned", "marketing_operations", 30),
    ("Partner program and pricing", "MSP partner tiers and benefits defined", "channel_account_manager", 45),
    ("Partner program and pricing", "MSP pricing and margin structure approved", "channel_account_manager", 60),
    ("Onboarding kit", "Partner onboarding guide and playbook", "enablement", 60),
    ("Onboarding kit", "Deal registration and PSA/RMM integration guide", "enablement", 75),
    ("Recruitment campaigns", "First recruitment campaign launched", "partner_recruiter", 60),
    ("Recruitment campaigns", "Twenty MSPs contacted from the target list", "partner_recruiter", 90),
    ("Recruitment campaigns", "Second recruitment campaign launched", "marketing_operations", 150),
    ("Enablement", "Sales and technical enablement sessions", "enablement", 90),
    ("Enablement", "First partner certification cohort", "enablement", 150),
]

DEFAULT_PLAN_TEMPLATES: dict[str, PlanTemplateSpec] = {
    "A": {"name": "Option A: vendor-led desk", "items": _OPTION_A_ITEMS},
    "B": {"name": "Option B: TMW-led desk", "items": _OPTION_A_ITEMS + _OPTION_B_EXTRA},
}
