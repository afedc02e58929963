"""A partner moves an opportunity to signed on the kanban board; the vendor then sees it signed in its portal."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(db):
    from engagements import services
    from engagements.models import Engagement
    from tests.factories import build_world
    from tmw.accounts.models import Organisation
    from tmw.accounts.tenancy import operator_scope

    world = build_world()
    engagement = world.a.objects[Engagement]
    with operator_scope():
        msp = Organisation.all_objects.create(kind="msp", name="Journey Networks", slug="journey-networks")
        opportunity = services.opportunity_create(
            engagement=engagement, msp=msp, source="tmw", stage="evaluation", actor=world.partner
        )
    return world, engagement, opportunity


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_partner_signs_and_vendor_sees_it(desk, live_server, page):
    world, engagement, opportunity = desk
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    log_in(page, live_server, world.partner)
    page.goto(f"{live_server.url}/engagements/{engagement.pk}/")
    expect(page.locator("canvas[data-chart]").first).to_have_attribute("data-drawn", "1")
    page.goto(f"{live_server.url}/engagements/{engagement.pk}/board/")
    card = page.locator(f"#opp-{opportunity.pk}")
    assert card.locator("xpath=ancestor::section[@data-stage='evaluation']").count() == 1
    card.locator("select[name=stage]").select_option("signed")
    card.locator("button[type=submit]").click()
    signed_card = page.locator(f"section[data-stage='signed'] #opp-{opportunity.pk}")
    signed_card.wait_for()
    assert "Journey Networks moved to Signed" in page.locator("#board .messages").inner_text()
    assert "Signed" in signed_card.inner_text()
    # Dragging a card onto another column posts the new stage too.
    page.drag_and_drop(f"#opp-{opportunity.pk}", "section[data-stage='live'] header", source_position={"x": 6, "y": 30})
    page.locator(f"section[data-stage='live'] #opp-{opportunity.pk}").wait_for()
    # A lost move without a reason is refused and the board says why.
    moved = page.locator(f"#opp-{opportunity.pk}")
    moved.locator("select[name=stage]").select_option("lost")
    moved.locator("button[type=submit]").click()
    page.locator("#board .message-error").wait_for()
    assert "Say why" in page.locator("#board .message-error").inner_text()
    assert page.locator(f"section[data-stage='live'] #opp-{opportunity.pk}").count() == 1
    page.click("text=Log out")
    page.wait_for_url(f"{live_server.url}/accounts/login/")

    log_in(page, live_server, world.a.vendor_admin)
    page.goto(f"{live_server.url}/engagements/portal/")
    portal_card = page.locator(f"section[data-stage='live'] #opp-{opportunity.pk}")
    portal_card.wait_for()
    assert "Journey Networks" in portal_card.inner_text()
    # TMW-sourced: the vendor sees it but cannot move it.
    assert portal_card.locator("form").count() == 0
    assert world.b.marker not in page.content()
    # The refused move answers 400 on purpose; nothing else may fail.
    assert [e for e in errors if "status of 400" not in e] == []
    assert len(errors) <= 1


def test_partner_finds_an_msp_by_typing_and_attributes_it_on_a_phone(desk, live_server, page):
    """The attribution form's MSP picker searches the directory; the page never lists it."""
    from tmw.accounts.models import Organisation
    from tmw.accounts.tenancy import operator_scope

    world, engagement, _ = desk
    with operator_scope():
        Organisation.all_objects.bulk_create(
            Organisation(kind="msp", name=f"Directory {i:03d} Networks", slug=f"directory-{i:03d}") for i in range(80)
        )
        Organisation.all_objects.create(kind="msp", name="Harbourline IT", slug="harbourline-it")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, world.partner)
    page.goto(f"{live_server.url}/engagements/{engagement.pk}/")
    page.locator("summary", has_text="Attribute an account").click()
    form = page.locator(f"form[action='/engagements/{engagement.pk}/attributions/add/']")
    picker = form.locator("select[name=msp]")
    expect(picker.locator("option")).to_have_count(1)
    form.locator("input[type=search]").fill("harbour")
    expect(picker.locator("option")).to_have_count(2)
    expect(picker.locator("option").first).to_have_text("1 match: choose one")
    picker.select_option(label="Harbourline IT")
    form.locator("textarea[name=reason]").fill("Sourced by the vendor at the spring dinner.")
    form.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Harbourline IT attributed from")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
