"""Errors: styled error pages and the API's JSON 500, a request id on every response and log line, Sentry."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest
import sentry_sdk
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from tmw import urls as project_urls
from tmw.api import ScopedAPIView
from tmw.logging import JSONFormatter, RequestIDFilter
from tmw.request_id import HEADER, get_request_id, sane_request_id, set_request_id
from tmw.sentry import init_sentry

log = logging.getLogger("tmw.tests.errors")


def boom(request: HttpRequest) -> HttpResponse:
    log.warning("about to fail")
    raise RuntimeError("boom")


def forbidden(request: HttpRequest) -> HttpResponse:
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


class APIBoom(ScopedAPIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("api boom")


urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("api/v1/boom/", APIBoom.as_view()),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture
def raising_urls(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_a_page_that_raises_gets_the_styled_500_page_with_the_request_id(db, raising_urls, caplog):
    caplog.set_level(logging.INFO)
    response = raising_urls.get("/boom/")
    assert response.status_code == 500
    request_id = response[HEADER]
    page = response.content.decode()
    assert "Something went wrong on our side" in page and "/static/css/app.css" in page
    assert f'<code class="request-id">{request_id}</code>' in page
    failed = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    assert failed and all(r.request_id == request_id for r in failed)
    assert failed[0].exc_info is not None
    assert [r.request_id for r in caplog.records if r.getMessage() == "about to fail"] == [request_id]


def test_djangos_own_log_line_for_an_error_answer_carries_the_request_id(db, client, caplog, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # /healthz answers 503
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-503-check")
    assert response.status_code == 503
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged and logged[0].request_id == "req-503-check"


def test_an_api_endpoint_that_raises_answers_the_json_error_shape(db, raising_urls):
    response = raising_urls.get("/api/v1/boom/", HTTP_X_REQUEST_ID="lb-1234-abcd")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response[HEADER] == "lb-1234-abcd"
    body = response.json()
    assert set(body) == {"message", "extra"} and body["extra"] == {"request_id": "lb-1234-abcd"}
    import gc

    from tmw.accounts.tenancy import ScopeError, active_tenant_ids

    gc.collect()  # an API view's tenant scope left open would be closed here, out of turn
    with pytest.raises(ScopeError):
        active_tenant_ids()


def test_404_403_and_400_pages_are_styled_alike(db, raising_urls):
    missing = raising_urls.get("/no-such-page/")
    assert missing.status_code == 404 and "Page not found" in missing.content.decode()
    assert missing[HEADER] in missing.content.decode()
    denied = raising_urls.get("/forbidden/")
    assert denied.status_code == 403 and "You may not do this" in denied.content.decode()
    bad = raising_urls.get("/", HTTP_HOST="bad host!")
    assert bad.status_code == 400 and "could not be understood" in bad.content.decode()
    for response in (missing, denied, bad):
        assert "/static/css/app.css" in response.content.decode() and response[HEADER]
    api_missing = raising_urls.get("/api/v1/no-such-endpoint/")
    assert api_missing.status_code == 404 and api_missing.json()["message"] == "Not found."


def test_an_error_page_answering_htmx_replaces_the_page_not_the_fragment(db, raising_urls):
    denied = raising_urls.get("/forbidden/", HTTP_HX_REQUEST="true")
    assert denied.status_code == 403
    assert denied["HX-Retarget"] == "body" and denied["HX-Reswap"] == "innerHTML"
    assert "HX-Retarget" not in raising_urls.get("/forbidden/")


def test_every_page_swaps_refused_htmx_answers():
    from django.template.loader import render_to_string

    config = json.loads(
        re.search(r"content='([^']+)'", render_to_string("includes/htmx_config.html")).group(1)  # type: ignore[union-attr]
    )
    rules = {rule["code"]: rule for rule in config["responseHandling"]}
    assert rules["4.."]["swap"] is True and config["allowEval"] is False


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(db, client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first[HEADER] and first[HEADER] != second[HEADER]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123.x:y")[HEADER] == "abc-123.x:y"
    for insane in ("", "a b", "x" * 200, "<script>", "id\r\nSet-Cookie: a=b"):
        assert sane_request_id(insane) is None
        assert client.get("/healthz", HTTP_X_REQUEST_ID=insane)[HEADER] != insane
    assert get_request_id() is None  # the id does not outlive its request


def test_log_records_carry_the_request_id(caplog):
    caplog.set_level(logging.INFO, logger="tmw.tests.errors")
    log.info("outside")
    set_request_id("req-42")
    try:
        log.info("inside")
    finally:
        set_request_id(None)
    assert [(r.getMessage(), r.request_id) for r in caplog.records] == [("outside", "-"), ("inside", "req-42")]


def test_the_filter_fills_in_a_record_without_one():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hi", None, None)
    set_request_id("req-7")
    try:
        assert RequestIDFilter().filter(record) and record.request_id == "req-7"
    finally:
        set_request_id(None)


def test_json_logs_have_the_request_id_the_extras_and_the_traceback():
    set_request_id("req-json")
    try:
        try:
            raise ValueError("bad value")
        except ValueError:
            record = logging.LogRecord("commissions", logging.ERROR, __file__, 1, "run %s failed", (7,), sys.exc_info())
        record.statement_run_id = 7
        line = JSONFormatter().format(record)
    finally:
        set_request_id(None)
    entry = json.loads(line)
    assert entry["request_id"] == "req-json" and entry["message"] == "run 7 failed"
    assert entry["level"] == "ERROR" and entry["logger"] == "commissions" and entry["statement_run_id"] == 7
    assert "Traceback" in entry["exception"] and "ValueError: bad value" in entry["exception"]
    assert "\n" not in line


def test_text_logs_show_the_request_id(settings):
    formatter = logging.Formatter(settings.LOGGING["formatters"]["text"]["format"])
    record = logging.LogRecord("tmw", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id = "req-txt"
    assert "[req-txt] hello" in formatter.format(record)


def test_a_worker_logs_the_request_id_and_json_when_asked(settings):
    from tmw.logging import worker_log_format

    assert "[%(request_id)s]" in settings.CELERY_WORKER_LOG_FORMAT
    assert settings.CELERY_WORKER_TASK_LOG_FORMAT == settings.CELERY_WORKER_LOG_FORMAT
    logger = logging.getLogger("tmw.tests.worker-setup")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        worker_log_format(logger=logger)
        assert not isinstance(handler.formatter, JSONFormatter)
        settings.LOG_FORMAT = "json"
        worker_log_format(logger=logger)
        assert isinstance(handler.formatter, JSONFormatter)
    finally:
        logger.removeHandler(handler)


class DroppingTransport(sentry_sdk.transport.Transport):
    """Keeps events in memory; never sends anything anywhere."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes: list = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


@pytest.fixture
def sentry_off_afterwards():
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)  # back to the inactive client
    assert not sentry_sdk.get_client().is_active()


def test_sentry_is_off_without_a_dsn(settings):
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()
    assert init_sentry(dsn="", environment="test") is False
    assert not sentry_sdk.get_client().is_active()


def test_sentry_reports_with_the_request_id_and_no_personal_data(sentry_off_afterwards):
    assert init_sentry(dsn="https://public@127.0.0.1:9/1", environment="staging", transport=DroppingTransport)
    client = sentry_sdk.get_client()
    assert client.is_active()
    assert client.should_send_default_pii() is False
    assert client.options["data_collection"]["user_info"] is False
    assert client.options["traces_sample_rate"] == 0.0
    assert client.options["environment"] == "staging"
    assert {"django", "celery"} <= set(client.integrations)
    set_request_id("req-sentry")
    try:
        sentry_sdk.capture_exception(RuntimeError("reported"))
    finally:
        set_request_id(None)
    sentry_sdk.flush()
    transport = client.transport
    assert isinstance(transport, DroppingTransport)
    events = [item.payload.json for envelope in transport.envelopes for item in envelope.items if item.type == "event"]
    assert events and events[0]["tags"]["request_id"] == "req-sentry"


def test_settings_start_sentry_only_when_the_dsn_is_set(monkeypatch):
    import runpy
    from pathlib import Path

    import tmw.sentry

    calls: list[dict] = []
    monkeypatch.setattr(tmw.sentry, "init_sentry", lambda **kwargs: calls.append(kwargs))
    settings_file = str(Path(tmw.sentry.__file__).with_name("settings.py"))
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    runpy.run_path(settings_file)
    assert calls == []
    monkeypatch.setenv("SENTRY_DSN", "https://public@127.0.0.1:9/1")
    monkeypatch.setenv("SENTRY_ENVIRONMENT", "staging")
    runpy.run_path(settings_file)
    assert calls == [{"dsn": "https://public@127.0.0.1:9/1", "environment": "staging", "traces_sample_rate": 0.0}]


def test_enqueued_tasks_carry_the_request_id_of_the_request_that_queued_them(db, django_capture_on_commit_callbacks):
    from celery import shared_task

    from tmw.tasks import TenantTask, enqueue_on_commit

    @shared_task(base=TenantTask, name="tests.probe_request_id", max_retries=0)
    def probe_request_id() -> str | None:
        return get_request_id()

    seen: list[object] = []
    set_request_id("req-task")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enqueue_on_commit(probe_request_id)
    finally:
        set_request_id(None)
    from unittest import mock

    with mock.patch.object(probe_request_id, "apply_async", side_effect=lambda **kw: seen.append(kw)):
        callbacks[0]()
    assert seen[0]["headers"] == {"request_id": "req-task"}
    set_request_id("req-eager")
    try:
        assert probe_request_id.delay().get() == "req-eager"  # in-process: the caller's id
    finally:
        set_request_id(None)


def test_the_worker_runs_a_task_under_the_id_it_was_sent_with():
    from types import SimpleNamespace

    from tmw import request_id as rid

    headers: dict = {}
    set_request_id("req-sent")
    try:
        rid._add_task_headers(headers=headers)
    finally:
        set_request_id(None)
    assert headers["request_id"] == "req-sent" and headers["published_at"]

    class FakeRequest(SimpleNamespace):
        def get(self, key, default=None):
            return getattr(self, key, default)

    task = SimpleNamespace(request=FakeRequest(is_eager=False, request_id="req-sent"))
    rid._enter_task_request_id(task=task)
    assert get_request_id() == "req-sent"
    rid._leave_task_request_id(task=task)
    assert get_request_id() is None
    beat_task = SimpleNamespace(request=FakeRequest(is_eager=False))  # sent by beat: no request behind it
    rid._enter_task_request_id(task=beat_task)
    assert get_request_id() and len(get_request_id()) == 32
    rid._leave_task_request_id(task=beat_task)
    rid._enter_task_request_id(task=SimpleNamespace(request=FakeRequest(is_eager=False, request_id="bad id\n")))
    assert get_request_id() != "bad id\n"
    set_request_id(None)


def test_a_form_without_its_csrf_token_gets_the_styled_page(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "someone@example.com", "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "This form has expired" in body and "reload the page" in body
    assert response["X-Request-ID"] in body
