"""An MSP opens the emailed RSVP link in real headless Chromium, says yes and downloads the .ics."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def emailed_link(db):
    from community import services
    from community.models import Event
    from tests.directory.tenant_objects import msp_profile_for
    from tests.factories import OrganisationFactory, UserFactory
    from tmw.accounts.models import Organisation, Role
    from tmw.accounts.tenancy import operator_scope
    from tmw.directory.models import MSPContact

    with operator_scope():
        operator = OrganisationFactory(kind=Organisation.Kind.OPERATOR, name="The MSP Works", slug="the-msp-works")
        partner = UserFactory(email="host@tmw.example", full_name="Dana Host", organisation=operator, role=Role.PARTNER)
        msp = OrganisationFactory(kind=Organisation.Kind.MSP, name="Harbour IT", region="BC", country="CA")
        contact = MSPContact.all_objects.create(
            msp=msp_profile_for(msp), name="Robin Reyes", email="robin@harbour.example"
        )
        starts = (timezone.now() + datetime.timedelta(days=5)).replace(second=0, microsecond=0)
        event = services.event_create(
            actor=partner,
            kind=Event.Kind.DINNER,
            title="Vancouver MSP dinner",
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=3),
            time_zone="America/Vancouver",
            venue="Gastown, Vancouver",
            capacity=8,
        )
        mail.outbox.clear()
        services.invitations_send(event=event, contacts=[contact], actor=partner)
    (message,) = mail.outbox
    url = re.search(r"https?://\S+/community/r/\S+/", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_msp_rsvps_from_the_emailed_link_and_downloads_the_ics(emailed_link, live_server, page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + emailed_link)
    assert "Hello Robin Reyes" in page.content()
    assert "America/Vancouver" in page.inner_text("#event-zone")
    page.check("input[name=answer][value=going]")
    page.fill("input[name=dietary]", "Vegetarian")
    page.click("#rsvp-submit")
    page.wait_for_selector("#rsvp-status")
    assert "You're going" in page.inner_text("#rsvp-status")
    with page.expect_download() as info:
        page.click("#download-ics")
    download = info.value
    assert download.suggested_filename == "event.ics"
    with open(download.path(), encoding="utf-8") as handle:
        text = handle.read()
    assert "BEGIN:VEVENT" in text and "Vancouver MSP dinner" in text and "robin@harbour.example" in text
    assert not errors
    from community.models import RSVP

    rsvp = RSVP.all_objects.get(invitation__email="robin@harbour.example")
    assert rsvp.status == "going" and rsvp.dietary == "Vegetarian"
    assert any(m.subject.startswith("You're going") for m in mail.outbox)
