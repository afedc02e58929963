"""The one door for tasks: the base task's scope and logs, enqueueing after commit, and who imports whom."""

import ast
import logging
from pathlib import Path

import pytest
from celery import current_app, shared_task
from django.core import mail
from django.db import transaction

from tmw.accounts import services as account_services
from tmw.accounts.tenancy import (
    ScopeError,
    TenantOwnedModel,
    active_tenant_ids,
    operator_scope,
    tenant_models,
)
from tmw.tasks import TenantTask, enqueue_on_commit, task_logger

ROOT = Path(__file__).resolve().parent.parent
seen: list[object] = []


def _scope_now() -> object:
    try:
        return active_tenant_ids()
    except ScopeError:
        return "no scope"


@shared_task(base=TenantTask, name="tests.probe_operator", max_retries=0)
def probe_operator(thing_id: int, secret: str = "") -> object:
    seen.append(("operator", thing_id))
    return _scope_now()


@shared_task(base=TenantTask, scope="tenant", name="tests.probe_tenant", max_retries=0)
def probe_tenant(thing_id: int, *, organisation_id: int) -> object:
    return _scope_now()


@shared_task(base=TenantTask, scope="none", name="tests.probe_unscoped", max_retries=0)
def probe_unscoped() -> object:
    return _scope_now()


@shared_task(base=TenantTask, name="tests.probe_failing", max_retries=0)
def probe_failing(thing_ids: list[int]) -> None:
    raise RuntimeError("broken")


@pytest.fixture(autouse=True)
def _clear_seen():
    seen.clear()


def test_the_base_task_enters_the_scope_it_names():
    assert probe_operator.delay(1).get() is None  # operator scope: scoping disabled
    assert probe_tenant.delay(1, organisation_id=42).get() == (42,)
    assert probe_unscoped.delay().get() == "no scope"
    with pytest.raises(TypeError, match="organisation_id"):
        probe_tenant.delay(1)


def test_the_base_task_logs_start_end_and_failure_with_the_ids_only(caplog):
    caplog.set_level(logging.INFO, logger="tests")
    probe_operator.delay(7, secret="raw-token-value")
    messages = [r.getMessage() for r in caplog.records if r.name == "tests"]
    assert messages[0].startswith("tests.probe_operator started {'thing_id': 7}")
    assert messages[-1] == "tests.probe_operator finished {'thing_id': 7}"
    assert not any("raw-token-value" in m for m in messages)

    caplog.clear()
    with pytest.raises(RuntimeError, match="broken"):
        probe_failing.delay([3, 4])
    failed = [r for r in caplog.records if r.name == "tests" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failed] == ["tests.probe_failing failed {'thing_ids': [3, 4]}"]
    assert failed[0].exc_info is not None


def test_app_loggers_are_named_after_the_app():
    assert task_logger("commissions.tasks").name == "commissions"
    assert task_logger("tmw.accounts.tasks").name == "tmw.accounts"
    assert task_logger("diagnostics.booking.tasks").name == "diagnostics.booking"


@pytest.mark.django_db
def test_enqueue_runs_the_task_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit("tests.probe_operator", 5)
        assert seen == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert seen == [("operator", 5)]


@pytest.mark.django_db
def test_a_rolled_back_transaction_enqueues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                enqueue_on_commit(probe_operator, 6)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == [] and seen == []


def test_a_service_enqueues_its_email_after_commit(world, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with operator_scope(), django_capture_on_commit_callbacks(execute=False) as callbacks:
        account_services.invitation_create(
            actor=world.partner, organisation=world.a.vendor, email="later@a.example", role="vendor_member"
        )
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the task runs (in-process) in the invited organisation's scope
    assert [m.to for m in mail.outbox] == [["later@a.example"]]


def _service_modules() -> list[Path]:
    """Every services module of every app, nested apps included (``tmw/directory``, ``diagnostics/booking``)."""
    found = [*ROOT.rglob("services.py"), *ROOT.rglob("services/*.py")]
    return [p for p in found if not {".venv", "node_modules", "tests"} & set(p.relative_to(ROOT).parts)]


def test_services_never_import_a_tasks_module():
    modules = _service_modules()
    relative = {str(p.relative_to(ROOT)) for p in modules}
    assert {"tmw/directory/services.py", "diagnostics/booking/services.py", "community/services.py"} <= relative
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            names = [n for n in names if n != "tmw.tasks"]  # the door itself: enqueue_on_commit
            assert not any(n == "tasks" or n.endswith(".tasks") for n in names), f"{path} imports tasks"


def test_every_app_task_goes_through_the_base_task():
    current_app.loader.import_default_modules()
    app_tasks = {
        name: task
        for name, task in current_app.tasks.items()
        if not name.startswith(("celery.", "tests.")) and name != "tmw.ping"
    }
    assert {
        "commissions.statement_run",
        "community.send_rsvp_email",
        "accounts.send_invitation_email",
        "booking.send_booking_emails",
    } <= set(app_tasks)
    for name, task in app_tasks.items():
        assert isinstance(task, TenantTask), name
        assert task.max_retries is not None, name


def test_tenant_owned_models_load_related_rows_unscoped_and_name_their_tenant():
    models = tenant_models()
    assert len(models) >= 29
    assert {"directory.MSPProfile", "directory.MSPContact"} <= {m._meta.label for m in models}
    for model in models:
        assert model._meta.base_manager_name == "all_objects", model
        if issubclass(model, TenantOwnedModel):
            assert model.tenant_paths, model


ENTRY_POINTS = ("tmw/accounts/tenancy.py", "tmw/tasks.py")  # scope_for_user and TenantTask open operator_scope()
REASONS = ("lock", "unique", "shared", "token", "operator")


@pytest.mark.parametrize(
    "app",
    [
        "tmw/accounts",
        "tmw/ops",
        "tmw/directory",
        "tmw/dashboard",
        "diagnostics",
        "engagements",
        "commissions",
        "community",
    ],
)  # diagnostics holds diagnostics/booking
def test_every_app_reads_unscoped_only_with_a_reason(app):
    sources = [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts and "management" not in p.parts]
    assert sources
    for path in sources:
        relative = str(path.relative_to(ROOT))
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            code = line.split("#", 1)[0]
            if "operator_scope()" in code or "scopes_disabled(" in code:
                assert relative in ENTRY_POINTS or path.name == "demo.py", f"{relative}:{number} opens a scope"
            if ".all_objects" in code:
                before = " ".join(lines[max(0, number - 4) : number])
                reason = before.split("# unscoped:", 1)[-1].split()[:1] if "# unscoped:" in before else []
                assert reason and reason[0] in REASONS, f"{relative}:{number} reads unscoped without a reason"
