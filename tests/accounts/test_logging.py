"""Business actions are logged to the owning app's logger with actor, action and object."""

from __future__ import annotations

import datetime
import json
import logging

from django.utils import timezone

from community import services as community
from tmw.accounts import services as accounts
from tmw.accounts.tenancy import operator_scope
from tmw.logging import JSONFormatter


def _records(caplog, action):
    return [r for r in caplog.records if getattr(r, "action", None) == action]


def test_an_accounts_action_is_logged_to_tmw_accounts(world, caplog):
    caplog.set_level(logging.INFO)
    invitation, _ = accounts.invitation_create(
        actor=world.a.vendor_admin, organisation=world.a.vendor, email="new@a-vendor.example", role="vendor_member"
    )
    (record,) = _records(caplog, "invitation.created")
    assert record.name == "tmw.accounts"
    assert record.levelno == logging.INFO
    assert record.actor_id == world.a.vendor_admin.pk
    assert record.object_type == "accounts.invitation"
    assert record.object_id == str(invitation.pk)
    assert record.organisation_id == world.a.vendor.pk
    assert f"invitation.created by user {world.a.vendor_admin.pk}" in record.getMessage()


def test_another_apps_action_is_logged_to_that_apps_logger(world, caplog):
    caplog.set_level(logging.INFO)
    starts = timezone.now() + datetime.timedelta(days=7)
    with operator_scope():
        event = community.event_create(
            actor=world.partner,
            kind="dinner",
            title="Logged dinner",
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=2),
            time_zone="America/Toronto",
            venue="The Loft",
            capacity=5,
        )
    (record,) = _records(caplog, "event.created")
    assert record.name == "community"
    assert (record.actor_id, record.object_id) == (world.partner.pk, str(event.pk))


def test_the_json_formatter_keeps_the_action_fields():
    record = logging.LogRecord("commissions", logging.INFO, __file__, 1, "statement.issued by user %s", (7,), None)
    record.action, record.actor_id, record.object_id = "statement.issued", 7, "42"
    entry = json.loads(JSONFormatter().format(record))
    assert entry["logger"] == "commissions"
    assert entry["level"] == "INFO"
    assert entry["message"] == "statement.issued by user 7"
    assert (entry["action"], entry["actor_id"], entry["object_id"]) == ("statement.issued", 7, "42")
