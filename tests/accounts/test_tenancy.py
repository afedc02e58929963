"""Tenant scoping fails closed: no scope raises, a vendor sees only its own rows, operators see all."""

import pytest
from django_scopes.exceptions import ScopeError

from tmw.accounts.models import Invitation, Organisation
from tmw.accounts.tenancy import active_tenant_ids, operator_scope, scope_for_user, tenant_models, tenant_scope


def test_query_without_scope_raises(world):
    with pytest.raises(ScopeError):
        list(Invitation.objects.all())
    with pytest.raises(ScopeError):
        Invitation.objects.filter(email__contains="x").count()
    with pytest.raises(ScopeError):
        Organisation.objects.exists()
    with pytest.raises(ScopeError):
        Invitation.objects.update(email="x@example.com")


def test_unscoped_queryset_cannot_hide_in_a_subquery(world):
    with pytest.raises(ScopeError):
        list(Invitation.all_objects.filter(organisation__in=Organisation.objects.all()))


def test_vendor_scope_sees_only_its_own_rows(world):
    with tenant_scope((world.a.vendor.pk,)):
        emails = set(Invitation.objects.values_list("email", flat=True))
        assert emails == {world.a.objects[Invitation].email}
        assert list(Organisation.objects.all()) == [world.a.vendor]
        assert active_tenant_ids() == (world.a.vendor.pk,)


def test_empty_scope_sees_nothing(world):
    with tenant_scope(()):
        assert Invitation.objects.count() == 0
        assert Organisation.objects.count() == 0


def test_operator_scope_sees_every_tenant(world):
    with operator_scope():
        emails = set(Invitation.objects.values_list("email", flat=True))
        assert {world.a.objects[Invitation].email, world.b.objects[Invitation].email} <= emails
        assert active_tenant_ids() is None


def test_scope_for_user_by_role(world):
    with scope_for_user(world.partner):
        assert {world.a.vendor, world.b.vendor} <= set(Organisation.objects.filter(kind="vendor"))
    with scope_for_user(world.b.vendor_member):
        assert list(Organisation.objects.all()) == [world.b.vendor]
    with scope_for_user(world.a.msp_member):
        assert list(Organisation.objects.all()) == [world.a.msp]
        assert Invitation.objects.count() == 0
    world.a.vendor_admin.is_active = False
    with scope_for_user(world.a.vendor_admin):
        assert Organisation.objects.count() == 0


def test_forms_declared_at_import_time_still_load(world):
    from tmw.accounts.forms import InvitationForm

    with scope_for_user(world.a.vendor_admin):
        form = InvitationForm(actor=world.a.vendor_admin)
        assert list(form.fields["organisation"].queryset) == [world.a.vendor]


def test_every_vendor_owned_model_is_scoped():
    labels = {m._meta.label for m in tenant_models()}
    assert {"accounts.Organisation", "accounts.Invitation", "accounts.AuditEvent"} <= labels


def test_a_queryset_built_outside_any_scope_takes_each_scope_it_runs_in(world):
    invitations = Invitation.objects.all()  # as a form or serializer declares it at import time
    with tenant_scope((world.a.vendor.pk,)):
        assert {i.email for i in invitations} == {world.a.objects[Invitation].email}
    with tenant_scope((world.b.vendor.pk,)):
        assert {i.email for i in invitations} == {world.b.objects[Invitation].email}
    with pytest.raises(ScopeError):
        list(invitations)


def test_subqueries_built_in_a_scope_are_scoped(world):
    from django.db.models import Exists, OuterRef

    with tenant_scope((world.a.vendor.pk,)):
        has_invitation = Exists(Invitation.objects.filter(organisation=OuterRef("pk")))
        assert set(Organisation.all_objects.filter(has_invitation)) == {world.a.vendor}
        inner = Organisation.all_objects.filter(pk__in=Invitation.objects.values("organisation"))
        assert set(inner) == {world.a.vendor}
