"""The heartbeat rows: when beat last sent the heartbeat task and when a worker last ran it."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time one part of the system (``worker``, ``beat``) was seen alive: one row per name."""

    class Name(models.TextChoices):
        WORKER = "worker", "Celery worker"
        BEAT = "beat", "Celery beat"

    name = models.CharField(max_length=20, choices=Name.choices, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
