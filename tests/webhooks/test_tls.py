"""HTTPS to the checked address: the name goes out as SNI and the Host header, and the certificate must carry it."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tmw.webhooks import network

NAME = "hooks.tls-test.example"


@pytest.fixture
def tls_receiver(tmp_path, settings, monkeypatch):
    """A TLS server on 127.0.0.1 with a certificate for NAME; the resolver says NAME is 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={NAME}"]
        + ["-addext", f"subjectAltName=DNS:{NAME}", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    seen: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen["host"] = self.headers.get("Host", "")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def sni(sock, server_name, ctx):
        seen["sni"] = server_name or ""

    context.sni_callback = sni
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True  # the server is on loopback
    monkeypatch.setattr(network, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    real_context = ssl.create_default_context

    def trusting_our_certificate(*args, **kwargs):
        ctx = real_context(*args, **kwargs)
        ctx.load_verify_locations(cert)
        return ctx

    monkeypatch.setattr(network.ssl, "create_default_context", trusting_our_certificate)
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_the_name_is_sent_as_sni_and_host_and_its_certificate_verified(tls_receiver):
    port, seen = tls_receiver
    answer = network.post(f"https://{NAME}:{port}/hook", body="{}", headers={})
    assert answer.status_code == 204, answer.error
    assert seen == {"sni": NAME, "host": f"{NAME}:{port}"}


def test_a_certificate_for_another_name_is_refused(tls_receiver, monkeypatch):
    port, seen = tls_receiver
    answer = network.post(f"https://other.tls-test.example:{port}/hook", body="{}", headers={})
    assert answer.status_code is None and "certificate" in answer.error.lower()
    assert "host" not in seen
