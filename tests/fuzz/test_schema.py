"""The served schema documents the error answers of every operation, in the one error shape."""

import json
import re

import pytest
from django.urls import reverse

from tmw.schema import TIME_PATTERN

SAFE = ("get", "head", "options")


@pytest.fixture
def schema(world, client_for):
    response = client_for(world.partner).get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "patch", "post", "delete"):
                yield path, method, operation


def assert_error_shape(schema, response):
    """The answer is ``{"message": str, "extra": {...}}``: tmw.schema's Error or an app's own of that shape."""
    ref = response["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"message", "extra"} <= set(component["required"]), ref
    assert component["properties"]["message"]["type"] == "string", ref


def test_the_error_shape_is_one_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["extra", "message"]
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["extra"]["type"] == "object"


def test_every_guarded_operation_documents_its_refusals(schema):
    checked = 0
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        if path == "/api/v1/auth/token/" or operation.get("security") is None:
            continue  # public: the token endpoint, and signed links (a booking's reschedule token) need no login
        checked += 1
        for status in ("401", "403"):
            assert status in responses, (method, path, status)
            assert_error_shape(schema, responses[status]), (method, path, status)
        if "{" in path:
            assert "404" in responses, (method, path)
        if method not in SAFE:
            assert "400" in responses, (method, path)
        if method == "post":
            assert "409" in responses, (method, path)
        if "requestBody" in operation:
            assert "415" in responses, (method, path)
        if method == "get" and "404" in responses and "{" not in path:
            assert "page" in [parameter["name"] for parameter in operation.get("parameters", [])], path
    assert checked > 50


def test_query_filters_and_bodies_may_answer_400(schema):
    users = schema["paths"]["/api/v1/users/"]["get"]["responses"]
    assert "400" in users and "404" in users  # a filter that does not validate; a page past the end
    assert "400" not in schema["paths"]["/api/v1/users/{id}/"]["get"]["responses"]


def test_the_token_endpoint_documents_bad_credentials_and_the_throttle(schema):
    responses = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"200", "400", "429"} <= set(responses)
    assert "401" not in responses and "403" not in responses  # no credentials to refuse: it hands them out


def test_times_of_day_are_documented_as_drf_writes_them(schema):
    window = schema["components"]["schemas"]["AvailabilityWindow"]["properties"]["start_time"]
    assert "format" not in window and window["pattern"]
    pattern = re.compile(TIME_PATTERN)
    for written in ("13:00:00", "09:15", "23:59:59.123456"):
        assert pattern.match(written), written
    for wrong in ("24:00:00", "13:00:00Z", "1:00"):
        assert not pattern.match(wrong), wrong
    assert '"format": "time"' not in json.dumps(schema)
