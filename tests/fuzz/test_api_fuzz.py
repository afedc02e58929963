"""Fuzz the API through the schema it serves: every operation, as four roles, with generated requests.

The schema is fetched from ``/api/schema/`` through the WSGI application, as a client would, and
Schemathesis generates requests for every operation in it: valid ones (positive) and ones that
break the schema (negative), a bounded number per operation with a fixed seed. Each request is sent
as one signed-in user with their API token, inside a savepoint that is rolled back, so every example
sees the same world. Each answer must be no 5xx, carry a status code the operation documents, and
match the schema documented for that status (``tmw.schema`` documents the error answers).

All failures of a role are collected and reported together, one line per distinct failure with an
example request. ``FUZZ_EXAMPLES`` raises the number of examples per operation for a deeper run;
``FUZZ_PATHS`` (comma-separated path prefixes) keeps only the operations under them.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from werkzeug.test import Client

pytestmark = pytest.mark.fuzz

SCHEMA_URL = "/api/schema/"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))  # positive examples per operation; half as many negative
# FUZZ_PATHS=/api/v1/vendors/,/api/v1/engagements/ fuzzes only the operations under those paths (a quick look).
ONLY_PATHS = [prefix for prefix in os.environ.get("FUZZ_PATHS", "").split(",") if prefix]
DOOR_PROBE = 3
ROLES = {
    "vendor_admin": lambda world: world.a.vendor_admin,
    "partner": lambda world: world.partner,
    "finance": lambda world: world.finance,
    "msp_member": lambda world: world.a.msp_member,
}
# Path parameter values taken from what the user can list, so detail routes see real objects too.
KNOWN_VALUES_PER_PARAMETER = 3


class WsgiApp(WSGIHandler):
    """The project's WSGI application, answering inside the test's transaction.

    A WSGI server closes stale database connections when a request starts and ends; under a test
    that would close the connection that holds the test's transaction (Django's test client skips
    the same signal receiver).
    """

    refused_at_door = False

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        return super().__call__(environ, start_response)

    def get_response(self, request):
        response = super().get_response(request)
        self.refused_at_door = getattr(request, "refused_by_policy", None) is not None
        return response


@pytest.fixture
def app() -> Iterator[WsgiApp]:
    yield WsgiApp()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    cache.clear()


@dataclass
class Finding:
    operation: str
    check: str
    status: int
    example: str
    detail: str
    count: int = 1


@dataclass
class Findings:
    role: str
    by_key: dict[tuple[str, str, int, str], Finding] = field(default_factory=dict)
    examples: int = 0
    server_errors: list[str] = field(default_factory=list)

    def add(self, case, response, failure, auth: dict[str, str]) -> None:
        check = type(failure).__name__
        if check == "UndefinedStatusCode" and response.status_code >= 500:
            return  # the server error is the finding
        first_line = (failure.message or failure.title).strip().splitlines()[0][:160]
        # One finding per operation, kind of failure and status; the schema path of a violation tells them apart.
        key = (case.operation.label, check, response.status_code, first_line if check == "JsonSchemaError" else "")
        if key in self.by_key:
            self.by_key[key].count += 1
            return
        detail = (failure.message or failure.title).strip()
        if self.server_errors:
            detail += "\n" + self.server_errors[-1]
        self.by_key[key] = Finding(
            operation=case.operation.label,
            check=check,
            status=response.status_code,
            example=describe(case),
            detail=detail[:1500],
        )

    def report(self) -> str:
        lines = [f"{len(self.by_key)} distinct failures as {self.role} ({self.examples} requests):"]
        for finding in sorted(self.by_key.values(), key=lambda f: (f.operation, f.check, f.status)):
            lines.append(f"- {finding.operation} [{finding.check}] {finding.status} x{finding.count}")
            lines.append(f"    example: {finding.example}")
            lines.extend(f"    | {line}" for line in finding.detail.splitlines()[:25])
        return "\n".join(lines)


def describe(case) -> str:
    """The request of one example in a line: method, path, query and body."""
    parts = [case.operation.method.upper(), case.formatted_path]
    if case.query:
        parts.append(f"query={json.dumps(case.query, default=str)[:200]}")
    if case.body is not NOT_SET and not isinstance(case.body, bytes):
        parts.append(f"body={json.dumps(case.body, default=str)[:300]}")
    if case.headers:
        headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        if headers:
            parts.append(f"headers={json.dumps(headers, default=str)[:200]}")
    return " ".join(parts)


def known_path_values(app: WsgiApp, schema, auth: dict[str, str]) -> dict[str, dict[str, list[Any]]]:
    """For each list path (``/api/v1/x/``), the values its first page gives per field, for detail routes."""
    client = Client(app)
    values: dict[str, dict[str, list[Any]]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or "{" in operation.path:
            continue
        response = client.get(operation.path, headers=auth)
        if response.status_code != 200:
            continue
        body = response.get_json(silent=True)
        rows = body.get("results") if isinstance(body, dict) else body
        if not isinstance(rows, list):
            continue
        per_field: dict[str, list[Any]] = {}
        for row in rows:
            for name, value in row.items() if isinstance(row, dict) else ():
                if isinstance(value, int | str) and len(per_field.setdefault(name, [])) < KNOWN_VALUES_PER_PARAMETER:
                    per_field[name].append(value)
        values[operation.path] = per_field
    return values


def strategy_for(operation, mode: GenerationMode, known: dict[str, dict[str, list[Any]]]):
    """Generated cases; for a detail route, also ones with the ids of objects the user can list."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    names = [parameter.name for parameter in operation.path_parameters]
    if mode is GenerationMode.POSITIVE and names:
        listed = known.get(operation.path[: operation.path.index("{")], {})
        for name in names:
            for value in listed.get(name, listed.get("id", []) if name in ("pk", "id") else []):
                strategies.append(operation.as_strategy(generation_mode=mode, path_parameters={name: value}))
    return st.one_of(strategies)


def has_inputs(operation) -> bool:
    """Whether the operation reads a parameter or a body that an invalid request could break (not the token)."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def fuzz_operation(
    app: WsgiApp, operation, mode: GenerationMode, strategy, examples: int, findings: Findings, auth: dict[str, str]
) -> bool:
    """Send ``examples`` generated requests and check each answer; whether the door refused every one.

    The seed is fixed per operation, mode and number of examples: every run sends the same requests.
    """
    refused = []

    @seed(zlib.crc32(f"{operation.label} {mode} {examples}".encode()))
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],  # no shrinking: the first example of each failure is reported as it came
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        cache.clear()  # throttles count per test, not across examples
        findings.server_errors.clear()
        findings.examples += 1
        savepoint = transaction.atomic()
        savepoint._from_testcase = True  # type: ignore[attr-defined]  # durable blocks inside run as under TestCase
        with savepoint:
            try:
                app.refused_at_door = False
                response = case.call(headers=auth)
                refused.append(app.refused_at_door)
                try:
                    case.validate_response(response, checks=CHECKS, headers=auth)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        findings.add(case, response, failure, auth)
            finally:
                transaction.set_rollback(True)

    run()
    return all(refused)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_answers_as_the_schema_says(role, world, app):
    user = ROLES[role](world)
    token = Token.objects.create(user=user)
    auth = {"Authorization": f"Token {token.key}"}
    findings = Findings(role=role)

    def on_exception(sender, request=None, **kwargs):
        findings.server_errors.append("".join(traceback.format_exception(*sys.exc_info())[-6:]).strip())

    got_request_exception.connect(on_exception)
    try:
        schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, app, headers={**auth, "Accept": "application/json"})
        known = known_path_values(app, schema, auth)
        started = time.monotonic()
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 50, "the served schema lost its operations"
        if ONLY_PATHS:
            operations = [op for op in operations if any(op.path.startswith(prefix) for prefix in ONLY_PATHS)]
        for operation in operations:
            positive = strategy_for(operation, GenerationMode.POSITIVE, known)
            # An operation whose door refuses this role answers 403 to anything: a few requests show it.
            if fuzz_operation(app, operation, GenerationMode.POSITIVE, positive, DOOR_PROBE, findings, auth):
                continue
            fuzz_operation(app, operation, GenerationMode.POSITIVE, positive, EXAMPLES - DOOR_PROBE, findings, auth)
            if has_inputs(operation):
                negative = strategy_for(operation, GenerationMode.NEGATIVE, known)
                fuzz_operation(app, operation, GenerationMode.NEGATIVE, negative, EXAMPLES // 2, findings, auth)
    finally:
        got_request_exception.disconnect(on_exception)
    elapsed = time.monotonic() - started
    print(f"{role}: {len(operations)} operations, {findings.examples} requests in {elapsed:.1f} s")
    if findings.by_key:
        pytest.fail(findings.report(), pytrace=False)
