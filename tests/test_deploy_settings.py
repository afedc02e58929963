"""Production settings pass Django's deployment checks with no warnings; configuration comes from the environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_check_deploy_passes_without_warnings():
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="tmw.settings",
        DEBUG="False",
        SECRET_KEY="k7#p2Lx!9qVw$3zRt8Ym^4nBc6Hd1Jf0Gs5Ke&Ua7Wi2Oo9Pl-rT4vX8bN2mQ6sZ",
        ALLOWED_HOSTS="desk.themspworks.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _run(["check"], DJANGO_SETTINGS_MODULE="tmw.settings", DEBUG="False")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_environment_drives_the_configuration():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['default']['ENGINE'], s.TIME_ZONE, s.CELERY_TASK_ALWAYS_EAGER, "
        "s.EMAIL_BACKEND, s.ALLOWED_HOSTS]))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "EMAIL_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="tmw.settings", DEBUG="1", ALLOWED_HOSTS="a.example,b.example")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        '["django.db.backends.sqlite3", "America/New_York", true, '
        '"django.core.mail.backends.console.EmailBackend", ["a.example", "b.example"]]'
    )
    env.update(
        REDIS_URL="redis://127.0.0.1:6379/9",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        EMAIL_URL="smtp://mail.example:587",
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert (
        '"django.db.backends.postgresql", "America/New_York", false, "django.core.mail.backends.smtp.EmailBackend"'
        in out.stdout
    )
