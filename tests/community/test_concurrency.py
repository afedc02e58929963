"""Capacity under concurrency on PostgreSQL: many answers at once, and cancellations racing for one waitlist."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from community import services
from community.models import RSVP
from tests.community.conftest import invite, make_event
from tests.conftest import skip_or_fail, uses_postgres
from tests.factories import OrganisationFactory, UserFactory
from tmw.accounts import policy
from tmw.accounts.models import Organisation, Role
from tmw.accounts.tenancy import operator_scope


@pytest.fixture
def host(transactional_db):
    if not uses_postgres():
        skip_or_fail("row locks are tested on PostgreSQL (set DATABASE_URL=postgres://...)")
    operator = OrganisationFactory(kind=Organisation.Kind.OPERATOR, name="The MSP Works", slug="the-msp-works")
    return UserFactory(email="host@tmw.example", organisation=operator, role=Role.PARTNER)


def run_at_once(functions) -> list:
    """Run every function in its own thread, released together by a barrier; each closes its connection."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def worker(i, fn):
        try:
            with operator_scope():
                barrier.wait()
                results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_answers_at_once_fill_five_seats_and_queue_the_rest_in_order(host):
    event = make_event(host, capacity=5)
    invitations = [invite(event) for _ in range(50)]
    results = run_at_once(
        [lambda inv=inv: services.rsvp_respond(invitation=inv, going=True, actor=policy.VISITOR) for inv in invitations]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    going = RSVP.all_objects.filter(event=event, status=RSVP.Status.GOING)
    waiting = list(RSVP.all_objects.filter(event=event, status=RSVP.Status.WAITLISTED).order_by("waitlist_position"))
    assert going.count() == 5
    assert len(waiting) == 45
    assert [r.waitlist_position for r in waiting] == list(range(1, 46))
    assert [r.responded_at for r in waiting] == sorted(r.responded_at for r in waiting)
    assert max(r.responded_at for r in going) <= waiting[0].responded_at


def test_two_cancellations_racing_promote_two_people_exactly_once_each(host):
    event = make_event(host, capacity=2)
    seated = [services.rsvp_respond(invitation=invite(event), going=True, actor=policy.VISITOR) for _ in range(2)]
    queue = [services.rsvp_respond(invitation=invite(event), going=True, actor=policy.VISITOR) for _ in range(3)]
    mail.outbox.clear()
    results = run_at_once([lambda r=r: services.rsvp_cancel(rsvp=r, actor=policy.VISITOR) for r in seated])
    assert not [r for r in results if isinstance(r, Exception)]
    for rsvp in queue:
        rsvp.refresh_from_db()
    assert [r.status for r in queue] == ["going", "going", "waitlisted"]
    assert RSVP.all_objects.filter(event=event, status=RSVP.Status.GOING).count() == 2
    promoted = sorted(m.to[0] for m in mail.outbox if "seat opened up" in m.subject)
    assert promoted == sorted(r.invitation.email for r in queue[:2])


def test_the_same_cancellation_twice_at_once_promotes_one_person(host):
    event = make_event(host, capacity=1)
    seated = services.rsvp_respond(invitation=invite(event), going=True, actor=policy.VISITOR)
    queue = [services.rsvp_respond(invitation=invite(event), going=True, actor=policy.VISITOR) for _ in range(2)]
    mail.outbox.clear()
    results = run_at_once([lambda: services.rsvp_cancel(rsvp=seated, actor=policy.VISITOR)] * 2)
    assert not [r for r in results if isinstance(r, Exception)]
    for rsvp in queue:
        rsvp.refresh_from_db()
    assert [r.status for r in queue] == ["going", "waitlisted"]
    assert len([m for m in mail.outbox if "seat opened up" in m.subject]) == 1
