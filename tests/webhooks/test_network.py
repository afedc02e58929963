"""The address guard: what a webhook may be sent to, checked after DNS resolution, and how it is sent."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from tests.webhooks.receiver import Receiver
from tmw.webhooks import network, signing

PUBLIC = ipaddress.ip_address("93.184.216.34")


@pytest.fixture(autouse=True)
def _production_rules(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://10.0.0.5/hook",
        "https://172.16.4.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://240.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::]/hook",
        "https://[fc00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[ff02::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/hook",
        "https://[2002:7f00:1::]/hook",
    ],
)
def test_private_and_special_addresses_are_refused(url):
    with pytest.raises(network.UnsafeURL, match="public addresses"):
        network.check_url(url)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fc00::7"])
def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch, address):
    monkeypatch.setattr(network, "resolve", lambda host, port: [ipaddress.ip_address(address)])
    with pytest.raises(network.UnsafeURL, match=f"hooks.example.com resolves to {address}"):
        network.check_url("https://hooks.example.com/tmw")


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch):
    monkeypatch.setattr(network, "resolve", lambda host, port: [PUBLIC, ipaddress.ip_address("10.0.0.1")])
    with pytest.raises(network.UnsafeURL):
        network.check_url("https://hooks.example.com/tmw")


def test_a_public_name_passes_and_names_its_checked_address(monkeypatch):
    monkeypatch.setattr(network, "resolve", lambda host, port: [PUBLIC])
    target = network.check_url("https://Hooks.Example.com:8443/tmw?x=1")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example.com", 8443, "/tmw?x=1")
    assert target.address == PUBLIC


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/tmw", "https://"),
        ("ftp://hooks.example.com/tmw", "https://"),
        ("https://user:pw@hooks.example.com/tmw", "credentials"),
        ("https:///tmw", "no host"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
    ],
)
def test_other_refusals_say_why(url, message):
    with pytest.raises(network.UnsafeURL, match=message):
        network.check_url(url)


def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    def fail(host, port):
        raise socket.gaierror("Name or service not known")

    monkeypatch.setattr(network, "resolve", fail)
    with pytest.raises(network.UnsafeURL, match="does not resolve"):
        network.check_url("https://nowhere.example/tmw")


def test_the_request_connects_to_the_checked_address_not_a_second_answer(monkeypatch):
    """DNS rebinding: a second resolution that points elsewhere is never made; the checked address is used."""
    answers = [[PUBLIC], [ipaddress.ip_address("127.0.0.1")]]
    monkeypatch.setattr(network, "resolve", lambda host, port: answers.pop(0))
    connected = []

    def fake_connect(address, timeout=None, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("test")

    monkeypatch.setattr(network.socket, "create_connection", fake_connect)
    answer = network.post("https://hooks.example.com/tmw", body="{}", headers={})
    assert connected == [(str(PUBLIC), 443)]
    assert len(answers) == 1  # resolved once
    assert answer.status_code is None and not answer.ok and "ConnectionRefusedError" in answer.error


def test_a_refused_address_is_never_connected_to(monkeypatch):
    monkeypatch.setattr(network.socket, "create_connection", lambda *a, **k: pytest.fail("connected"))
    answer = network.post("https://169.254.169.254/latest/meta-data/", body="{}", headers={})
    assert answer.blocked and not answer.ok and "public addresses" in answer.error


def test_a_redirect_is_not_followed_and_the_answer_is_bounded(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    receiver = Receiver(secret="s" * 30, answers=[302]).start()
    receiver.location = receiver.url.replace("/hooks/tmw", "/elsewhere")
    try:
        signed = signing.headers(secret=receiver.secret, delivery_id="evt_1", event_type="webhook.test", body="{}")
        answer = network.post(receiver.url, body="{}", headers=signed)
    finally:
        receiver.stop()
    assert answer.status_code == 302 and not answer.ok
    assert "not followed" in answer.error
    assert [r.path for r in receiver.requests] == ["/hooks/tmw"]  # the Location was never requested
    assert len(answer.excerpt) <= network.EXCERPT_CHARS


def test_http_and_local_receivers_only_with_the_setting(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    assert network.check_url("http://127.0.0.1:8080/hook").address == ipaddress.ip_address("127.0.0.1")
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(network.UnsafeURL):
        network.check_url("http://127.0.0.1:8080/hook")
