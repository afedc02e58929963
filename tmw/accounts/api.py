"""API for the signed-in user, organisations, users and invitations, and the token endpoint."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from tmw.api import ScopedAPIView, ScopedGenericViewSet, ScopedReadOnlyModelViewSet, router

from . import policy, services
from .auth import is_locked_out
from .models import Invitation, Organisation, Role, User


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "kind", "name", "slug", "website", "category", "city", "region", "country"]


class UserSerializer(serializers.ModelSerializer):
    organisation: serializers.PrimaryKeyRelatedField[Organisation] = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "organisation", "role", "time_zone", "is_active"]


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "organisation", "email", "role", "status", "created_at", "expires_at", "accepted_at"]
        read_only_fields = ["status", "created_at", "expires_at", "accepted_at"]


class InvitationCreateSerializer(serializers.Serializer):
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenThrottle(AnonRateThrottle):
    rate = "30/min"


class TokenView(ScopedAPIView):
    """Exchange email and password for the user's API token (failed attempts count toward lockout)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [TokenThrottle]

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, **data.validated_data)
        if getattr(request._request, "axes_locked_out", False) or (
            user is not None and is_locked_out(request._request, user.email)
        ):
            return Response({"message": "Too many failed login attempts.", "extra": {"locked": True}}, status=429)
        if user is None or not user.is_active or not policy.can(user, "api.token"):
            return Response({"message": "Email or password is wrong.", "extra": {}}, status=status.HTTP_400_BAD_REQUEST)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(ScopedAPIView):
    """The signed-in user."""

    access = "api.use"

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class OrganisationViewSet(ScopedReadOnlyModelViewSet):
    """Organisations the user may see: operators see all, others their own."""

    access = "organisation.view"
    serializer_class = OrganisationSerializer
    queryset = Organisation.objects.all()
    filterset_fields = ["kind", "country"]

    def get_queryset(self):
        return Organisation.objects.all()


class UserViewSet(ScopedReadOnlyModelViewSet):
    """People in the organisations the user may see."""

    access = "people.list"
    serializer_class = UserSerializer
    queryset = User.objects.all()
    filterset_fields = ["organisation", "role", "is_active"]

    def get_queryset(self):
        return User.objects.filter(organisation__in=Organisation.objects.all()).select_related("organisation")


class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ScopedGenericViewSet,
):
    """Invitations: partners invite anyone, vendor admins invite colleagues; DELETE revokes."""

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.all()
    access = "people.invite"
    filterset_fields = ["organisation", "role"]

    def get_queryset(self):
        return Invitation.objects.select_related("organisation")

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request, *args, **kwargs):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _ = services.invitation_create(actor=request.user, **data.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        description="Revoke an open invitation so its link stops working; answers the revoked invitation.",
        responses={200: InvitationSerializer},
    )
    def destroy(self, request, *args, **kwargs):
        invitation = services.invitation_revoke(invitation=self.get_object(), actor=request.user)
        return Response(InvitationSerializer(invitation).data)


router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("users", UserViewSet, basename="user")
router.register("invitations", InvitationViewSet, basename="invitation")
