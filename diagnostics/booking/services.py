"""Business actions on availability and channel-review bookings; one transaction each."""

from __future__ import annotations

import datetime
import zoneinfo
from email.mime.text import MIMEText
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tmw import ics
from tmw.accounts import policy
from tmw.accounts.models import Role, User
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit
from tmw.webhooks import services as webhooks

from .models import AvailabilityWindow, BlackoutDate, Booking
from .selectors import SLOT, free_slots, is_closed_day

MAX_BOOKINGS_PER_EMAIL_PER_DAY = 3
LINK_SALT = "diagnostics.booking.manage"
LINK_MAX_AGE = datetime.timedelta(days=90)
RESCHEDULE_SALT = "diagnostics.booking.reschedule"
FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "gmx.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mail.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
        "yandex.com",
        "zoho.com",
    }
)
SLOT_TAKEN = "That slot was just taken. Pick another time."
FIELD_ERRORS = "Please correct the highlighted fields."


def _validation_error(exc: ValidationError) -> ApplicationError:
    extra = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ApplicationError(FIELD_ERRORS, extra=extra)


# --- Availability ------------------------------------------------------------------------------


def _takes_reviews(partner: User) -> None:
    """Only TMW partners take channel reviews (a fact about the partner, not a permission of the actor)."""
    if partner.role != Role.PARTNER:
        raise ApplicationError("Only TMW partners take channel reviews.", extra={"partner": ["Pick a partner."]})


def _require_availability(actor: Actor, partner: User) -> None:
    """The policy: partners change their own availability, admins anyone's."""
    policy.require(actor, "availability.manage")
    if not policy.may_edit_availability(actor, partner):
        raise ApplicationError("You may change only your own availability.", status=403)


@transaction.atomic
def availability_window_add(
    *,
    partner: User,
    actor: Actor,
    weekday: int,
    start_time: datetime.time,
    end_time: datetime.time,
    active: bool = True,
) -> AvailabilityWindow:
    """Publish a weekly window in which a partner takes reviews; windows of one day may not overlap."""
    _require_availability(actor, partner)
    _takes_reviews(partner)
    User.objects.select_for_update().filter(pk=partner.pk).first()
    window = AvailabilityWindow(
        partner=partner, weekday=weekday, start_time=start_time, end_time=end_time, active=active
    )
    try:
        window.full_clean()
    except ValidationError as exc:
        raise _validation_error(exc) from exc
    overlapping = AvailabilityWindow.objects.filter(
        partner=partner, weekday=weekday, start_time__lt=end_time, end_time__gt=start_time
    )
    if overlapping.exists():
        raise ApplicationError(
            "This window overlaps another one on the same day.", extra={"start_time": ["Overlaps another window."]}
        )
    window.save()
    audit_record(actor=actor, verb="availability.added", obj=window, data={"partner": partner.pk})
    return window


@transaction.atomic
def availability_window_update(*, window: AvailabilityWindow, actor: Actor, **changes: Any) -> AvailabilityWindow:
    """Change a window's day, times or whether it is active."""
    policy.require(actor, "availability.manage")
    window = AvailabilityWindow.objects.select_for_update().get(pk=window.pk)
    _require_availability(actor, window.partner)
    for name in ("weekday", "start_time", "end_time", "active"):
        if name in changes:
            setattr(window, name, changes[name])
    try:
        window.full_clean()
    except ValidationError as exc:
        raise _validation_error(exc) from exc
    overlapping = AvailabilityWindow.objects.filter(
        partner_id=window.partner_id,
        weekday=window.weekday,
        start_time__lt=window.end_time,
        end_time__gt=window.start_time,
    ).exclude(pk=window.pk)
    if overlapping.exists():
        raise ApplicationError(
            "This window overlaps another one on the same day.", extra={"start_time": ["Overlaps another window."]}
        )
    window.save()
    audit_record(actor=actor, verb="availability.changed", obj=window)
    return window


@transaction.atomic
def availability_window_remove(*, window: AvailabilityWindow, actor: Actor) -> None:
    """Withdraw a weekly window; reviews already booked in it stay booked."""
    _require_availability(actor, window.partner)
    audit_record(actor=actor, verb="availability.removed", obj=window, data={"partner": window.partner_id})
    window.delete()


@transaction.atomic
def blackout_date_add(*, partner: User, actor: Actor, date: datetime.date, reason: str = "") -> BlackoutDate:
    """Block one day: the partner takes no new reviews on it."""
    _require_availability(actor, partner)
    _takes_reviews(partner)
    blackout, created = BlackoutDate.objects.get_or_create(
        partner=partner, date=date, defaults={"reason": reason.strip()}
    )
    if not created and blackout.opened:  # an opened holiday, blocked again
        blackout.opened = False
        blackout.reason = reason.strip()
        blackout.save(update_fields=["opened", "reason"])
    audit_record(actor=actor, verb="availability.blackout_added", obj=blackout, data={"partner": partner.pk})
    return blackout


@transaction.atomic
def closed_day_open(*, partner: User, actor: Actor, date: datetime.date) -> BlackoutDate:
    """Open a public holiday or TMW closure for reviews: the partner takes bookings on it after all."""
    _require_availability(actor, partner)
    _takes_reviews(partner)
    name = is_closed_day(partner=partner, day=date)
    if name is None:
        message = f"Date: {date:%b %d, %Y} is not a holiday or TMW closure; it is open already."
        raise ApplicationError(message, extra={"date": [message]})
    if date < timezone.localdate():
        message = "Date: pick today or a later day."
        raise ApplicationError(message, extra={"date": [message]})
    mark, _ = BlackoutDate.objects.update_or_create(
        partner=partner, date=date, defaults={"opened": True, "reason": name[:120]}
    )
    audit_record(
        actor=actor,
        verb="availability.holiday_opened",
        obj=mark,
        data={"partner": partner.pk, "date": date.isoformat(), "holiday": name},
    )
    return mark


@transaction.atomic
def blackout_date_remove(*, blackout: BlackoutDate, actor: Actor) -> None:
    """Open a blocked day again, or close again a holiday the partner had opened."""
    _require_availability(actor, blackout.partner)
    verb = "availability.holiday_closed" if blackout.opened else "availability.blackout_removed"
    audit_record(actor=actor, verb=verb, obj=blackout)
    blackout.delete()


# --- Bookings --------------------------------------------------------------------------------------


def booking_token(booking: Booking) -> str:
    """The signed, password-free token of a prospect's link to view or cancel their booking."""
    return signing.dumps({"b": booking.pk, "e": booking.email.lower()}, salt=LINK_SALT)


def booking_for_token(token: str, *, max_age: datetime.timedelta = LINK_MAX_AGE) -> Booking | None:
    """The booking a signed link names, or None when the link is tampered with, expired or stale."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict):
        return None
    pk = data.get("b")
    if not isinstance(pk, int):
        return None
    booking = Booking.objects.select_related("partner", "vendor").filter(pk=pk).first()
    if booking is None or booking.email.lower() != data.get("e"):
        return None
    return booking


def booking_manage_url(booking: Booking) -> str:
    return str(settings.SITE_URL) + reverse("booking:manage", args=[booking_token(booking)])


def reschedule_token(booking: Booking) -> str:
    """The signed, password-free token of a prospect's link to move their booking to another free slot."""
    return signing.dumps({"b": booking.pk, "e": booking.email.lower()}, salt=RESCHEDULE_SALT)


def booking_for_reschedule_token(token: str, *, max_age: datetime.timedelta = LINK_MAX_AGE) -> Booking | None:
    """The booking a signed reschedule link names, or None when the link is tampered with or expired."""
    try:
        data = signing.loads(token, salt=RESCHEDULE_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("b"), int):
        return None
    booking = Booking.objects.select_related("partner").filter(pk=data["b"]).first()
    if booking is None or booking.email.lower() != data.get("e"):
        return None
    return booking


def booking_reschedule_url(booking: Booking) -> str:
    return str(settings.SITE_URL) + reverse("booking:reschedule", args=[reschedule_token(booking)])


def reschedule_problem(booking: Booking, *, now: datetime.datetime | None = None) -> str | None:
    """Why a booking can no longer be moved (cancelled, converted, started or past), or None when it can."""
    now = now or timezone.now()
    if booking.status == Booking.Status.CANCELLED:
        return "This review was cancelled, so it cannot be rescheduled. Book a new time instead."
    if booking.status != Booking.Status.CONFIRMED:
        return f"This review is {booking.get_status_display().lower()}; it can no longer be rescheduled here."
    if booking.starts_at <= now:
        return "This review has already taken place (or started), so it cannot be rescheduled."
    return None


def _one_line(value: str) -> str:
    """A single-line value: no line breaks (they would break email headers and calendar lines), no runs of spaces."""
    return " ".join(value.split())


def work_email_problem(email: str) -> str | None:
    """Why an address is not a work email, or None when it looks like one."""
    domain = email.rsplit("@", 1)[-1].lower()
    if domain in FREE_MAIL_DOMAINS:
        return "Use your work email address, not a personal one."
    return None


@transaction.atomic
def booking_create(
    *,
    actor: Actor,
    partner: User,
    starts_at: datetime.datetime,
    company: str,
    website: str,
    contact_name: str,
    email: str,
    phone: str,
    role: str,
    sells: str,
    has_us_sales: bool = False,
    has_us_marketing: bool = False,
    has_us_channel: bool = False,
    notes: str = "",
    time_zone: str = "America/New_York",
    now: datetime.datetime | None = None,
) -> Booking:
    """Book a free slot for a prospect, never twice: the partner row is locked and a constraint backs it up.

    ``actor`` is the visitor on the public booking page (``policy.VISITOR``).
    """
    policy.require(actor, "booking.create", "book a channel review")
    now = now or timezone.now()
    email = email.strip().lower()
    problem = work_email_problem(email)
    if problem:
        raise ApplicationError(problem, extra={"email": [problem]})
    since = now - datetime.timedelta(days=1)
    if Booking.objects.filter(email=email, created_at__gte=since).count() >= MAX_BOOKINGS_PER_EMAIL_PER_DAY:
        raise ApplicationError(
            "You have booked several reviews today already. Reply to a confirmation email and we will help.",
            status=429,
        )
    # Serialise bookings per partner: the second of two simultaneous requests waits here, then sees the first.
    locked = User.objects.select_for_update().filter(pk=partner.pk, role=Role.PARTNER, is_active=True).first()
    if locked is None:
        raise ApplicationError("This partner no longer takes reviews. Pick another time.", extra={"slot": [SLOT_TAKEN]})
    if starts_at <= now:
        raise ApplicationError("That time has passed. Pick another.", extra={"slot": ["That time has passed."]})
    if not any(s.starts_at == starts_at for s in free_slots(now=now, partner=locked)):
        raise ApplicationError(SLOT_TAKEN, extra={"slot": [SLOT_TAKEN]}, status=409)
    booking = Booking(
        partner=locked,
        starts_at=starts_at,
        ends_at=starts_at + SLOT,
        company=_one_line(company),
        website=website.strip(),
        contact_name=_one_line(contact_name),
        email=email,
        phone=_one_line(phone),
        role=_one_line(role),
        sells=sells.strip(),
        has_us_sales=has_us_sales,
        has_us_marketing=has_us_marketing,
        has_us_channel=has_us_channel,
        notes=notes.strip(),
        time_zone=time_zone,
    )
    try:
        # The unique constraint is checked by the database below, where it cannot race.
        booking.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise _validation_error(exc) from exc
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as exc:
        raise ApplicationError(SLOT_TAKEN, extra={"slot": [SLOT_TAKEN]}, status=409) from exc
    audit_record(actor=actor, verb="booking.created", obj=booking, data={"partner": locked.pk, "email": email})
    enqueue_on_commit("booking.send_booking_emails", booking.pk, "confirmed")
    _publish_created(booking)
    return booking


def _publish_created(booking: Booking) -> None:
    """Tell the webhook endpoints of a new channel-review booking: the key fields of its API representation."""
    data = {
        "booking": {
            "id": booking.pk,
            "partner": booking.partner_id,
            "partner_name": booking.partner.get_full_name(),
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
            "status": booking.status,
            "time_zone": booking.time_zone,
            "company": booking.company,
            "website": booking.website,
            "contact_name": booking.contact_name,
            "email": booking.email,
            "role": booking.role,
            "has_us_sales": booking.has_us_sales,
            "has_us_marketing": booking.has_us_marketing,
            "has_us_channel": booking.has_us_channel,
        }
    }
    webhooks.publish("booking.created", payload=data)


@transaction.atomic
def booking_cancel(*, booking: Booking, actor: Actor) -> Booking:
    """Cancel a confirmed review and free its slot; the prospect and the partner are told by email.

    A partner cancels with ``booking.manage``; the prospect, through the signed link in their
    email, as ``policy.VISITOR`` with ``booking.manage_own`` (and only before the review starts).
    """
    by_prospect = policy.can(actor, "booking.manage_own")
    policy.require(actor, "booking.manage_own" if by_prospect else "booking.manage", "cancel bookings")
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != Booking.Status.CONFIRMED:
        raise ApplicationError(f"This booking is {booking.get_status_display().lower()}.", status=409)
    if by_prospect and booking.starts_at <= timezone.now():
        raise ApplicationError("This review has already started; it can no longer be cancelled here.", status=409)
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.cancelled_by_prospect = by_prospect
    booking.sequence += 1
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by_prospect", "sequence"])
    audit_record(actor=actor, verb="booking.cancelled", obj=booking, data={"by_prospect": by_prospect})
    enqueue_on_commit("booking.send_booking_emails", booking.pk, "cancelled")
    return booking


@transaction.atomic
def booking_reschedule(
    *, booking: Booking, starts_at: datetime.datetime, actor: Actor, now: datetime.datetime | None = None
) -> Booking:
    """Move a confirmed, upcoming review to another free slot of the same partner; the old slot is freed.

    The partner row is locked (as when booking), so two moves or a move and a new booking onto
    one slot run one at a time, and the unique constraint backs it up. The booking keeps its
    UID; SEQUENCE goes up by one, and the prospect gets the updated invitation, the partner a note.
    """
    policy.require(actor, "booking.reschedule_own", "reschedule bookings")
    now = now or timezone.now()
    locked_partner = User.objects.select_for_update().filter(pk=booking.partner_id, is_active=True).first()
    booking = Booking.objects.select_for_update().select_related("partner").get(pk=booking.pk)
    problem = reschedule_problem(booking, now=now)
    if problem:
        raise ApplicationError(problem, extra={"booking": [problem]}, status=409)
    if locked_partner is None or locked_partner.role != Role.PARTNER:
        message = "Your partner no longer takes reviews here. Reply to your confirmation email and we will help."
        raise ApplicationError(message, extra={"slot": [message]}, status=409)
    if starts_at == booking.starts_at:
        message = "Slot: that is the time you already have. Pick another."
        raise ApplicationError(message, extra={"slot": [message]})
    if starts_at <= now:
        raise ApplicationError("That time has passed. Pick another.", extra={"slot": ["That time has passed."]})
    if not any(s.starts_at == starts_at for s in free_slots(now=now, partner=locked_partner)):
        raise ApplicationError(SLOT_TAKEN, extra={"slot": [SLOT_TAKEN]}, status=409)
    previous = booking.starts_at
    booking.previous_starts_at = previous
    booking.starts_at = starts_at
    booking.ends_at = starts_at + SLOT
    booking.sequence += 1
    booking.rescheduled_at = now
    try:
        with transaction.atomic():
            booking.save(update_fields=["previous_starts_at", "starts_at", "ends_at", "sequence", "rescheduled_at"])
    except IntegrityError as exc:
        raise ApplicationError(SLOT_TAKEN, extra={"slot": [SLOT_TAKEN]}, status=409) from exc
    audit_record(
        actor=actor,
        verb="booking.rescheduled",
        obj=booking,
        data={"from": previous.isoformat(), "to": starts_at.isoformat(), "sequence": booking.sequence},
    )
    enqueue_on_commit("booking.send_booking_emails", booking.pk, "rescheduled")
    return booking


@transaction.atomic
def booking_convert(
    *,
    booking: Booking,
    actor: Actor,
    name: str,
    website: str,
    category: str,
    city: str,
    region: str,
    country: str,
    lead_partner: User,
) -> Booking:
    """Turn a booking into a vendor (``vendor_create``: the organisation and an invitation for the contact) with a
    draft diagnostic."""
    from diagnostics.services import diagnostic_start
    from tmw.accounts.services import vendor_create

    policy.require(actor, "booking.manage", "convert bookings")
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != Booking.Status.CONFIRMED:
        raise ApplicationError(
            f"Only a confirmed booking can become a vendor; this one is {booking.get_status_display().lower()}.",
            status=409,
        )
    name = _one_line(name)
    # Partners may know this (they see every user); it keeps the contact from being invited into a second company.
    if User.objects.filter(email__iexact=booking.email).exists():
        message = f"{booking.email} already has an account; a vendor's first admin must be a new user."
        raise ApplicationError("A user with this email address already exists.", extra={"email": [message]})
    vendor, _ = vendor_create(
        actor=actor,
        name=name,
        website=website,
        category=category,
        city=city,
        region=region,
        country=country,
        admin_email=booking.email,
    )
    diagnostic = diagnostic_start(vendor=vendor, lead_partner=lead_partner, actor=actor)
    us_fields = ("has_us_sales", "has_us_marketing", "has_us_channel")
    if all(hasattr(diagnostic, f) for f in us_fields):
        for f in us_fields:
            setattr(diagnostic, f, getattr(booking, f))
        diagnostic.save(update_fields=list(us_fields))
    booking.status = Booking.Status.CONVERTED
    booking.vendor = vendor
    booking.converted_at = timezone.now()
    booking.save(update_fields=["status", "vendor", "converted_at"])
    audit_record(actor=actor, verb="booking.converted", obj=booking, organisation=vendor)
    return booking


# --- Emails ---------------------------------------------------------------------------------------


def booking_ics_item(booking: Booking, *, time_zone: str | None = None) -> ics.Event:
    """The booking as one calendar item (same UID for its whole life; SEQUENCE raised by each change)."""
    cancelled = booking.is_cancelled
    return ics.Event(
        uid=f"booking-{booking.pk}@{_host()}",
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        summary=f"Channel review: {booking.company} with {booking.partner.get_full_name()} (The MSP Works)",
        description=(
            f"A 45-minute channel review with {booking.partner.get_full_name()} of The MSP Works.\n"
            f"Company: {booking.company} ({booking.website})\n"
            f"Contact: {booking.contact_name}, {booking.role}, {booking.phone}\n"
            f"View, reschedule or cancel: {booking_manage_url(booking)}"
        ),
        location="Video call: the link follows from your partner",
        organizer_email=booking.partner.email,
        organizer_name=booking.partner.get_full_name(),
        attendees=(ics.Attendee(email=booking.email, name=booking.contact_name),),
        sequence=booking.sequence,
        status="CANCELLED" if cancelled else "CONFIRMED",
        dtstamp=timezone.now(),
        time_zone=time_zone or booking.time_zone,
        alarm_before=datetime.timedelta(minutes=15),
    )


def booking_calendar(booking: Booking, *, method: str = "REQUEST") -> str:
    """The booking as an iCalendar invitation (REQUEST, also after a reschedule) or cancellation (CANCEL)."""
    return ics.calendar([booking_ics_item(booking)], method=method)


def _host() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "tmw.example"


def _calendar_part(booking: Booking, method: str) -> MIMEText:
    part = MIMEText(booking_calendar(booking, method=method), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="channel-review.ics")
    return part


def _local(booking: Booking, tz_name: str) -> datetime.datetime:
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return booking.starts_at.astimezone(tz)


def _local_moment(moment: datetime.datetime, tz_name: str) -> datetime.datetime:
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return moment.astimezone(tz)


def booking_emails_send(*, booking: Booking, kind: str, actor: Actor) -> str:
    """Email the prospect and the partner about a booking just confirmed, rescheduled or cancelled (the worker's job).

    Each gets the .ics: REQUEST (same UID; after a reschedule a higher SEQUENCE) or CANCEL.
    """
    policy.require(actor, "booking.notify", "send booking emails")
    method = "CANCEL" if kind == "cancelled" else "REQUEST"
    for audience, to, tz_name in (
        ("prospect", booking.email, booking.time_zone),
        ("partner", booking.partner.email, booking.partner.time_zone),
    ):
        context = {
            "booking": booking,
            "audience": audience,
            "kind": kind,
            "local_start": _local(booking, tz_name),
            "local_end": _local(booking, tz_name) + SLOT,
            "tz_name": tz_name,
            "manage_url": booking_manage_url(booking),
            "reschedule_url": booking_reschedule_url(booking),
            "previous_start": _local_moment(booking.previous_starts_at, tz_name)
            if booking.previous_starts_at
            else None,
            "book_url": settings.SITE_URL + reverse("booking:book"),
            "detail_url": settings.SITE_URL + reverse("booking:booking_detail", args=[booking.pk]),
        }
        if kind == "cancelled":
            subject = f"Cancelled: channel review with {booking.partner.get_full_name()}"
        elif kind == "rescheduled" and audience == "prospect":
            subject = f"Rescheduled: your channel review with {booking.partner.get_full_name()} of The MSP Works"
        elif kind == "rescheduled":
            subject = f"Rescheduled channel review: {booking.company} ({booking.contact_name})"
        elif audience == "prospect":
            subject = f"Confirmed: your channel review with {booking.partner.get_full_name()} of The MSP Works"
        else:
            subject = f"New channel review: {booking.company} ({booking.contact_name})"
        with timezone.override(context["local_start"].tzinfo):
            text = render_to_string("booking/email/booking.txt", context)
            html = render_to_string("booking/email/booking.html", context)
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            to=[to],
            reply_to=[booking.partner.email] if audience == "prospect" else [booking.email],
        )
        message.attach_alternative(html, "text/html")
        message.attach(_calendar_part(booking, method))
        message.send()
    return kind
