"""API for the signed-in user, organisations, users and invitations, and the token endpoint."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from tmw.api import RefuseUnknownFields, ScopedAPIView, ScopedGenericViewSet, ScopedReadOnlyModelViewSet, router
from tmw.idempotency import IDEMPOTENCY_PARAMETER, idempotent

from . import policy, services
from .auth import is_locked_out
from .models import BillingContact, Country, Invitation, Organisation, Role, User


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

    @extend_schema(
        summary="Invite a person",
        description=(
            "Emails a one-time link to join an organisation with a role; the answer is the same whether or not the "
            "address already has an account. Partners invite partners, vendor users and MSP members; only admins "
            "invite admins and finance; vendor admins invite their own colleagues (403 otherwise). An open "
            "invitation for the same address: 409."
        ),
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _ = services.invitation_create(actor=request.user, **data.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke an invitation",
        description="Revoke an open invitation so its link stops working; answers the revoked invitation.",
        responses={200: InvitationSerializer},
    )
    def destroy(self, request, *args, **kwargs):
        invitation = services.invitation_revoke(invitation=self.get_object(), actor=request.user)
        return Response(InvitationSerializer(invitation).data)


# --- vendors -------------------------------------------------------------------------------------


class VendorBillingContactSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = BillingContact
        fields = ["name", "email"]
        extra_kwargs = {"name": {"required": False}}


class VendorSerializer(serializers.ModelSerializer):
    """A vendor as the API answers it: the organisation and who receives its statements."""

    billing_contacts = VendorBillingContactSerializer(many=True, read_only=True)
    website = serializers.CharField(read_only=True, help_text="A URL, or empty.")

    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "website", "category", "city", "region", "country", "billing_contacts"]
        read_only_fields = fields


class VendorCreatedSerializer(VendorSerializer):
    invitation = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="The first admin's invitation, when ``admin_email`` was given."
    )

    class Meta(VendorSerializer.Meta):
        fields = [*VendorSerializer.Meta.fields, "invitation"]
        read_only_fields = fields


class VendorInputSerializer(RefuseUnknownFields):
    name = serializers.CharField(max_length=200, help_text="The legal name; unique among vendors (any letter case).")
    website = serializers.URLField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=120, required=False, allow_blank=True, default="", help_text="HQ city.")
    region = serializers.CharField(
        max_length=2, required=False, allow_blank=True, default="", help_text="HQ state or province, e.g. NY, ON."
    )
    country = serializers.ChoiceField(choices=Country.choices)
    billing_contacts = VendorBillingContactSerializer(
        many=True, required=False, help_text="Who receives statements; none: the vendor's admins."
    )


class VendorCreateSerializer(VendorInputSerializer):
    admin_email = serializers.EmailField(
        required=False, allow_blank=True, default="", help_text="Invite this person as the vendor's first admin."
    )


def _contacts(data: dict) -> list[tuple[str, str]] | None:
    rows = data.pop("billing_contacts", None)
    return None if rows is None else [(row.get("name", ""), row["email"]) for row in rows]


VENDOR_ERRORS = "400: a field is not valid or the legal name is taken (``extra`` names it); 403: not a partner."


@extend_schema_view(
    list=extend_schema(
        summary="List vendors",
        description="Vendors in the caller's scope: every vendor for TMW, one's own vendor for its users.",
    ),
    retrieve=extend_schema(summary="Read a vendor", description="One vendor in the caller's scope."),
)
class VendorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Vendors: partners onboard and edit them; everyone reads those in their scope."""

    serializer_class = VendorSerializer
    queryset = Organisation.objects.filter(kind=Organisation.Kind.VENDOR)
    access = {"read": "organisation.view", "create": "vendor.manage", "partial_update": "vendor.manage"}
    filterset_fields = ["country"]

    def get_queryset(self):
        return (
            Organisation.objects.filter(kind=Organisation.Kind.VENDOR)
            .prefetch_related("billing_contacts")
            .order_by("name", "pk")
        )

    def _answer(self, vendor: Organisation, code: int = status.HTTP_200_OK, **extra) -> Response:
        fresh = self.get_queryset().get(pk=vendor.pk)
        serializer = VendorCreatedSerializer if extra else VendorSerializer
        fresh.invitation = extra.get("invitation")  # answered by VendorCreatedSerializer
        return Response(serializer(fresh).data, status=code)

    @extend_schema(
        summary="Onboard a vendor",
        description=(
            "Partners create a vendor directly: legal name, website, HQ city and state or province, country, "
            "category and billing contacts, and (with ``admin_email``) invite its first admin, who gets an email "
            "with a one-time link. The same service converts a channel-review booking. " + VENDOR_ERRORS
        ),
        request=VendorCreateSerializer,
        responses={201: VendorCreatedSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = VendorCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contacts = _contacts(values)
        vendor, invitation = services.vendor_create(actor=request.user, billing_contacts=contacts, **values)
        return self._answer(vendor, status.HTTP_201_CREATED, invitation=invitation.pk if invitation else None)

    @extend_schema(
        summary="Change a vendor",
        description=(
            "Partners change a vendor's legal name, website, location or category; ``billing_contacts``, when "
            "given, replaces the list. " + VENDOR_ERRORS
        ),
        request=VendorInputSerializer(partial=True),
        responses={200: VendorSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def partial_update(self, request, *args, **kwargs):
        vendor = self.get_object()
        data = VendorInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contacts = _contacts(values)
        vendor = services.vendor_update(actor=request.user, vendor=vendor, billing_contacts=contacts, **values)
        return self._answer(vendor)


router.register("vendors", VendorViewSet, basename="vendor")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("users", UserViewSet, basename="user")
router.register("invitations", InvitationViewSet, basename="invitation")
