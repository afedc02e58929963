"""API of Phase Two desks: engagements, milestones, opportunities (with stage moves), activities and attributions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from diagnostics.models import Diagnostic
from tmw.accounts.models import Organisation, Role, User
from tmw.api import RefuseUnknownFields, ScopedGenericViewSet, request_user, router
from tmw.idempotency import IDEMPOTENCY_PARAMETER, idempotent

from . import selectors, services
from .filters import (
    ActivityFilterSet,
    AttributionFilterSet,
    MilestoneFilterSet,
    NextStepFilterSet,
    OpportunityFilterSet,
)
from .models import Activity, Attribution, DisputeOutcome, Engagement, Milestone, NextStep, Opportunity, TeamMember

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
            "expected_close_on",
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
        fields = [
            "id",
            "engagement",
            "vendor",
            "msp",
            "msp_name",
            "opportunity",
            "starts_on",
            "ended_on",
            "reason",
            "acknowledgement",
            "acknowledge_by",
            "acknowledged_at",
            "dispute_reason",
            "disputed_at",
            "resolution_reason",
            "resolved_at",
        ]
        read_only_fields = fields


class EngagementCreateSerializer(RefuseUnknownFields):
    # Managers, not querysets: the field runs ``.all()`` per request, inside the caller's scope.
    diagnostic = serializers.PrimaryKeyRelatedField(
        queryset=Diagnostic.objects, help_text="A diagnostic whose decision is go or go with conditions."
    )
    lead_partner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role__in=[Role.PARTNER, Role.ADMIN], is_active=True),
        help_text="The TMW partner who leads the desk.",
    )
    option = serializers.ChoiceField(
        choices=Engagement.Option.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Empty: the decision's option (or its recommendation).",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class EngagementDaySerializer(RefuseUnknownFields):
    on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Empty: today.")


class EngagementTerminateSerializer(EngagementDaySerializer):
    reason = serializers.CharField(max_length=2000)


class AttributionCreateSerializer(RefuseUnknownFields):
    engagement = serializers.PrimaryKeyRelatedField(queryset=Engagement.objects)
    # unscoped: shared (the MSP directory is TMW's; only partners reach this serializer)
    msp = serializers.PrimaryKeyRelatedField(queryset=Organisation.all_objects.filter(kind=Organisation.Kind.MSP))
    starts_on = serializers.DateField(help_text="Revenue earns from this day's month on (month 1 of year 1).")
    reason = serializers.CharField(max_length=2000)
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects, required=False, allow_null=True, default=None
    )


class AttributionEndSerializer(RefuseUnknownFields):
    ended_on = serializers.DateField(help_text="The account earns through this day's month, not after.")
    reason = serializers.CharField(max_length=2000)


# --- viewsets ---------------------------------------------------------------------------------


class StageProbabilitiesSerializer(serializers.Serializer):
    """Probability in percent (0-100) per stage; a stage left out keeps its value. Lost is always 0."""

    target = serializers.IntegerField(required=False)
    introduced = serializers.IntegerField(required=False)
    meeting = serializers.IntegerField(required=False)
    evaluation = serializers.IntegerField(required=False)
    signed = serializers.IntegerField(required=False)
    live = serializers.IntegerField(required=False)


class WeightedStageSerializer(serializers.Serializer):
    stage = serializers.CharField()
    stage_label = serializers.CharField(source="label")
    count = serializers.IntegerField()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2)
    probability = serializers.IntegerField()
    weighted = serializers.DecimalField(max_digits=14, decimal_places=2)


class WeightedPipelineSerializer(serializers.Serializer):
    currency = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.IntegerField())
    stages = WeightedStageSerializer(many=True)
    weighted_open = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Stages before signing.")
    weighted_total = serializers.DecimalField(max_digits=14, decimal_places=2)


def _weighted_pipeline(engagement: Engagement) -> dict:
    stages = selectors.pipeline_by_stage(engagement=engagement)
    totals = selectors.weighted_totals(stages)
    return {
        "currency": engagement.currency,
        "probabilities": engagement.probabilities,
        "stages": stages,
        "weighted_open": totals["open"],
        "weighted_total": totals["total"],
    }


ENGAGEMENT_WRITE = "Partners only (``engagement.manage``)."


@extend_schema_view(
    list=extend_schema(summary="List engagements", description="Engagements in the caller's scope."),
    retrieve=extend_schema(summary="Read an engagement", description="One engagement in the caller's scope."),
)
class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Engagements in the user's scope; partners propose them from a diagnostic, start, end and terminate them."""

    serializer_class = EngagementSerializer
    access = {
        "read": "engagement.view",
        "create": "engagement.manage",
        "start": "engagement.manage",
        "end": "engagement.manage",
        "terminate": "engagement.manage",
        "pipeline": "engagement.workspace",
        "probabilities": "pipeline.probabilities",
    }
    queryset = Engagement.objects.select_related("vendor", "lead_partner").order_by("-start_date", "-pk")
    filterset_fields = ["status", "option"]

    def _answer(self, engagement: Engagement, code: int = status.HTTP_200_OK) -> Response:
        return Response(EngagementSerializer(self.get_queryset().get(pk=engagement.pk)).data, status=code)

    @extend_schema(
        summary="Propose an engagement from a diagnostic's decision",
        description=(
            "Creates a proposed Phase Two engagement for the diagnostic's vendor, on the option the decision "
            "chose (or ``option``). The decision must be go or go with conditions (400 naming ``diagnostic``); "
            "a vendor with an open engagement is refused with 409. " + ENGAGEMENT_WRITE
        ),
        request=EngagementCreateSerializer,
        responses={201: EngagementSerializer, **WRITE_ERRORS, **_errors(e409="The vendor has an open engagement.")},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = EngagementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        engagement = services.engagement_create(
            vendor=values["diagnostic"].vendor,
            diagnostic=values["diagnostic"],
            lead_partner=values["lead_partner"],
            option=values["option"],
            notes=values["notes"],
            actor=request_user(request),
        )
        return self._answer(engagement, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Start an engagement",
        description=(
            "A proposed (or paused) engagement becomes active on ``on`` (default today): its term starts that "
            "day and its plan is made from the option's template. Another status: 409. " + ENGAGEMENT_WRITE
        ),
        request=EngagementDaySerializer,
        responses={200: EngagementSerializer, **WRITE_ERRORS, **_errors(e409="Not allowed from this status.")},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def start(self, request, pk=None):
        engagement = self.get_object()
        data = EngagementDaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = services.engagement_start(engagement=engagement, on=data.validated_data["on"], actor=request.user)
        return self._answer(engagement)

    @extend_schema(
        summary="End an engagement",
        description=(
            "An active or paused engagement ends on ``on`` (default today), the last day of its term; its "
            "attributed accounts earn the agreement's tail after that month. Another status: 409. " + ENGAGEMENT_WRITE
        ),
        request=EngagementDaySerializer,
        responses={200: EngagementSerializer, **WRITE_ERRORS, **_errors(e409="Not allowed from this status.")},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def end(self, request, pk=None):
        engagement = self.get_object()
        data = EngagementDaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = services.engagement_transition(
            engagement=engagement, status=Engagement.Status.ENDED, on=data.validated_data["on"], actor=request.user
        )
        return self._answer(engagement)

    @extend_schema(
        summary="Terminate an engagement",
        description=(
            "Stops an engagement early on ``on`` (default today), with a ``reason``; the term ends that day. "
            "An ended or terminated engagement: 409. " + ENGAGEMENT_WRITE
        ),
        request=EngagementTerminateSerializer,
        responses={200: EngagementSerializer, **WRITE_ERRORS, **_errors(e409="Not allowed from this status.")},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def terminate(self, request, pk=None):
        engagement = self.get_object()
        data = EngagementTerminateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = services.engagement_transition(
            engagement=engagement,
            status=Engagement.Status.TERMINATED,
            on=data.validated_data["on"],
            reason=data.validated_data["reason"],
            actor=request.user,
        )
        return self._answer(engagement)

    @extend_schema(responses={200: WeightedPipelineSerializer, **_errors(e403="TMW only.", e404="Not in your scope.")})
    @action(detail=True, methods=["get"])
    def pipeline(self, request, pk=None):
        """Count, expected MRR, probability and weighted MRR per stage, and the desk's weighted totals."""
        return Response(WeightedPipelineSerializer(_weighted_pipeline(self.get_object())).data)

    @extend_schema(request=StageProbabilitiesSerializer, responses={200: WeightedPipelineSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def probabilities(self, request, pk=None):
        """Set the desk's probability per stage (whole percent 0-100); answers the weighted pipeline."""
        engagement = self.get_object()
        data = StageProbabilitiesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = services.stage_probabilities_set(
            engagement=engagement, probabilities=data.validated_data, actor=request_user(request)
        )
        return Response(WeightedPipelineSerializer(_weighted_pipeline(engagement)).data)


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


class ExpectedCloseSerializer(serializers.Serializer):
    expected_close_on = serializers.DateField(allow_null=True, help_text="The expected close date; null clears it.")


class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """The pipeline; create through the service, move with ``POST .../move/``."""

    serializer_class = OpportunitySerializer
    access = {
        "read": "engagement.view",
        "create": "opportunity.create",
        "move": "opportunity.move",
        "expected_close": "opportunity.edit",
    }
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

    @extend_schema(request=ExpectedCloseSerializer, responses={200: OpportunitySerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="expected-close")
    def expected_close(self, request, pk=None):
        """Set the opportunity's expected close date, which the weighted forecast counts it from."""
        opportunity = self.get_object()
        data = ExpectedCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.opportunity_update(
            opportunity=opportunity,
            expected_close_on=data.validated_data["expected_close_on"],
            actor=request_user(request),
        )
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


class AttributionDisputeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why TMW did not source this account.")


class AttributionResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DisputeOutcome.choices)
    reason = serializers.CharField(max_length=2000)
    ended_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="When ``ended``.")


@extend_schema_view(
    list=extend_schema(summary="List attributions", description="Attributed MSP accounts in the caller's scope."),
    retrieve=extend_schema(summary="Read an attribution", description="One attributed account."),
)
class AttributionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Attributed MSP accounts, open and ended; partners add and end them.

    The vendor (its admins) acknowledges or disputes a new attribution within the desk's window
    (``acknowledge_by``); silence acknowledges it. A partner resolves a dispute: kept, or ended.
    """

    serializer_class = AttributionSerializer
    access = {
        "read": "engagement.view",
        "create": "attribution.manage",
        "end": "attribution.manage",
        "acknowledge": "attribution.acknowledge",
        "dispute": "attribution.acknowledge",
        "resolve": "attribution.resolve",
    }
    queryset = Attribution.objects.select_related("msp").order_by("-starts_on", "-pk")
    filterset_class = AttributionFilterSet

    @extend_schema(
        summary="Attribute an MSP account to an engagement",
        description=(
            "From ``starts_on`` the account's recurring revenue earns the agreement's revenue share (its month is "
            "month 1 of year 1), with a ``reason``. An account already attributed to the engagement: 409. "
            "Partners only (``attribution.manage``)."
        ),
        request=AttributionCreateSerializer,
        responses={201: AttributionSerializer, **WRITE_ERRORS, **_errors(e409="Already attributed.")},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = AttributionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attribution = services.attribution_add(actor=request_user(request), **data.validated_data)
        return Response(AttributionSerializer(attribution).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="End an attribution",
        description=(
            "The account earns through the month of ``ended_on`` and not after; the row stays as history. "
            "An attribution already ended: 409. Partners only (``attribution.manage``)."
        ),
        request=AttributionEndSerializer,
        responses={200: AttributionSerializer, **WRITE_ERRORS, **_errors(e409="Already ended.")},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def end(self, request, pk=None):
        attribution = self.get_object()
        data = AttributionEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attribution = services.attribution_end(
            attribution=attribution, actor=request_user(request), **data.validated_data
        )
        return Response(AttributionSerializer(attribution).data)

    def _answer(self, attribution: Attribution) -> Response:
        return Response(AttributionSerializer(Attribution.objects.select_related("msp").get(pk=attribution.pk)).data)

    @extend_schema(
        request=None,
        responses={200: AttributionSerializer, **WRITE_ERRORS, **_errors(e409="Already answered.")},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The vendor acknowledges that TMW sourced the account."""
        attribution = services.attribution_acknowledge(attribution=self.get_object(), actor=request_user(request))
        return self._answer(attribution)

    @extend_schema(
        request=AttributionDisputeSerializer,
        responses={200: AttributionSerializer, **WRITE_ERRORS, **_errors(e409="Already answered.")},
    )
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """The vendor disputes the attribution with a reason, on or before ``acknowledge_by``."""
        attribution = self.get_object()
        data = AttributionDisputeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attribution = services.attribution_dispute(
            attribution=attribution, reason=data.validated_data["reason"], actor=request_user(request)
        )
        return self._answer(attribution)

    @extend_schema(
        request=AttributionResolveSerializer,
        responses={200: AttributionSerializer, **WRITE_ERRORS, **_errors(e409="The attribution is not disputed.")},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """A partner resolves a dispute: ``kept``, or ``ended`` from ``ended_on``, with a reason."""
        attribution = self.get_object()
        data = AttributionResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attribution = services.attribution_resolve(
            attribution=attribution, actor=request_user(request), **data.validated_data
        )
        return self._answer(attribution)


class NextStepSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = NextStep
        fields = [
            "id",
            "engagement",
            "opportunity",
            "title",
            "owner",
            "owner_name",
            "due_on",
            "done",
            "done_at",
            "is_overdue",
            "created_at",
        ]
        read_only_fields = fields


class NextStepCreateSerializer(serializers.Serializer):
    engagement = serializers.PrimaryKeyRelatedField(queryset=Engagement.objects.all())
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.all(), required=False, allow_null=True
    )
    title = serializers.CharField(max_length=200)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    due_on = serializers.DateField(help_text="Today or later.")


class NextStepDoneSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True)


class NextStepViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Next steps on desks and opportunities (TMW only); ``?mine=1`` lists one's own, ``?open=1`` the open ones."""

    serializer_class = NextStepSerializer
    access = {"read": "step.view", "create": "step.manage", "done": "step.manage"}
    queryset = NextStep.objects.select_related("owner").order_by("done", "due_on", "pk")
    filterset_class = NextStepFilterSet

    @extend_schema(request=NextStepCreateSerializer, responses={201: NextStepSerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        """Add a next step: title, TMW owner, due date (today or later), on an engagement or its opportunity."""
        data = NextStepCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = services.next_step_create(actor=request_user(request), **data.validated_data)
        return Response(NextStepSerializer(step).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NextStepDoneSerializer, responses={200: NextStepSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Mark the step done (``done: false`` opens it again)."""
        step = self.get_object()
        data = NextStepDoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = services.next_step_complete(step=step, done=data.validated_data["done"], actor=request_user(request))
        return Response(NextStepSerializer(step).data)


router.register("engagements", EngagementViewSet, basename="engagement")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("activities", ActivityViewSet, basename="activity")
router.register("attributions", AttributionViewSet, basename="attribution")
router.register("next-steps", NextStepViewSet, basename="next-step")
