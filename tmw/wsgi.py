"""WSGI entry point (gunicorn tmw.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")
application = get_wsgi_application()
