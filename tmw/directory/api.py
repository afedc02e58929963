"""API of the MSP directory.

Partners read and write every MSP; vendors read the MSPs a visibility rule shows them
(those on their own target lists and in their pipeline), without TMW's contacts and notes.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from tmw.accounts import policy
from tmw.api import ScopedModelViewSet, router

from . import services
from .filters import MSPFilterSet
from .models import CONTACT_FIELDS, LIST_FIELDS, PROFILE_FIELDS, MSPContact, MSPProfile


class ErrorAnswerSerializer(serializers.Serializer):
    """The API's error shape: a message for people and the details by field."""

    message = serializers.CharField()
    extra = serializers.DictField()


ERROR_MEANINGS = {
    400: "The request is not valid (the details name the fields).",
    401: "Not signed in.",
    403: "Your role may not do this.",
    404: "Not found, or not yours to see.",
    409: "The object's state does not allow it.",
    429: "Too many requests.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers an endpoint gives, for ``extend_schema(responses={200: ..., **errors(400, 404)})``."""
    return {code: OpenApiResponse(ErrorAnswerSerializer, description=ERROR_MEANINGS[code]) for code in codes}


# --- MSP directory


class MSPContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = MSPContact
        fields = ["id", *CONTACT_FIELDS]


class MSPProfileSerializer(serializers.ModelSerializer):
    """An MSP; ``contacts`` and ``notes`` are TMW's: always present, and empty for vendors."""

    id = serializers.IntegerField(source="pk", read_only=True)
    contacts = MSPContactSerializer(many=True, read_only=True)

    class Meta:
        model = MSPProfile
        fields = ["id", *PROFILE_FIELDS, "contacts", "updated_at"]

    def _shows_tmw_fields(self) -> bool:
        """Whether the reader may see TMW's contacts and notes (asked once per list, not once per MSP)."""
        if not hasattr(self, "_tmw_fields"):
            request = self.context.get("request")
            self._tmw_fields = request is not None and policy.can(request.user, "directory.contacts")
        return self._tmw_fields

    @property
    def _readable_fields(self):
        # For a vendor the contacts are never read, so a list costs no query per MSP for them.
        fields = super()._readable_fields
        return fields if self._shows_tmw_fields() else (f for f in fields if f.field_name != "contacts")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._shows_tmw_fields():
            data["contacts"] = []
            data["notes"] = ""
        return data


def list_field(name: str, required: bool = False):
    return serializers.ListField(child=serializers.ChoiceField(choices=LIST_FIELDS[name][0].choices), required=required)


class MSPProfileInputSerializer(serializers.ModelSerializer):
    """What a client sends to create or change an MSP: the profile's fields (from the model) and its contacts."""

    verticals = list_field("verticals")
    service_lines = list_field("service_lines")
    psa_tools = list_field("psa_tools")
    rmm_tools = list_field("rmm_tools")
    relationship = serializers.IntegerField(min_value=0, max_value=3, required=False)
    contacts = MSPContactSerializer(many=True, required=False)

    class Meta:
        model = MSPProfile
        fields = [*PROFILE_FIELDS, "contacts"]


@extend_schema_view(
    list=extend_schema(responses={200: MSPProfileSerializer(many=True), **errors(400, 403)}),
    retrieve=extend_schema(responses={200: MSPProfileSerializer, **errors(403, 404)}),
    destroy=extend_schema(responses={204: None, **errors(403, 404)}),
)
class MSPProfileViewSet(ScopedModelViewSet):
    """The MSP directory: partners list, create, change and remove MSPs; vendors read the MSPs on their lists."""

    serializer_class = MSPProfileSerializer
    queryset = MSPProfile.objects.all()
    access = {"read": "directory.view", "write": "directory.manage"}
    filterset_class = MSPFilterSet

    def get_queryset(self):
        qs = MSPProfile.objects.order_by("legal_name", "pk")
        if policy.can(self.request.user, "directory.contacts"):
            qs = qs.prefetch_related("contacts")
        return qs

    @extend_schema(request=MSPProfileInputSerializer, responses={201: MSPProfileSerializer, **errors(400, 403, 409)})
    def create(self, request, *args, **kwargs):
        data = MSPProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.msp_create(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(profile).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MSPProfileInputSerializer, responses={200: MSPProfileSerializer, **errors(400, 403, 404, 409)}
    )
    def update(self, request, *args, **kwargs):
        profile = self.get_object()
        data = MSPProfileInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("contacts", None)
        profile = services.msp_update(profile=profile, actor=request.user, **values)
        return Response(self.get_serializer(profile).data)

    def destroy(self, request, *args, **kwargs):
        services.msp_remove(profile=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


router.register("msps", MSPProfileViewSet, basename="msp")
