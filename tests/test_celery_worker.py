"""Celery: a real worker through the Redis broker (CI), and in-process execution without REDIS_URL."""

import pytest

from tmw.celery import ping


def test_tasks_run_in_process_without_a_broker(settings):
    result = ping.delay("in-process")
    assert result.get(timeout=1)["value"] == "in-process"


@pytest.mark.worker
def test_real_worker_answers_through_redis(celery_worker_process):
    result = ping.apply_async(args=["through-redis"])
    answer = result.get(timeout=30)
    assert answer["value"] == "through-redis"
    assert answer["pid"] != __import__("os").getpid()
    assert answer["frozen"] > 10_000, "the worker process froze its start-up heap (tmw.heap)"


@pytest.mark.worker
def test_real_worker_sends_invitation_email_from_the_database(celery_worker_process, world):
    """The worker reads the invitation from the shared test database and sends its email."""
    from tmw.accounts.models import Invitation
    from tmw.accounts.tasks import send_invitation_email

    invitation = world.a.objects[Invitation]
    result = send_invitation_email.apply_async(
        args=[invitation.pk, "raw-token"], kwargs={"organisation_id": invitation.organisation_id}
    )
    assert result.get(timeout=30) == "sent"
