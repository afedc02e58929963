"""API of the community app: events, invitations and RSVPs; MSP users RSVP through it and see only their own."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from tmw.accounts.models import TIME_ZONE_CHOICES, Organisation, Role, User
from tmw.api import RefuseUnknownFields, ScopedGenericViewSet, request_user, router
from tmw.idempotency import IDEMPOTENCY_PARAMETER, idempotent

from . import selectors, services
from .models import RSVP, Event, EventInvitation, EventQuestion, PitchSlot, RSVPAnswer


class CommunityErrorSerializer(serializers.Serializer):
    """The one error shape: a message, and field name -> messages (or other details) in ``extra``."""

    message = serializers.CharField()
    extra = serializers.DictField(child=serializers.JSONField())


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers a write endpoint documents, each in the one error shape."""
    meanings = {
        400: "The request is not valid (``extra`` names the fields).",
        403: "The policy does not let the caller do this, or the invitation is another MSP's.",
        404: "No such object among those the caller may see.",
        409: "The event's state refuses it (over, answers closed, already invited, competitors to confirm).",
    }
    return {code: OpenApiResponse(CommunityErrorSerializer, description=meanings[code]) for code in codes}


class EventSerializer(serializers.ModelSerializer):
    host = serializers.CharField(source="host.get_full_name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "time_zone",
            "venue",
            "virtual_link",
            "capacity",
            "access",
            "rsvp_deadline",
            "host",
            "sequence",
            "cancelled_at",
            "cancel_reason",
        ]
        read_only_fields = ["sequence", "cancelled_at", "cancel_reason"]


class EventInputSerializer(RefuseUnknownFields):
    """An event's details; times are ISO 8601 with an offset (one without is read in the server's zone)."""

    kind = serializers.ChoiceField(choices=Event.Kind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    time_zone = serializers.ChoiceField(choices=TIME_ZONE_CHOICES, help_text="Where the event happens.")
    venue = serializers.CharField(max_length=300, required=False, allow_blank=True)
    virtual_link = serializers.URLField(max_length=200, required=False, allow_blank=True)
    capacity = serializers.IntegerField(min_value=1, max_value=10000)
    access = serializers.ChoiceField(choices=Event.Access.choices, required=False)
    host = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role__in=[Role.PARTNER, Role.ADMIN], is_active=True),
        required=False,
        help_text="The TMW partner who hosts it; default the caller.",
    )
    rsvp_deadline = serializers.DateTimeField(required=False, allow_null=True, help_text="Empty: when it starts.")


class EventCancelSerializer(RefuseUnknownFields):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


EVENT_WRITE = "Partners only (``event.manage``); a field that is not valid is a 400 naming it."


@extend_schema_view(
    list=extend_schema(
        summary="List events",
        description="Partners see every event; MSP members those they are invited to, and open ones for members.",
    ),
    retrieve=extend_schema(summary="Read an event", description="One event the caller may see."),
)
class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Events: partners see all, create and change them; MSP members those they are invited to, and open ones.

    Vendors follow the events they pitch at through their pitch slots (``/pitch-slots/``, ``event.vendor_view``).
    """

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    access = {
        "read": "event.view",
        "create": "event.manage",
        "partial_update": "event.manage",
        "cancel": "event.cancel",
    }

    def get_queryset(self):
        return selectors.events_for(user=request_user(self.request)).order_by("starts_at", "pk")

    def _answer(self, event: Event, code: int = status.HTTP_200_OK) -> Response:
        return Response(EventSerializer(self.get_queryset().get(pk=event.pk)).data, status=code)

    @extend_schema(
        summary="Create an event",
        description=(
            "A pitch session, focus group, dinner or working group, with a venue or a virtual link, a capacity "
            "and who may come (invite only, or open to community MSPs). " + EVENT_WRITE
        ),
        request=EventInputSerializer,
        responses={201: EventSerializer, **_errors(400, 403)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = EventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.event_create(actor=request_user(request), **data.validated_data)
        return self._answer(event, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an event",
        description=(
            "Changes only the fields given; the capacity may not drop below the people already going, and a "
            "larger one seats the waitlist in order. A new time, zone, venue or link raises ``sequence`` and "
            "emails every invitee who has not declined an updated .ics (same UID). " + EVENT_WRITE
        ),
        request=EventInputSerializer(partial=True),
        responses={200: EventSerializer, **_errors(400, 403, 404, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def partial_update(self, request, *args, **kwargs):
        event = self.get_object()
        data = EventInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        event = services.event_update(event=event, actor=request_user(request), **data.validated_data)
        return self._answer(event)

    @extend_schema(
        summary="Cancel an event",
        description=(
            "The event stays, marked cancelled with the ``reason``; invitees who had not declined get a "
            "METHOD:CANCEL .ics, once (cancelling again changes nothing and emails nobody). Partners only "
            "(``event.cancel``)."
        ),
        request=EventCancelSerializer,
        responses={200: EventSerializer, **_errors(400, 403, 404, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        event = self.get_object()
        data = EventCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.event_cancel(event=event, actor=request_user(request), **data.validated_data)
        return self._answer(event)


class PitchSlotSerializer(serializers.ModelSerializer):
    event = EventSerializer(read_only=True)
    attended = serializers.IntegerField(source="attended_count", read_only=True, help_text="People who came.")
    interested = serializers.IntegerField(
        source="interested_count", read_only=True, help_text="MSPs who asked for a follow-up or a pilot."
    )

    class Meta:
        model = PitchSlot
        fields = ["id", "event", "order", "minutes", "topic", "attended", "interested"]
        read_only_fields = fields


class PitchSlotInputSerializer(RefuseUnknownFields):
    # Managers, not querysets: the field runs ``.all()`` per request, inside the caller's scope.
    event = serializers.PrimaryKeyRelatedField(queryset=Event.objects, help_text="A pitch session.")
    vendor = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.filter(kind=Organisation.Kind.VENDOR))
    minutes = serializers.IntegerField(min_value=5, max_value=120, default=15)
    topic = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(
        summary="List pitch slots",
        description="A vendor's own pitch slots, with the event, who came and how many MSPs want more (vendors).",
    ),
    retrieve=extend_schema(summary="Read a pitch slot", description="One of the vendor's own pitch slots."),
)
class PitchSlotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """A vendor's own pitch slots (vendors read them); partners give vendors slots and take them away."""

    queryset = PitchSlot.objects.all()
    serializer_class = PitchSlotSerializer
    access = {"read": "event.vendor_view", "create": "event.manage", "destroy": "event.manage"}

    def get_queryset(self):
        return selectors.vendor_pitches(user=request_user(self.request)).select_related("event__host")

    @extend_schema(
        summary="Give a vendor a pitch slot",
        description=(
            "The vendor pitches next at a pitch session (after the slots already given). Not a pitch session: "
            "400; the vendor already pitches there: 409. Partners only (``event.manage``)."
        ),
        request=PitchSlotInputSerializer,
        responses={201: PitchSlotSerializer, **_errors(400, 403, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = PitchSlotInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slot = services.pitch_slot_add(actor=request_user(request), **data.validated_data)
        return Response(PitchSlotSerializer(self.get_queryset().get(pk=slot.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Take a pitch slot away",
        description=(
            "The vendor no longer pitches there; once MSPs have given feedback on the pitch it stays (409). "
            "Partners only (``event.manage``)."
        ),
        responses={204: None, **_errors(403, 404, 409)},
    )
    def destroy(self, request, *args, **kwargs):
        services.pitch_slot_remove(slot=self.get_object(), actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RSVPAnswerSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="question.label", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = RSVPAnswer
        fields = ["question", "label", "value"]
        read_only_fields = fields


class RSVPSerializer(serializers.ModelSerializer):
    answers = RSVPAnswerSerializer(many=True, read_only=True, help_text="Answers to the event's RSVP questions.")

    class Meta:
        model = RSVP
        fields = [
            "id",
            "invitation",
            "event",
            "msp",
            "status",
            "waitlist_position",
            "dietary",
            "responded_at",
            "attendance",
            "checked_in_at",
            "answers",
        ]
        read_only_fields = fields


class EventInvitationSerializer(serializers.ModelSerializer):
    rsvp = serializers.SerializerMethodField()

    class Meta:
        model = EventInvitation
        fields = ["id", "event", "msp", "name", "email", "sent_at", "created_at", "competitor_warning", "rsvp"]
        read_only_fields = fields

    @extend_schema_field(RSVPSerializer(allow_null=True))
    def get_rsvp(self, obj) -> dict | None:
        rsvp = getattr(obj, "rsvp", None) if hasattr(obj, "rsvp") else None
        return RSVPSerializer(rsvp).data if rsvp is not None else None


class EventInvitationCreateSerializer(serializers.Serializer):
    # Managers, not querysets: the field runs ``.all()`` per request, inside the caller's scope.
    event = serializers.PrimaryKeyRelatedField(queryset=Event.objects)
    msp = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects)
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    confirm_competitors = serializers.BooleanField(default=False)


class AnswerSerializer(serializers.Serializer):
    going = serializers.BooleanField()
    dietary = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1000),
        required=False,
        default=dict,
        help_text='The event\'s RSVP questions: question id -> answer, e.g. {"12": "Autotask"}. '
        "A required question needs an answer to say going; a choice must be one of its choices.",
    )


class RSVPCreateSerializer(AnswerSerializer):
    invitation = serializers.PrimaryKeyRelatedField(queryset=EventInvitation.objects)


class EventInvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Invitations: an MSP sees its own and answers them; partners see all and invite."""

    queryset = EventInvitation.objects.all()
    serializer_class = EventInvitationSerializer
    access = {"read": "event.view", "create": "event.manage", "rsvp": "rsvp.respond"}

    def get_queryset(self):
        return (
            EventInvitation.objects.select_related("rsvp")
            .prefetch_related("rsvp__answers__question")
            .order_by("event_id", "name", "pk")
        )

    @extend_schema(
        summary="Invite a person at an MSP to an event",
        description=(
            "Emails the person a private RSVP link. Already invited: 409; an MSP that competes with a vendor pitching "
            "there: 409 until ``confirm_competitors`` is true. Partners only (``event.manage``)."
        ),
        request=EventInvitationCreateSerializer,
        responses={201: EventInvitationSerializer, **_errors(400, 403, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        """Invite one person at an MSP (partners); the RSVP link is emailed."""
        data = EventInvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(actor=request_user(request), **data.validated_data)
        return Response(EventInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerSerializer, responses={200: RSVPSerializer, **_errors(400, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def rsvp(self, request, pk=None):
        """Answer this invitation: going (a seat or the waitlist) or not going."""
        invitation = self.get_object()
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rsvp = services.rsvp_respond(invitation=invitation, actor=request_user(request), **data.validated_data)
        return Response(RSVPSerializer(rsvp).data)


class RSVPViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """RSVPs: an MSP sees and makes its own; partners see all."""

    queryset = RSVP.objects.all()
    serializer_class = RSVPSerializer
    access = {
        "read": "event.view",
        "create": "rsvp.respond",
        "cancel": "rsvp.respond",
        "check_in": "event.check_in",
        "check_in_undo": "event.check_in",
    }

    def get_queryset(self):
        return RSVP.objects.prefetch_related("answers__question").order_by(
            "event_id", "status", "waitlist_position", "pk"
        )

    @extend_schema(request=RSVPCreateSerializer, responses={201: RSVPSerializer, **_errors(400, 403, 409)})
    def create(self, request):
        """RSVP to one of your invitations: ``{"invitation", "going", "dietary"}``."""
        data = RSVPCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rsvp = services.rsvp_respond(actor=request_user(request), **data.validated_data)
        return Response(RSVPSerializer(rsvp).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RSVPSerializer, **_errors(403, 404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a seat or a place on the waitlist; the next person is promoted."""
        rsvp = services.rsvp_cancel(rsvp=self.get_object(), actor=request_user(request))
        return Response(RSVPSerializer(rsvp).data)

    @extend_schema(
        summary="Check a person in",
        description=(
            "Marks the person as arrived (again: no change). Check-in is open from a day before the event starts "
            "until a day after it ends; outside that: 409. Partners only (``event.check_in``)."
        ),
        request=None,
        responses={200: RSVPSerializer, **_errors(403, 404, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    @idempotent
    def check_in(self, request, pk=None):
        rsvp = services.rsvp_check_in(rsvp=self.get_object(), actor=request_user(request))
        return Response(RSVPSerializer(rsvp).data)

    @extend_schema(
        summary="Take back a check-in",
        description=(
            "Undoes a check-in tapped by mistake, while check-in is open (else 409). "
            "Partners only (``event.check_in``)."
        ),
        request=None,
        responses={200: RSVPSerializer, **_errors(403, 404, 409)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path="check-in/undo")
    @idempotent
    def check_in_undo(self, request, pk=None):
        rsvp = services.rsvp_check_in_undo(rsvp=self.get_object(), actor=request_user(request))
        return Response(RSVPSerializer(rsvp).data)


# --- Event changes and RSVP questions ----------------------------------------------------------------


class EventQuestionSerializer(serializers.ModelSerializer):
    choices = serializers.SerializerMethodField(help_text="For a choice question, the choices in order.")

    class Meta:
        model = EventQuestion
        fields = ["id", "event", "label", "kind", "choices", "required", "order"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_choices(self, obj) -> list[str]:
        return obj.choice_list


class EventQuestionWriteSerializer(serializers.Serializer):
    # ``label`` and ``required`` are the question's own fields (they shadow Field attributes of the same name).
    label = serializers.CharField(max_length=200)  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=EventQuestion.Kind.choices, default=EventQuestion.Kind.TEXT)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=20
    )
    required = serializers.BooleanField(default=False)  # type: ignore[assignment]


class EventQuestionCreateSerializer(EventQuestionWriteSerializer):
    event = serializers.PrimaryKeyRelatedField(queryset=Event.objects)


class EventQuestionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ScopedGenericViewSet
):
    """The RSVP questions of events: whoever sees an event sees its questions; partners add, change and remove them."""

    queryset = EventQuestion.objects.all()
    serializer_class = EventQuestionSerializer
    access = {
        "read": "event.view",
        "create": "event.questions",
        "update": "event.questions",
        "destroy": "event.questions",
    }
    filterset_fields = ["event"]

    def get_queryset(self):
        events = selectors.events_for(user=request_user(self.request))
        return EventQuestion.objects.filter(event__in=events).order_by("event_id", "order", "pk")

    @extend_schema(
        request=EventQuestionCreateSerializer, responses={201: EventQuestionSerializer, **_errors(400, 403, 409)}
    )
    def create(self, request):
        """Ask one more question on an event's RSVP form."""
        data = EventQuestionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.event_question_add(actor=request_user(request), **data.validated_data)
        return Response(EventQuestionSerializer(question).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=EventQuestionWriteSerializer, responses={200: EventQuestionSerializer, **_errors(400, 403, 404, 409)}
    )
    def update(self, request, pk=None):
        """Change a question (a choice already answered cannot be taken away)."""
        question = self.get_object()
        data = EventQuestionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.event_question_update(question=question, actor=request_user(request), **data.validated_data)
        return Response(EventQuestionSerializer(question).data)

    def perform_destroy(self, instance):
        services.event_question_remove(question=instance, actor=request_user(self.request))


router.register("events", EventViewSet, basename="event")
router.register("event-questions", EventQuestionViewSet, basename="event-question")
router.register("event-invitations", EventInvitationViewSet, basename="event-invitation")
router.register("rsvps", RSVPViewSet, basename="rsvp")
router.register("pitch-slots", PitchSlotViewSet, basename="pitch-slot")
