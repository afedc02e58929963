"""WSGI entry point (gunicorn tmw.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from tmw.heap import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")
application = get_wsgi_application()
freeze_startup_heap()  # the loaded apps leave the collector's walks (tmw.heap)
