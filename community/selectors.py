"""Reads of the community app shared by pages, the API, emails and the dashboards."""

from __future__ import annotations

import calendar as calendar_module
import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from tmw import ics
from tmw.accounts.models import Organisation, User
from tmw.directory.models import MSPContact, MSPProfile

from .models import RSVP, Event, EventInvitation, EventQuestion, PitchFeedback, PitchSlot, RSVPAnswer
from .tokens import feedback_token, rsvp_token


def walk_in_msps() -> QuerySet[Organisation]:
    """The MSPs a walk-in may come from: the whole directory."""
    return Organisation.objects.filter(kind=Organisation.Kind.MSP).order_by("name")


def zone_for(user: object) -> zoneinfo.ZoneInfo:
    """The zone a viewer sees times in: their own, else the site's."""
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _with_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    """Events with their invited, going, waitlisted and attended counts in one query."""
    return events.annotate(
        invited_count=Count("invitations", distinct=True),
        going_count=Count("rsvps", filter=Q(rsvps__status=RSVP.Status.GOING), distinct=True),
        waitlist_count=Count("rsvps", filter=Q(rsvps__status=RSVP.Status.WAITLISTED), distinct=True),
        attended_count=Count("rsvps", filter=Q(rsvps__attendance=RSVP.Attendance.ATTENDED), distinct=True),
    )


def events_for(*, user: User) -> QuerySet[Event]:
    """The events a user may see: partners all; vendors those they pitch at; MSPs those they are invited to or open."""
    events = Event.objects.select_related("host")
    if user.is_operator:
        return events
    if user.is_vendor_user:
        return events.filter(Exists(PitchSlot.objects.filter(event=OuterRef("pk"))))
    if user.is_msp_user:
        invited = Q(Exists(EventInvitation.objects.filter(event=OuterRef("pk"))))
        if is_community_member(user.organisation_id):
            return events.filter(Q(access=Event.Access.OPEN) | invited)
        return events.filter(invited)
    return events.none()


def is_community_member(msp_id: int) -> bool:
    """Whether an MSP is a TMW community member (its directory profile says so); open events are for them."""
    # unscoped: shared (other tenants' rows this action needs by design)
    return MSPProfile.all_objects.filter(pk=msp_id, community_member=True).exists()


def upcoming_events(*, user: User, limit: int = 5) -> list[Event]:
    """The next events the user may see, soonest first, with their counts (for the dashboards)."""
    return list(_with_counts(events_for(user=user).filter(ends_at__gt=timezone.now())).order_by("starts_at")[:limit])


def event_list(*, when: str = "upcoming", kind: str = "", q: str = "") -> QuerySet[Event]:
    """Partners' event list with counts and fill rate inputs; ``when`` is upcoming, past or all."""
    events = _with_counts(Event.objects.select_related("host"))
    now = timezone.now()
    if when == "upcoming":
        events = events.filter(ends_at__gt=now).order_by("starts_at", "pk")
    elif when == "past":
        events = events.filter(ends_at__lte=now).order_by("-starts_at", "-pk")
    else:
        events = events.order_by("-starts_at", "-pk")
    if kind:
        events = events.filter(kind=kind)
    if q:
        events = events.filter(Q(title__icontains=q) | Q(venue__icontains=q))
    return events


def fill_rate(event: Event) -> int:
    """Seats taken as a whole percentage of capacity."""
    return round(100 * getattr(event, "going_count", 0) / event.capacity) if event.capacity else 0


def month_calendar(*, year: int, month: int, tz: zoneinfo.ZoneInfo) -> list[list[dict[str, Any]]]:
    """Weeks (Monday first) of a month, each day with the events starting on it in ``tz``."""
    first = datetime.datetime(year, month, 1, tzinfo=tz)
    last_day = calendar_module.monthrange(year, month)[1]
    end = first + datetime.timedelta(days=last_day)
    by_day: dict[datetime.date, list[Event]] = {}
    for event in Event.objects.filter(starts_at__gte=first, starts_at__lt=end).order_by("starts_at"):
        by_day.setdefault(timezone.localtime(event.starts_at, tz).date(), []).append(event)
    weeks = []
    for week in calendar_module.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([{"day": d, "in_month": d.month == month, "events": by_day.get(d, [])} for d in week])
    return weeks


def event_funnel(*, event: Event) -> dict[str, Any]:
    """Invited → going → attended → opportunity counts of one event, ready for a chart."""
    # unscoped: shared (other tenants' rows this action needs by design)
    invited = EventInvitation.all_objects.filter(event=event).count()
    # unscoped: shared (other tenants' rows this action needs by design)
    rsvps = RSVP.all_objects.filter(event=event)
    going = rsvps.filter(status=RSVP.Status.GOING).count()
    attended = rsvps.filter(attendance=RSVP.Attendance.ATTENDED).count()
    # MSPs (not opportunities) so the funnel narrows: one attendee may open pipeline with several vendors.
    opportunities = (
        # unscoped: shared (other tenants' rows this action needs by design)
        PitchFeedback.all_objects.filter(rsvp__event=event, opportunity__isnull=False)
        .values("rsvp__msp")
        .distinct()
        .count()
    )
    return {
        "type": "bar",
        "labels": ["Invited", "Going", "Attended", "Opportunity"],
        "values": [invited, going, attended, opportunities],
        "options": {"indexAxis": "y"},
    }


def feedback_by_pitch(*, event: Event) -> dict[int, dict[str, int]]:
    """Per pitch slot of an event, how many attendees answered not now, follow-up and pilot (one query)."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        # unscoped: shared (other tenants' rows this action needs by design)
        PitchFeedback.all_objects.filter(pitch_slot__event=event)
        .values_list("pitch_slot_id", "interest")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for slot_id, interest, n in rows:
        counts.setdefault(slot_id, dict.fromkeys(PitchFeedback.Interest.values, 0))[interest] = n
    return counts


def waitlist(*, event: Event) -> QuerySet[RSVP]:
    """The people waiting for a seat, first in line first."""
    return (
        RSVP.objects.filter(event=event, status=RSVP.Status.WAITLISTED)
        .select_related("invitation", "msp")
        .order_by("waitlist_position", "pk")
    )


def waitlist_rank(rsvp: RSVP) -> int | None:
    """Where a waitlisted person stands in line (1 is next)."""
    if rsvp.status != RSVP.Status.WAITLISTED:
        return None
    # unscoped: shared (other tenants' rows this action needs by design)
    ahead = RSVP.all_objects.filter(
        event_id=rsvp.event_id, status=RSVP.Status.WAITLISTED, waitlist_position__lt=rsvp.waitlist_position
    ).count()
    return ahead + 1


def check_in_list(*, event: Event, q: str = "") -> QuerySet[RSVP]:
    """Who is expected at the door (going, plus walk-ins), searchable by name, email or MSP."""
    rsvps = RSVP.objects.filter(event=event, status=RSVP.Status.GOING).select_related("invitation", "msp")
    if q:
        rsvps = rsvps.filter(
            Q(invitation__name__icontains=q) | Q(invitation__email__icontains=q) | Q(msp__name__icontains=q)
        )
    return rsvps.order_by("invitation__name", "pk")


def contact_picker(
    *, event: Event, vendor_id: int | None = None, region: str = "", service_line: str = "", community: bool = False
) -> QuerySet[MSPContact]:
    """Directory contacts a partner may invite: by a vendor's tier-A targets, region, service line, membership."""
    contacts = MSPContact.objects.exclude(email="").select_related("msp", "msp__organisation")
    profiles = MSPProfile.objects.all()
    if vendor_id:
        from diagnostics.models import Diagnostic
        from diagnostics.selectors import latest_target_list

        msp_ids: set[int] = set()
        for diagnostic in Diagnostic.objects.filter(vendor_id=vendor_id):
            target_list = latest_target_list(diagnostic=diagnostic)
            if target_list is not None:
                msp_ids.update(
                    target_list.entries.filter(tier="A", excluded=False, msp__isnull=False).values_list(
                        "msp_id", flat=True
                    )
                )
        profiles = profiles.filter(pk__in=msp_ids)
    if region:
        profiles = profiles.filter(region=region.upper())
    if service_line:
        profiles = profiles.filter(tag_index__contains=MSPProfile.tag("service_lines", service_line))
    if community:
        profiles = profiles.filter(community_member=True)
    # unscoped: shared (other tenants' rows this action needs by design)
    invited = EventInvitation.all_objects.filter(event=event, email=OuterRef("email"))
    return (
        contacts.filter(msp__in=profiles)
        .annotate(already_invited=Exists(invited))
        .order_by("msp__legal_name", "-is_primary", "name")
    )


def msp_invitations(*, user: User) -> QuerySet[EventInvitation]:
    """An MSP's invitations (the scope keeps them to its own), newest event first, with answers."""
    return (
        EventInvitation.objects.select_related("event", "rsvp", "event__host")
        .filter(msp_id=user.organisation_id)
        .order_by("-event__starts_at", "pk")
    )


@dataclass(frozen=True)
class MSPEventRow:
    """One event in an MSP member's portal: the invitation shown, whether it is theirs, who else is invited."""

    invitation: EventInvitation
    own: bool
    colleagues: tuple[str, ...]


def msp_event_rows(*, user: User) -> list[MSPEventRow]:
    """Each event once for an MSP member: their own invitation if they have one, else their MSP's first."""
    email = user.email.lower()
    by_event: dict[int, list[EventInvitation]] = {}
    for invitation in msp_invitations(user=user):
        by_event.setdefault(invitation.event_id, []).append(invitation)
    rows = []
    for invitations in by_event.values():
        shown = next((i for i in invitations if i.email.lower() == email), invitations[0])
        rows.append(
            MSPEventRow(
                invitation=shown,
                own=shown.email.lower() == email,
                colleagues=tuple(i.name for i in invitations if i.pk != shown.pk),
            )
        )
    return rows


def colleagues_invited(*, invitation: EventInvitation) -> list[str]:
    """Who else from the invitation's MSP is invited to the same event (the scope keeps it to that MSP)."""
    return list(
        EventInvitation.objects.filter(event_id=invitation.event_id, msp_id=invitation.msp_id)
        .exclude(pk=invitation.pk)
        .order_by("name", "pk")
        .values_list("name", flat=True)
    )


def open_events_for_msp(*, user: User) -> QuerySet[Event]:
    """Upcoming open events the MSP has not been invited to yet (community members only)."""
    if not is_community_member(user.organisation_id):
        return Event.objects.none()
    invited = EventInvitation.objects.filter(event=OuterRef("pk"), email=user.email.lower())
    return (
        Event.objects.filter(access=Event.Access.OPEN, ends_at__gt=timezone.now())
        .exclude(Exists(invited))
        .order_by("starts_at")
    )


def vendor_pitches(*, user: User) -> QuerySet[PitchSlot]:
    """The vendor's own pitch slots, newest first, with attendance and feedback counts."""
    return (
        PitchSlot.objects.select_related("event")
        .annotate(
            attended_count=Count(
                "event__rsvps", filter=Q(event__rsvps__attendance=RSVP.Attendance.ATTENDED), distinct=True
            ),
            going_count=Count("event__rsvps", filter=Q(event__rsvps__status=RSVP.Status.GOING), distinct=True),
            feedback_count=Count("feedback", distinct=True),
            interested_count=Count("feedback", filter=~Q(feedback__interest="not_now"), distinct=True),
        )
        .order_by("-event__starts_at", "order")
    )


def pitch_attendance(*, slot: PitchSlot) -> list[dict[str, Any]]:
    """Who attended a vendor's pitch and what each said about it (read across MSPs for the pitch's own vendor)."""
    feedback = {f.rsvp_id: f for f in PitchFeedback.objects.filter(pitch_slot=slot).select_related("opportunity")}
    rows = (
        # unscoped: shared (other tenants' rows this action needs by design)
        RSVP.all_objects.filter(event_id=slot.event_id, attendance=RSVP.Attendance.ATTENDED)
        .select_related("msp")
        .order_by("msp__name", "pk")
    )
    return [{"msp": r.msp.name, "feedback": feedback.get(r.pk)} for r in rows]


def pitches_needing_feedback(*, rsvp: RSVP) -> list[dict[str, Any]]:
    """The pitches of the session an attendee can rate, each with the feedback already given."""
    # unscoped: shared (other tenants' rows this action needs by design)
    given = {f.pitch_slot_id: f for f in PitchFeedback.all_objects.filter(rsvp=rsvp)}
    # unscoped: shared (other tenants' rows this action needs by design)
    slots = PitchSlot.all_objects.filter(event_id=rsvp.event_id).select_related("vendor").order_by("order")
    return [{"slot": s, "feedback": given.get(s.pk)} for s in slots]


def can_give_feedback(rsvp: RSVP | None) -> bool:
    return bool(rsvp is not None and rsvp.attended and rsvp.event.is_pitch and rsvp.event.starts_at <= timezone.now())


def pitch_of_event(*, event: Event, pitch_slot_id: str | int | None) -> PitchSlot | None:
    """One pitch of an event an invitee may rate (the lineup is shown to invitees; see ``public_pitch_lineup``)."""
    try:
        pk = int(pitch_slot_id or 0)
    except (TypeError, ValueError):
        return None
    # unscoped: shared (other tenants' rows this action needs by design)
    return PitchSlot.all_objects.filter(event=event, pk=pk).select_related("vendor").first()


def public_pitch_lineup(*, event: Event) -> list[PitchSlot]:
    """The pitch order shown to invitees (they see who pitches; the pitch slot rows stay vendor data)."""
    # unscoped: shared (other tenants' rows this action needs by design)
    return list(PitchSlot.all_objects.filter(event=event).select_related("vendor").order_by("order"))


# --- Links and calendars --------------------------------------------------------------------------


def rsvp_url(invitation: EventInvitation) -> str:
    """The absolute signed RSVP link of an invitation."""
    site: str = settings.SITE_URL
    return site + reverse("community:rsvp_link", args=[rsvp_token(invitation)])


def feedback_url(invitation: EventInvitation) -> str:
    """The absolute signed pitch-feedback link of an invitation (it outlives the RSVP link)."""
    site: str = settings.SITE_URL
    return site + reverse("community:feedback_link", args=[feedback_token(invitation)])


def _host() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "tmw.example"


def event_ics_item(
    *, event: Event, invitation: EventInvitation | None = None, cancelled: bool | None = None
) -> ics.Event:
    """One event as a calendar item in its own zone, with its host as organiser and the invitee as attendee.

    ``cancelled`` defaults to whether the event is cancelled; a cancelled item (the event, or
    the invitee's seat) has ``STATUS:CANCELLED``. The UID never changes and SEQUENCE is the
    event's, raised by every change of time or place and by cancelling.
    """
    if cancelled is None:
        cancelled = event.is_cancelled
    attendees: tuple[ics.Attendee, ...] = ()
    if invitation is not None:
        attendees = (
            ics.Attendee(
                email=invitation.email,
                name=invitation.name,
                partstat="DECLINED" if cancelled and not event.is_cancelled else "ACCEPTED",
                rsvp=False,
            ),
        )
    description = event.description
    if event.virtual_link:
        description = f"{description}\n\nJoin: {event.virtual_link}".strip()
    return ics.Event(
        uid=f"community-event-{event.pk}@{_host()}",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        summary=f"{event.title} ({event.get_kind_display()}, The MSP Works)",
        description=description,
        location=event.venue or event.virtual_link,
        url=event.virtual_link,
        organizer_email=event.host.email,
        organizer_name=event.host.get_full_name(),
        attendees=attendees,
        sequence=event.sequence + (1 if cancelled and not event.is_cancelled else 0),
        status="CANCELLED" if cancelled else "CONFIRMED",
        dtstamp=timezone.now(),
        time_zone=event.time_zone,
        alarm_before=datetime.timedelta(hours=1),
    )


def event_calendar(
    *, event: Event, invitation: EventInvitation | None = None, cancelled: bool = False, method: str | None = None
) -> str:
    """An event as an iCalendar file: REQUEST for an invitee (an invitation or its update), CANCEL when called off."""
    cancelled = cancelled or event.is_cancelled
    if method is None:
        method = "CANCEL" if cancelled else ("REQUEST" if invitation is not None else "PUBLISH")
    return ics.calendar([event_ics_item(event=event, invitation=invitation, cancelled=cancelled)], method=method)


def invitees_not_declined(*, event: Event) -> list[int]:
    """Invitations whose person has not said no (no answer yet, going or waitlisted): told of changes."""
    return list(
        # unscoped: shared (other tenants' rows this action needs by design)
        EventInvitation.all_objects.filter(event=event)
        .exclude(rsvp__status__in=[RSVP.Status.NOT_GOING, RSVP.Status.CANCELLED])
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def feed_items(user: User) -> list[ics.Event]:
    """A partner's calendar feed: the events they host, and those they are invited to and going to.

    Read in the partner's own scope (operators see every event); cancelled events stay in the
    feed as cancelled for a while, so subscribed calendars take them off.
    """
    since = timezone.now() - datetime.timedelta(days=90)
    hosted = list(Event.objects.filter(host=user, ends_at__gte=since).select_related("host"))
    seen = {e.pk for e in hosted}
    items = [event_ics_item(event=e) for e in hosted]
    invited = (
        EventInvitation.objects.filter(email__iexact=user.email, event__ends_at__gte=since)
        .exclude(event_id__in=seen)
        .select_related("event", "event__host", "rsvp")
    )
    for invitation in invited:
        rsvp = getattr(invitation, "rsvp", None)
        if rsvp is None or rsvp.status not in (RSVP.Status.GOING, RSVP.Status.WAITLISTED):
            continue
        items.append(event_ics_item(event=invitation.event, invitation=invitation))
    return items


# --- RSVP questions --------------------------------------------------------------------------------


def answers_by_invitation(*, event: Event) -> dict[int, list[tuple[EventQuestion, str]]]:
    """Each invitation's answers to the event's questions, in the questions' order (two queries)."""
    questions = list(EventQuestion.objects.filter(event=event).order_by("order", "pk"))
    if not questions:
        return {}
    values: dict[tuple[int, int], str] = {
        (invitation_id, question_id): value
        for invitation_id, question_id, value in RSVPAnswer.objects.filter(question__event=event).values_list(
            "rsvp__invitation_id", "question_id", "value"
        )
    }
    invitation_ids = {key[0] for key in values}
    return {i: [(q, values.get((i, q.pk), "")) for q in questions] for i in invitation_ids}


def guest_rows(*, event: Event) -> tuple[list[str], list[list[Any]]]:
    """The event's guest list for its CSV: one row per invitation, then one column per RSVP question."""
    questions = list(EventQuestion.objects.filter(event=event).order_by("order", "pk"))
    answers = answers_by_invitation(event=event)
    header = ["Name", "Email", "MSP", "Answer", "Waitlist position", "Dietary needs", "Attendance", "Answered at"]
    header += [q.label for q in questions]
    rows: list[list[Any]] = []
    invitations = (
        EventInvitation.objects.filter(event=event).select_related("msp", "rsvp").order_by("msp__name", "name", "pk")
    )
    for invitation in invitations:
        rsvp = getattr(invitation, "rsvp", None)
        given = {q.pk: v for q, v in answers.get(invitation.pk, [])}
        rows.append(
            [
                invitation.name,
                invitation.email,
                invitation.msp.name,
                rsvp.get_status_display() if rsvp else "No answer yet",
                rsvp.waitlist_position if rsvp and rsvp.waitlist_position else "",
                rsvp.dietary if rsvp else "",
                rsvp.get_attendance_display() if rsvp else "",
                rsvp.responded_at.astimezone(datetime.UTC).isoformat(timespec="minutes") if rsvp else "",
                *(given.get(q.pk, "") for q in questions),
            ]
        )
    return header, rows


def question_answer_counts(*, question: EventQuestion) -> dict[str, int]:
    """How many invitees gave each answer to a question, by value (one query; their sum is how many answered)."""
    rows = (
        RSVPAnswer.objects.filter(question=question)
        .exclude(value="")
        .values_list("value")
        .annotate(n=Count("pk"))
        .order_by("value")
    )
    return dict(rows)
