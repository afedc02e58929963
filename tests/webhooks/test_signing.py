"""Signatures: HMAC-SHA256 over timestamp + "." + body, checked in constant time within a tolerance window."""

from __future__ import annotations

import hashlib
import hmac

from tmw.webhooks import signing

SECRET = "whsec_" + "k" * 40
BODY = '{"id":"evt_1","type":"statement.issued"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY.encode(), hashlib.sha256).hexdigest()
    headers = signing.headers(
        secret=SECRET, delivery_id="evt_1", event_type="statement.issued", body=BODY, timestamp=1700000000
    )
    assert headers["TMW-Webhook-Signature"] == f"v1={expected}"
    assert headers["TMW-Webhook-Timestamp"] == "1700000000"
    assert headers["TMW-Webhook-Id"] == "evt_1"


def test_verify_accepts_the_real_thing_and_refuses_tampering_replays_and_other_secrets():
    h = signing.headers(secret=SECRET, delivery_id="evt_1", event_type="x", body=BODY, timestamp=1700000000)
    ok = {"timestamp": h["TMW-Webhook-Timestamp"], "signature_header": h["TMW-Webhook-Signature"]}
    assert signing.verify(secret=SECRET, body=BODY.encode(), now=1700000100, **ok)
    assert not signing.verify(secret=SECRET, body=BODY.encode() + b" ", now=1700000100, **ok)
    assert not signing.verify(secret="whsec_" + "z" * 40, body=BODY.encode(), now=1700000100, **ok)
    assert not signing.verify(secret=SECRET, body=BODY.encode(), now=1700000000 + 301, **ok)  # a replay
    assert not signing.verify(secret=SECRET, body=BODY.encode(), timestamp="soon", signature_header="v1=00", now=1)


def test_new_secrets_are_long_random_and_distinct():
    a, b = signing.new_secret(), signing.new_secret()
    assert a != b and a.startswith("whsec_") and len(a) >= 40
