"""API of Phase Two desks: engagements, milestones, opportunities (with stage moves), activities and attributions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from tmw.accounts.models import Organisation
from tmw.api import ScopedGenericViewSet, ScopedReadOnlyModelViewSet, request_user, router

from . import selectors, services
from .filters import ActivityFilterSet, AttributionFilterSet, MilestoneFilterSet, OpportunityFilterSet
from .models import Activity, Attribution, Engagement, Milestone, Opportunity, TeamMember

# --- serializers ------------------------------------------------------------------------------


class EngagementErrorSerializer(serializers.Serializer):
    """The error shape of every answer that is not a success."""

    message = serializers.CharField()
    extra = serializers.DictField(help_text="Messages by field name, when the error is about fields.")


def _errors(**codes: str) -> dict[int, OpenApiResponse]:
    return {int(code[1:]): OpenApiResponse(EngagementErrorSerializer, description=text) for code, text in codes.items()}


WRITE_ERRORS = _errors(
    e400="A field is missing or not valid; ``extra`` names it.",
    e403="Your role may not do this, or not to this object.",
    e404="No such object in your scope.",
)


class EngagementSerializer(serializers.ModelSerializer):
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    lead_partner_name = serializers.CharField(source="lead_partner.__str__", read_only=True)
    stop_date = serializers.DateField(read_only=True, allow_null=True, help_text="The end or termination day.")

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
    owner_role = serializers.ChoiceField(
        choices=TeamMember.Role.choices, allow_blank=True, read_only=True, help_text="Empty when anyone may own it."
    )

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
    msp_name = serializers.CharField(source="msp.name", read_only=True, allow_null=True, default=None)

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
    access = "engagement.view"
    queryset = Engagement.objects.select_related("vendor", "lead_partner").order_by("-start_date", "-pk")
    filterset_fields = ["status", "option"]


@extend_schema_view(
    update=extend_schema(responses={200: MilestoneSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(responses={200: MilestoneSerializer, **WRITE_ERRORS}),
)
class MilestoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedGenericViewSet):
    """Plan milestones; partners change their status and due date."""

    serializer_class = MilestoneSerializer
    access = {"read": "engagement.view", "write": "engagement.manage"}
    queryset = Milestone.objects.select_related("workstream", "engagement__vendor").order_by("due_on", "pk")
    filterset_class = MilestoneFilterSet

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
    access = {"read": "engagement.view", "create": "opportunity.create", "move": "opportunity.move"}
    queryset = Opportunity.objects.select_related("msp").order_by("-stage_changed_at", "-pk")
    filterset_class = OpportunityFilterSet

    def get_queryset(self):
        return selectors.opportunities_for().order_by("-stage_changed_at", "-pk")

    @extend_schema(
        request=OpportunityCreateSerializer,
        responses={
            201: OpportunitySerializer,
            **WRITE_ERRORS,
            **_errors(e409="The MSP is already in this pipeline, or the engagement has stopped."),
        },
    )
    def create(self, request, *args, **kwargs):
        """Put an MSP in a pipeline (vendor users: vendor-sourced, in their own engagement)."""
        data = OpportunityCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        opportunity = services.opportunity_create(actor=request_user(request), **data.validated_data)
        instance = self.get_queryset().get(pk=opportunity.pk)
        return Response(OpportunitySerializer(instance).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MoveSerializer, responses={200: OpportunitySerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the opportunity to another stage (a lost one needs ``lost_reason``).

        ``on`` dates the move: partners may give a day since the engagement started (never in
        the future); vendor users move their team's opportunities on the day itself only.
        """
        opportunity = self.get_object()
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.opportunity_move(opportunity=opportunity, actor=request_user(request), **data.validated_data)
        return Response(OpportunitySerializer(self.get_queryset().get(pk=opportunity.pk)).data)


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The activity log; vendor users only ever see the entries shared with them."""

    serializer_class = ActivitySerializer
    access = {"read": "engagement.view", "create": "activity.log"}
    queryset = Activity.objects.select_related("msp").order_by("-occurred_on", "-pk")
    filterset_class = ActivityFilterSet

    def get_queryset(self):
        return selectors.visible_activities(user=request_user(self.request))

    @extend_schema(request=ActivityCreateSerializer, responses={201: ActivitySerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        """Log an activity on an engagement (TMW only)."""
        data = ActivityCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        activity = services.activity_create(actor=request_user(request), **data.validated_data)
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


class AttributionViewSet(ScopedReadOnlyModelViewSet):
    """Attributed MSP accounts, open and ended."""

    serializer_class = AttributionSerializer
    access = "engagement.view"
    queryset = Attribution.objects.select_related("msp").order_by("-starts_on", "-pk")
    filterset_class = AttributionFilterSet


router.register("engagements", EngagementViewSet, basename="engagement")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("activities", ActivityViewSet, basename="activity")
router.register("attributions", AttributionViewSet, basename="attribution")
