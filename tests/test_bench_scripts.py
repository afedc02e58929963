"""The benchmark scripts still run end to end on a small data set and check their own results."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bench(script: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env["DEBUG"] = "1"  # each script then works on a throwaway SQLite file of its own
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.bench
def test_statement_run_bench_agrees_with_its_floor():
    out = _bench("statement_run.py", "--agreements", "6", "--accounts", "12", "--renders", "1")
    assert "Run done: 6 of 6 agreements, 78 statement lines written." in out
    assert "Totals agree to the cent: yes (6 of 6 agreements" in out
    assert "Writing the same 78 lines alone" in out
    assert "run/bare-write ratio: " in out and "Cost per agreement at 6 agreements" in out
    # What the run spends beyond the bare write, by part, and the bare write with the run's reading of its inputs.
    beyond = next(line for line in out.splitlines() if line.startswith("Beyond the bare write, medians of the pairs: "))
    for part in ("lines' select ", "commits ", "other queries ", "Python "):
        assert part in beyond, beyond
    assert "The bare write with the lines' select (reading the run's inputs), against the bare write: " in out
    labels = ("Floor (one SQL query", "Statement run (services", "PDF floor")
    for label in labels:
        assert label in out
    # The two-page statement against all of its own text in a bare table, as pdf.py compares.
    assert "bare table of the same" in out and "pdf/bare-table ratio (statement of " in out


@pytest.mark.bench
def test_target_scoring_bench_runs():
    out = _bench("target_scoring.py", "--msps", "300", "--repeat", "1")
    assert "ratio" in out


@pytest.mark.bench
def test_pages_bench_serves_the_pages_and_compares_query_counts():
    out = _bench("pages.py", "--scale", "0.005", "--seconds", "0.3", "--pages", "msp_home,api_msps,target_list")
    assert "floor login:" in out
    for name in ("msp_home", "api_msps", "target_list"):
        assert f"page {name}: " in out and f"page {name} rendered: " in out and " ratio " in out
        line = next(line for line in out.splitlines() if line.strip().startswith(f"queries {name}:"))
        demo, scaled = (int(part.split()[-1]) for part in line.split(":", 1)[1].split(","))
        assert demo == scaled, line
    assert "page cache: off (no REDIS_URL)" in out
    assert "worst rendered page ratio: " in out and "worst page ratio: " in out


@pytest.mark.bench
def test_pdf_bench_renders_both_documents_against_their_bare_tables():
    out = _bench("pdf.py", "--renders", "1")
    assert "pdf/bare-table ratio (statement): " in out
    assert "pdf/bare-table ratio (diagnostic report): " in out
