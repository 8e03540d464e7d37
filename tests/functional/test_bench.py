"""The benchmark script still runs (on two months), so `make bench` cannot rot unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_slice_benchmark_runs_and_reports(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--months", "2"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"files_published"' in run.stdout and '"rows_per_second_submit"' in run.stdout
