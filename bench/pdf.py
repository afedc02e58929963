"""Benchmark: the statement PDF and the diagnostic report against the same text in one bare table.

Run it from the project root:

    DEBUG=1 .venv/bin/python bench/pdf.py [--renders 7]

It loads the demo data set into a throwaway SQLite file (the database plays no part in the
timings), then renders, median of ``--renders``, each document the app sends:

- the statement PDF of the issued demo statement with the most lines;
- the Phase One diagnostic report of the completed demo diagnostic, as its partner reads it;

and, as each one's floor in the same run, the same text in WeasyPrint with no stylesheet at all:
every table row of the document (its cells' text) and every paragraph, heading and definition
outside the tables as a row of its own, in one unstyled table. It prints both and
``pdf/bare-table ratio: X`` per document. Goal: at most 2.0 each.
"""

from __future__ import annotations

import argparse
import html
import os
import statistics
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 2.0
BLOCKS = {"p", "h1", "h2", "h3", "dt", "dd", "li"}


class _Rows(HTMLParser):
    """The text of a document as rows: a table row's cells, or one block's text outside tables."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._block: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "title", "head"):
            self._skip += 1
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in BLOCKS and self._row is None:
            self._block = []

    def handle_endtag(self, tag):
        if tag in ("style", "title", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag in BLOCKS and self._block is not None:
            text = " ".join("".join(self._block).split())
            if text:
                self.rows.append([text])
            self._block = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._block is not None:
            self._block.append(data)


def bare_table(document_html: str) -> tuple[str, int]:
    """The document's text as one unstyled table, and its number of rows."""
    parser = _Rows()
    parser.feed(document_html)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in parser.rows)
    return f"<html><body><table>{body}</table></body></html>", len(parser.rows)


def median_ms(renders: int, fn) -> float:
    fn()  # warm up (fonts, images)
    times = []
    for _ in range(renders):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def compare(label: str, template: str, context: dict, renders: int) -> float:
    import weasyprint
    from django.template.loader import render_to_string

    from tmw.pdf import STATIC_ORIGIN, SafeURLFetcher, _font_config, render_pdf

    document_html = render_to_string(template, context)
    floor_html, rows = bare_table(document_html)
    real_ms = median_ms(renders, lambda: render_pdf(template, context))
    floor_ms = median_ms(
        renders,
        lambda: weasyprint.HTML(
            string=floor_html, base_url=STATIC_ORIGIN + "/", url_fetcher=SafeURLFetcher()
        ).write_pdf(font_config=_font_config()),
    )
    ratio = real_ms / floor_ms
    print(f"{label}: {real_ms:8.1f} ms; bare table of the same {rows} rows: {floor_ms:8.1f} ms")
    print(f"pdf/bare-table ratio ({label}): {ratio:.2f} (goal: <= {GOAL:.1f}: {'met' if ratio <= GOAL else 'NOT met'})")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=7)
    args = parser.parse_args()
    fd, path = tempfile.mkstemp(prefix="bench-pdf-", suffix=".sqlite3")
    os.close(fd)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-pdf-media-"))
    try:
        import django

        django.setup()
        import logging

        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        logging.disable(logging.WARNING)
        call_command("seed_demo", quiet=True)
        from django.db.models import Count

        from commissions import pdf as statement_pdf
        from commissions.models import Statement
        from diagnostics import pdf as report_pdf
        from diagnostics.models import Diagnostic
        from tmw.accounts.models import User
        from tmw.accounts.tenancy import operator_scope

        with operator_scope():
            statement = (
                Statement.objects.filter(number__isnull=False)
                .annotate(n=Count("lines"))
                .order_by("-n", "-period", "pk")
                .first()
            )
            worst = compare(
                "statement", statement_pdf.TEMPLATE, statement_pdf.statement_context(statement), args.renders
            )
            diagnostic = Diagnostic.objects.filter(status="complete").order_by("pk").first()
            partner = User.objects.get(email="dana.whitfield@themspworks.example")
            context = report_pdf.report_context(diagnostic=diagnostic, user=partner)
            worst = max(worst, compare("diagnostic report", report_pdf.REPORT_TEMPLATE, context, args.renders))
        print(f"worst pdf/bare-table ratio: {worst:.2f}")
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(path + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
