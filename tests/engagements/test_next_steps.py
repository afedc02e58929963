"""Next steps on desks and opportunities: the owner's list, the home page, and the daily email of overdue steps."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagements import services
from engagements.models import NextStep, OverdueDigest
from engagements.tasks import send_overdue_steps
from tests.engagements.tenant_objects import engagement_for, opportunity_for
from tests.factories import UserFactory
from tmw.accounts.models import AuditEvent, Role
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


def test_a_step_is_created_with_an_owner_and_a_due_date_today_or_later(world):
    with operator_scope():
        engagement = engagement_for(world, world.a)
        opportunity = opportunity_for(world, world.a)
        step = services.next_step_create(
            engagement=engagement,
            opportunity=opportunity,
            title="Send the pilot plan",
            owner=world.partner,
            due_on=today(),
            actor=world.partner,
        )
        assert step.opportunity == opportunity and not step.is_overdue
        assert AuditEvent.objects.filter(verb="engagement.next_step_create", object_id=str(step.pk)).exists()
        before = NextStep.objects.count()
        cases = [
            ({"due_on": days(-1)}, "due_on"),
            ({"due_on": None}, "due_on"),
            ({"title": "  "}, "title"),
            ({"owner": world.a.vendor_admin}, "owner"),
            ({"owner": None}, "owner"),
        ]
        for change, field in cases:
            kwargs = {"title": "Call", "owner": world.partner, "due_on": days(1), **change}
            with pytest.raises(ApplicationError) as exc:
                services.next_step_create(engagement=engagement, actor=world.partner, **kwargs)
            assert field in exc.value.extra and field in exc.value.message
        assert NextStep.objects.count() == before  # nothing written
        with pytest.raises(ApplicationError):
            services.next_step_create(
                engagement=engagement, title="x", owner=world.partner, due_on=today(), actor=world.a.vendor_admin
            )


def test_home_lists_the_top_steps_and_links_the_full_list(world, client_for):
    with operator_scope():
        engagement = engagement_for(world, world.a)
        NextStep.all_objects.filter(owner=world.partner).update(done=True)  # the world's own steps
        for i in range(7):
            services.next_step_create(
                engagement=engagement, title=f"Follow up {i}", owner=world.partner, due_on=days(i), actor=world.partner
            )
        NextStep.all_objects.create(
            engagement=engagement, title="Late intro call", owner=world.partner, due_on=days(-2)
        )
        services.next_step_create(
            engagement=engagement, title="Someone else's", owner=world.admin, due_on=days(1), actor=world.partner
        )
    home = client_for(world.partner).get(reverse("dashboard:partner")).content.decode()
    assert "Your next steps" in home and reverse("engagements:next_step_list") in home
    assert "Late intro call" in home and "Overdue" in home and "Follow up 3" in home
    assert "Follow up 4" not in home and "Someone else&#x27;s" not in home  # top five rows only, own only
    assert "1 overdue · 1 due today · 6 later" in home
    full = client_for(world.partner).get(reverse("engagements:next_step_list")).content.decode()
    assert all(f"Follow up {i}" in full for i in range(7)) and "Someone else" not in full
    everyone = client_for(world.partner).get(reverse("engagements:next_step_list") + "?owner=all").content.decode()
    assert "Someone else" in everyone
    assert client_for(world.a.vendor_admin).get(reverse("engagements:next_step_list")).status_code == 403


def test_steps_are_added_and_done_from_the_pages(world, client_for):
    with operator_scope():
        engagement = engagement_for(world, world.a)
        opportunity = opportunity_for(world, world.a)
    client = client_for(world.partner)
    add = reverse("engagements:next_step_add", args=[engagement.pk])
    past = client.post(add, {"title": "Too late", "owner": world.partner.pk, "due_on": days(-1).isoformat()})
    assert past.status_code == 302
    with operator_scope():
        assert not NextStep.objects.filter(title="Too late").exists()
    response = client.post(
        add,
        {
            "title": "Book the QBR",
            "owner": world.partner.pk,
            "due_on": days(2).isoformat(),
            "opportunity": opportunity.pk,
            "back": "opportunity",
        },
    )
    assert response.status_code == 302 and response.url.endswith("#steps")
    page = client.get(reverse("engagements:opportunity_detail", args=[opportunity.pk])).content.decode()
    assert "Book the QBR" in page and "Next steps" in page
    desk = client.get(reverse("engagements:engagement_detail", args=[engagement.pk])).content.decode()
    assert "Book the QBR" in desk
    with operator_scope():
        step = NextStep.objects.get(title="Book the QBR")
    client.post(reverse("engagements:next_step_done", args=[step.pk]), {"next": "list"})
    with operator_scope():
        step.refresh_from_db()
    assert step.done and step.done_by == world.partner


def test_overdue_email_once_per_owner_per_day(world, settings):
    with operator_scope():
        engagement = engagement_for(world, world.a)
        other = UserFactory(organisation=world.operator, role=Role.PARTNER, email="sam@themspworks.example")
        for title, owner, due in [
            ("Send deck", world.partner, days(-3)),
            ("Chase contract", world.partner, days(-1)),
            ("Intro to Acme", other, days(-1)),
            ("Not yet due", other, today()),
        ]:
            NextStep.all_objects.create(engagement=engagement, title=title, owner=owner, due_on=due)
        NextStep.all_objects.create(
            engagement=engagement, title="Done already", owner=other, due_on=days(-5), done=True
        )
    mail.outbox.clear()
    assert send_overdue_steps.delay(today().isoformat()).get() == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {world.partner.email, other.email}
    assert "Send deck" in by_to[world.partner.email].body and "Chase contract" in by_to[world.partner.email].body
    assert by_to[world.partner.email].subject.startswith("2 overdue next steps")
    assert "Intro to Acme" in by_to[other.email].body
    assert "Not yet due" not in by_to[other.email].body and "Done already" not in by_to[other.email].body
    # A second run the same day sends nothing; the next day it sends again.
    assert send_overdue_steps.delay(today().isoformat()).get() == 0
    assert len(mail.outbox) == 2
    with operator_scope():
        assert OverdueDigest.objects.filter(day=today()).count() == 2
    assert send_overdue_steps.delay(days(1).isoformat()).get() == 2


def test_next_steps_api(world, client_for):
    with operator_scope():
        engagement = engagement_for(world, world.a)
    client = client_for(world.partner)
    bad = client.post(
        "/api/v1/next-steps/",
        {"engagement": engagement.pk, "title": "Call", "owner": world.partner.pk, "due_on": days(-1).isoformat()},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "due_on" in bad.json()["extra"]
    created = client.post(
        "/api/v1/next-steps/",
        {"engagement": engagement.pk, "title": "Call", "owner": world.partner.pk, "due_on": days(1).isoformat()},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    step_id = created.json()["id"]
    done = client.post(f"/api/v1/next-steps/{step_id}/done/", {"done": True}, content_type="application/json")
    assert done.status_code == 200 and done.json()["done"] is True
    listed = client.get(f"/api/v1/next-steps/?engagement={engagement.pk}&done=true").json()
    assert [row["id"] for row in listed["results"]] == [step_id]
    assert client_for(world.a.vendor_admin).get("/api/v1/next-steps/").status_code == 403
