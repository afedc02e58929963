"""The partner home: vendor names lead to their desk or diagnostic."""

from __future__ import annotations

import datetime

from django.urls import reverse

from diagnostics import services as diagnostic_services
from engagements.models import Engagement
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope


def test_vendor_names_link_to_the_desk_else_the_diagnostic(world, client_for):
    with operator_scope():
        newcomer = Organisation.all_objects.create(kind="vendor", name="Newcomer Vendor", slug="newcomer-vendor")
        diagnostic = diagnostic_services.diagnostic_start(
            vendor=newcomer, lead_partner=world.partner, actor=world.partner, started_on=datetime.date.today()
        )
        lone = Organisation.all_objects.create(kind="vendor", name="Lone Vendor", slug="lone-vendor")
    body = client_for(world.partner).get(reverse("dashboard:partner")).content.decode()
    desk = world.a.objects[Engagement]
    desk_url = reverse("engagements:engagement_detail", args=[desk.pk])
    assert f'<a href="{desk_url}"><strong>{world.a.vendor.name}</strong></a>' in body
    diagnostic_url = reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk])
    assert f'<a href="{diagnostic_url}"><strong>Newcomer Vendor</strong></a>' in body
    assert f"<td><strong>{lone.name}</strong></td>" in body
