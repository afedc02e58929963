"""API for diagnostics: list and detail for partners and the vendor's own; scores, thesis, decision, status;
ideal-partner profiles and target lists (partners write, vendors read their own without the MSPs TMW excluded)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from tmw.accounts import policy
from tmw.accounts.models import Country, Organisation, Role, User
from tmw.api import ScopedGenericViewSet, router
from tmw.directory.api import errors, list_field
from tmw.directory.models import REGIONS
from tmw.errors import ApplicationError

from . import selectors, services
from .models import (
    ChannelThesis,
    Criterion,
    CriterionScore,
    Decision,
    Diagnostic,
    IdealPartnerProfile,
    TargetEntry,
    TargetList,
)
from .selectors import visible_entries, visible_target_lists

# --- Serializers


class CriterionScoreSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="criterion.key", read_only=True)
    title = serializers.CharField(source="criterion.title", read_only=True)

    class Meta:
        model = CriterionScore
        fields = ["criterion", "key", "title", "level", "evidence", "updated_at"]


class ScoreInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    level = serializers.IntegerField(min_value=0, max_value=5)
    evidence = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ThesisSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChannelThesis
        fields = [*ChannelThesis.FIELDS, "updated_at"]
        read_only_fields = ["updated_at"]


class ThesisAnswerSerializer(ThesisSerializer):
    """The channel thesis as GET answers it: ``{}`` before one is written, so no field is required."""

    updated_at = serializers.DateTimeField(required=False)

    class Meta(ThesisSerializer.Meta):
        read_only_fields: list[str] = []
        extra_kwargs = {name: {"required": False} for name in ChannelThesis.FIELDS}


class DecisionSerializer(serializers.ModelSerializer):
    """The decision (answers only); before one is recorded GET answers ``{}``, so no field is required."""

    recommended_option = serializers.CharField(required=False)
    decided_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Decision
        fields = [
            "outcome",
            "rationale",
            "conditions",
            "gate_override_reason",
            "recommended_option",
            "option",
            "option_override_reason",
            "decided_at",
        ]
        extra_kwargs = {name: {"required": False} for name in fields}


class DecisionInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Decision.Outcome.choices)
    rationale = serializers.CharField()
    conditions = serializers.CharField(required=False, allow_blank=True, default="")
    gate_override_reason = serializers.CharField(required=False, allow_blank=True, default="")
    option = serializers.ChoiceField(choices=Decision.Option.choices, required=False, allow_null=True, default=None)
    option_override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class GroupScoreSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the metaclass pops declared fields; no clash with Field.label
    score = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    scored = serializers.IntegerField()
    total = serializers.IntegerField()


class DiagnosticSerializer(serializers.ModelSerializer):
    """A diagnostic; scores, thesis and decision appear for partners, and for the vendor once complete."""

    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    recommended_option = serializers.CharField(read_only=True)
    overall_score = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()
    failed_gates = serializers.SerializerMethodField()

    class Meta:
        model = Diagnostic
        fields = [
            "id",
            "vendor",
            "vendor_name",
            "lead_partner",
            "rubric",
            "status",
            "started_on",
            "due_on",
            "is_overdue",
            "completed_at",
            "has_us_sales",
            "has_us_marketing",
            "has_us_channel",
            "recommended_option",
            "overall_score",
            "groups",
            "failed_gates",
        ]
        read_only_fields = fields

    def _card(self, obj):
        if not self._shows_results(obj):
            return None
        cache = self.context.setdefault("_cards", {})
        if obj.pk not in cache:
            cache[obj.pk] = selectors.diagnostic_scorecard(diagnostic=obj)
        return cache[obj.pk]

    def _shows_results(self, obj) -> bool:
        request = self.context.get("request")
        return bool(request and (policy.sees_draft(request.user) or obj.is_complete))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_overall_score(self, obj):
        if not self._shows_results(obj):
            return None
        overall = self.context.get("overall_scores", {}).get(obj.pk, ...)
        if overall is ...:
            card = self._card(obj)
            overall = card.overall if card else None
        return None if overall is None else str(overall)

    @extend_schema_field(GroupScoreSerializer(many=True, allow_null=True))
    def get_groups(self, obj):
        if self.context.get("list_view"):
            return None
        card = self._card(obj)
        return GroupScoreSerializer(card.groups, many=True).data if card else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_failed_gates(self, obj):
        if self.context.get("list_view"):
            return None
        card = self._card(obj)
        return [r.criterion.key for r in card.failed_gates] if card else None


@extend_schema_field(OpenApiTypes.INT)
class VendorField(serializers.PrimaryKeyRelatedField):
    """A vendor organisation in the user's scope (read at request time)."""

    def get_queryset(self):
        return Organisation.objects.filter(kind=Organisation.Kind.VENDOR)


@extend_schema_field(OpenApiTypes.INT)
class PartnerField(serializers.PrimaryKeyRelatedField):
    """An active TMW partner."""

    def get_queryset(self):
        return User.objects.filter(role=Role.PARTNER, is_active=True)


class DiagnosticCreateSerializer(serializers.Serializer):
    vendor = VendorField()
    lead_partner = PartnerField()
    started_on = serializers.DateField(required=False, allow_null=True, default=None)


class DiagnosticUpdateSerializer(serializers.Serializer):
    lead_partner = PartnerField(required=False)
    due_on = serializers.DateField(required=False)
    has_us_sales = serializers.BooleanField(required=False)
    has_us_marketing = serializers.BooleanField(required=False)
    has_us_channel = serializers.BooleanField(required=False)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Diagnostic.Status.choices)


# --- Views


@extend_schema_view(
    list=extend_schema(responses={200: DiagnosticSerializer(many=True), **errors(400, 403)}),
    retrieve=extend_schema(responses={200: DiagnosticSerializer, **errors(403, 404)}),
)
class DiagnosticViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Diagnostics: partners see and change all; vendor users read their own (results once complete)."""

    queryset = Diagnostic.objects.all()
    serializer_class = DiagnosticSerializer
    filterset_fields = ["status", "vendor"]
    access = {"read": "diagnostic.view", "write": "diagnostic.manage"}

    def get_queryset(self):
        return Diagnostic.objects.select_related("vendor", "lead_partner", "rubric").order_by("-started_on", "-pk")

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        items = list(page if page is not None else queryset)
        context = {
            **self.get_serializer_context(),
            "list_view": True,
            "overall_scores": selectors.overall_scores(diagnostics=items),
        }
        data = DiagnosticSerializer(items, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def _vendor_may_read_results(self, diagnostic: Diagnostic) -> None:
        if not policy.sees_draft(self.request.user) and not diagnostic.is_complete:
            raise ApplicationError("The results are shared once the diagnostic is complete.", status=409)

    @extend_schema(request=DiagnosticCreateSerializer, responses={201: DiagnosticSerializer, **errors(400, 403)})
    def create(self, request):
        data = DiagnosticCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        diagnostic = services.diagnostic_start(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(diagnostic).data, status=201)

    @extend_schema(
        request=DiagnosticUpdateSerializer, responses={200: DiagnosticSerializer, **errors(400, 403, 404, 409)}
    )
    def partial_update(self, request, pk=None):
        diagnostic = self.get_object()
        data = DiagnosticUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        diagnostic = services.diagnostic_update(diagnostic=diagnostic, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(diagnostic).data)

    @extend_schema(responses={200: CriterionScoreSerializer(many=True), **errors(403, 404, 409)})
    @action(detail=True, methods=["get"], url_path="scores", pagination_class=None, filter_backends=[])
    def scores(self, request, pk=None):
        diagnostic = self.get_object()
        self._vendor_may_read_results(diagnostic)
        scores = CriterionScore.objects.filter(diagnostic=diagnostic).select_related("criterion")
        return Response(CriterionScoreSerializer(scores, many=True).data)

    @extend_schema(
        request=ScoreInputSerializer, responses={200: CriterionScoreSerializer, **errors(400, 403, 404, 409)}
    )
    @scores.mapping.post
    def scores_set(self, request, pk=None):
        diagnostic = self.get_object()
        data = ScoreInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        criterion = get_object_or_404(Criterion, pk=data.validated_data["criterion"], rubric_id=diagnostic.rubric_id)
        score = services.criterion_score_set(
            diagnostic=diagnostic,
            criterion=criterion,
            level=data.validated_data["level"],
            evidence=data.validated_data["evidence"],
            actor=request.user,
        )
        return Response(CriterionScoreSerializer(score).data)

    @extend_schema(responses={200: ThesisAnswerSerializer, **errors(403, 404, 409)})
    @action(detail=True, methods=["get"], url_path="thesis", filter_backends=[])
    def thesis(self, request, pk=None):
        diagnostic = self.get_object()
        self._vendor_may_read_results(diagnostic)
        thesis = selectors.diagnostic_thesis(diagnostic=diagnostic)
        return Response(ThesisSerializer(thesis).data if thesis else {})

    @extend_schema(request=ThesisSerializer, responses={200: ThesisSerializer, **errors(400, 403, 404, 409)})
    @thesis.mapping.put
    def thesis_set(self, request, pk=None):
        diagnostic = self.get_object()
        data = ThesisSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        thesis = services.thesis_save(diagnostic=diagnostic, actor=request.user, **data.validated_data)
        return Response(ThesisSerializer(thesis).data)

    @extend_schema(responses={200: DecisionSerializer, **errors(403, 404, 409)})
    @action(detail=True, methods=["get"], url_path="decision", filter_backends=[])
    def decision(self, request, pk=None):
        diagnostic = self.get_object()
        self._vendor_may_read_results(diagnostic)
        decision = selectors.diagnostic_decision(diagnostic=diagnostic)
        return Response(DecisionSerializer(decision).data if decision else {})

    @extend_schema(request=DecisionInputSerializer, responses={200: DecisionSerializer, **errors(400, 403, 404, 409)})
    @decision.mapping.put
    def decision_set(self, request, pk=None):
        diagnostic = self.get_object()
        data = DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.decision_record(diagnostic=diagnostic, actor=request.user, **data.validated_data)
        return Response(DecisionSerializer(decision).data)

    @extend_schema(request=TransitionSerializer, responses={200: DiagnosticSerializer, **errors(400, 403, 404, 409)})
    @action(detail=True, methods=["post"], url_path="transition")
    def transition(self, request, pk=None):
        diagnostic = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        diagnostic = services.diagnostic_transition(
            diagnostic=diagnostic, to=data.validated_data["to"], actor=request.user
        )
        return Response(self.get_serializer(diagnostic).data)

    @extend_schema(request=None, responses={200: DiagnosticSerializer, **errors(403, 404, 409)})
    @action(detail=True, methods=["post"], url_path="complete")
    def complete(self, request, pk=None):
        diagnostic = services.diagnostic_complete(diagnostic=self.get_object(), actor=request.user)
        return Response(self.get_serializer(diagnostic).data)


router.register("diagnostics", DiagnosticViewSet, basename="diagnostic")


# --- Ideal-partner profiles


class IdealPartnerProfileSerializer(serializers.ModelSerializer):
    countries = serializers.ListField(child=serializers.ChoiceField(choices=Country.choices), required=False)
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=[r for regions in REGIONS.values() for r in regions]), required=False
    )
    verticals = list_field("verticals")
    required_service_lines = list_field("service_lines")
    preferred_service_lines = list_field("service_lines")
    psa_integrations = list_field("psa_tools")
    rmm_integrations = list_field("rmm_tools")

    class Meta:
        model = IdealPartnerProfile
        exclude = ["updated_by"]
        read_only_fields = ["diagnostic", "updated_at"]


@extend_schema_view(
    list=extend_schema(responses={200: IdealPartnerProfileSerializer(many=True), **errors(400, 403)}),
    retrieve=extend_schema(responses={200: IdealPartnerProfileSerializer, **errors(403, 404)}),
    update=extend_schema(responses={200: IdealPartnerProfileSerializer, **errors(400, 403, 404, 409)}),
    partial_update=extend_schema(responses={200: IdealPartnerProfileSerializer, **errors(400, 403, 404, 409)}),
)
class IdealPartnerProfileViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedGenericViewSet
):
    """Ideal-partner profiles, one per diagnostic: partners edit them, vendors read their own."""

    serializer_class = IdealPartnerProfileSerializer
    queryset = IdealPartnerProfile.objects.all()
    access = {"read": "targets.view", "write": "targets.manage"}
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
    rank = serializers.SerializerMethodField(
        help_text="Place among the list's included entries, 1..N without gaps; null on an excluded entry."
    )
    score_rank = serializers.IntegerField(
        source="rank", read_only=True, help_text="Place in the score order of every scored MSP (has gaps)."
    )

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
            "score_rank",
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

        extra_kwargs = {name: {"required": False} for name in ("pinned", "excluded", "reason")}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_rank(self, obj: TargetEntry) -> int | None:
        if hasattr(obj, "list_rank"):
            return obj.list_rank
        if obj.excluded:
            return None
        return TargetEntry.objects.filter(target_list_id=obj.target_list_id, excluded=False, rank__lte=obj.rank).count()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not policy.can(request.user, "targets.manage"):
            for name in ("score_rank", "pinned", "excluded", "reason"):
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
    def get_entries(self, obj: TargetList) -> list[Any]:
        request = self.context["request"]
        return list(
            TargetEntrySerializer(
                visible_entries(user=request.user, target_list=obj), many=True, context=self.context
            ).data
        )


class TargetListBuildSerializer(serializers.Serializer):
    diagnostic = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(responses={200: TargetListSerializer(many=True), **errors(400, 403)}),
    retrieve=extend_schema(responses={200: TargetListDetailSerializer, **errors(403, 404)}),
)
class TargetListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Target-list snapshots with their entries; partners build a new one with POST .../build/.

    Vendors read their own diagnostic's lists once it is complete; before, the list is empty and
    a list's id answers 404.
    """

    serializer_class = TargetListSerializer
    queryset = TargetList.objects.all()
    access = {"read": "targets.view", "write": "targets.manage"}
    filterset_fields = ["diagnostic"]

    def get_queryset(self):
        return visible_target_lists(user=self.request.user).order_by("diagnostic", "-number")

    def get_serializer_class(self):
        return TargetListDetailSerializer if self.action in ("retrieve", "build") else TargetListSerializer

    @extend_schema(
        request=TargetListBuildSerializer, responses={201: TargetListDetailSerializer, **errors(400, 403, 404, 409)}
    )
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


@extend_schema_view(
    list=extend_schema(responses={200: TargetEntrySerializer(many=True), **errors(400, 403)}),
    retrieve=extend_schema(responses={200: TargetEntrySerializer, **errors(403, 404)}),
    partial_update=extend_schema(
        request=TargetEntryFlagSerializer, responses={200: TargetEntrySerializer, **errors(400, 403, 404, 409)}
    ),
)
class TargetEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedGenericViewSet
):
    """Entries of target lists; partners pin or exclude one with PATCH {pinned, excluded, reason}.

    Vendors read the entries TMW did not exclude, of their own diagnostic once it is complete.
    """

    serializer_class = TargetEntrySerializer
    queryset = TargetEntry.objects.all()
    access = {"read": "targets.view", "write": "targets.manage"}
    filterset_fields = ["target_list", "tier"]

    def get_queryset(self):
        return visible_entries(user=self.request.user)

    @extend_schema(
        request=TargetEntryFlagSerializer, responses={200: TargetEntrySerializer, **errors(400, 403, 404, 409)}
    )
    def update(self, request, *args, **kwargs):
        entry = self.get_object()
        data = TargetEntryFlagSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.target_entry_flag(entry=entry, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(entry).data)


router.register("ideal-partner-profiles", IdealPartnerProfileViewSet, basename="ideal-partner-profile")
router.register("target-lists", TargetListViewSet, basename="target-list")
router.register("target-entries", TargetEntryViewSet, basename="target-entry")
