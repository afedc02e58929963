"""Registering and managing endpoints on the pages and the API: the messages, the secret shown once, publishing."""

from __future__ import annotations

import ipaddress
import json

import pytest
from django.urls import reverse

from tmw.accounts.models import AuditEvent
from tmw.accounts.tenancy import operator_scope
from tmw.webhooks import network, services
from tmw.webhooks.models import WebhookDelivery, WebhookEndpoint

PUBLIC = [ipaddress.ip_address("93.184.216.34")]


@pytest.fixture(autouse=True)
def _dns(monkeypatch, settings):
    """Production rules; hooks.example.com resolves to a public address, internal.example.com to a private one."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False

    def resolve(host, port):
        if host == "internal.example.com":
            return [ipaddress.ip_address("10.0.0.8")]
        return PUBLIC

    monkeypatch.setattr(network, "resolve", resolve)


def _form(**extra):
    data = {"url": "https://hooks.example.com/tmw", "description": "CRM", "events": ["statement.issued"]}
    data.update(extra)
    return data


def test_a_partner_registers_an_endpoint_and_sees_the_secret_once(world, client_for):
    client = client_for(world.partner)
    response = client.post(reverse("webhooks:endpoint_create"), _form(events=["statement.issued", "rsvp.changed"]))
    assert response.status_code == 302
    with operator_scope():
        endpoint = WebhookEndpoint.objects.get(description="CRM")
        assert endpoint.events == ["statement.issued", "rsvp.changed"] and endpoint.vendor is None
        assert AuditEvent.objects.filter(verb="webhook.registered", object_id=str(endpoint.pk)).exists()
    page = client.get(response["Location"])
    assert endpoint.secret in page.content.decode()
    again = client.get(response["Location"])
    assert endpoint.secret not in again.content.decode()
    assert endpoint.secret_hint in again.content.decode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/tmw", "Use an https:// URL"),
        ("https://internal.example.com/tmw", "internal.example.com resolves to 10.0.0.8"),
        ("https://169.254.169.254/latest/meta-data/", "public addresses"),
        ("https://[::1]/x", "public addresses"),
    ],
)
def test_the_form_names_the_url_field(world, client_for, url, message):
    response = client_for(world.partner).post(reverse("webhooks:endpoint_create"), _form(url=url))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in e for e in form.errors["url"])
    assert message in response.content.decode()
    with operator_scope():
        assert not WebhookEndpoint.objects.filter(description="CRM").exists()


def test_the_form_names_missing_events_and_a_short_secret(world, client_for):
    client = client_for(world.partner)
    response = client.post(reverse("webhooks:endpoint_create"), _form(events=[]))
    assert response.status_code == 400 and "events" in response.context["form"].errors
    response = client.post(reverse("webhooks:endpoint_create"), _form(secret="short"))
    assert response.status_code == 400 and "secret" in response.context["form"].errors


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://hooks.example.com/tmw", "https://"),
        ("https://internal.example.com/tmw", "10.0.0.8"),
        ("https://10.1.1.1/tmw", "public addresses"),
    ],
)
def test_the_api_names_the_url_field(world, client_for, url, fragment):
    response = client_for(world.partner).post(
        "/api/v1/webhook-endpoints/",
        data=json.dumps({"url": url, "events": ["statement.paid"]}),
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert fragment in body["extra"]["url"][0]


def test_the_api_registers_rotates_tests_and_resends(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.partner)
    response = client.post(
        "/api/v1/webhook-endpoints/",
        data=json.dumps(
            {"url": "https://hooks.example.com/tmw", "events": ["statement.paid"], "vendor": world.a.vendor.pk}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["vendor"] == world.a.vendor.pk
    endpoint_id = created["id"]
    shown = client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/").json()
    assert "secret" not in shown and shown["secret_hint"] == "…" + created["secret"][-4:]

    rotated = client.post(
        f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret/", data="{}", content_type="application/json"
    )
    assert rotated.status_code == 200 and rotated.json()["secret"] != created["secret"]

    sent = []
    with operator_scope():
        services_post = network.post

    def fake_post(url, *, body, headers):
        sent.append((url, body, headers))
        return network.Answer(204, "", 3)

    network.post = fake_post
    try:
        with django_capture_on_commit_callbacks(execute=True):
            test = client.post(
                f"/api/v1/webhook-endpoints/{endpoint_id}/test/", data="{}", content_type="application/json"
            )
        assert test.status_code == 201
        delivery = client.get(f"/api/v1/webhook-deliveries/{test.json()['id']}/").json()
        assert delivery["status"] == "delivered" and delivery["event_type"] == "webhook.test"
        assert [a["status_code"] for a in delivery["attempt_log"]] == [204]
        with django_capture_on_commit_callbacks(execute=True):
            again = client.post(
                f"/api/v1/webhook-deliveries/{delivery['id']}/resend/", data="{}", content_type="application/json"
            )
        assert again.status_code == 201
        assert again.json()["event_id"] == delivery["event_id"] and again.json()["resend_of"] == delivery["id"]
    finally:
        network.post = services_post
    assert len(sent) == 2 and sent[0][1] == sent[1][1]  # the same body, signed afresh
    assert sent[1][2]["TMW-Webhook-Signature"].startswith("v1=")

    listed = client.get(f"/api/v1/webhook-deliveries/?endpoint={endpoint_id}").json()
    assert listed["count"] == 2
    assert client.get("/api/v1/webhook-deliveries/?endpoint=abc").status_code == 400

    disabled = client.post(
        f"/api/v1/webhook-endpoints/{endpoint_id}/disable/", data="{}", content_type="application/json"
    )
    assert disabled.json()["is_active"] is False
    refused = client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test/", data="{}", content_type="application/json")
    assert refused.status_code == 409 and "disabled" in refused.json()["message"]


def test_vendors_finance_and_msps_cannot_reach_webhooks(world, client_for):
    for user in (world.a.vendor_admin, world.finance, world.a.msp_member):
        client = client_for(user)
        assert client.get("/api/v1/webhook-endpoints/").status_code == 403
        assert client.get(reverse("webhooks:endpoint_list")).status_code == 403


def test_publish_reaches_only_active_endpoints_that_asked_for_the_event_and_the_vendor(
    world, django_capture_on_commit_callbacks
):
    with operator_scope():
        every, _ = services.endpoint_register(
            actor=world.partner, url="https://hooks.example.com/a", events=["attribution.created"]
        )
        only_a, _ = services.endpoint_register(
            actor=world.partner,
            url="https://hooks.example.com/b",
            events=["attribution.created"],
            vendor=world.a.vendor,
        )
        other_event, _ = services.endpoint_register(
            actor=world.partner, url="https://hooks.example.com/c", events=["rsvp.changed"]
        )
        off, _ = services.endpoint_register(
            actor=world.partner, url="https://hooks.example.com/d", events=["attribution.created"]
        )
        services.endpoint_set_active(actor=world.partner, endpoint=off, active=False)
        with django_capture_on_commit_callbacks() as callbacks:
            about_b = services.publish("attribution.created", payload={"n": 1}, vendor=world.b.vendor)
            about_a = services.publish("attribution.created", payload={"n": 2}, vendor=world.a.vendor)
        assert {d.endpoint_id for d in about_b} == {every.pk}
        assert {d.endpoint_id for d in about_a} == {every.pk, only_a.pk}
        assert len(callbacks) == 3  # one task per delivery, queued after commit
        body = json.loads(about_a[0].body)
        assert set(body) == {"id", "type", "created", "data"} and body["data"] == {"n": 2}
        assert WebhookDelivery.objects.filter(endpoint=other_event).count() == 0


def test_issuing_a_statement_publishes_its_key_fields(world):
    from commissions import services as commissions
    from commissions.models import Statement

    with operator_scope():
        mine, _ = services.endpoint_register(
            actor=world.partner, url="https://hooks.example.com/a", events=["statement.issued"]
        )
        statement = Statement.objects.filter(vendor=world.a.vendor, status="draft").first()
        assert statement is not None
        statement = commissions.statement_approve(statement=statement, actor=world.finance)
        statement = commissions.statement_issue(statement=statement, actor=world.finance)
        delivery = WebhookDelivery.objects.get(event_type="statement.issued", endpoint=mine)
        data = json.loads(delivery.body)["data"]["statement"]
        assert data["id"] == statement.pk and data["number"] == statement.number
        assert data["total"] == str(statement.total) and data["currency"] == statement.currency
        assert delivery.vendor_id == world.a.vendor.pk
