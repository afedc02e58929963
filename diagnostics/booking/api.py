"""API for partners: channel-review bookings (read) and weekly availability windows (CRUD)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from diagnostics.params import bounded_int
from tmw.accounts import policy
from tmw.accounts.models import Role, User
from tmw.accounts.permissions import public
from tmw.api import ScopedAPIView, ScopedGenericViewSet, ScopedReadOnlyModelViewSet, router
from tmw.directory.api import errors
from tmw.errors import ApplicationError

from . import services
from .models import AvailabilityWindow, Booking
from .selectors import booking_list, free_slots


class BookingSerializer(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.get_full_name", read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "partner",
            "partner_name",
            "starts_at",
            "ends_at",
            "status",
            "time_zone",
            "company",
            "website",
            "contact_name",
            "email",
            "phone",
            "role",
            "has_us_sales",
            "has_us_marketing",
            "has_us_channel",
            "sells",
            "notes",
            "vendor",
            "created_at",
            "cancelled_at",
            "converted_at",
            "sequence",
            "rescheduled_at",
            "previous_starts_at",
        ]
        read_only_fields = fields


WHEN = ["upcoming", "past", "all"]


@extend_schema_view(
    list=extend_schema(
        responses={200: BookingSerializer(many=True), **errors(400, 403)},
        parameters=[
            OpenApiParameter("when", str, enum=WHEN, description="Defaults to all."),
            OpenApiParameter("status", str, enum=Booking.Status.values),
            OpenApiParameter("partner", int, description="A partner's user id."),
            OpenApiParameter("q", str, description="Search company, contact, email and what they sell."),
        ],
    ),
    retrieve=extend_schema(responses={200: BookingSerializer, **errors(403, 404)}),
)
class BookingViewSet(ScopedReadOnlyModelViewSet):
    """Channel-review bookings; ``?when=upcoming|past|all``, ``?status=``, ``?partner=``, ``?q=``."""

    serializer_class = BookingSerializer
    queryset = Booking.objects.all()
    access = "booking.view"
    filter_backends: list = []

    def get_queryset(self):
        if self.action != "list":
            return Booking.objects.select_related("partner", "vendor")
        params = self.request.query_params
        status_, when = params.get("status", ""), params.get("when", "all")
        if status_ and status_ not in Booking.Status.values:
            raise _bad_choice("status", Booking.Status.values)
        if when not in WHEN:
            raise _bad_choice("when", WHEN)
        return booking_list(status=status_, when=when, partner=bounded_int(params, "partner"), q=params.get("q", ""))


def _bad_choice(name: str, choices: list[str]) -> ApplicationError:
    message = f"{name} must be one of: {', '.join(choices)}."
    return ApplicationError(message, extra={name: [message]})


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "13:00:00",
        "description": "A wall-clock time in the partner's own time zone (no offset): HH:MM[:SS].",
    }
)
class LocalTimeField(serializers.TimeField):
    """A time of day without a zone (the partner's zone applies): ``13:00:00``, read as HH:MM[:SS]."""


class AvailabilityWindowSerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.PARTNER), required=False, help_text="Defaults to you."
    )
    start_time = LocalTimeField(format="%H:%M:%S")
    end_time = LocalTimeField(format="%H:%M:%S")

    class Meta:
        model = AvailabilityWindow
        fields = ["id", "partner", "weekday", "start_time", "end_time", "active"]


_WINDOW = AvailabilityWindowSerializer


@extend_schema_view(
    list=extend_schema(responses={200: _WINDOW(many=True), **errors(400, 403)}),
    retrieve=extend_schema(responses={200: _WINDOW, **errors(403, 404)}),
    create=extend_schema(responses={201: _WINDOW, **errors(400, 403)}),
    update=extend_schema(responses={200: _WINDOW, **errors(400, 403, 404)}),
    partial_update=extend_schema(responses={200: _WINDOW, **errors(400, 403, 404)}),
    destroy=extend_schema(responses={204: None, **errors(403, 404)}),
)
class AvailabilityWindowViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedGenericViewSet,
):
    """Partners' weekly availability windows, in each partner's own time zone; partners change only their own."""

    serializer_class = AvailabilityWindowSerializer
    queryset = AvailabilityWindow.objects.all()
    access = "availability.manage"
    filterset_fields = ["partner", "weekday", "active"]

    def get_queryset(self):
        return AvailabilityWindow.objects.select_related("partner").order_by("partner", "weekday", "start_time")

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        partner = values.pop("partner", request.user)
        window = services.availability_window_add(partner=partner, actor=request.user, **values)
        return Response(self.get_serializer(window).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        window = self.get_object()
        data = self.get_serializer(window, data=request.data, partial=kwargs.pop("partial", False))
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k != "partner"}
        window = services.availability_window_update(window=window, actor=request.user, **values)
        return Response(self.get_serializer(window).data)

    def destroy(self, request, *args, **kwargs):
        services.availability_window_remove(window=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


router.register("bookings", BookingViewSet, basename="booking")
router.register("availability-windows", AvailabilityWindowViewSet, basename="availability-window")


# --- The prospect's reschedule link (public: the signed token is the key) ------------------------------


class PublicBookingSerializer(serializers.ModelSerializer):
    """What the prospect's own link shows of their booking."""

    partner_name = serializers.CharField(source="partner.get_full_name", read_only=True)

    class Meta:
        model = Booking
        fields = ["id", "partner_name", "company", "starts_at", "ends_at", "status", "time_zone", "sequence"]
        read_only_fields = fields


class FreeSlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class RescheduleStateSerializer(serializers.Serializer):
    booking = PublicBookingSerializer()
    can_reschedule = serializers.BooleanField()
    problem = serializers.CharField(allow_blank=True, help_text="Why it cannot be moved (cancelled, past), or empty.")
    free_slots = FreeSlotSerializer(many=True, help_text="The partner's free slots in the next four weeks.")


class RescheduleRequestSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="One of the free slots' ``starts_at`` (ISO 8601 with an offset).")


TOKEN_PARAMETER = OpenApiParameter(
    "token",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[A-Za-z0-9_:-]{1,400}$",
    description="The signed token of the reschedule link in the confirmation email.",
)


class RescheduleThrottle(AnonRateThrottle):
    rate = "30/min"


class BookingRescheduleView(ScopedAPIView):
    """The prospect's reschedule link as an API: the free slots of their partner, and the move to one of them.

    No login: the signed token from the confirmation email is the key (as on the page). A move
    onto a slot taken in the meantime is a 409 naming ``slot``; a cancelled or past booking is a 409.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [RescheduleThrottle]

    def _booking(self, token: str) -> Booking:
        booking = services.booking_for_reschedule_token(token)
        if booking is None:
            raise ApplicationError("This link is not valid or has expired.", status=404)
        return booking

    def _state(self, booking: Booking) -> dict:
        problem = services.reschedule_problem(booking) or ""
        slots = [] if problem else [s for s in free_slots(partner=booking.partner) if s.starts_at != booking.starts_at]
        return {
            "booking": PublicBookingSerializer(booking).data,
            "can_reschedule": not problem,
            "problem": problem,
            "free_slots": [{"starts_at": s.starts_at, "ends_at": s.ends_at} for s in slots],
        }

    @extend_schema(
        auth=[], parameters=[TOKEN_PARAMETER], responses={200: RescheduleStateSerializer, **errors(404, 429)}
    )
    def get(self, request, token: str):
        """The booking and the free slots it can move to."""
        return Response(RescheduleStateSerializer(self._state(self._booking(token))).data)

    @extend_schema(
        auth=[],
        request=RescheduleRequestSerializer,
        responses={200: PublicBookingSerializer, **errors(400, 404, 409, 429)},
    )
    def post(self, request, token: str):
        """Move the booking to another free slot: the old one is freed, the prospect gets an updated .ics."""
        booking = self._booking(token)
        data = RescheduleRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_reschedule(
            booking=booking, starts_at=data.validated_data["starts_at"], actor=policy.VISITOR
        )
        return Response(PublicBookingSerializer(booking).data)


# Routes that are not a viewset's: mounted under /api/v1/ by tmw.urls.
public_urlpatterns = [
    path("booking-reschedules/<str:token>/", public(BookingRescheduleView.as_view()), name="booking-reschedule"),
]
