"""API of Phase Two desks: engagements, milestones, opportunities (with stage moves), activities and attributions."""

from __future__ import annotations

from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from tmw.accounts.models import Organisation
from tmw.accounts.permissions import OPERATORS, PARTNERS, VENDORS, HasRole
from tmw.api import ScopedGenericViewSet, ScopedReadOnlyModelViewSet, request_user, router
from tmw.errors import ApplicationError

from . import selectors, services
from .filters import OpportunityFilterSet
from .models import Activity, Attribution, Engagement, Milestone, Opportunity

DeskReaders = HasRole.of(OPERATORS, VENDORS)


class PartnersWrite(BasePermission):
    """Reads for operators and vendor users; writes for partners only."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return request.user.role in PARTNERS


# --- serializers ------------------------------------------------------------------------------


class EngagementSerializer(serializers.ModelSerializer):
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    lead_partner_name = serializers.CharField(source="lead_partner.__str__", read_only=True)
    stop_date = serializers.DateField(read_only=True)

    class Meta:
        model = Engagement
        fields = [
            "id",
            "vendor",
            "vendor_name",
            "diagnostic",
            "option",
            "status",
            "lead_partner",
            "lead_partner_name",
            "start_date",
            "end_date",
            "terminated_on",
            "stop_date",
        ]
        read_only_fields = fields


class MilestoneSerializer(serializers.ModelSerializer):
    workstream_name = serializers.CharField(source="workstream.name", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Milestone
        fields = [
            "id",
            "engagement",
            "workstream",
            "workstream_name",
            "title",
            "owner",
            "owner_role",
            "due_on",
            "status",
            "completed_on",
            "is_overdue",
        ]
        read_only_fields = [f for f in fields if f not in ("status", "due_on")]


class OpportunitySerializer(serializers.ModelSerializer):
    msp_name = serializers.CharField(source="msp.name", read_only=True)
    tier = serializers.CharField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "engagement",
            "vendor",
            "msp",
            "msp_name",
            "stage",
            "source",
            "source_detail",
            "expected_mrr",
            "lost_reason",
            "introduced_on",
            "signed_on",
            "live_on",
            "lost_on",
            "tier",
            "stage_changed_at",
            "created_at",
        ]
        read_only_fields = fields


class OpportunityCreateSerializer(serializers.Serializer):
    engagement = serializers.PrimaryKeyRelatedField(queryset=Engagement.objects.all())
    # unscoped: shared (other tenants' rows this action needs by design)
    msp = serializers.PrimaryKeyRelatedField(queryset=Organisation.all_objects.filter(kind=Organisation.Kind.MSP))
    source = serializers.ChoiceField(  # type: ignore[assignment]  # the metaclass pops declared fields; no clash with Field.source
        choices=Opportunity.Source.choices, default=Opportunity.Source.TMW
    )
    stage = serializers.ChoiceField(choices=Opportunity.Stage.choices, default=Opportunity.Stage.TARGET)
    expected_mrr = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    source_detail = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        user = self.context["request"].user
        allowed = selectors.msp_choices(engagement=attrs["engagement"], user=user)
        if not allowed.filter(pk=attrs["msp"].pk).exists():
            raise serializers.ValidationError({"msp": ["Choose an MSP visible to you."]})
        return attrs


class MoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Opportunity.Stage.choices)
    lost_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    on = serializers.DateField(required=False, allow_null=True, default=None)


class ActivitySerializer(serializers.ModelSerializer):
    msp_name = serializers.CharField(source="msp.name", read_only=True, default=None)

    class Meta:
        model = Activity
        fields = ["id", "engagement", "kind", "visibility", "occurred_on", "summary", "body", "msp", "msp_name"]
        read_only_fields = fields


class ActivityCreateSerializer(serializers.Serializer):
    engagement = serializers.PrimaryKeyRelatedField(queryset=Engagement.objects.all())
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    visibility = serializers.ChoiceField(choices=Activity.Visibility.choices, default=Activity.Visibility.INTERNAL)
    occurred_on = serializers.DateField(required=False, allow_null=True, default=None)
    summary = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="")


class AttributionSerializer(serializers.ModelSerializer):
    msp_name = serializers.CharField(source="msp.name", read_only=True)

    class Meta:
        model = Attribution
        fields = ["id", "engagement", "vendor", "msp", "msp_name", "opportunity", "starts_on", "ended_on", "reason"]
        read_only_fields = fields


# --- viewsets ---------------------------------------------------------------------------------


class EngagementViewSet(ScopedReadOnlyModelViewSet):
    """Engagements in the user's scope."""

    serializer_class = EngagementSerializer
    permission_classes = [DeskReaders]
    queryset = Engagement.objects.select_related("vendor", "lead_partner").order_by("-start_date", "-pk")
    filterset_fields = ["status", "option"]


class MilestoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedGenericViewSet):
    """Plan milestones; partners change their status and due date."""

    serializer_class = MilestoneSerializer
    permission_classes = [DeskReaders, PartnersWrite]
    queryset = Milestone.objects.select_related("workstream", "engagement__vendor").order_by("due_on", "pk")
    filterset_fields = ["engagement", "status"]

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.milestone_update(
            milestone=serializer.instance,
            status=data.get("status"),
            due_on=data.get("due_on"),
            actor=request_user(self.request),
        )


class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The pipeline; create through the service, move with ``POST .../move/``."""

    serializer_class = OpportunitySerializer
    permission_classes = [DeskReaders]
    queryset = Opportunity.objects.select_related("msp").order_by("-stage_changed_at", "-pk")
    filterset_class = OpportunityFilterSet

    def get_queryset(self):
        return selectors.opportunities_for().order_by("-stage_changed_at", "-pk")

    def create(self, request, *args, **kwargs):
        if not (request.user.role in PARTNERS or request.user.is_vendor_user):
            raise ApplicationError("You cannot add opportunities.", status=403)
        data = OpportunityCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_create(actor=request.user, **data.validated_data)
        instance = self.get_queryset().get(pk=opportunity.pk)
        return Response(OpportunitySerializer(instance).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the opportunity to another stage (a lost one needs ``lost_reason``)."""
        opportunity = self.get_object()
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not selectors.can_move(user=request.user, opportunity=opportunity):
            raise ApplicationError("You cannot move this opportunity.", status=403)
        services.opportunity_move(opportunity=opportunity, actor=request.user, **data.validated_data)
        return Response(OpportunitySerializer(self.get_queryset().get(pk=opportunity.pk)).data)


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The activity log; vendor users only ever see the entries shared with them."""

    serializer_class = ActivitySerializer
    permission_classes = [DeskReaders]
    queryset = Activity.objects.select_related("msp").order_by("-occurred_on", "-pk")
    filterset_fields = ["engagement", "kind"]

    def get_queryset(self):
        return selectors.visible_activities(user=request_user(self.request))

    def create(self, request, *args, **kwargs):
        if request.user.role not in PARTNERS:
            raise ApplicationError("Only TMW logs activity.", status=403)
        data = ActivityCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        activity = services.activity_create(actor=request.user, **data.validated_data)
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


class AttributionViewSet(ScopedReadOnlyModelViewSet):
    """Attributed MSP accounts, open and ended."""

    serializer_class = AttributionSerializer
    permission_classes = [DeskReaders]
    queryset = Attribution.objects.select_related("msp").order_by("-starts_on", "-pk")
    filterset_fields = ["engagement"]


router.register("engagements", EngagementViewSet, basename="engagement")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("activities", ActivityViewSet, basename="activity")
router.register("attributions", AttributionViewSet, basename="attribution")
