"""Static files collect with the production storage, and pages then link their hashed names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
HASHED = r"\.[0-9a-f]{12}\."


class ProductionStorageWithoutBrotli(CompressedManifestStaticFilesStorage):
    """The production storage (hashed names, manifest, gzip) without the brotli pass.

    Brotli at its best quality takes two minutes over the admin's and the API docs' files;
    it changes nothing in the manifest, which is what the pages depend on.
    """

    def create_compressor(self, **kwargs):
        return super().create_compressor(use_brotli=False, **kwargs)


def test_production_settings_use_the_manifest_storage():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="tmw.settings", DEBUG="False", SECRET_KEY="x" * 60)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == PRODUCTION_STORAGE


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """collectstatic with the production storage into a temporary STATIC_ROOT."""
    root = tmp_path_factory.mktemp("staticfiles")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": f"{__name__}.{ProductionStorageWithoutBrotli.__name__}"},
    }
    with override_settings(STATIC_ROOT=root, STORAGES=storages, DEBUG=False):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root, storages


def test_collectstatic_writes_a_manifest_of_every_vendored_asset(collected):
    root, _ = collected
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    for name in (
        "img/favicon.svg",
        "css/app.css",
        "js/app.js",
        "vendor/htmx-2.0.11/htmx.min.js",
        "vendor/chart.js-4.5.1/chart.umd.min.js",
    ):
        assert re.search(HASHED, paths[name]), name
        assert (root / paths[name]).exists()
        assert (root / (paths[name] + ".gz")).exists()


def _assert_hashed(html: str, *names: str) -> None:
    for name in names:
        stem, ext = name.rsplit(".", 1)
        assert re.search(rf'"/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext}"', html), name


def test_pages_render_hashed_static_urls_with_debug_off(collected, world, client_for):
    root, storages = collected
    with override_settings(STATIC_ROOT=root, STORAGES=storages, DEBUG=False):
        login = client_for(None).get("/accounts/login/")
        assert login.status_code == 200
        _assert_hashed(login.content.decode(), "img/favicon.svg", "css/app.css", "vendor/htmx-2.0.11/htmx.min.js")

        home = client_for(world.partner).get("/partner/")
        assert home.status_code == 200
        html = home.content.decode()
        _assert_hashed(html, "css/app.css", "js/app.js", "vendor/chart.js-4.5.1/chart.umd.min.js")
        assert 'src="/static/vendor/chart.js-4.5.1/chart.umd.min.js"' not in html
