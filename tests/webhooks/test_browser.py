"""A partner registers a webhook endpoint, sends a test event and resends it, on a phone-sized Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    from tests.factories import build_world

    return build_world()


def _shot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("WEBHOOK_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_partner_registers_tests_and_resends_at_390_px(world, live_server, page, settings, tmp_path):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True  # the receiver listens on 127.0.0.1
    receiver = Receiver(secret="whsec_" + "b" * 40, answers=[200]).start()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", world.partner.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

        page.goto(f"{live_server.url}/webhooks/")
        page.click("text=Register an endpoint")
        page.fill("input[name=url]", "ftp://files.example.com/hooks")
        page.check("input[name=events][value='statement.issued']")
        page.click("main button[type=submit]")
        expect(page.locator(".errorlist").first).to_contain_text("Use an https:// URL")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(page, "endpoint-form-390", tmp_path)

        page.fill("input[name=url]", receiver.url)
        page.fill("input[name=description]", "Finance system")
        page.fill("input[name=secret]", receiver.secret)
        page.click("main button[type=submit]")
        expect(page.locator(".banner code.secret")).to_have_text(receiver.secret)
        _shot(page, "endpoint-registered-390", tmp_path)

        page.click("text=Send test event")
        expect(page.locator("#deliveries")).to_contain_text("webhook.test")
        expect(page.locator("#deliveries .badge").first).to_have_text("Delivered")
        assert len(receiver.accepted) == 1 and receiver.accepted[0].verified

        page.click("#deliveries button:has-text('Resend')")
        expect(page.locator("#deliveries tbody tr")).to_have_count(2)
        assert len(receiver.accepted) == 2 and all(r.verified for r in receiver.requests)
        assert receiver.requests[0].body == receiver.requests[1].body
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(page, "endpoint-detail-390", tmp_path)
        page.set_viewport_size({"width": 1366, "height": 900})
        _shot(page, "endpoint-detail-1366", tmp_path)
        page.goto(f"{live_server.url}/webhooks/")
        _shot(page, "endpoint-list-1366", tmp_path)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(page, "endpoint-list-390", tmp_path)
        assert not errors
    finally:
        receiver.stop()
