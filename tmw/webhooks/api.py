"""API of webhooks, for partners and admins: endpoints (register, change, disable, rotate the secret, send a test
event) and their deliveries with every attempt (resend)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from tmw.accounts.models import Organisation
from tmw.api import ScopedGenericViewSet, ScopedReadOnlyModelViewSet, request_user, router

from . import selectors, services
from .models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint as the API shows it: never its secret, only the secret's last four characters."""

    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices))
    secret_hint = serializers.CharField(read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "vendor",
            "is_active",
            "disabled_at",
            "secret_hint",
            "secret_set_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """An endpoint right after its secret was set: the one answer that carries the secret."""

    secret = serializers.CharField(read_only=True, help_text="The signing secret; shown only in this answer.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    """What registering or changing an endpoint takes (the service checks the URL, after DNS resolution)."""

    url = serializers.CharField(max_length=500, help_text="https:// on a public address.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices), allow_empty=False)
    vendor = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.VENDOR),
        required=False,
        allow_null=True,
        default=None,
        help_text="Only this vendor's events; null for every vendor's.",
    )


class WebhookEndpointCreateSerializer(WebhookEndpointInputSerializer):
    secret = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", help_text="Leave out to have one generated."
    )


class RotateSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", help_text="Leave out to have one generated."
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "duration_ms", "outcome", "status_code", "error", "response_excerpt"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event sent to one endpoint, with the exact body signed and every attempt."""

    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "finished_at",
            "resend_of",
            "body",
            "attempt_log",
        ]
        read_only_fields = fields


class EmptySerializer(serializers.Serializer):
    pass


_ENDPOINT = WebhookEndpointSerializer
_SECRET = WebhookEndpointWithSecretSerializer


@extend_schema_view(
    list=extend_schema(responses={200: _ENDPOINT(many=True)}),
    retrieve=extend_schema(responses={200: _ENDPOINT}),
    create=extend_schema(request=WebhookEndpointCreateSerializer, responses={201: _SECRET}),
    update=extend_schema(request=WebhookEndpointInputSerializer, responses={200: _ENDPOINT}),
    partial_update=extend_schema(request=WebhookEndpointInputSerializer, responses={200: _ENDPOINT}),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedGenericViewSet,
):
    """Webhook endpoints. The secret is in the answers of ``create`` and ``rotate-secret`` only."""

    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.all()
    access = {"read": "webhook.view", "write": "webhook.manage"}
    filterset_fields = ["vendor", "is_active"]

    def get_queryset(self):
        return WebhookEndpoint.objects.select_related("vendor").order_by("pk")

    def create(self, request, *args, **kwargs):
        data = WebhookEndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_register(actor=request_user(request), **data.validated_data)
        endpoint.secret = secret
        return Response(_SECRET(endpoint).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        partial = kwargs.pop("partial", False)
        data = WebhookEndpointInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = {
            "url": endpoint.url,
            "events": endpoint.events,
            "vendor": endpoint.vendor,
            "description": endpoint.description,
            **data.validated_data,
        }
        endpoint = services.endpoint_update(actor=request_user(request), endpoint=endpoint, **values)
        return Response(_ENDPOINT(endpoint).data)

    @extend_schema(request=RotateSecretSerializer, responses={200: _SECRET})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Replace the signing secret; the answer carries the new one, once."""
        endpoint = self.get_object()
        data = RotateSecretSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_rotate_secret(
            actor=request_user(request), endpoint=endpoint, secret=data.validated_data["secret"]
        )
        return Response(_SECRET(endpoint).data)

    @extend_schema(request=EmptySerializer, responses={200: _ENDPOINT})
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        """Stop sending to this endpoint (queued retries fail)."""
        endpoint = services.endpoint_set_active(actor=request_user(request), endpoint=self.get_object(), active=False)
        return Response(_ENDPOINT(endpoint).data)

    @extend_schema(request=EmptySerializer, responses={200: _ENDPOINT})
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        """Send to this endpoint again."""
        endpoint = services.endpoint_set_active(actor=request_user(request), endpoint=self.get_object(), active=True)
        return Response(_ENDPOINT(endpoint).data)

    @extend_schema(request=EmptySerializer, responses={201: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Queue a ``webhook.test`` event to this endpoint."""
        delivery = services.endpoint_send_test(actor=request_user(request), endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(responses={200: WebhookDeliverySerializer(many=True)}),
    retrieve=extend_schema(responses={200: WebhookDeliverySerializer}),
)
class WebhookDeliveryViewSet(ScopedReadOnlyModelViewSet):
    """Deliveries, newest first, each with its attempts; ``?endpoint=``, ``?status=``, ``?event_type=``."""

    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.all()
    access = {"read": "webhook.view", "resend": "webhook.manage"}
    filterset_fields = ["endpoint", "status", "event_type"]

    def get_queryset(self):
        return selectors.delivery_list()

    @extend_schema(request=EmptySerializer, responses={201: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Send the delivery again: a new delivery with the same event id and body, and its own attempts."""
        again = services.delivery_resend(actor=request_user(request), delivery=self.get_object())
        return Response(WebhookDeliverySerializer(again).data, status=status.HTTP_201_CREATED)


router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
