"""The public channel-review booking page, the prospect's signed link, and the partners' booking pages."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from diagnostics.models import Diagnostic
from diagnostics.params import bad_filter_page, bounded_int
from tmw.accounts import policy
from tmw.accounts.models import Role, User
from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError

from . import selectors, services
from .forms import (
    AvailabilityWindowForm,
    BlackoutDateForm,
    BookingFilterForm,
    BookingForm,
    ClosedDayOpenForm,
    ConvertForm,
    RescheduleForm,
)
from .models import AvailabilityWindow, BlackoutDate, Booking

IP_LIMIT_PER_HOUR = 20
REVIEW_COVERS = [
    ("Fit with the MSP's stack", "How your product sits next to the PSA and RMM tools MSPs run every day."),
    ("Margin and pricing", "Whether an MSP can resell you per seat, per month, with room left for them."),
    ("Channel readiness", "Your US sales, marketing and channel teams, partner program and references."),
    ("Where to start", "Which MSPs to talk to first, and whether a Phase One diagnostic makes sense."),
]


def _apply_error(form, exc: ApplicationError) -> None:
    """Show a business error on the form: field messages by their fields, the summary on top."""
    placed: list[str] = []
    for field, errors in exc.extra.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
            placed.append(str(error))
    if exc.message not in placed and not (placed and exc.message == services.FIELD_ERRORS):
        form.add_error(None, exc.message)


def ip_throttle_key(ip: str) -> str:
    """The cache key counting one address's booking attempts this hour."""
    return f"booking:attempts:{ip}"


def _ip_throttled(request) -> bool:
    key = ip_throttle_key(request.META.get("REMOTE_ADDR", ""))
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        return False
    return count > IP_LIMIT_PER_HOUR


def _parse_day(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


# --- Public ---------------------------------------------------------------------------------------


def book(request):
    """Public: pick a day and a free slot in your time zone, tell us about your company, get a confirmation."""
    source = request.POST if request.method == "POST" else request.GET
    raw_tz = (source.get("tz") or "").strip()
    tz = selectors.zone_or_default(raw_tz)
    # A page opened without a zone lets the browser pick its own (static/js/book.js); a bad one is refused.
    tz_error = selectors.unknown_zone_message(raw_tz) if raw_tz and not selectors.is_offered_zone(raw_tz) else ""
    slots = selectors.free_slots()
    days = selectors.slots_by_day(slots, tz)
    day = _parse_day(source.get("day"))
    if day not in days:
        day = next(iter(days), None)
    form = BookingForm(request.POST or None, initial={"tz": tz.key})
    status = 400 if tz_error and request.method == "GET" else 200
    if request.method == "POST":
        if _ip_throttled(request):
            form.add_error(None, "Too many booking attempts from your network. Try again in an hour.")
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            partner_id, starts_at = data["slot"]
            partner = selectors.bookable_partners().filter(pk=partner_id).first()
            try:
                if partner is None:
                    raise ApplicationError(services.SLOT_TAKEN, extra={"slot": [services.SLOT_TAKEN]}, status=409)
                booking = services.booking_create(
                    actor=policy.VISITOR,
                    partner=partner,
                    starts_at=starts_at,
                    time_zone=tz.key,
                    **{k: data[k] for k in data if k not in ("slot", "tz")},
                )
            except ApplicationError as exc:
                _apply_error(form, exc)
                status = exc.status if exc.status in (409, 429) else 400
                slots = selectors.free_slots()
                days = selectors.slots_by_day(slots, tz)
                if day not in days:
                    day = next(iter(days), None)
            else:
                return redirect("booking:confirmation", token=services.booking_token(booking))
        else:
            status = 400
    chosen = request.POST.get("slot", "") if request.method == "POST" else ""
    context = {
        "form": form,
        "tz": tz.key,
        "tz_error": tz_error,
        "detect_tz": request.method == "GET" and not raw_tz,
        "days": [(d, len(s)) for d, s in days.items()],
        "day": day,
        "day_slots": days.get(day, []) if day is not None else [],
        "chosen": chosen,
        "covers": REVIEW_COVERS,
        "partners": sorted({s.partner_name for s in slots}),
        "picker_url": reverse("booking:book"),
    }
    if request.htmx and not request.htmx.boosted and request.method == "GET":
        return render(request, "booking/partials/slot_picker.html", context, status=status)
    return render(request, "booking/book.html", context, status=status)


def _booking_from_token(token: str) -> Booking:
    booking = services.booking_for_token(token)
    if booking is None:
        raise Http404("This link is not valid or has expired.")
    return booking


def _manage_page(request, token: str, *, just_booked: bool = False, status: int = 200):
    booking = services.booking_for_token(token)
    if booking is None:
        return render(request, "booking/link_invalid.html", status=404)
    context = {
        "booking": booking,
        "token": token,
        "tz": selectors.zone_or_default(booking.time_zone).key,
        "just_booked": just_booked,
        "can_cancel": booking.status == Booking.Status.CONFIRMED and booking.starts_at > timezone.now(),
        "reschedule_token": services.reschedule_token(booking),
    }
    return render(request, "booking/manage.html", context, status=status)


def confirmation(request, token: str):
    """Public: the page a prospect lands on right after booking."""
    return _manage_page(request, token, just_booked=True)


def manage(request, token: str):
    """Public, through the signed link in the confirmation email: view, download the invitation, cancel."""
    return _manage_page(request, token)


@require_POST
def manage_cancel(request, token: str):
    """Public: the prospect cancels through their signed link."""
    booking = services.booking_for_token(token)
    if booking is None:
        return render(request, "booking/link_invalid.html", status=404)
    try:
        services.booking_cancel(booking=booking, actor=policy.VISITOR)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your review is cancelled. We have told your partner.")
    return redirect("booking:manage", token=token)


def _ics_response(booking: Booking) -> HttpResponse:
    method = "CANCEL" if booking.is_cancelled else "REQUEST"
    response = HttpResponse(
        services.booking_calendar(booking, method=method), content_type=f"text/calendar; method={method}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="channel-review-{booking.pk}.ics"'
    return response


def manage_ics(request, token: str):
    """Public: the booking as an .ics file, through the signed link."""
    return _ics_response(_booking_from_token(token))


def reschedule(request, token: str):
    """Public, through the signed link in the confirmation email: pick another free slot with the same partner.

    The slots are the /book/ page's, for the booking's partner, in the visitor's zone (the one
    their browser picked when booking; the same zone select as on /book/ changes it). The move
    frees the old slot, sends the prospect the updated invitation and tells the partner.
    """
    booking = services.booking_for_reschedule_token(token)
    if booking is None:
        return render(request, "booking/link_invalid.html", status=404)
    source = request.POST if request.method == "POST" else request.GET
    raw_tz = (source.get("tz") or "").strip()
    tz = selectors.zone_or_default(raw_tz or booking.time_zone)
    tz_error = selectors.unknown_zone_message(raw_tz) if raw_tz and not selectors.is_offered_zone(raw_tz) else ""
    problem = services.reschedule_problem(booking)
    form = RescheduleForm(request.POST or None, initial={"tz": tz.key})
    status = 410 if problem else (400 if tz_error else 200)
    if request.method == "POST" and not problem:
        if _ip_throttled(request):
            form.add_error(None, "Too many attempts from your network. Try again in an hour.")
            status = 429
        elif form.is_valid():
            partner_id, starts_at = form.cleaned_data["slot"]
            try:
                if partner_id != booking.partner_id:
                    message = "Slot: that time is with another partner. Pick one of the times shown."
                    raise ApplicationError(message, extra={"slot": [message]})
                services.booking_reschedule(booking=booking, starts_at=starts_at, actor=policy.VISITOR)
            except ApplicationError as exc:
                _apply_error(form, exc)
                status = exc.status if exc.status in (409, 429) else 400
                booking.refresh_from_db()
                problem = services.reschedule_problem(booking)
            else:
                messages.success(
                    request, "Your review is moved. The updated invitation is on its way, and your partner knows."
                )
                return redirect("booking:manage", token=services.booking_token(booking))
        else:
            status = 400
    slots = [] if problem else selectors.free_slots(partner=booking.partner)
    slots = [s for s in slots if s.starts_at != booking.starts_at]
    days = selectors.slots_by_day(slots, tz)
    day = _parse_day(source.get("day"))
    if day not in days:
        day = next(iter(days), None)
    context = {
        "booking": booking,
        "token": token,
        "manage_token": services.booking_token(booking),
        "problem": problem,
        "form": form,
        "tz": tz.key,
        "tz_error": tz_error,
        # The booking carries the zone the visitor's browser picked on /book/: the page opens in it.
        "detect_tz": False,
        "days": [(d, len(s)) for d, s in days.items()],
        "day": day,
        "day_slots": days.get(day, []) if day is not None else [],
        "chosen": request.POST.get("slot", "") if request.method == "POST" else "",
        "picker_url": reverse("booking:reschedule", args=[token]),
        "same_partner": True,
    }
    if request.htmx and not request.htmx.boosted and request.method == "GET" and not problem:
        return render(request, "booking/partials/slot_picker.html", context, status=status)
    return render(request, "booking/reschedule.html", context, status=status)


# --- Partners -------------------------------------------------------------------------------------


@allow(GET="booking.view")
def booking_list(request):
    """Every channel-review booking, upcoming or past, filtered by status, partner and search."""
    partners = list(User.objects.filter(role=Role.PARTNER).order_by("full_name"))
    data = request.GET.copy()
    data.setdefault("when", "upcoming")
    filters = BookingFilterForm(data, partners=partners)
    status = 200 if filters.is_valid() else 400  # an unknown partner or status: the form says which field
    cleaned = {k: v for k, v in getattr(filters, "cleaned_data", {}).items() if v}
    bookings = selectors.booking_list(
        status=cleaned.get("status", ""),
        when=cleaned.get("when", "upcoming"),
        partner=cleaned.get("partner"),
        q=cleaned.get("q", ""),
    )
    page = Paginator(bookings, 50).get_page(request.GET.get("page"))
    context = {"filters": filters, "page": page, "bookings": page.object_list, "when": cleaned.get("when", "upcoming")}
    if request.htmx and not request.htmx.boosted:
        return render(request, "booking/partials/booking_table.html", context, status=status)
    return render(request, "booking/booking_list.html", context, status=status)


@allow(GET="booking.view")
def booking_detail(request, booking_pk: int):
    """One booking: what the prospect told us, and the actions on it."""
    booking = get_object_or_404(Booking.objects.select_related("partner", "vendor"), pk=booking_pk)
    diagnostic = None
    if booking.vendor_id:
        diagnostic = Diagnostic.objects.filter(vendor_id=booking.vendor_id).order_by("-pk").first()
    return render(
        request,
        "booking/booking_detail.html",
        {
            "booking": booking,
            "diagnostic": diagnostic,
            "prospect_tz": selectors.zone_or_default(booking.time_zone).key,
        },
    )


@allow("booking.manage")
@require_POST
def booking_cancel(request, booking_pk: int):
    """A partner cancels a confirmed booking; both sides get an email."""
    booking = get_object_or_404(Booking, pk=booking_pk)
    try:
        services.booking_cancel(booking=booking, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The review with {booking.company} is cancelled.")
    return redirect("booking:booking_detail", booking_pk=booking.pk)


@allow(GET="booking.view")
def booking_ics(request, booking_pk: int):
    """The booking as an .ics file, for the partner's calendar."""
    return _ics_response(get_object_or_404(Booking.objects.select_related("partner"), pk=booking_pk))


@allow("booking.manage")
def booking_convert(request, booking_pk: int):
    """Turn a booking into a vendor with a draft diagnostic, and invite the contact as the vendor's admin."""
    booking = get_object_or_404(Booking.objects.select_related("partner", "vendor"), pk=booking_pk)
    if booking.status != Booking.Status.CONFIRMED:
        messages.error(request, f"This booking is {booking.get_status_display().lower()}; it cannot be converted.")
        return redirect("booking:booking_detail", booking_pk=booking.pk)
    form = ConvertForm(request.POST or None, initial=ConvertForm.initial_for(booking))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.booking_convert(booking=booking, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                _apply_error(form, exc)
                status = exc.status if exc.status in (403, 409) else 400
            else:
                messages.success(
                    request,
                    f"{form.cleaned_data['name']} is now a vendor with a draft diagnostic; "
                    f"{booking.email} is invited as its admin.",
                )
                return redirect("booking:booking_detail", booking_pk=booking.pk)
        else:
            status = 400
    return render(request, "booking/booking_convert.html", {"booking": booking, "form": form}, status=status)


def _availability_partner(request) -> User | None:
    """The partner whose availability the page shows: your own, or (an admin) the one ``?partner=`` names."""
    if not policy.may_edit_others_availability(request.user):
        return request.user
    wanted = bounded_int(request.GET, "partner") or bounded_int(request.POST, "partner")
    partners = User.objects.filter(role=Role.PARTNER, is_active=True).order_by("full_name")
    if wanted is not None:
        return partners.filter(pk=wanted).first()
    return partners.first()


def _availability_context(request, partner: User | None, **extra) -> dict:
    context = {
        "partner": partner,
        "window_form": AvailabilityWindowForm(),
        "blackout_form": BlackoutDateForm(),
        "partners": list(User.objects.filter(role=Role.PARTNER, is_active=True).order_by("full_name"))
        if policy.may_edit_others_availability(request.user)
        else [],
        **extra,
    }
    if partner is not None:
        windows = list(AvailabilityWindow.objects.filter(partner=partner).order_by("weekday", "start_time"))
        context["days"] = [
            (label, [w for w in windows if w.weekday == value]) for value, label in AvailabilityWindow.Weekday.choices
        ]
        marks = list(BlackoutDate.objects.filter(partner=partner, date__gte=timezone.localdate()).order_by("date"))
        context["blackouts"] = [m for m in marks if not m.opened]
        context["closed_days"] = selectors.partner_closed_days(partner=partner, marks=marks)
        context["upcoming"] = selectors.free_slots(partner=partner)[:8]
        context["partner_tz"] = selectors.zone_or_default(partner.time_zone).key
    return context


def _availability_response(request, partner, *, status: int = 200, **extra):
    context = _availability_context(request, partner, **extra)
    if request.htmx and not request.htmx.boosted:
        return render(request, "booking/partials/availability_panel.html", context, status=status)
    if request.method == "POST" and status < 400:
        url = reverse("booking:availability")
        if partner is not None and partner != request.user:
            url += f"?partner={partner.pk}"
        return redirect(url)
    return render(request, "booking/availability.html", context, status=status)


@allow("availability.manage")
def availability(request):
    """A partner's weekly windows and blocked days; windows are added and removed with htmx."""
    try:
        partner = _availability_partner(request)
    except ApplicationError as exc:
        return bad_filter_page(request, exc)
    if request.method != "POST":
        return _availability_response(request, partner)
    if partner is None:
        raise Http404
    action = request.POST.get("action", "window")
    form_class = {"blackout": BlackoutDateForm, "open_holiday": ClosedDayOpenForm}.get(action, AvailabilityWindowForm)
    form = form_class(request.POST)
    status = 200
    if form.is_valid():
        try:
            if action == "blackout":
                services.blackout_date_add(partner=partner, actor=request.user, **form.cleaned_data)
            elif action == "open_holiday":
                services.closed_day_open(partner=partner, actor=request.user, **form.cleaned_data)
            else:
                services.availability_window_add(partner=partner, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _apply_error(form, exc)
            status = exc.status if exc.status == 403 else 400
    else:
        status = 400
    extra = {{"blackout": "blackout_form", "open_holiday": "open_form"}.get(action, "window_form"): form}
    if status >= 400:
        return _availability_response(request, partner, status=status, **extra)
    return _availability_response(request, partner)


@allow("availability.manage")
@require_POST
def availability_window_remove(request, availability_window_pk: int):
    """Withdraw one weekly window."""
    window = get_object_or_404(AvailabilityWindow.objects.select_related("partner"), pk=availability_window_pk)
    try:
        services.availability_window_remove(window=window, actor=request.user)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return _availability_response(request, window.partner)


@allow("availability.manage")
@require_POST
def availability_window_toggle(request, availability_window_pk: int):
    """Pause or resume one weekly window without losing it."""
    window = get_object_or_404(AvailabilityWindow.objects.select_related("partner"), pk=availability_window_pk)
    try:
        services.availability_window_update(window=window, actor=request.user, active=not window.active)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return _availability_response(request, window.partner)


@allow("availability.manage")
@require_POST
def blackout_date_remove(request, blackout_date_pk: int):
    """Open a blocked day again."""
    blackout = get_object_or_404(BlackoutDate.objects.select_related("partner"), pk=blackout_date_pk)
    try:
        services.blackout_date_remove(blackout=blackout, actor=request.user)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return _availability_response(request, blackout.partner)
