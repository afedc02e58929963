"""Issued PDFs in S3-compatible object storage (a local moto server), stored once and never overwritten."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import socket
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings

from commissions import services
from commissions.models import Statement, StatementSequence
from tests.commissions.money import agreement, engagement, fake_pdf
from tests.conftest import ROOT
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError

BUCKET = "tmw-statements-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A local S3-compatible server (moto in server mode) on a loopback port, with one bucket."""
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, client
    finally:
        server.stop()


@pytest.fixture
def s3_storage(s3_endpoint, settings):
    """The default storage switched to the bucket, with the options the settings give it from the environment."""
    endpoint, client = s3_endpoint
    options = {
        "bucket_name": BUCKET,
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "access_key": "test",
        "secret_key": "test",
        "location": "",
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
    }
    storages = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}
    with override_settings(STORAGES=storages):
        yield client


@pytest.fixture
def desk(world):
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2024, 3, 1))
        yield agreement(eng, world.finance)


@pytest.fixture(autouse=True)
def _fake_renderer(monkeypatch):
    monkeypatch.setattr(services.statements, "_render_pdf", fake_pdf)


def _approved(agr, period, finance) -> Statement:
    statement = services.statement_generate(agreement=agr, period=period, actor=finance)
    return services.statement_approve(statement=statement, actor=finance)


def _object(client, name: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=name)["Body"].read()


def test_an_issued_pdf_is_stored_in_the_bucket_with_its_sha256(world, desk, s3_storage):
    with operator_scope():
        issued = services.statement_issue(
            statement=_approved(desk, datetime.date(2024, 4, 1), world.finance), actor=world.finance
        )
        assert default_storage.__class__.__name__ == "S3Storage"
        assert issued.pdf.name.startswith(f"statements/{issued.issued_at:%Y}/")
        stored = _object(s3_storage, issued.pdf.name)
        assert stored.startswith(b"%PDF")
        assert hashlib.sha256(stored).hexdigest() == issued.pdf_sha256
        fresh = Statement.objects.get(pk=issued.pk)
        with fresh.pdf.open("rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == fresh.pdf_sha256


def test_a_second_write_under_an_issued_pdfs_name_is_refused(world, desk, s3_storage):
    with operator_scope():
        issued = services.statement_issue(
            statement=_approved(desk, datetime.date(2024, 4, 1), world.finance), actor=world.finance
        )
        original = _object(s3_storage, issued.pdf.name)

        # The storage keeps both names: a file saved under a taken name gets a name of its own.
        other = default_storage.save(issued.pdf.name, ContentFile(b"%PDF-1.4 not the statement"))
        assert other != issued.pdf.name
        assert _object(s3_storage, issued.pdf.name) == original

        # The service refuses to store a PDF for a statement that already has one, and takes no number.
        approved = _approved(desk, datetime.date(2024, 5, 1), world.finance)
        Statement.all_objects.filter(pk=approved.pk).update(pdf=issued.pdf.name)
        approved.refresh_from_db()
        last = StatementSequence.objects.get(year=issued.issued_at.year).last_number
        with pytest.raises(ApplicationError) as err:
            services.statement_issue(statement=approved, actor=world.finance)
        assert err.value.status == 409
        assert "already has a stored PDF" in err.value.message
        approved.refresh_from_db()
        assert (approved.status, approved.number or "", approved.pdf_sha256) == (Statement.Status.APPROVED, "", "")
        assert StatementSequence.objects.get(year=issued.issued_at.year).last_number == last
        assert _object(s3_storage, issued.pdf.name) == original


def _storages_from(env: dict[str, str]) -> dict:
    """``settings.STORAGES`` as a fresh process with this environment sees it."""
    code = "import json; from django.conf import settings; print(json.dumps(settings.STORAGES))"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "tmw.settings", "SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_storages_come_from_the_environment():
    local = _storages_from({"AWS_STORAGE_BUCKET_NAME": ""})["default"]
    assert local == {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"allow_overwrite": False}}
    s3 = _storages_from(
        {
            "AWS_STORAGE_BUCKET_NAME": "tmw-media",
            "AWS_S3_ENDPOINT_URL": "https://objects.example.net",
            "AWS_S3_REGION_NAME": "ca-central-1",
            "AWS_ACCESS_KEY_ID": "key-id",
            "AWS_SECRET_ACCESS_KEY": "key-secret",
        }
    )["default"]
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] | {"access_key": "", "secret_key": ""} == {
        "bucket_name": "tmw-media",
        "endpoint_url": "https://objects.example.net",
        "region_name": "ca-central-1",
        "access_key": "",
        "secret_key": "",
        "location": "",
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
    }
    assert (s3["OPTIONS"]["access_key"], s3["OPTIONS"]["secret_key"]) == ("key-id", "key-secret")
