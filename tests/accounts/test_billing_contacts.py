"""A vendor's billing contacts: who its statements and reminders go to."""

from __future__ import annotations

import pytest

from tmw.accounts import policy
from tmw.accounts.models import BillingContact
from tmw.accounts.services import billing_contacts_set, billing_recipients
from tmw.accounts.tenancy import operator_scope, scope_for_user
from tmw.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_admins_by_default_then_the_listed_contacts(world):
    vendor = world.a.vendor
    with operator_scope():
        BillingContact.objects.filter(organisation=vendor).delete()  # the world lists one
        assert billing_recipients(vendor) == [world.a.vendor_admin.email]
        billing_contacts_set(
            actor=world.partner,
            organisation=vendor,
            contacts=[("Accounts payable", "AP@example.com"), ("", "cfo@example.com")],
        )
        assert sorted(billing_recipients(vendor)) == ["AP@example.com", "cfo@example.com"]
        billing_contacts_set(actor=world.partner, organisation=vendor, contacts=[])
        assert billing_recipients(vendor) == [world.a.vendor_admin.email]


def test_a_bad_address_names_the_contact_and_writes_nothing(world):
    vendor = world.a.vendor
    with operator_scope():
        billing_contacts_set(actor=world.partner, organisation=vendor, contacts=[("", "ap@example.com")])
        with pytest.raises(ApplicationError, match="Billing contact 2"):
            billing_contacts_set(
                actor=world.partner, organisation=vendor, contacts=[("", "new@example.com"), ("Bad", "not-an-email")]
            )
        with pytest.raises(ApplicationError, match="listed twice"):
            billing_contacts_set(
                actor=world.partner, organisation=vendor, contacts=[("", "x@example.com"), ("", "X@example.com")]
            )
        assert list(BillingContact.objects.filter(organisation=vendor).values_list("email", flat=True)) == [
            "ap@example.com"
        ]


def test_who_may_set_them(world):
    with operator_scope():
        with pytest.raises(ApplicationError) as refused:
            billing_contacts_set(actor=world.a.vendor_member, organisation=world.a.vendor, contacts=[])
        assert refused.value.status == 403
        with pytest.raises(ApplicationError) as other:
            billing_contacts_set(actor=world.b.vendor_admin, organisation=world.a.vendor, contacts=[])
        assert other.value.status == 403
    with scope_for_user(world.a.vendor_admin):
        billing_contacts_set(actor=world.a.vendor_admin, organisation=world.a.vendor, contacts=[("", "ap@example.com")])
    assert policy.can(world.finance, "billing_contacts.manage")
