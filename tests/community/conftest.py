"""Helpers for the community tests: events, invitations and answers built in one line."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from community import services
from community.models import Event, EventInvitation
from tests.factories import OrganisationFactory
from tmw.accounts import policy
from tmw.accounts.models import Organisation

_seq = itertools.count(1)


def make_event(host, *, kind=Event.Kind.DINNER, capacity=5, days=7, hours=2, tz="America/Toronto", **extra) -> Event:
    """An event starting ``days`` from now (negative: in the past)."""
    starts = (timezone.now() + datetime.timedelta(days=days)).replace(microsecond=0)
    values = {
        "kind": kind,
        "title": f"Event {next(_seq)}",
        "starts_at": starts,
        "ends_at": starts + datetime.timedelta(hours=hours),
        "time_zone": tz,
        "venue": "The Loft, Toronto",
        "capacity": capacity,
        "host": host,
    }
    values.update(extra)
    return Event.objects.create(**values)


def make_msp(name: str | None = None) -> Organisation:
    name = name or f"Test MSP {next(_seq)}"
    return OrganisationFactory(kind=Organisation.Kind.MSP, name=name)


def invite(event: Event, msp: Organisation | None = None, *, name: str | None = None, email: str | None = None):
    """An invitation without the email (the services' own path is tested separately)."""
    n = next(_seq)
    msp = msp or make_msp()
    return EventInvitation.all_objects.create(
        event=event, msp=msp, name=name or f"Guest {n}", email=email or f"guest{n}@msp{n}.example"
    )


def answer(invitation, going=True, **kwargs):
    return services.rsvp_respond(invitation=invitation, going=going, **{"actor": policy.VISITOR, **kwargs})


@pytest.fixture
def partner(world):
    return world.partner


@pytest.fixture(autouse=True)
def _operator_scope():
    """Test bodies work as TMW does in tasks; each client request still enters its own user's scope."""
    from tmw.accounts.tenancy import operator_scope

    with operator_scope():
        yield


def make_member(msp: Organisation, member: bool = True) -> None:
    """Mark an MSP as a TMW community member in the directory (open events are for members)."""
    from tests.directory.tenant_objects import msp_profile_for

    profile = msp_profile_for(msp)
    profile.community_member = member
    profile.save(update_fields=["community_member"])
