"""The start-up heap of a long-running process, set aside from the garbage collector.

A worker or web process imports Django, the apps and their dependencies once: some 160,000
objects that live as long as the process. Python's collector walks every one of them at each
full (oldest-generation) collection, which a statement batch's tens of thousands of short-lived
objects set off: about 0.1 s a time on the 2-core machine. ``gc.freeze`` moves them to a
permanent generation the collector no longer walks (the Python documentation advises it for
forked workers, where it also keeps the pages they share with their parent untouched).
Objects made later are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap(**_signal_kwargs) -> int:
    """Collect the garbage of start-up, then freeze what is left; returns how many objects are frozen.

    Called in each Celery pool process once it is ready (``worker_process_init``) and in each
    web process once the WSGI application is loaded.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
