"""API of the MSP directory.

Partners read and write every MSP; vendors read the MSPs a visibility rule shows them
(those on their own target lists and in their pipeline), without TMW's contacts and notes.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from tmw.accounts import policy
from tmw.api import ScopedGenericViewSet, ScopedModelViewSet, request_user, router
from tmw.errors import ApplicationError
from tmw.pagecache import CachedListMixin

from . import services
from .filters import MSPFilterSet
from .models import (
    CONTACT_FIELDS,
    LIST_FIELDS,
    PROFILE_FIELDS,
    SELF_SERVICE_FIELDS,
    MSPContact,
    MSPProfile,
    MSPProfileChange,
)


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
        fields = ["id", *PROFILE_FIELDS, "contacts", "confirmed_at", "updated_at"]

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
class MSPProfileViewSet(CachedListMixin, ScopedModelViewSet):
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


# --- MSP self-service


class ProfileChangeSerializer(serializers.ModelSerializer):
    """A change an MSP proposed to its profile: only the fields that differ, and its contacts if they changed."""

    msp = serializers.IntegerField(source="msp_id", read_only=True)
    msp_name = serializers.CharField(source="msp.legal_name", read_only=True)
    proposed_by = serializers.IntegerField(source="proposed_by_id", read_only=True, allow_null=True)
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", read_only=True, allow_null=True)
    proposed = serializers.DictField()
    contacts = serializers.ListField(child=serializers.DictField(), allow_null=True)

    class Meta:
        model = MSPProfileChange
        fields = [
            "id",
            "msp",
            "msp_name",
            "status",
            "proposed",
            "contacts",
            "note",
            "proposed_by",
            "proposed_at",
            "reviewed_by",
            "reviewed_at",
            "review_reason",
        ]
        read_only_fields = fields


class SelfContactSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    title = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(required=False, default=False)


class ProfileChangeInputSerializer(serializers.ModelSerializer):
    """What an MSP proposes: any of its self-service fields, optionally its whole list of contacts, and a note."""

    verticals = list_field("verticals")
    service_lines = list_field("service_lines")
    psa_tools = list_field("psa_tools")
    rmm_tools = list_field("rmm_tools")
    contacts = SelfContactSerializer(many=True, required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    class Meta:
        model = MSPProfile
        fields = [*SELF_SERVICE_FIELDS, "contacts", "note"]
        extra_kwargs = {name: {"required": False} for name in SELF_SERVICE_FIELDS}
        validators: list = []

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if hasattr(data, "keys") else []
        if unknown:
            raise serializers.ValidationError(
                {name: ["TMW keeps this itself, or it is not a field."] for name in unknown}
            )
        return super().to_internal_value(data)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


@extend_schema_view(
    list=extend_schema(
        summary="Profile changes proposed by MSPs",
        description="Partners see every MSP's; an MSP member sees its own MSP's.",
        responses={200: ProfileChangeSerializer(many=True), **errors(400, 403)},
    ),
    retrieve=extend_schema(responses={200: ProfileChangeSerializer, **errors(403, 404)}),
)
class ProfileChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """MSPs propose changes to their own directory profile; partners approve or decline them."""

    serializer_class = ProfileChangeSerializer
    access = {
        "read": "msp_profile.changes",
        "create": "msp_profile.update_own",
        "confirm": "msp_profile.update_own",
        "approve": "msp_profile.review",
        "reject": "msp_profile.review",
    }
    queryset = MSPProfileChange.objects.all()

    def get_queryset(self):
        return MSPProfileChange.objects.select_related("msp").order_by("-proposed_at", "-pk")

    def _own_profile(self, request) -> MSPProfile:
        profile = MSPProfile.objects.filter(pk=request_user(request).organisation_id).first()
        if profile is None:
            raise ApplicationError("Your MSP has no directory profile yet; TMW adds it.", status=404)
        return profile

    @extend_schema(
        summary="Propose changes to one's own MSP profile",
        description="MSP members only. Replaces a proposal still waiting. Nothing enters the directory until a "
        "partner approves it.",
        request=ProfileChangeInputSerializer,
        responses={201: ProfileChangeSerializer, **errors(400, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        data = ProfileChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contacts = values.pop("contacts", None)
        note = values.pop("note", "")
        change = services.msp_change_propose(
            actor=request_user(request),
            profile=self._own_profile(request),
            data=values,
            contacts=[dict(c) for c in contacts] if contacts is not None else None,
            note=note,
        )
        return Response(ProfileChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm one's own MSP profile is still right",
        description="MSP members only; the profile counts as confirmed now.",
        request=None,
        responses={200: MSPProfileSerializer, **errors(403, 404)},
    )
    @action(detail=False, methods=["post"])
    def confirm(self, request):
        profile = services.msp_profile_confirm(actor=request_user(request), profile=self._own_profile(request))
        return Response(MSPProfileSerializer(profile, context={"request": request}).data)

    @extend_schema(
        summary="Approve a proposed change",
        description="Partners only. The directory takes the values; 409 if it was already decided.",
        request=None,
        responses={200: ProfileChangeSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        change = self.get_object()
        services.msp_change_approve(actor=request_user(request), change=change)
        change.refresh_from_db()
        return Response(ProfileChangeSerializer(change).data)

    @extend_schema(
        summary="Decline a proposed change, with a reason",
        description="Partners only. The MSP is emailed the reason; 409 if it was already decided.",
        request=RejectSerializer,
        responses={200: ProfileChangeSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        change = self.get_object()
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.msp_change_reject(actor=request_user(request), change=change, **data.validated_data)
        return Response(ProfileChangeSerializer(change).data)


router.register("msp-profile-changes", ProfileChangeViewSet, basename="msp-profile-change")
