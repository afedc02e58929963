"""The PDF report: only for complete diagnostics, tenant-checked, rendered through the safe URL fetcher."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading

import pytest
from django.urls import reverse

from diagnostics.pdf import diagnostic_report, report_context
from tests.diagnostics.objects_core import make_complete, start_diagnostic
from tmw.accounts.tenancy import operator_scope
from tmw.pdf import STATIC_ORIGIN, FetchRefused, SafeURLFetcher, safe_fetch


def _pdf_text(content: bytes) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed")
    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def complete(world):
    with operator_scope():
        return make_complete(start_diagnostic(world), world.partner)


@pytest.fixture
def draft(world):
    with operator_scope():
        return start_diagnostic(world)


def _matrix(world):
    return {
        "anonymous": None,
        "other vendor": world.b.vendor_admin,
        "own vendor": world.a.vendor_admin,
        "own vendor member": world.a.vendor_member,
        "MSP user": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
    }


def test_report_permission_matrix_for_a_complete_diagnostic(world, client_for, complete):
    url = reverse("diagnostics:report_pdf", args=[complete.pk])
    got = {label: client_for(user).get(url).status_code for label, user in _matrix(world).items()}
    assert got == {
        "anonymous": 302,
        "other vendor": 404,
        "own vendor": 200,
        "own vendor member": 200,
        "MSP user": 403,
        "partner": 200,
        "finance": 403,
    }
    response = client_for(world.a.vendor_admin).get(url)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]


def test_report_of_a_draft_or_in_review_diagnostic_is_404(world, client_for, draft):
    url = reverse("diagnostics:report_pdf", args=[draft.pk])
    assert client_for(world.a.vendor_admin).get(url).status_code == 404
    assert client_for(world.partner).get(url).status_code == 404


def test_report_contains_thesis_decision_gates_and_scores(world, complete):
    with operator_scope():
        filename, content_type, content = diagnostic_report(diagnostic=complete, user=world.partner)
        context = report_context(diagnostic=complete, user=world.partner)
    assert filename.endswith(".pdf") and world.a.marker.lower() in filename
    assert content_type == "application/pdf"
    text = _pdf_text(content)
    for needle in ("Channel thesis", "Gates", "Score by group", "Option B", "82.8", "Page 2 of", "Target segment"):
        assert needle in text, needle
    assert context["card"].overall is not None


def test_report_lists_top_25_non_excluded_targets_when_a_target_list_exists(world, complete):
    from decimal import Decimal

    from diagnostics.models import TargetEntry, TargetList

    with operator_scope():
        target_list = TargetList.all_objects.create(diagnostic=complete, number=1, created_by=world.partner)
        for rank in range(1, 31):
            TargetEntry.all_objects.create(
                target_list=target_list,
                msp_name=f"Harbor MSP {rank}",
                score=Decimal(100 - rank),
                tier="A",
                rank=rank,
                breakdown=[{"factor": "geography", "points": 10, "max_points": 20, "why": f"why-{rank}"}],
                excluded=rank == 2,
            )
        context = report_context(diagnostic=complete, user=world.partner)
    ranks = [e.rank for e in context["targets"]]
    assert len(ranks) == 25
    assert 2 not in ranks
    assert ranks[:3] == [1, 3, 4]
    assert ranks[-1] == 26


# --- The URL fetcher


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_fetcher_refuses_http_file_and_paths_outside_static(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        secret = tmp_path / "secret.css"
        secret.write_text("body { color: red }")
        html = (
            f'<img src="http://127.0.0.1:{port}/tracker.png">'
            f'<img src="https://127.0.0.1:{port}/tracker.png">'
            '<img src="file:///etc/passwd">'
            f'<link rel="stylesheet" href="file://{secret}">'
            '<img src="/static/../../../../etc/passwd">'
            '<img src="/static/img/favicon.svg">'
            '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=">'
        )
        from weasyprint import HTML

        fetcher = SafeURLFetcher()
        pdf = HTML(string=html, base_url=STATIC_ORIGIN + "/", url_fetcher=fetcher).write_pdf()
        assert pdf.startswith(b"%PDF")
        assert _Recorder.hits == []
        refused = "\n".join(fetcher.refused)
        assert f"http://127.0.0.1:{port}/tracker.png" in refused
        assert f"https://127.0.0.1:{port}/tracker.png" in refused
        assert "file:///etc/passwd" in refused
        assert str(secret) in refused
        assert "etc/passwd" in refused
        assert "favicon.svg" not in refused
        assert not any(u.startswith("data:") for u in fetcher.refused)
    finally:
        server.shutdown()


def test_safe_fetch_serves_static_files_and_data_urls_only(settings):
    content, mime = safe_fetch(f"{STATIC_ORIGIN}/static/img/favicon.svg")
    assert content.startswith(b"<svg") and mime == "image/svg+xml"
    assert safe_fetch("data:text/plain,hello%20there") == (b"hello there", "text/plain")
    for url in (
        "http://example.com/x.png",
        "file:///etc/passwd",
        "ftp://example.com/x",
        f"{STATIC_ORIGIN}/media/private.pdf",
        f"{STATIC_ORIGIN}/static/%2e%2e/%2e%2e/etc/passwd",
        f"{STATIC_ORIGIN}/static/does-not-exist.css",
        "https://static.pdf.invalid.evil.example/static/img/favicon.svg",
    ):
        with pytest.raises(FetchRefused):
            safe_fetch(url)


def test_safe_fetch_serves_the_hashed_copies_collected_for_production(settings, tmp_path):
    """With DEBUG off ``{% static %}`` names the collected, hashed file; the PDFs' logo must still load."""
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "favicon.0123abcd.svg").write_bytes(b"<svg/>")
    (tmp_path.parent / "outside.svg").write_bytes(b"<svg/>")
    settings.STATIC_ROOT = str(tmp_path)
    assert safe_fetch(f"{STATIC_ORIGIN}/static/img/favicon.0123abcd.svg") == (b"<svg/>", "image/svg+xml")
    for url in (f"{STATIC_ORIGIN}/static/img/favicon.9999.svg", f"{STATIC_ORIGIN}/static/%2e%2e/outside.svg"):
        with pytest.raises(FetchRefused):
            safe_fetch(url)
