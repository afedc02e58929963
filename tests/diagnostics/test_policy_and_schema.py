"""The policy in the diagnostics, booking and directory services, and the API's answers against its schema."""

from __future__ import annotations

import datetime

import jsonschema
import pytest
from django.core import mail
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from diagnostics import services
from diagnostics.booking import services as booking_services
from diagnostics.booking.models import AvailabilityWindow, Booking
from diagnostics.models import Diagnostic, TargetEntry
from tests.diagnostics.objects_core import make_complete, start_diagnostic
from tests.diagnostics.test_booking_slots import window
from tmw.accounts import policy
from tmw.accounts.models import Role
from tmw.accounts.tenancy import operator_scope
from tmw.directory import services as directory_services
from tmw.directory.models import MSPProfile
from tmw.errors import ApplicationError

CONTACT = {
    "company": "Harborline Security",
    "website": "https://harborline.example",
    "contact_name": "Dana Reyes",
    "email": "dana@harborline.example",
    "phone": "+1 555 0100",
    "role": "VP Channel",
    "sells": "Email security gateway",
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def json_schema(node):
    """OpenAPI 3.0's ``nullable`` in JSON Schema terms, so that jsonschema can check answers."""
    if isinstance(node, list):
        return [json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def answer_schema(schema: dict, path: str, method: str = "get", status: str = "200") -> dict:
    """The JSON schema of one answer, with the document's components so that $refs resolve."""
    body = schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return json_schema({**body, "components": schema["components"]})


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri")
def _is_uri(value) -> bool:
    return not isinstance(value, str) or "://" in value  # "" is no URI (a blank website is the other branch)


def check(schema: dict, path: str, data, method: str = "get", status: str = "200") -> None:
    jsonschema.validate(data, answer_schema(schema, path, method, status), format_checker=FORMATS)


@pytest.fixture
def diag(world):
    with operator_scope():
        return start_diagnostic(world)


def _booking(partner, *, days: float = 3, **overrides) -> Booking:
    start = (timezone.now() + datetime.timedelta(days=days)).replace(second=0, microsecond=0)
    return Booking.objects.create(
        partner=partner, starts_at=start, ends_at=start + datetime.timedelta(minutes=45), **{**CONTACT, **overrides}
    )


# --- the policy in the services


def test_only_partners_and_admins_change_a_diagnostic(world, diag):
    with operator_scope():
        for actor in (world.a.vendor_admin, world.finance, world.a.msp_member, policy.VISITOR, policy.SYSTEM):
            with pytest.raises(ApplicationError) as exc:
                services.thesis_save(diagnostic=diag, actor=actor, summary="x")
            assert exc.value.status == 403
            with pytest.raises(ApplicationError) as exc:
                services.diagnostic_transition(diagnostic=diag, to=Diagnostic.Status.IN_REVIEW, actor=actor)
            assert exc.value.status == 403
            with pytest.raises(ApplicationError) as exc:
                services.target_list_build(diagnostic=diag, actor=actor)
            assert exc.value.status == 403
        services.diagnostic_update(diagnostic=diag, actor=world.admin, has_us_sales=True)
        diag.refresh_from_db()
        assert diag.has_us_sales


def test_the_system_seeds_the_default_rubric_without_a_user(db):
    rubric = services.rubric_current(actor=policy.SYSTEM)
    assert rubric.created_by is None and rubric.criteria.count() == 12
    with pytest.raises(ApplicationError):
        services.rubric_version_create(base=rubric, criteria=[], actor=policy.VISITOR)


def test_only_partners_change_the_directory(world):
    with operator_scope():
        msp = MSPProfile.objects.order_by("pk").first()
        for actor in (world.a.vendor_admin, world.finance, policy.SYSTEM):
            with pytest.raises(ApplicationError) as exc:
                directory_services.msp_update(profile=msp, actor=actor, technicians=3)
            assert exc.value.status == 403
        directory_services.msp_update(profile=msp, actor=world.admin, technicians=3)


def test_bookings_take_the_visitor_partners_or_the_system(world, django_capture_on_commit_callbacks):
    partner = world.partner
    window(partner, (timezone.localdate() + datetime.timedelta(days=2)).weekday(), "09:00", "17:00")
    from diagnostics.booking.selectors import free_slots

    slot = free_slots(partner=partner)[0]
    with pytest.raises(ApplicationError) as exc:
        booking_services.booking_create(actor=world.partner, partner=partner, starts_at=slot.starts_at, **CONTACT)
    assert exc.value.status == 403
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_services.booking_create(
            actor=policy.VISITOR, partner=partner, starts_at=slot.starts_at, **CONTACT
        )
    assert len(mail.outbox) == 2  # the worker sent them as the system
    with pytest.raises(ApplicationError) as exc:
        booking_services.booking_emails_send(booking=booking, kind="confirmed", actor=world.partner)
    assert exc.value.status == 403
    with pytest.raises(ApplicationError) as exc:
        booking_services.booking_cancel(booking=booking, actor=world.a.vendor_admin)
    assert exc.value.status == 403
    booking_services.booking_cancel(booking=booking, actor=policy.VISITOR)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancelled_by_prospect
    other = _booking(partner, days=4, email="ops@harborline.example")
    booking_services.booking_cancel(booking=other, actor=world.admin)
    other.refresh_from_db()
    assert other.status == Booking.Status.CANCELLED and not other.cancelled_by_prospect


def test_availability_follows_may_edit_availability(world):
    from tests.diagnostics.test_booking_slots import make_partner

    colleague = make_partner("Ines Duarte", email="ines@tmw.example")
    own = window(world.partner, 1, "09:00", "10:00")
    theirs = window(colleague, 1, "09:00", "10:00")
    booking_services.availability_window_update(window=own, actor=world.partner, active=False)
    with pytest.raises(ApplicationError) as exc:
        booking_services.availability_window_update(window=theirs, actor=world.partner, active=False)
    assert exc.value.status == 403
    with pytest.raises(ApplicationError) as exc:
        booking_services.availability_window_remove(window=theirs, actor=world.a.vendor_admin)
    assert exc.value.status == 403
    booking_services.availability_window_remove(window=theirs, actor=world.admin)
    assert not AvailabilityWindow.objects.filter(pk=theirs.pk).exists()
    with pytest.raises(ApplicationError) as exc:
        booking_services.blackout_date_add(partner=world.admin, actor=world.admin, date=timezone.localdate())
    assert "partner" in exc.value.extra  # an admin takes no reviews of their own


# --- answers against the schema


def test_scores_are_a_plain_list_as_the_schema_says(world, client_for, diag, schema):
    path = "/api/v1/diagnostics/{id}/scores/"
    assert answer_schema(schema, path)["type"] == "array"
    with operator_scope():
        make_complete(diag, world.partner)
    for user in (world.partner, world.a.vendor_admin):
        data = client_for(user).get(f"/api/v1/diagnostics/{diag.pk}/scores/").json()
        assert isinstance(data, list) and data
        check(schema, path, data)


def test_an_empty_decision_and_thesis_match_the_schema(world, client_for, diag, schema):
    partner = client_for(world.partner)
    decision = partner.get(f"/api/v1/diagnostics/{diag.pk}/decision/")
    thesis = partner.get(f"/api/v1/diagnostics/{diag.pk}/thesis/")
    assert decision.json() == {} and thesis.json() == {}
    check(schema, "/api/v1/diagnostics/{id}/decision/", decision.json())
    check(schema, "/api/v1/diagnostics/{id}/thesis/", thesis.json())
    with operator_scope():
        make_complete(diag, world.partner)
    decided = partner.get(f"/api/v1/diagnostics/{diag.pk}/decision/").json()
    assert decided["decided_at"]
    check(schema, "/api/v1/diagnostics/{id}/decision/", decided)


def test_a_vendor_gets_409_for_a_drafts_results_as_documented(world, client_for, diag, schema):
    vendor = client_for(world.a.vendor_admin)
    for part in ("scores", "thesis", "decision"):
        path = f"/api/v1/diagnostics/{{id}}/{part}/"
        response = vendor.get(f"/api/v1/diagnostics/{diag.pk}/{part}/")
        assert response.status_code == 409
        check(schema, path, response.json(), status="409")


def test_window_times_match_the_schema(world, client_for, schema):
    partner = client_for(world.partner)
    created = partner.post(
        "/api/v1/availability-windows/",
        {"weekday": 2, "start_time": "13:00", "end_time": "14:30"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["start_time"] == "13:00:00"
    check(schema, "/api/v1/availability-windows/", created.json(), method="post", status="201")
    listing = partner.get("/api/v1/availability-windows/").json()
    check(schema, "/api/v1/availability-windows/", listing)


def test_msp_contacts_are_always_present_and_empty_for_vendors(world, client_for, schema):
    for user in (world.partner, world.a.vendor_admin):
        listing = client_for(user).get("/api/v1/msps/").json()
        check(schema, "/api/v1/msps/", listing)
        assert all("contacts" in m for m in listing["results"])
    vendor = client_for(world.a.vendor_admin).get("/api/v1/msps/").json()["results"]
    assert all(m["contacts"] == [] and m["notes"] == "" for m in vendor)


def test_vendor_target_answers_of_a_draft_match_the_schema(world, client_for, schema):
    vendor = client_for(world.a.vendor_admin)
    lists = vendor.get("/api/v1/target-lists/").json()
    entries = vendor.get("/api/v1/target-entries/").json()
    assert lists["results"] == [] and entries["results"] == []
    check(schema, "/api/v1/target-lists/", lists)
    check(schema, "/api/v1/target-entries/", entries)
    with operator_scope():
        entry = TargetEntry.objects.filter(target_list__diagnostic__vendor=world.a.vendor).first()
    missing = vendor.get(f"/api/v1/target-entries/{entry.pk}/")
    assert missing.status_code == 404
    check(schema, "/api/v1/target-entries/{id}/", missing.json(), status="404")


# --- bad filters


@pytest.mark.parametrize("odd", ["99999999999999999999", "-9.83e+34", "1.5", "abc", "0"])
def test_an_odd_partner_filter_answers_400_naming_it(world, client_for, odd, schema):
    response = client_for(world.partner).get("/api/v1/bookings/", {"partner": odd})
    assert response.status_code == 400 and "partner" in response.json()["extra"]
    check(schema, "/api/v1/bookings/", response.json(), status="400")


def test_unknown_booking_choices_answer_400_naming_them(world, client_for):
    partner = client_for(world.partner)
    assert "status" in partner.get("/api/v1/bookings/", {"status": "nope"}).json()["extra"]
    assert "when" in partner.get("/api/v1/bookings/", {"when": "later"}).json()["extra"]
    _booking(world.partner)
    rows = partner.get("/api/v1/bookings/", {"partner": world.partner.pk}).json()["results"]
    assert [r["company"] for r in rows] == ["Harborline Security"]


def test_an_odd_partner_on_the_availability_page_answers_400(world, client_for):
    from django.urls import reverse

    url = reverse("booking:availability")
    assert world.admin.role == Role.ADMIN
    for odd in ("99999999999999999999", "-9.83e+34"):
        response = client_for(world.admin).get(url, {"partner": odd})
        assert response.status_code == 400 and "partner" in response.content.decode()
    assert client_for(world.admin).get(url, {"partner": world.partner.pk}).status_code == 200
