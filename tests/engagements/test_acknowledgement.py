"""The vendor acknowledges or disputes each attribution within the desk's window; a partner resolves disputes."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagements import selectors, services
from engagements.models import Attribution, Engagement
from engagements.tasks import deem_acknowledged
from tests.engagements.test_rules import new_msp, running_engagement
from tmw.accounts import policy
from tmw.accounts.models import AuditEvent, Role
from tmw.accounts.tenancy import operator_scope, scope_for_user
from tmw.errors import ApplicationError


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def op(world):
    with operator_scope():
        yield world


def vendor_admin_of(vendor):
    from tests.factories import UserFactory

    return UserFactory(organisation=vendor, role=Role.VENDOR_ADMIN, email=f"admin@{vendor.pk}-vendor.example")


def attribute(world, engagement, name="Peak IT", starts_on=None) -> Attribution:
    return services.attribution_add(
        engagement=engagement,
        msp=new_msp(name),
        starts_on=starts_on or today() - datetime.timedelta(days=3),
        reason="Introduced at the Denver dinner",
        actor=world.partner,
    )


def test_a_new_attribution_opens_a_14_day_window_and_tells_the_vendor(op, django_capture_on_commit_callbacks):
    world = op
    engagement = running_engagement(world)
    admin = vendor_admin_of(engagement.vendor)
    with django_capture_on_commit_callbacks(execute=True):
        attribution = attribute(world, engagement)
    assert attribution.acknowledgement == Attribution.Acknowledgement.PENDING
    # Recorded today, 14 days by default: the last day to answer is today + 14.
    assert attribution.acknowledge_by == today() + datetime.timedelta(days=14)
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert (
        "Peak IT" in mail.outbox[0].subject and attribution.acknowledge_by.strftime("%d %b %Y") in mail.outbox[0].body
    )


def test_the_window_is_set_per_desk_and_bounded(op):
    world = op
    engagement = running_engagement(world)
    services.acknowledgement_window_set(engagement=engagement, days=7, actor=world.finance)
    engagement.refresh_from_db()
    attribution = attribute(world, engagement)
    assert attribution.acknowledge_by == today() + datetime.timedelta(days=7)
    for bad in (0, 91, "x", -3):
        with pytest.raises(ApplicationError) as exc:
            services.acknowledgement_window_set(engagement=engagement, days=bad, actor=world.finance)
        assert "acknowledgement_days" in exc.value.extra
    assert Engagement.objects.get(pk=engagement.pk).acknowledgement_days == 7
    assert AuditEvent.objects.filter(verb="engagement.acknowledgement_window").count() == 1


def test_a_dispute_is_allowed_on_the_last_day_of_the_window_and_refused_the_day_after(op):
    world = op
    engagement = running_engagement(world)
    admin = vendor_admin_of(engagement.vendor)
    attribution = attribute(world, engagement)
    last_day = today() + datetime.timedelta(days=14)
    with pytest.raises(ApplicationError) as late:
        services.attribution_dispute(
            attribution=attribution,
            reason="We met them first",
            actor=admin,
            today=last_day + datetime.timedelta(days=1),
        )
    assert "acknowledge_by" in late.value.extra and "closed" in late.value.message
    attribution.refresh_from_db()
    assert attribution.acknowledgement == "pending" and attribution.dispute_reason == ""  # nothing written
    disputed = services.attribution_dispute(
        attribution=attribution, reason="We met them first", actor=admin, today=last_day
    )
    assert disputed.acknowledgement == Attribution.Acknowledgement.DISPUTED


def test_a_dispute_needs_a_reason_and_only_once(op):
    world = op
    engagement = running_engagement(world)
    admin = vendor_admin_of(engagement.vendor)
    attribution = attribute(world, engagement)
    with pytest.raises(ApplicationError) as exc:
        services.attribution_dispute(attribution=attribution, reason="  ", actor=admin)
    assert "reason" in exc.value.extra
    services.attribution_acknowledge(attribution=attribution, actor=admin)
    with pytest.raises(ApplicationError) as again:
        services.attribution_dispute(attribution=attribution, reason="Changed our mind", actor=admin)
    assert again.value.status == 409
    assert Attribution.objects.get(pk=attribution.pk).acknowledgement == Attribution.Acknowledgement.ACKNOWLEDGED
    assert AuditEvent.objects.filter(verb="engagement.attribution_acknowledge").count() == 1


def test_dispute_then_resolution_emails_the_partner_then_the_vendor(op, django_capture_on_commit_callbacks):
    world = op
    engagement = running_engagement(world)
    admin = vendor_admin_of(engagement.vendor)
    attribution = attribute(world, engagement)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.attribution_dispute(attribution=attribution, reason="Our own SDR sourced them", actor=admin)
    assert [m.to for m in mail.outbox] == [[world.partner.email]]
    assert "Our own SDR sourced them" in mail.outbox[0].body
    assert list(selectors.disputed_attributions()) == [attribution]
    with pytest.raises(ApplicationError) as no_date:
        services.attribution_resolve(attribution=attribution, outcome="ended", reason="Agreed", actor=world.partner)
    assert "ended_on" in no_date.value.extra
    mail.outbox.clear()
    end = today()
    with django_capture_on_commit_callbacks(execute=True):
        resolved = services.attribution_resolve(
            attribution=attribution,
            outcome="ended",
            reason="Their SDR log predates ours",
            ended_on=end,
            actor=world.partner,
        )
    assert resolved.acknowledgement == Attribution.Acknowledgement.ENDED and resolved.ended_on == end
    assert resolved.end_reason == "Their SDR log predates ours"
    assert [m.to for m in mail.outbox] == [[admin.email]] and "ended" in mail.outbox[0].body
    assert list(selectors.disputed_attributions()) == []
    verbs = set(AuditEvent.objects.filter(object_id=str(attribution.pk)).values_list("verb", flat=True))
    assert {"engagement.attribution_add", "engagement.attribution_dispute", "engagement.attribution_resolve"} <= verbs


def test_a_partner_keeps_a_disputed_attribution(op):
    world = op
    engagement = running_engagement(world)
    admin = vendor_admin_of(engagement.vendor)
    attribution = attribute(world, engagement)
    services.attribution_dispute(attribution=attribution, reason="Not you", actor=admin)
    kept = services.attribution_resolve(
        attribution=attribution, outcome="kept", reason="The intro email is on file", actor=world.partner
    )
    assert kept.acknowledgement == Attribution.Acknowledgement.KEPT and kept.ended_on is None
    with pytest.raises(ApplicationError) as twice:
        services.attribution_resolve(attribution=attribution, outcome="kept", reason="Again", actor=world.partner)
    assert twice.value.status == 409


def test_silence_acknowledges_after_the_window_once(op):
    world = op
    engagement = running_engagement(world)
    attribution = attribute(world, engagement)
    answered = attribute(world, engagement, name="Answered MSP")
    services.attribution_acknowledge(attribution=answered, actor=vendor_admin_of(engagement.vendor))
    last_day = attribution.acknowledge_by
    # On the last day of the window nothing happens; the day after, silence acknowledges.
    assert services.attributions_deem_acknowledged(actor=policy.SYSTEM, today=last_day) == 0
    assert deem_acknowledged.delay((last_day + datetime.timedelta(days=1)).isoformat()).get() >= 1
    attribution.refresh_from_db()
    assert attribution.acknowledgement == Attribution.Acknowledgement.DEEMED and attribution.acknowledged_at
    assert Attribution.objects.get(pk=answered.pk).acknowledgement == Attribution.Acknowledgement.ACKNOWLEDGED
    count = AuditEvent.objects.filter(verb="engagement.attribution_deemed", object_id=str(attribution.pk)).count()
    assert count == 1
    # Idempotent: a second run changes nothing and writes no second audit row.
    assert (
        services.attributions_deem_acknowledged(actor=policy.SYSTEM, today=last_day + datetime.timedelta(days=2)) == 0
    )
    assert AuditEvent.objects.filter(verb="engagement.attribution_deemed", object_id=str(attribution.pk)).count() == 1


def test_only_vendor_admins_answer_and_only_for_their_own(world, client_for):
    with operator_scope():
        attribution = Attribution.all_objects.filter(vendor=world.a.vendor).first()
        if attribution is None:
            from tests.engagements.tenant_objects import _attribution

            attribution = _attribution(world, world.a)
        Attribution.all_objects.filter(pk=attribution.pk).update(
            acknowledgement="pending", acknowledge_by=today() + datetime.timedelta(days=5)
        )
    url = reverse("engagements:portal_attribution_acknowledge", args=[attribution.pk])
    assert client_for(world.a.vendor_member).post(url).status_code == 403
    assert client_for(world.b.vendor_admin).post(url).status_code == 404
    with operator_scope():
        assert Attribution.all_objects.get(pk=attribution.pk).acknowledgement == "pending"
    response = client_for(world.a.vendor_admin).post(url)
    assert response.status_code == 302
    with operator_scope():
        assert Attribution.all_objects.get(pk=attribution.pk).acknowledgement == "acknowledged"


def test_portal_desk_page_and_home_show_the_review(world, client_for):
    with operator_scope():
        from tests.engagements.tenant_objects import engagement_for

        engagement = engagement_for(world, world.a)
        attribution = services.attribution_add(
            engagement=engagement,
            msp=new_msp("Summit Managed IT"),
            starts_on=engagement.start_date,
            reason="Pitch night",
            actor=world.partner,
        )
    portal = client_for(world.a.vendor_admin).get(reverse("engagements:portal")).content.decode()
    assert "Summit Managed IT" in portal and "Acknowledge" in portal and "Answer by" in portal
    home = client_for(world.a.vendor_member).get(reverse("dashboard:vendor")).content.decode()
    assert "await your acknowledgement" in home or "awaits your acknowledgement" in home
    dispute_url = reverse("engagements:portal_attribution_dispute", args=[attribution.pk])
    assert client_for(world.a.vendor_admin).post(dispute_url, {"reason": ""}).status_code == 302
    with scope_for_user(world.a.vendor_admin):
        assert Attribution.objects.get(pk=attribution.pk).acknowledgement == "pending"
    client_for(world.a.vendor_admin).post(dispute_url, {"reason": "Our reseller brought them"})
    desk = client_for(world.partner).get(reverse("engagements:engagement_detail", args=[engagement.pk]))
    html = desk.content.decode()
    assert "disputed by the vendor" in html and "Our reseller brought them" in html and "Resolve the dispute" in html
    home = client_for(world.partner).get(reverse("dashboard:partner")).content.decode()
    assert "Disputed attributions" in home and "Summit Managed IT" in home
    resolve = reverse("engagements:attribution_resolve", args=[attribution.pk])
    response = client_for(world.partner).post(resolve, {"outcome": "kept", "reason": "Intro email on file"})
    assert response.status_code == 302
    portal = client_for(world.a.vendor_admin).get(reverse("engagements:portal")).content.decode()
    assert "Dispute resolved: kept" in portal and "Intro email on file" in portal


def test_api_answers_and_refuses_a_late_dispute(world, client_for):
    with operator_scope():
        from tests.engagements.tenant_objects import engagement_for

        engagement = engagement_for(world, world.a)
        attribution = services.attribution_add(
            engagement=engagement,
            msp=new_msp("Late MSP"),
            starts_on=engagement.start_date,
            reason="r",
            actor=world.partner,
        )
        Attribution.all_objects.filter(pk=attribution.pk).update(acknowledge_by=today() - datetime.timedelta(days=1))
    client = client_for(world.a.vendor_admin)
    url = f"/api/v1/attributions/{attribution.pk}/dispute/"
    response = client.post(url, {"reason": "Too late?"}, content_type="application/json")
    assert response.status_code == 400
    assert "acknowledge_by" in response.json()["extra"]
    assert client.get(f"/api/v1/attributions/{attribution.pk}/").json()["acknowledgement"] == "pending"
    ok = client.post(f"/api/v1/attributions/{attribution.pk}/acknowledge/", content_type="application/json")
    assert ok.status_code == 200 and ok.json()["acknowledgement"] == "acknowledged"
    other = client_for(world.b.vendor_admin).post(
        f"/api/v1/attributions/{attribution.pk}/acknowledge/", content_type="application/json"
    )
    assert other.status_code == 404


def test_the_statement_page_and_pdf_show_each_accounts_acknowledgement(world, client_for):
    from django.template.loader import render_to_string

    from commissions.pdf import TEMPLATE, statement_context
    from tests.commissions.tenant_objects import billing_attribution_for, statement_for

    with operator_scope():
        statement = statement_for(world, world.a)
        attribution = billing_attribution_for(world, world.a)
        Attribution.all_objects.filter(pk=attribution.pk).update(acknowledgement="disputed")
    page = client_for(world.finance).get(reverse("commissions:statement_detail", args=[statement.pk])).content.decode()
    assert attribution.msp.name in page and "Disputed" in page
    with operator_scope():
        html = render_to_string(TEMPLATE, statement_context(statement))
    assert "Attribution: Disputed" in html
