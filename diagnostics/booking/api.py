"""API for partners: channel-review bookings (read) and weekly availability windows (CRUD)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from tmw.accounts.models import Role, User
from tmw.accounts.permissions import PARTNERS, HasRole
from tmw.api import ScopedGenericViewSet, ScopedReadOnlyModelViewSet, router

from . import services
from .models import AvailabilityWindow, Booking
from .selectors import booking_list


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
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("when", str, enum=["upcoming", "past", "all"], description="Defaults to all."),
            OpenApiParameter("status", str, enum=Booking.Status.values),
            OpenApiParameter("partner", int, description="A partner's user id."),
            OpenApiParameter("q", str, description="Search company, contact, email and what they sell."),
        ]
    )
)
class BookingViewSet(ScopedReadOnlyModelViewSet):
    """Channel-review bookings; ``?when=upcoming|past|all``, ``?status=``, ``?partner=``, ``?q=``."""

    serializer_class = BookingSerializer
    queryset = Booking.objects.all()
    permission_classes = [HasRole.of(PARTNERS)]
    filter_backends: list = []

    def get_queryset(self):
        if self.action != "list":
            return Booking.objects.select_related("partner", "vendor")
        params = self.request.query_params
        return booking_list(
            status=params.get("status", ""),
            when=params.get("when", "all"),
            partner=params.get("partner"),
            q=params.get("q", ""),
        )


class AvailabilityWindowSerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.PARTNER), required=False, help_text="Defaults to you."
    )

    class Meta:
        model = AvailabilityWindow
        fields = ["id", "partner", "weekday", "start_time", "end_time", "active"]


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
    permission_classes = [HasRole.of(PARTNERS)]
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
