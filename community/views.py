"""Pages of the community app: partners' events, check-in and funnel; the MSP portal, signed links, vendor pitches."""

from __future__ import annotations

import datetime
from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tmw import months
from tmw.accounts import policy
from tmw.accounts.permissions import allow
from tmw.accounts.tenancy import tenant_scope
from tmw.directory.models import MSPContact
from tmw.errors import ApplicationError
from tmw.pagecache import cached_page
from tmw.tables import Column, Table
from tmw.web import bounded_int, csv_cell, search_options

from . import selectors, services
from .forms import (
    EventCancelForm,
    EventForm,
    EventQuestionForm,
    FeedbackForm,
    InviteFilterForm,
    PitchSlotForm,
    RSVPForm,
    WalkInForm,
)
from .models import RSVP, Event, EventInvitation, EventQuestion, PitchFeedback, PitchSlot
from .tokens import LinkError, invitation_for_feedback_token, invitation_for_token


def _is_htmx(request) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _form_errors(form, exc: ApplicationError | ValidationError) -> None:
    if isinstance(exc, ValidationError):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    placed = False
    for field, errors in exc.extra.items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class BadField(Exception):
    """A value typed into a form or query string that is not what the field takes (answered with a 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _id(value: object, field: str) -> int:
    """An object id sent by a form; ``BadField`` naming ``field`` for anything but a whole number in range."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise BadField(field, "Choose one.")
    number = bounded_int(text, minimum=1)
    if number is None:
        raise BadField(field, "Give an id as a whole number.")
    return number


def _bad_field(exc: BadField) -> HttpResponse:
    return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")


def _ics_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Partners: events -----------------------------------------------------------------------------


def _month(value: str | None) -> datetime.date:
    """The calendar's month from the query string (this month when absent); ``BadField`` when it is no month."""
    if not value:
        return months.this_month()
    try:
        return months.parse_month(value)
    except months.InvalidMonth as exc:
        raise BadField("month", exc.message) from None


EVENT_COLUMNS = (
    Column("title", "Event", ("title",)),
    Column("kind", "Kind", ("kind",), value=lambda e: e.get_kind_display()),
    Column(
        "when", "Starts", ("starts_at",), value=lambda e: timezone.localtime(e.starts_at).strftime("%Y-%m-%d %H:%M")
    ),
    Column("zone", "Time zone", value=lambda e: timezone.get_current_timezone_name()),
    Column("where", "Where", value=lambda e: e.where),
    Column("invited", "Invited", ("invited_count",), value=lambda e: e.invited_count),
    Column("going", "Going", ("going_count",), value=lambda e: e.going_count),
    Column("capacity", "Capacity", ("capacity",)),
    Column("waitlist", "Waitlist", ("waitlist_count",), value=lambda e: e.waitlist_count),
    Column("attended", "Attended", ("attended_count",), value=lambda e: e.attended_count),
    Column("fill", "Fill rate %", value=lambda e: selectors.fill_rate(e)),
)


@allow("event.workspace")
@cached_page
def event_list(request):
    """Every event as a list (upcoming, past) with fill rates, or as a month calendar."""
    view = request.GET.get("view", "list")
    when = request.GET.get("when", "upcoming")
    if when not in ("upcoming", "past", "all"):
        when = "upcoming"
    kind = request.GET.get("kind", "")
    if kind not in Event.Kind.values:
        kind = ""
    q = request.GET.get("q", "").strip()[:100]
    context = {"view": view, "when": when, "kind": kind, "q": q, "kinds": Event.Kind.choices}
    if view == "calendar":
        try:
            month = _month(request.GET.get("month"))
        except BadField as exc:
            return _bad_field(exc)
        context.update(
            month=month,
            weeks=selectors.month_calendar(year=month.year, month=month.month, tz=timezone.get_current_timezone()),
            previous_month=months.format_month(months.add_months(month, -1)),
            next_month=months.format_month(months.add_months(month, 1)),
        )
        return render(request, "community/event_calendar.html", context)
    table = Table(request, EVENT_COLUMNS, default="when" if when == "upcoming" else "-when")
    events = table.order(selectors.event_list(when=when, kind=kind, q=q))
    if table.wants_csv and not table.error:
        return table.csv_response(events, f"events-{when}.csv")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [(event, selectors.fill_rate(event)) for event in page.object_list]
    context.update(page=page, rows=rows, table=table, query=table.query_without("page", "format").urlencode())
    status = 400 if table.error else 200
    if _is_htmx(request):
        return render(request, "community/partials/event_table.html", context, status=status)
    return render(request, "community/event_list.html", context, status=status)


@allow("event.manage")
def event_create(request):
    """A partner creates an event."""
    form = EventForm(request.POST or None, initial={"host": request.user.pk, "time_zone": request.user.time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_create(actor=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"{event.title} is on the calendar.")
            return redirect("community:event_detail", event_pk=event.pk)
    return render(
        request, "community/event_form.html", {"form": form, "event": None}, status=400 if form.errors else 200
    )


@allow("event.manage")
def event_edit(request, event_pk: int):
    """A partner changes an event's details."""
    event = get_object_or_404(Event, pk=event_pk)
    form = EventForm(request.POST or None, event=None if request.method == "POST" else event)
    if request.method == "POST" and form.is_valid():
        sequence = event.sequence
        try:
            event = services.event_update(event=event, actor=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            _form_errors(form, exc)
        else:
            if event.sequence != sequence:
                told = len(selectors.invitees_not_declined(event=event))
                messages.success(
                    request,
                    f"Event saved. The time or place changed: {told} invitee{'s' if told != 1 else ''} "
                    "who had not declined are emailed the updated calendar invitation.",
                )
            else:
                messages.success(request, "Event saved.")
            return redirect("community:event_detail", event_pk=event.pk)
    return render(
        request, "community/event_form.html", {"form": form, "event": event}, status=400 if form.errors else 200
    )


@allow("event.workspace")
@cached_page
def event_detail(request, event_pk: int):
    """One event: details, pitch order, the funnel, invitations and answers, the waitlist."""
    event = get_object_or_404(Event.objects.select_related("host"), pk=event_pk)
    return _event_page(request, event)


def _event_page(request, event: Event, *, status: int = 200, question_form=None, cancel_form=None):
    questions = list(EventQuestion.objects.filter(event=event).order_by("order", "pk"))
    invitations = list(
        EventInvitation.objects.filter(event=event).select_related("msp", "rsvp").order_by("msp__name", "name")
    )
    feedback = selectors.feedback_by_pitch(event=event)
    answers = selectors.answers_by_invitation(event=event)
    for invitation in invitations:
        invitation.answer_list = answers.get(invitation.pk, [])  # type: ignore[attr-defined]
    context = {
        "event": event,
        "funnel": selectors.event_funnel(event=event),
        "slots": [
            (slot, feedback.get(slot.pk))
            for slot in PitchSlot.objects.filter(event=event).select_related("vendor").order_by("order")
        ],
        "slot_form": PitchSlotForm(),
        "invitations": invitations,
        "waitlist": list(selectors.waitlist(event=event)),
        "going": sum(1 for i in invitations if getattr(i, "rsvp", None) and i.rsvp.status == RSVP.Status.GOING),
        "questions": questions,
        "question_form": question_form or EventQuestionForm(),
        "cancel_form": cancel_form or EventCancelForm(),
    }
    return render(request, "community/event_detail.html", context, status=status)


@allow("event.cancel")
@require_POST
def event_cancel(request, event_pk: int):
    """Call the event off: invitees who had not declined get a cancellation (METHOD:CANCEL .ics), once."""
    event = get_object_or_404(Event.objects.select_related("host"), pk=event_pk)
    form = EventCancelForm(request.POST)
    if not form.is_valid():
        return _event_page(request, event, status=400, cancel_form=form)
    if event.is_cancelled:
        messages.info(request, "This event was already cancelled; nobody is emailed again.")
        return redirect("community:event_detail", event_pk=event.pk)
    try:
        event = services.event_cancel(event=event, actor=request.user, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        _form_errors(form, exc)
        return _event_page(request, event, status=exc.status, cancel_form=form)
    told = len(selectors.invitees_not_declined(event=event))
    messages.success(
        request, f"{event.title} is cancelled. {told} invitee{'s' if told != 1 else ''} are emailed the cancellation."
    )
    return redirect("community:event_detail", event_pk=event.pk)


@allow("event.questions")
@require_POST
def event_question_add(request, event_pk: int):
    """Add a question to the event's RSVP form."""
    event = get_object_or_404(Event.objects.select_related("host"), pk=event_pk)
    form = EventQuestionForm(request.POST)
    if form.is_valid():
        try:
            services.event_question_add(event=event, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Question added to the RSVP form.")
            return redirect(reverse("community:event_detail", args=[event.pk]) + "#questions")
    return _event_page(request, event, status=400, question_form=form)


@allow("event.questions")
def event_question_edit(request, event_question_pk: int):
    """Change a question's wording, kind, choices or whether it is required (choices already answered stay)."""
    question = get_object_or_404(EventQuestion.objects.select_related("event"), pk=event_question_pk)
    event = question.event
    if request.method == "POST":
        form = EventQuestionForm(request.POST)
        if form.is_valid():
            try:
                services.event_question_update(question=question, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"“{form.cleaned_data['label']}” saved.")
                return redirect(reverse("community:event_detail", args=[event.pk]) + "#questions")
    else:
        form = EventQuestionForm(
            initial={
                "label": question.label,
                "kind": question.kind,
                "choices": question.choices,
                "required": question.required,
            }
        )
    counts = selectors.question_answer_counts(question=question)
    context = {"form": form, "question": question, "event": event, "counts": counts, "answered": sum(counts.values())}
    return render(request, "community/event_question_form.html", context, status=400 if form.errors else 200)


@allow("event.questions")
@require_POST
def event_question_remove(request, event_question_pk: int):
    """Stop asking a question (its answers go with it)."""
    question = get_object_or_404(EventQuestion, pk=event_question_pk)
    services.event_question_remove(question=question, actor=request.user)
    messages.success(request, f"“{question.label}” is no longer asked.")
    return redirect(reverse("community:event_detail", args=[question.event_id]) + "#questions")


class _Echo:
    def write(self, value: str) -> str:
        return value


@allow("event.workspace")
def event_guests_csv(request, event_pk: int):
    """The guest list as CSV: each invitee, their answer, dietary needs, attendance and the RSVP questions' answers."""
    import csv

    event = get_object_or_404(Event, pk=event_pk)
    header, rows = selectors.guest_rows(event=event)
    writer = csv.writer(_Echo())
    lines = (writer.writerow([csv_cell(v) for v in row]) for row in [header, *rows])
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}-guests.csv"'
    return response


@allow("event.workspace")
def event_ics(request, event_pk: int):
    """The event as an .ics file for the host's calendar."""
    event = get_object_or_404(Event.objects.select_related("host"), pk=event_pk)
    return _ics_response(selectors.event_calendar(event=event), f"event-{event.pk}.ics")


@allow("event.manage")
@require_POST
def pitch_slot_add(request, event_pk: int):
    """Give a vendor the next pitch slot."""
    event = get_object_or_404(Event, pk=event_pk)
    form = PitchSlotForm(request.POST)
    if form.is_valid():
        try:
            services.pitch_slot_add(event=event, actor=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, getattr(exc, "message", None) or "; ".join(cast(ValidationError, exc).messages))
    else:
        messages.error(request, "Choose a vendor and a length between 5 and 120 minutes.")
    return redirect("community:event_detail", event_pk=event.pk)


@allow("event.manage")
@require_POST
def pitch_slot_move(request, pitch_slot_pk: int):
    """Move a pitch earlier or later."""
    slot = get_object_or_404(PitchSlot, pk=pitch_slot_pk)
    services.pitch_slot_move(
        slot=slot, direction=-1 if request.POST.get("direction") == "up" else 1, actor=request.user
    )
    return redirect("community:event_detail", event_pk=slot.event_id)


@allow("event.manage")
@require_POST
def pitch_slot_remove(request, pitch_slot_pk: int):
    """Take a vendor off the pitch session."""
    slot = get_object_or_404(PitchSlot, pk=pitch_slot_pk)
    try:
        services.pitch_slot_remove(slot=slot, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("community:event_detail", event_pk=slot.event_id)


@allow("event.manage")
def event_invite(request, event_pk: int):
    """Pick MSP contacts from the directory with filters and send invitations (warning on competitors)."""
    event = get_object_or_404(Event, pk=event_pk)
    source = request.POST if request.method == "POST" else request.GET
    filters = InviteFilterForm(source)
    filters.is_valid()
    cleaned = getattr(filters, "cleaned_data", {})
    contacts = list(
        selectors.contact_picker(
            event=event,
            vendor_id=cleaned["vendor"].pk if cleaned.get("vendor") else None,
            region=cleaned.get("region", ""),
            service_line=cleaned.get("service_line", ""),
            community=bool(cleaned.get("community")),
        )[:500]
    )
    warnings = services.competitor_warnings(event=event, msp_ids={c.msp_id for c in contacts})
    status = 400 if filters.errors else 200
    try:
        chosen = {_id(v, "contacts") for v in request.POST.getlist("contacts")}
    except BadField as exc:
        chosen, status = set(), 400
        messages.error(request, str(exc))
    if request.method == "POST" and request.POST.get("send") and status == 200:
        picked = list(MSPContact.objects.filter(pk__in=chosen))
        try:
            sent = services.invitations_send(
                event=event, contacts=picked, actor=request.user, confirm_competitors=bool(request.POST.get("confirm"))
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, f"{len(sent)} invitation{'s' if len(sent) != 1 else ''} sent.")
            return redirect("community:event_detail", event_pk=event.pk)
    context = {
        "event": event,
        "filters": filters,
        "contacts": [(c, warnings.get(c.msp_id, "")) for c in contacts],
        "chosen": chosen,
        "any_warning": any(warnings.get(c.msp_id) for c in contacts if c.pk in chosen) or bool(warnings),
    }
    if _is_htmx(request) and request.method == "GET":
        return render(request, "community/partials/contact_picker.html", context, status=status)
    return render(request, "community/event_invite.html", context, status=status)


# --- Partners: at the door ------------------------------------------------------------------------


@allow("event.check_in")
def check_in(request, event_pk: int):
    """Phone-friendly check-in list: search as you type, one tap to check someone in, walk-ins, no-shows."""
    event = get_object_or_404(Event, pk=event_pk)
    q = request.GET.get("q", "").strip()[:100]
    rsvps = list(selectors.check_in_list(event=event, q=q))
    context = {
        "event": event,
        "rsvps": rsvps,
        "q": q,
        "walk_in_form": WalkInForm(search_url=reverse("community:walk_in_msp_options", args=[event.pk])),
        "arrived": _arrived(event.pk),
        "open": event.is_check_in_open,
        "not_yet": timezone.now() < event.check_in_opens_at,
    }
    if _is_htmx(request):
        return render(request, "community/partials/check_in_rows.html", context)
    return render(request, "community/check_in.html", context)


def _arrived(event_id: int) -> int:
    return RSVP.objects.filter(event_id=event_id, attendance=RSVP.Attendance.ATTENDED).count()


@allow("event.check_in")
@require_POST
def check_in_toggle(request, rsvp_pk: int):
    """One tap: check in (or undo a check-in); answers the updated row and the arrived count for htmx."""
    rsvp = get_object_or_404(RSVP.objects.select_related("invitation", "msp", "event"), pk=rsvp_pk)
    error, status = "", 200
    try:
        if rsvp.attended and request.POST.get("undo"):
            services.rsvp_check_in_undo(rsvp=rsvp, actor=request.user)
        else:
            services.rsvp_check_in(rsvp=rsvp, actor=request.user)
    except ApplicationError as exc:
        error, status = exc.message, exc.status
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect("community:check_in", event_pk=rsvp.event_id)
    rsvp = RSVP.objects.select_related("invitation", "msp", "event").get(pk=rsvp.pk)
    event = rsvp.event
    context = {
        "rsvp": rsvp,
        "event": event,
        "error": error,
        "open": event.is_check_in_open,
        "not_yet": timezone.now() < event.check_in_opens_at,
        "arrived": _arrived(event.pk),
    }
    return render(request, "community/partials/check_in_answer.html", context, status=status)


@allow("event.check_in")
def walk_in_msp_options(request, event_pk: int):
    """The directory's MSPs matching what a partner types in the walk-in form's MSP picker."""
    get_object_or_404(Event, pk=event_pk)
    return search_options(request, selectors.walk_in_msps())


@allow("event.check_in")
@require_POST
def walk_in(request, event_pk: int):
    """Add someone who turned up without a seat; they count as attended."""
    event = get_object_or_404(Event, pk=event_pk)
    form = WalkInForm(request.POST)
    if form.is_valid():
        try:
            rsvp = services.walk_in_add(event=event, actor=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, getattr(exc, "message", None) or "; ".join(cast(ValidationError, exc).messages))
        else:
            messages.success(request, f"{rsvp.invitation.name} is checked in as a walk-in.")
    else:
        messages.error(request, "Give the walk-in's MSP, name and email.")
    return redirect("community:check_in", event_pk=event.pk)


@allow("event.check_in")
@require_POST
def no_shows(request, event_pk: int):
    """Record everyone going who did not check in as a no-show."""
    event = get_object_or_404(Event, pk=event_pk)
    try:
        count = services.no_shows_record(event=event, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{count} no-show{'s' if count != 1 else ''} recorded.")
    return redirect("community:event_detail", event_pk=event.pk)


# --- The RSVP panel shared by the portal and the signed link ----------------------------------------


def _answer_initial(rsvp: RSVP | None) -> dict:
    """The answer already given is shown chosen; with none (or a cancelled one) nothing is chosen for the invitee."""
    initial: dict = {}
    if rsvp is None:
        return initial
    if rsvp.status in (RSVP.Status.GOING, RSVP.Status.WAITLISTED):
        initial["answer"] = "going"
    elif rsvp.status == RSVP.Status.NOT_GOING:
        initial["answer"] = "not_going"
    initial["dietary"] = rsvp.dietary
    for answer in rsvp.answers.all():
        initial[f"q{answer.question_id}"] = answer.value
    return initial


def _questions(event: Event) -> list[EventQuestion]:
    return list(EventQuestion.objects.filter(event=event).order_by("order", "pk"))


def _feedback_form(row: dict) -> FeedbackForm:
    saved = row["feedback"]
    initial = {"version": services.feedback_version(saved)}
    if saved is not None:
        initial.update(interest=saved.interest, comment=saved.comment)
    return FeedbackForm(initial=initial, prefix=f"slot{row['slot'].pk}")


def _panel_context(
    invitation: EventInvitation, urls: dict, *, rsvp_form=None, feedback_form: FeedbackForm | None = None, slot_pk=None
) -> dict:
    """The event, the answer and the feedback forms; ``feedback_form`` replaces the form of pitch ``slot_pk``."""
    event = invitation.event
    rsvp = RSVP.objects.filter(invitation=invitation).first()
    if rsvp is not None:
        rsvp.event = event
    questions = _questions(event)
    feedback = (
        selectors.pitches_needing_feedback(rsvp=rsvp) if rsvp is not None and selectors.can_give_feedback(rsvp) else []
    )
    return {
        "invitation": invitation,
        "event": event,
        "rsvp": rsvp,
        "rank": selectors.waitlist_rank(rsvp) if rsvp is not None else None,
        "pitches": selectors.public_pitch_lineup(event=event) if event.is_pitch else [],
        "rsvp_form": rsvp_form or RSVPForm(initial=_answer_initial(rsvp), questions=questions),
        "feedback": [
            {
                **row,
                "form": feedback_form
                if feedback_form is not None and row["slot"].pk == slot_pk
                else _feedback_form(row),
                "refused": feedback_form is not None and row["slot"].pk == slot_pk,
            }
            for row in feedback
        ],
        "can_answer": event.is_open_for_answers,
        "can_cancel": rsvp is not None
        and not event.is_cancelled
        and rsvp.status in (RSVP.Status.GOING, RSVP.Status.WAITLISTED)
        and event.starts_at > timezone.now(),
        "urls": urls,
    }


def _answer(request, invitation: EventInvitation, actor: policy.Actor) -> tuple[RSVPForm, bool]:
    form = RSVPForm(request.POST, questions=_questions(invitation.event))
    if not form.is_valid():
        return form, False
    try:
        rsvp = services.rsvp_respond(
            invitation=invitation,
            going=form.cleaned_data["answer"] == "going",
            dietary=form.cleaned_data.get("dietary", ""),
            answers=form.answers(),
            actor=actor,
        )
    except ApplicationError as exc:
        _form_errors(form, exc)
        return form, False
    if rsvp.status == RSVP.Status.GOING:
        messages.success(request, "You're going. The confirmation and calendar file are on their way by email.")
    elif rsvp.status == RSVP.Status.WAITLISTED:
        messages.warning(request, "The event is full: you're on the waitlist. We'll email you if a seat opens.")
    else:
        messages.success(request, "Thanks for letting us know you can't make it.")
    return form, True


def _cancel(request, invitation: EventInvitation, actor: policy.Actor) -> None:
    rsvp = RSVP.objects.filter(invitation=invitation).first()
    if rsvp is None:
        raise Http404
    try:
        services.rsvp_cancel(rsvp=rsvp, actor=actor)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your RSVP is cancelled. Your seat goes to the next person waiting.")


class FeedbackRefused(Exception):
    """A pitch's feedback form the service or the form refused: shown again with its message, nothing written."""

    def __init__(self, slot: PitchSlot, form: FeedbackForm, status: int):
        super().__init__(f"feedback on pitch {slot.pk} refused")
        self.slot = slot
        self.form = form
        self.status = status


def _feedback(request, invitation: EventInvitation, actor: policy.Actor) -> None:
    """Save one pitch's feedback; ``FeedbackRefused`` carries the form to show again (the typed text kept)."""
    rsvp = RSVP.objects.filter(invitation=invitation).select_related("event", "msp").first()
    slot = selectors.pitch_of_event(
        event=invitation.event, pitch_slot_id=_id(request.POST.get("pitch_slot"), "pitch_slot")
    )
    if rsvp is None or slot is None:
        raise Http404
    prefix = f"slot{slot.pk}"
    form = FeedbackForm(request.POST, prefix=prefix)
    if not form.is_valid():
        raise FeedbackRefused(slot, form, 400)
    # Absent (an older page): not compared; empty: the form was opened before any feedback was given.
    version = request.POST.get(f"{prefix}-version")
    try:
        services.feedback_submit(
            rsvp=rsvp,
            pitch_slot=slot,
            actor=actor,
            interest=form.cleaned_data["interest"],
            comment=form.cleaned_data["comment"],
            version=version,
        )
    except ApplicationError as exc:
        if "version" in exc.extra:
            # Keep what was typed, but against what is saved now: sending again is a choice, not an accident.
            data = request.POST.copy()
            current = PitchFeedback.objects.filter(rsvp=rsvp, pitch_slot=slot).first()
            data[f"{prefix}-version"] = services.feedback_version(current)
            form = FeedbackForm(data, prefix=prefix)
            form.is_valid()
            form.add_error(None, exc.message)
        else:
            _form_errors(form, exc)
        raise FeedbackRefused(slot, form, exc.status) from None
    messages.success(request, f"Thanks for your feedback on {slot.vendor}.")


# --- Public: the signed RSVP link -----------------------------------------------------------------


def _link_invitation(request, token: str):
    try:
        return invitation_for_token(token), None
    except LinkError as exc:
        return None, render(request, "community/link_invalid.html", {"error": exc}, status=410 if exc.expired else 404)


def _link_urls(token: str) -> dict:
    return {
        "answer": reverse("community:rsvp_link", args=[token]),
        "cancel": reverse("community:rsvp_link_cancel", args=[token]),
        "ics": reverse("community:rsvp_link_ics", args=[token]),
        "feedback": reverse("community:rsvp_link_feedback", args=[token]),
    }


def _render_link(request, invitation: EventInvitation, urls: dict, *, status: int = 200, **panel) -> HttpResponse:
    """The signed-link page: times in the viewer's zone when signed in, else in the event's own; named either way."""
    event = invitation.event
    signed_in = request.user.is_authenticated
    zone = selectors.zone_for(request.user) if signed_in else event.zone
    context = _panel_context(invitation, urls, **panel)
    context.update(public=True, zone_name=zone.key, event_zone=not signed_in or zone.key == event.time_zone)
    if not urls.get("answer"):
        context.update(can_answer=False, can_cancel=False)
    with timezone.override(zone):
        return render(request, "community/rsvp_link.html", context, status=status)


def rsvp_link(request, token: str):
    """Public, through the signed link in the email: see the event (in its own time zone) and answer."""
    invitation, error = _link_invitation(request, token)
    if error:
        return error
    status, form = 200, None
    with tenant_scope((invitation.msp_id,)):
        if request.method == "POST":
            form, ok = _answer(request, invitation, policy.VISITOR)
            if ok:
                return redirect("community:rsvp_link", token=token)
            status = 409 if form.non_field_errors() else 400
        return _render_link(request, invitation, _link_urls(token), rsvp_form=form, status=status)


@require_POST
def rsvp_link_cancel(request, token: str):
    """Public: cancel through the signed link."""
    invitation, error = _link_invitation(request, token)
    if error:
        return error
    with tenant_scope((invitation.msp_id,)):
        _cancel(request, invitation, policy.VISITOR)
    return redirect("community:rsvp_link", token=token)


def rsvp_link_ics(request, token: str):
    """Public: the event as an .ics file through the signed link."""
    invitation, error = _link_invitation(request, token)
    if error:
        return error
    return _ics_response(selectors.event_calendar(event=invitation.event, invitation=invitation), "event.ics")


@require_POST
def rsvp_link_feedback(request, token: str):
    """Public: feedback on one pitch through the signed link; a refused form comes back with its message."""
    invitation, error = _link_invitation(request, token)
    if error:
        return error
    with tenant_scope((invitation.msp_id,)):
        try:
            _feedback(request, invitation, policy.VISITOR)
        except BadField as exc:
            return _bad_field(exc)
        except FeedbackRefused as refused:
            return _render_link(
                request,
                invitation,
                _link_urls(token),
                feedback_form=refused.form,
                slot_pk=refused.slot.pk,
                status=refused.status,
            )
    return redirect(reverse("community:rsvp_link", args=[token]) + "#feedback")


@require_http_methods(["GET", "POST"])
def feedback_link(request, token: str):
    """Public, through the signed feedback link emailed after a pitch session: rate each pitch."""
    try:
        invitation = invitation_for_feedback_token(token)
    except LinkError as exc:
        return render(request, "community/link_invalid.html", {"error": exc}, status=410 if exc.expired else 404)
    url = reverse("community:feedback_link", args=[token])
    urls = {"answer": "", "cancel": "", "ics": "", "feedback": url}
    with tenant_scope((invitation.msp_id,)):
        if request.method == "POST":
            try:
                _feedback(request, invitation, policy.VISITOR)
            except BadField as exc:
                return _bad_field(exc)
            except FeedbackRefused as refused:
                return _render_link(
                    request,
                    invitation,
                    urls,
                    feedback_form=refused.form,
                    slot_pk=refused.slot.pk,
                    status=refused.status,
                )
            return redirect(url + "#feedback")
        return _render_link(request, invitation, urls)


# --- MSP portal ------------------------------------------------------------------------------------


@allow("invitation.portal")
def msp_invitations(request):
    """Each event once, with the member's own invitation (else their MSP's), and open events they can join."""
    rows = selectors.msp_event_rows(user=request.user)
    now = timezone.now()
    shown = {row.invitation.event_id for row in rows}
    context = {
        "upcoming": [r for r in rows if r.invitation.event.ends_at > now],
        "past": [r for r in rows if r.invitation.event.ends_at <= now],
        "open_events": [e for e in selectors.open_events_for_msp(user=request.user) if e.pk not in shown],
        "zone_name": selectors.zone_for(request.user).key,
    }
    return render(request, "community/msp_invitations.html", context)


def _portal_urls(invitation: EventInvitation) -> dict:
    return {
        "answer": reverse("community:msp_rsvp", args=[invitation.pk]),
        "cancel": reverse("community:msp_cancel", args=[invitation.pk]),
        "ics": reverse("community:msp_ics", args=[invitation.pk]),
        "feedback": reverse("community:msp_feedback", args=[invitation.pk]),
    }


def _render_portal(request, invitation: EventInvitation, *, status: int = 200, **panel) -> HttpResponse:
    """One invitation in the portal, in the member's zone, saying whose it is and who else from the MSP is invited."""
    context = _panel_context(invitation, _portal_urls(invitation), **panel)
    context.update(
        public=False,
        zone_name=selectors.zone_for(request.user).key,
        own=invitation.email.lower() == request.user.email.lower(),
        colleagues=selectors.colleagues_invited(invitation=invitation),
    )
    return render(request, "community/msp_invitation.html", context, status=status)


@allow("invitation.portal")
def msp_invitation(request, event_invitation_pk: int):
    """One invitation in the portal: the event in the member's time zone, the answer, feedback."""
    invitation = get_object_or_404(
        EventInvitation.objects.select_related("event", "event__host"), pk=event_invitation_pk
    )
    return _render_portal(request, invitation)


@allow("invitation.portal")
@require_POST
def msp_rsvp(request, event_invitation_pk: int):
    """Answer an invitation from the portal."""
    invitation = get_object_or_404(
        EventInvitation.objects.select_related("event", "event__host"), pk=event_invitation_pk
    )
    form, ok = _answer(request, invitation, request.user)
    if ok:
        return redirect("community:msp_invitation", event_invitation_pk=invitation.pk)
    return _render_portal(request, invitation, rsvp_form=form, status=409 if form.non_field_errors() else 400)


@allow("invitation.portal")
@require_POST
def msp_cancel(request, event_invitation_pk: int):
    """Cancel from the portal."""
    invitation = get_object_or_404(EventInvitation.objects.select_related("event"), pk=event_invitation_pk)
    _cancel(request, invitation, request.user)
    return redirect("community:msp_invitation", event_invitation_pk=invitation.pk)


@allow("invitation.portal")
def msp_ics(request, event_invitation_pk: int):
    """The event as an .ics file from the portal."""
    invitation = get_object_or_404(
        EventInvitation.objects.select_related("event", "event__host"), pk=event_invitation_pk
    )
    return _ics_response(selectors.event_calendar(event=invitation.event, invitation=invitation), "event.ics")


@allow("feedback.give")
@require_POST
def msp_feedback(request, event_invitation_pk: int):
    """Feedback on one pitch from the portal; a refused form comes back with its message."""
    invitation = get_object_or_404(
        EventInvitation.objects.select_related("event", "event__host"), pk=event_invitation_pk
    )
    try:
        _feedback(request, invitation, request.user)
    except BadField as exc:
        return _bad_field(exc)
    except FeedbackRefused as refused:
        return _render_portal(
            request, invitation, feedback_form=refused.form, slot_pk=refused.slot.pk, status=refused.status
        )
    return redirect(reverse("community:msp_invitation", args=[invitation.pk]) + "#feedback")


@allow("event.join")
@require_POST
def msp_join(request, event_pk: int):
    """Join an event open to community MSPs: an invitation to yourself, then the RSVP page."""
    event = get_object_or_404(selectors.events_for(user=request.user), pk=event_pk, access=Event.Access.OPEN)
    try:
        invitation = services.event_join(event=event, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("community:msp_invitations")
    return redirect("community:msp_invitation", event_invitation_pk=invitation.pk)


# --- Vendors ----------------------------------------------------------------------------------------


@allow("event.vendor_view")
def vendor_events(request):
    """A vendor's own pitches: when, attendance, and how many MSPs want to follow up."""
    slots = list(selectors.vendor_pitches(user=request.user))
    now = timezone.now()
    context = {
        "upcoming": [s for s in slots if s.event.ends_at > now],
        "past": [s for s in slots if s.event.ends_at <= now],
    }
    return render(request, "community/vendor_events.html", context)


@allow("event.vendor_view")
def vendor_pitch(request, pitch_slot_pk: int):
    """One of the vendor's pitches: who attended and what each MSP said about it."""
    slot = get_object_or_404(PitchSlot.objects.select_related("event"), pk=pitch_slot_pk)
    context = {"slot": slot, "event": slot.event, "rows": selectors.pitch_attendance(slot=slot)}
    return render(request, "community/vendor_pitch.html", context)
