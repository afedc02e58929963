"""The Celery application: a real Redis broker when REDIS_URL is set, in-process otherwise."""

import os

from celery import Celery, signals

import tmw.request_id  # noqa: F401  (carries the request id into tasks: Celery signal handlers)
from tmw.heap import freeze_startup_heap
from tmw.logging import worker_log_format

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")

app = Celery("tmw")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
signals.after_setup_logger.connect(worker_log_format, weak=False)
signals.after_setup_task_logger.connect(worker_log_format, weak=False)
# Each pool process, its task modules imported: the start-up heap leaves the collector's walks.
signals.worker_process_init.connect(freeze_startup_heap, weak=False)


@app.task(name="tmw.ping")
def ping(value: str = "pong") -> dict:
    """Answer with the value, the worker's host name and process; proves a round trip through the broker.

    ``frozen`` is how many objects of the process's start-up heap are frozen (``tmw.heap``).
    """
    import gc
    import socket

    return {"value": value, "hostname": socket.gethostname(), "pid": os.getpid(), "frozen": gc.get_freeze_count()}
