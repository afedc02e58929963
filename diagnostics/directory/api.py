"""API of the MSP directory, ideal-partner profiles and target lists.

Partners read and write everything; vendors read the MSPs on their own target lists,
their ideal-partner profiles and their target lists (without the MSPs TMW excluded).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from diagnostics.models import Diagnostic, IdealPartnerProfile, MSPContact, MSPProfile, TargetEntry, TargetList
from diagnostics.models.directory import LIST_FIELDS, REGIONS
from tmw.accounts.models import Country
from tmw.accounts.permissions import PARTNERS, VENDORS
from tmw.api import ScopedGenericViewSet, ScopedModelViewSet, router

from . import services
from .filters import MSPFilterSet
from .selectors import visible_entries


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
        fields = ["id", "name", "title", "email", "phone", "is_primary"]


class MSPProfileSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    contacts = MSPContactSerializer(many=True, read_only=True)

    class Meta:
        model = MSPProfile
        fields = [
            "id",
            "legal_name",
            "city",
            "region",
            "country",
            "website",
            "employees",
            "technicians",
            "endpoints",
            "clients",
            "verticals",
            "service_lines",
            "psa_tools",
            "rmm_tools",
            "pe_backed",
            "platform_name",
            "community_member",
            "relationship",
            "notes",
            "contacts",
            "updated_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_operator:
            data.pop("contacts", None)
            data.pop("notes", None)
        return data


def _list_field(name: str, required: bool = False):
    return serializers.ListField(child=serializers.ChoiceField(choices=LIST_FIELDS[name][0].choices), required=required)


class MSPProfileInputSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=120)
    region = serializers.CharField(max_length=2)
    country = serializers.ChoiceField(choices=Country.choices)
    website = serializers.URLField(required=False, allow_blank=True)
    employees = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    technicians = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    endpoints = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    clients = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    verticals = _list_field("verticals")
    service_lines = _list_field("service_lines")
    psa_tools = _list_field("psa_tools")
    rmm_tools = _list_field("rmm_tools")
    pe_backed = serializers.BooleanField(required=False)
    platform_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    community_member = serializers.BooleanField(required=False)
    relationship = serializers.IntegerField(min_value=0, max_value=3, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    contacts = MSPContactSerializer(many=True, required=False)


class MSPProfileViewSet(ScopedModelViewSet):
    """The MSP directory: partners list, create, change and remove MSPs; vendors read the MSPs on their lists."""

    serializer_class = MSPProfileSerializer
    queryset = MSPProfile.objects.all()
    permission_classes = [PartnersWriteVendorsRead]
    filterset_class = MSPFilterSet

    def get_queryset(self):
        qs = MSPProfile.objects.order_by("legal_name", "pk")
        if self.request.user.is_operator:
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


# --- Ideal-partner profiles


class IdealPartnerProfileSerializer(serializers.ModelSerializer):
    countries = serializers.ListField(child=serializers.ChoiceField(choices=Country.choices), required=False)
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=[r for regions in REGIONS.values() for r in regions]), required=False
    )
    verticals = _list_field("verticals")
    required_service_lines = _list_field("service_lines")
    preferred_service_lines = _list_field("service_lines")
    psa_integrations = _list_field("psa_tools")
    rmm_integrations = _list_field("rmm_tools")

    class Meta:
        model = IdealPartnerProfile
        exclude = ["updated_by"]
        read_only_fields = ["diagnostic", "updated_at"]


class IdealPartnerProfileViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedGenericViewSet
):
    """Ideal-partner profiles, one per diagnostic: partners edit them, vendors read their own."""

    serializer_class = IdealPartnerProfileSerializer
    queryset = IdealPartnerProfile.objects.all()
    permission_classes = [PartnersWriteVendorsRead]
    filterset_fields = ["diagnostic"]

    def get_queryset(self):
        return IdealPartnerProfile.objects.order_by("pk")

    def update(self, request, *args, **kwargs):
        profile = self.get_object()
        data = self.get_serializer(profile, data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        profile = services.ideal_partner_profile_update(
            diagnostic=profile.diagnostic, actor=request.user, **data.validated_data
        )
        return Response(self.get_serializer(profile).data)


# --- Target lists


class TargetEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = TargetEntry
        fields = [
            "id",
            "target_list",
            "msp",
            "msp_name",
            "msp_city",
            "msp_region",
            "msp_country",
            "rank",
            "score",
            "tier",
            "breakdown",
            "pinned",
            "excluded",
            "reason",
            "previous_rank",
            "movement",
        ]
        read_only_fields = [f for f in fields if f not in ("pinned", "excluded", "reason")]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_operator:
            for name in ("pinned", "excluded", "reason"):
                data.pop(name, None)
        return data


class TargetListSerializer(serializers.ModelSerializer):
    class Meta:
        model = TargetList
        fields = ["id", "diagnostic", "number", "created_at", "scored_count", "profile_snapshot", "dropped"]


class TargetListDetailSerializer(TargetListSerializer):
    entries = serializers.SerializerMethodField()

    class Meta(TargetListSerializer.Meta):
        fields = [*TargetListSerializer.Meta.fields, "entries"]

    @extend_schema(responses=TargetEntrySerializer(many=True))
    def get_entries(self, obj) -> list:
        request = self.context["request"]
        return TargetEntrySerializer(
            visible_entries(target_list=obj, user=request.user), many=True, context=self.context
        ).data


class TargetListBuildSerializer(serializers.Serializer):
    diagnostic = serializers.IntegerField()


class TargetListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Target-list snapshots with their entries; partners build a new one with POST .../build/."""

    serializer_class = TargetListSerializer
    queryset = TargetList.objects.all()
    permission_classes = [PartnersWriteVendorsRead]
    filterset_fields = ["diagnostic"]

    def get_queryset(self):
        return TargetList.objects.order_by("diagnostic", "-number")

    def get_serializer_class(self):
        return TargetListDetailSerializer if self.action in ("retrieve", "build") else TargetListSerializer

    @extend_schema(request=TargetListBuildSerializer, responses={201: TargetListDetailSerializer})
    @action(detail=False, methods=["post"])
    def build(self, request):
        data = TargetListBuildSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        diagnostic = Diagnostic.objects.filter(pk=data.validated_data["diagnostic"]).first()
        if diagnostic is None:
            return Response({"message": "Not found.", "extra": {}}, status=status.HTTP_404_NOT_FOUND)
        target_list = services.target_list_build(diagnostic=diagnostic, actor=request.user)
        return Response(self.get_serializer(target_list).data, status=status.HTTP_201_CREATED)


class TargetEntryFlagSerializer(serializers.Serializer):
    pinned = serializers.BooleanField(required=False, default=False)
    excluded = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TargetEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedGenericViewSet
):
    """Entries of target lists; partners pin or exclude one with PATCH {pinned, excluded, reason}."""

    serializer_class = TargetEntrySerializer
    queryset = TargetEntry.objects.all()
    permission_classes = [PartnersWriteVendorsRead]
    filterset_fields = ["target_list", "tier"]

    def get_queryset(self):
        qs = TargetEntry.objects.order_by("target_list", "rank", "pk")
        if not self.request.user.is_operator:
            qs = qs.filter(excluded=False)
        return qs

    @extend_schema(request=TargetEntryFlagSerializer, responses=TargetEntrySerializer)
    def update(self, request, *args, **kwargs):
        entry = self.get_object()
        data = TargetEntryFlagSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.target_entry_flag(entry=entry, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(entry).data)


router.register("msps", MSPProfileViewSet, basename="msp")
router.register("ideal-partner-profiles", IdealPartnerProfileViewSet, basename="ideal-partner-profile")
router.register("target-lists", TargetListViewSet, basename="target-list")
router.register("target-entries", TargetEntryViewSet, basename="target-entry")
