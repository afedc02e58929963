"""The start-up heap of worker and web processes is frozen out of the garbage collector's walks."""

import gc
import os
import subprocess
import sys
from pathlib import Path

from celery import signals

from tmw.heap import freeze_startup_heap

ROOT = Path(__file__).resolve().parent.parent


def test_freezing_moves_what_is_loaded_out_of_the_collectors_generations():
    gc.unfreeze()
    tracked = len(gc.get_objects())
    try:
        frozen = freeze_startup_heap()
        assert frozen == gc.get_freeze_count() > 10_000  # Django, the apps and the test run's own objects
        assert len(gc.get_objects()) < tracked - frozen // 2  # the collector no longer sees them
        later = [object() for _ in range(10)], {"made": "after"}  # objects made afterwards are collected as before
        assert gc.is_tracked(later) and any(obj is later for obj in gc.get_objects())
    finally:
        gc.unfreeze()


def test_each_worker_process_freezes_its_heap_once_ready():
    assert freeze_startup_heap in signals.worker_process_init._live_receivers(None)


def test_a_web_process_freezes_its_heap_once_the_application_is_loaded():
    """What gunicorn does on loading ``tmw.wsgi``, in a process of its own."""
    check = (
        "import gc, tmw.wsgi; "
        "from django.core.handlers.wsgi import WSGIHandler; "
        "assert isinstance(tmw.wsgi.application, WSGIHandler); "
        "print(gc.get_freeze_count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) > 10_000
