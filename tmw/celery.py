"""The Celery application: a real Redis broker when REDIS_URL is set, in-process otherwise."""

import os

from celery import Celery

import tmw.request_id  # noqa: F401  (carries the request id into tasks: Celery signal handlers)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")

app = Celery("tmw")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="tmw.ping")
def ping(value: str = "pong") -> dict:
    """Answer with the value and the worker's host name; proves a round trip through the broker."""
    import socket

    return {"value": value, "hostname": socket.gethostname(), "pid": os.getpid()}
