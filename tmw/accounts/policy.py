"""Who may do what: the one place that says it.

Every action a person (or a scheduled job, or a visitor holding a signed link) can take
has a name here and the set of roles allowed to take it. Services check it with
``require``; views and API views declare the action they serve (``tmw.accounts.permissions``)
and the role-matrix test reads those declarations; templates ask ``can.<action>`` through
the context processor below. Rules that depend on the object (who may grant which role,
whose availability a partner may edit, which opportunities a vendor may move) are the
functions at the end of this module, next to the role table they refine.

Tenancy is a separate, earlier fence: scopes decide which rows a user can see at all;
this policy decides what a role may do with the rows it sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from django.core.exceptions import ImproperlyConfigured

from tmw.errors import ApplicationError

from .models import Role, User


@dataclass(frozen=True)
class SystemActor:
    """Someone who is not a logged-in user: scheduled work, or a visitor with a signed link.

    Its ``role`` is a pseudo-role that the table below grants explicitly, so the system can do
    only what it is listed for.
    """

    role: str
    name: str

    is_authenticated = False
    is_active = True
    pk = None

    def __str__(self) -> str:
        return self.name


SYSTEM = SystemActor("system", "scheduled job")  # beat, the worker, management commands, demo data
VISITOR = SystemActor("visitor", "visitor")  # the public booking form; a signed RSVP, feedback or booking link

# A typed actor: every service that writes takes one, and it is never optional.
Actor: TypeAlias = User | SystemActor

P, F, A = Role.PARTNER, Role.FINANCE, Role.ADMIN
VA, VM, M = Role.VENDOR_ADMIN, Role.VENDOR_MEMBER, Role.MSP_MEMBER
PARTNERS = frozenset({P, A})
FINANCE = frozenset({F, A})
OPERATORS = frozenset({P, F, A})
VENDORS = frozenset({VA, VM})
MSPS = frozenset({M})
EVERYONE = OPERATORS | VENDORS | MSPS

# action -> the roles (and pseudo-roles) that may take it.
RULES: dict[str, frozenset[str]] = {
    # accounts
    "dashboard.home": EVERYONE,  # "/" sends each role to its own home page
    "dashboard.partner": PARTNERS,
    "dashboard.finance": FINANCE,
    "dashboard.vendor": VENDORS,
    "dashboard.msp": MSPS,
    "profile.edit": EVERYONE,  # one's own name, time zone and password
    "api.use": EVERYONE,  # the API and its docs (each answer is still fenced by tenancy and its own action)
    "api.token": EVERYONE,  # create and revoke one's own API token
    "people.view": PARTNERS,
    "people.list": EVERYONE,  # the users API: the people of the organisations one's scope shows
    "team.view": VENDORS,
    "people.invite": PARTNERS | {VA},
    "people.deactivate": PARTNERS | {VA},
    "people.join": frozenset({VISITOR.role}),  # accepting an invitation through its link
    "organisation.view": EVERYONE,
    "billing_contacts.manage": OPERATORS | {VA},  # who at a vendor receives its statements and reminders
    "admin.site": OPERATORS,
    "admin.change": frozenset({A}),  # the other operators read the admin, only admins change it
    # the MSP directory
    "directory.view": PARTNERS | VENDORS,  # vendors: only the MSPs a visibility rule shows them
    "directory.contacts": PARTNERS,  # TMW's contacts at an MSP and its notes
    "directory.manage": PARTNERS,
    # MSP self-service: an MSP member proposes changes to its own profile and confirms it; partners review
    "msp_profile.update_own": MSPS,
    "msp_profile.review": PARTNERS,
    "msp_profile.changes": PARTNERS | MSPS,  # reading proposals (an MSP: its own)
    # Phase One diagnostics
    "diagnostic.view": PARTNERS | VENDORS,
    "diagnostic.workspace": PARTNERS,
    "diagnostic.manage": PARTNERS,
    "diagnostic.portal": VENDORS,
    # What a diagnostic shows before it is complete (see ``sees_draft``): partners see everything;
    # the vendor sees its status, dates, lead and US teams, and nothing of the scores, thesis,
    # decision or target lists until it is complete.
    "diagnostic.view_draft": PARTNERS,
    "rubric.view": PARTNERS,
    "rubric.manage": PARTNERS | {SYSTEM.role},  # the system seeds the default rubric
    "targets.view": PARTNERS | VENDORS,
    "targets.manage": PARTNERS,
    # channel-review booking
    "booking.create": frozenset({VISITOR.role}),
    "booking.manage_own": frozenset({VISITOR.role}),  # the prospect, through the link in their email
    "booking.view": PARTNERS,
    "booking.manage": PARTNERS,
    "availability.manage": PARTNERS,
    "booking.notify": frozenset({SYSTEM.role}),
    # Phase Two desks
    "engagement.view": OPERATORS | VENDORS,
    "engagement.workspace": OPERATORS,
    "engagement.manage": PARTNERS,
    "engagement.portal": VENDORS,
    "opportunity.create": PARTNERS | VENDORS,
    "opportunity.move": PARTNERS | VENDORS,
    "opportunity.backdate": PARTNERS,  # moving a stage on a day other than today
    "opportunity.edit": PARTNERS | VENDORS,  # vendor users: the ones their team sourced (may_edit_opportunity)
    "opportunity.import": PARTNERS,  # the tier-A MSPs of the diagnostic's target list
    "opportunity.from_feedback": PARTNERS | MSPS | {VISITOR.role},
    "attribution.manage": PARTNERS,
    "activity.log": PARTNERS,
    # desks in depth: the vendor's acknowledgement of attributions, the weighted pipeline, next steps
    "attribution.acknowledge": frozenset({VA}),  # acknowledge or dispute, within the window
    "attribution.resolve": PARTNERS,  # a disputed attribution: kept, or ended from a date
    "attribution.window": OPERATORS,  # the days a vendor has to answer (set from the agreement page)
    "attribution.deem": frozenset({SYSTEM.role}),  # silence acknowledges once the window has passed
    "attribution.review_notify": frozenset({SYSTEM.role}),  # emails of new, disputed and resolved attributions
    "pipeline.probabilities": PARTNERS,  # the desk's probability per stage
    "step.view": PARTNERS,
    "step.manage": PARTNERS,
    "step.notify": frozenset({SYSTEM.role}),  # the daily email of overdue steps
    # commercial terms and statements
    "terms.view": OPERATORS,
    "terms.manage": OPERATORS,
    "revenue.view": OPERATORS | VENDORS,
    "revenue.report": FINANCE | VENDORS,
    "revenue.workspace": FINANCE,  # the month's revenue grid, where finance enters every account
    "revenue.upload": VENDORS,  # the portal's CSV upload of the vendor's own accounts
    "statement.view": OPERATORS | VENDORS,
    "statement.workspace": OPERATORS,  # TMW's statement pages: every vendor, every status
    "statement.view_draft": OPERATORS,  # drafts and approved statements before they are issued
    "statement.run": FINANCE | {SYSTEM.role},
    "statement.approve": FINANCE,
    "statement.issue": FINANCE,
    "statement.pay": FINANCE,
    "statement.void": FINANCE,
    "statement.export": FINANCE,
    "statement.notify": FINANCE | {SYSTEM.role},
    "statement.portal": VENDORS,
    # accounting exports (ledger accounts and tax codes of the QuickBooks/Xero files)
    "accounting.manage": FINANCE,
    # payments, aging, overdue reminders and bulk runs (payments are recorded under "statement.pay")
    "aging.view": FINANCE,  # receivables by vendor, currency and days past due; its CSV
    "reminder.schedule": FINANCE,  # when overdue reminders go out
    "reminder.send": FINANCE | {SYSTEM.role},  # the daily sweep of overdue statements
    "statement.bulk": FINANCE,  # approve every draft of a month / issue every approved one, as one run
    "statement.bulk_step": FINANCE | {SYSTEM.role},  # the worker's steps; each approve/issue acts as the run's starter
    # statement delivery and queries (the finance loop)
    "statement.deliver": FINANCE | {SYSTEM.role},  # email an issued statement or credit note to billing contacts
    "statement.resend": FINANCE,
    "statement.query": VENDORS,  # raise a query on an issued statement or one of its lines
    "statement.query_view": OPERATORS | VENDORS,  # vendors: their own statements' queries
    "statement.query_list": OPERATORS,  # every vendor's queries (the finance list and home panel)
    "statement.query_answer": FINANCE,  # accept (adjustment, or credit note and reissue) or decline
    "statement.query_notify": FINANCE | VENDORS | {SYSTEM.role},  # the emails of each step
    "billing_contacts.portal": frozenset({VA}),  # the portal's billing-contacts page (operators edit on theirs)
    # community
    "event.view": PARTNERS | MSPS,
    "event.workspace": PARTNERS,
    "event.manage": PARTNERS,
    "event.check_in": PARTNERS,
    "event.join": MSPS,
    "event.vendor_view": VENDORS,
    "rsvp.respond": PARTNERS | MSPS | {VISITOR.role},
    "feedback.give": MSPS | {VISITOR.role},
    "invitation.portal": MSPS,
    "event.notify": frozenset({SYSTEM.role}),  # reminders and feedback requests, sent by the scheduled sweep
    # webhooks (tmw.webhooks): partners and admins register endpoints and resend; the worker sends
    "webhook.view": PARTNERS,
    "webhook.manage": PARTNERS,  # register, change, disable, rotate the secret, send a test event, resend
    "webhook.send": frozenset({SYSTEM.role}),
    # event changes, RSVP questions, calendar feeds and booking reschedules
    "event.cancel": PARTNERS,
    "event.questions": PARTNERS,  # the RSVP questions of an event
    "calendar.feed": PARTNERS,  # one's own private calendar feed URL: see it, regenerate it
    "calendar.feed_read": frozenset({VISITOR.role}),  # a calendar program reading a feed URL (the token is the key)
    "booking.reschedule_own": frozenset({VISITOR.role}),  # the prospect, through the link in their email
    # vendor onboarding (page and API)
    "vendor.manage": PARTNERS,  # create a vendor directly (name, location, billing contacts, first admin), edit it
}

# Who may grant which role (by invitation) or switch off a user who holds it. Only admins make
# admins or finance users; vendor admins manage their own colleagues.
GRANTS: dict[str, frozenset[str]] = {
    A: frozenset(Role.values),
    P: frozenset({P, VA, VM, M}),
    VA: frozenset({VA, VM}),
}


class UnknownAction(ImproperlyConfigured):
    """An action name that the table does not list (a typo fails loudly, never open)."""


def roles_for(action: str) -> frozenset[str]:
    """The roles allowed to take ``action``."""
    try:
        return RULES[action]
    except KeyError:
        raise UnknownAction(f"No such action in the policy: {action!r}") from None


def can(actor: object, action: str) -> bool:
    """Whether ``actor`` (a user, a system actor, an anonymous visitor or None) may take ``action``."""
    roles = roles_for(action)
    if isinstance(actor, SystemActor):
        return actor.role in roles
    if not isinstance(actor, User) or not actor.is_authenticated or not actor.is_active:
        return False
    return actor.role in roles


def require(actor: object, action: str, what: str | None = None) -> Actor:
    """``actor`` when it may take ``action``; otherwise a 403 saying what it may not do."""
    if not can(actor, action):
        raise ApplicationError(f"You may not {what or _describe(action)}.", status=403)
    return actor  # type: ignore[return-value]  # can() admits only a User or a SystemActor


def user_of(actor: object) -> User | None:
    """The logged-in user behind an actor, for audit rows and ``created_by`` fields; None for the system."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def _describe(action: str) -> str:
    noun, _, verb = action.partition(".")
    return f"{verb.replace('_', ' ')} {noun.replace('_', ' ')}s" if verb else action


# --- rules that depend on the object -------------------------------------------------------------


def may_grant(actor: object, *, organisation: Any, role: str) -> bool:
    """Whether ``actor`` may invite someone into ``organisation`` with ``role``."""
    if not can(actor, "people.invite"):
        return False
    assert isinstance(actor, User)
    if role not in GRANTS.get(actor.role, frozenset()):
        return False
    if actor.role == VA:
        return organisation.pk == actor.organisation_id
    return True


def grantable_roles(actor: object) -> frozenset[str]:
    """The roles ``actor`` may grant anywhere (the invitation form offers only these)."""
    if not can(actor, "people.invite"):
        return frozenset()
    return GRANTS.get(getattr(actor, "role", ""), frozenset())


def may_manage_user(actor: object, user: Any) -> bool:
    """Whether ``actor`` may switch ``user`` off or on: never themselves; only what they could grant."""
    if not can(actor, "people.deactivate") or user.pk == getattr(actor, "pk", None):
        return False
    assert isinstance(actor, User)
    if user.is_superuser and not actor.is_superuser:
        return False
    return may_grant(actor, organisation=user.organisation, role=user.role)


def sees_draft(actor: object) -> bool:
    """Whether ``actor`` sees a diagnostic's working state before it is complete.

    Partners and admins do. A vendor user sees of its own draft (or in-review) diagnostic only
    its status, dates, lead partner, US teams and recommended option: the API's scores, thesis
    and decision answer 409 ("shared once the diagnostic is complete"), the overall score and
    groups are null, target lists and their entries are left out of lists (404 by id), the
    target-list page and its CSV show a "shared once complete" state, and the MSP directory
    counts only completed diagnostics' target lists towards what the vendor may see. The
    ideal-partner profile (what TMW looks for) stays readable to the vendor throughout.
    """
    return can(actor, "diagnostic.view_draft")


def may_edit_others_availability(actor: object) -> bool:
    """Admins edit any partner's booking availability (and so pick whose)."""
    return can(actor, "availability.manage") and getattr(actor, "role", None) == A


def may_edit_availability(actor: object, partner: Any) -> bool:
    """Partners edit their own booking availability; admins edit anyone's."""
    if not can(actor, "availability.manage"):
        return False
    return may_edit_others_availability(actor) or getattr(actor, "pk", None) == partner.pk


def may_add_opportunity(actor: object, engagement: Any) -> bool:
    """Partners add to any pipeline; vendor users only to their own vendor's."""
    if not can(actor, "opportunity.create"):
        return False
    if isinstance(actor, User) and actor.role in VENDORS:
        return bool(engagement.vendor_id == actor.organisation_id)
    return True


def may_move_opportunity(actor: object, opportunity: Any) -> bool:
    """Partners move any opportunity; vendor users only the ones their own team sourced."""
    if not can(actor, "opportunity.move"):
        return False
    if isinstance(actor, User) and actor.role in VENDORS:
        return bool(opportunity.source == "vendor" and opportunity.vendor_id == actor.organisation_id)
    return True


def may_edit_opportunity(actor: object, opportunity: Any) -> bool:
    """Partners edit any opportunity's expected MRR and source detail; vendor users only their team's."""
    if not can(actor, "opportunity.edit"):
        return False
    if isinstance(actor, User) and actor.role in VENDORS:
        return bool(opportunity.source == "vendor" and opportunity.vendor_id == actor.organisation_id)
    return True


def may_answer_for_msp(actor: object, msp_id: int | None) -> bool:
    """MSP members answer, cancel and give feedback only for their own MSP's invitations.

    Partners act for any MSP; a visitor holds a link signed for one invitation, so the link decides.
    """
    if getattr(actor, "role", None) in MSPS:
        return msp_id is not None and getattr(actor, "organisation_id", None) == msp_id
    return isinstance(actor, SystemActor | User)


def sees_draft_statement(actor: object) -> bool:
    """Whether ``actor`` sees statements before they are issued (vendors see issued and paid ones only)."""
    return can(actor, "statement.view_draft")


def revenue_vendor_of(actor: object) -> int | None:
    """The one vendor whose accounts ``actor`` reports revenue for (a vendor user's own), or None for any."""
    return getattr(actor, "organisation_id", None) if getattr(actor, "role", None) in VENDORS else None


def may_report_revenue(actor: object, vendor_id: int) -> bool:
    """Finance reports any vendor's revenue; a vendor user only their own organisation's accounts."""
    if not can(actor, "revenue.report"):
        return False
    own = revenue_vendor_of(actor)
    return own is None or own == vendor_id


def _template_names() -> dict[str, str]:
    """``statement_issue`` -> ``statement.issue``, ``billing_contacts_manage`` -> ``billing_contacts.manage``."""
    names: dict[str, str] = {}
    for action in RULES:
        name = action.replace(".", "_")
        if name in names:
            raise ImproperlyConfigured(f"The actions {names[name]!r} and {action!r} read the same in templates.")
        names[name] = action
    return names


_TEMPLATE_NAMES = _template_names()


class Capabilities:
    """``{% if can.statement_issue %}`` in templates: the policy, asked for the viewing user.

    A name that is not an action raises, so a typo in a template fails its page in tests.
    """

    def __init__(self, user: object):
        self._user = user

    def __getitem__(self, name: str) -> bool:
        action = _TEMPLATE_NAMES.get(name, name)
        if action not in RULES:
            raise UnknownAction(f"No such action in the policy: {action!r} (from can.{name})")
        return can(self._user, action)

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]


def capabilities(request) -> dict[str, Capabilities]:
    """Context processor: ``can`` for the request's user."""
    return {"can": Capabilities(getattr(request, "user", None))}
