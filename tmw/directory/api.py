"""API of the MSP directory.

Partners read and write every MSP; vendors read the MSPs a visibility rule shows them
(those on their own target lists and in their pipeline), without TMW's contacts and notes.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from tmw.accounts.permissions import PARTNERS, VENDORS
from tmw.api import ScopedModelViewSet, router

from . import services
from .filters import MSPFilterSet
from .models import CONTACT_FIELDS, LIST_FIELDS, PROFILE_FIELDS, MSPContact, MSPProfile


class PartnersWriteVendorsRead(BasePermission):
    """Partners may do anything; vendor users may only read."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return False
        if user.role in PARTNERS:
            return True
        return request.method in SAFE_METHODS and user.role in VENDORS


# --- MSP directory


class MSPContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = MSPContact
        fields = ["id", *CONTACT_FIELDS]


class MSPProfileSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    contacts = MSPContactSerializer(many=True, read_only=True)

    class Meta:
        model = MSPProfile
        fields = ["id", *PROFILE_FIELDS, "contacts", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_operator:
            data.pop("contacts", None)
            data.pop("notes", None)
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


class MSPProfileViewSet(ScopedModelViewSet):
    """The MSP directory: partners list, create, change and remove MSPs; vendors read the MSPs on their lists."""

    serializer_class = MSPProfileSerializer
    queryset = MSPProfile.objects.all()
    permission_classes = [PartnersWriteVendorsRead]
    filterset_class = MSPFilterSet

    def get_queryset(self):
        qs = MSPProfile.objects.order_by("legal_name", "pk")
        if getattr(self.request.user, "is_operator", False):
            qs = qs.prefetch_related("contacts")
        return qs

    @extend_schema(request=MSPProfileInputSerializer, responses={201: MSPProfileSerializer})
    def create(self, request, *args, **kwargs):
        data = MSPProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.msp_create(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(profile).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MSPProfileInputSerializer, responses=MSPProfileSerializer)
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
