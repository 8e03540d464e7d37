"""The ingest benchmark still runs (on 20,000 rows), so `make bench` cannot rot unnoticed.

The pandas + pandera leg needs the `bench` dependency group (`make bench` installs it); without
it the benchmark says so in its report, and this test still runs the DuckDB and carehub legs.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROWS = 20_000


def test_the_ingest_benchmark_runs_and_its_rows_add_up(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "ingest.py"),
            *("--rows", str(ROWS), "--scratch", str(tmp_path), "--name", "ingest-test"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    legs = report["legs"]
    for name in ("duckdb_copy", "duckdb_copy_typed", "carehub"):
        assert legs[name]["rows_read"] == ROWS
        assert legs[name]["seconds"] > 0 and legs[name]["peak_rss_mb"] > 0
    carehub = legs["carehub"]
    assert carehub["rows_published"] + carehub["rows_quarantined"] == ROWS
    assert 0 < carehub["rows_quarantined"] < ROWS * 0.05  # the planted defects, and only them
    verdict = report["verdict"]
    assert {"carehub_over_duckdb_copy_met", "carehub_peak_rss_met"} <= set(verdict)
    pandas_installed = all(importlib.util.find_spec(m) for m in ("pandas", "pandera"))
    if pandas_installed:
        pandas = legs["pandas"]
        assert (pandas["rows_read"], pandas["rows_published"], pandas["rows_quarantined"]) == (
            ROWS,
            carehub["rows_published"],
            carehub["rows_quarantined"],
        )
        assert "pandas_over_carehub_met" in verdict
    else:
        assert "pandas" not in legs and report["pandas"].startswith("skipped")
    assert report["command"].startswith("uv run --group bench python bench/ingest.py")
