"""factory_boy factories, and the registry of one object per tenant-owned model.

Every tenant-owned model (one whose default manager is a ``TenantManager``, plus
``User``) registers a builder with ``@tenant_object(Model)``: given the tenant world
and one side of it ("a" or "b"), it creates one object owned by that side's vendor
or MSP. The isolation test builds one of each per side and attacks every URL with
side B's objects as side A's users; a model without a builder fails that test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import factory
from django.utils import timezone
from django.utils.text import slugify

from tmw.accounts.models import AuditEvent, BillingContact, Invitation, Organisation, Role, User
from tmw.accounts.services import hash_token

PASSWORD = "correct-horse-battery-9"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    kind = Organisation.Kind.VENDOR
    name = factory.Sequence(lambda n: f"Vendor {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    city = "Austin"
    region = "TX"
    country = "US"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        manager = model_class.all_objects
        obj, _ = manager.get_or_create(slug=kwargs.pop("slug"), defaults=kwargs)
        return obj


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.VENDOR_MEMBER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VENDOR_MEMBER
    invited_by = factory.SubFactory(UserFactory)
    token_hash = factory.Sequence(lambda n: hash_token(f"token-{n}"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


# ---------------------------------------------------------------------------
# The tenant world: two vendors, two MSPs, one user per role.


@dataclass
class Side:
    """One half of the world: a vendor, an MSP and their users."""

    key: str
    marker: str  # appears in every vendor-owned object's text
    msp_marker: str  # appears in every MSP-owned object's text
    vendor: Organisation
    msp: Organisation
    vendor_admin: User
    vendor_member: User
    msp_member: User
    objects: dict[type, object] = field(default_factory=dict)


@dataclass
class World:
    operator: Organisation
    partner: User
    finance: User
    admin: User
    a: Side
    b: Side

    def side(self, key: str) -> Side:
        return self.a if key == "a" else self.b


TENANT_BUILDERS: dict[type, Callable[[World, Side], object]] = {}


def tenant_object(model: type):
    """Register the builder of one ``model`` object owned by a side of the world."""

    def register(builder: Callable[[World, Side], object]):
        TENANT_BUILDERS[model] = builder
        return builder

    return register


def build_world() -> World:
    """Create the two-vendor, two-MSP world and one object of every tenant-owned model per side."""
    from tmw.accounts.tenancy import operator_scope

    with operator_scope():
        operator = OrganisationFactory(kind=Organisation.Kind.OPERATOR, name="The MSP Works", slug="the-msp-works")
        partner = UserFactory(email="partner@tmw.example", organisation=operator, role=Role.PARTNER)
        finance = UserFactory(email="finance@tmw.example", organisation=operator, role=Role.FINANCE)
        admin = UserFactory(email="admin@tmw.example", organisation=operator, role=Role.ADMIN)
        sides = {}
        for key, marker, msp_marker in (("a", "Alphaquill", "Marlinspike"), ("b", "Zebrawood", "Quokkadale")):
            vendor = OrganisationFactory(name=f"{marker} Vendor", category="Backup and disaster recovery")
            msp = OrganisationFactory(
                kind=Organisation.Kind.MSP,
                name=f"{msp_marker} MSP",
                city="Toronto",
                region="ON",
                country="CA",
            )
            sides[key] = Side(
                key=key,
                marker=marker,
                msp_marker=msp_marker,
                vendor=vendor,
                msp=msp,
                vendor_admin=UserFactory(
                    email=f"admin@{key}-vendor.example",
                    full_name=f"{marker} Admin",
                    organisation=vendor,
                    role=Role.VENDOR_ADMIN,
                ),
                vendor_member=UserFactory(
                    email=f"member@{key}-vendor.example",
                    full_name=f"{marker} Member",
                    organisation=vendor,
                    role=Role.VENDOR_MEMBER,
                ),
                msp_member=UserFactory(
                    email=f"owner@{key}-msp.example",
                    full_name=f"{msp_marker} Owner",
                    organisation=msp,
                    role=Role.MSP_MEMBER,
                ),
            )
        world = World(operator=operator, partner=partner, finance=finance, admin=admin, a=sides["a"], b=sides["b"])
        load_builders()
        for side in (world.a, world.b):
            for model, builder in TENANT_BUILDERS.items():
                side.objects[model] = builder(world, side)
    return world


def load_builders() -> None:
    """Import every ``tests/<app>/tenant_objects.py`` so their builders register."""
    import importlib
    import pkgutil

    import tests

    for module in pkgutil.iter_modules(tests.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"tests.{module.name}.tenant_objects")
            except ModuleNotFoundError as exc:
                if not exc.name.endswith("tenant_objects"):
                    raise


# Builders for the accounts models.


@tenant_object(Organisation)
def _organisation(world: World, side: Side):
    return side.vendor


@tenant_object(User)
def _user(world: World, side: Side):
    return side.vendor_member


@tenant_object(Invitation)
def _invitation(world: World, side: Side):
    return InvitationFactory(
        organisation=side.vendor,
        email=f"{side.marker.lower()}-invitee@example.com",
        invited_by=side.vendor_admin,
    )


@tenant_object(BillingContact)
def _billing_contact(world: World, side: Side):
    return BillingContact.all_objects.create(
        organisation=side.vendor, name=f"{side.marker} Accounts", email=f"{side.marker.lower()}-ap@example.com"
    )


@tenant_object(AuditEvent)
def _audit_event(world: World, side: Side):
    return AuditEvent.all_objects.create(
        organisation=side.vendor,
        actor=side.vendor_admin,
        verb="demo.touched",
        object_type="accounts.organisation",
        object_id=str(side.vendor.pk),
        object_repr=f"{side.marker} audit",
    )


__all__ = ["PASSWORD", "TENANT_BUILDERS", "Side", "World", "build_world", "tenant_object"]
