"""carehub benchmarks: the thin slice on the demo-sized synthetic ICS.

Reproduce with `make bench` (or `uv run python bench/run.py --months 24 --seed 2026`). Reports what
was measured, on which data and on which machine; writes the same as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import sys
import tempfile
import time
from pathlib import Path

from carehub.governance.actors import SYSTEM_ACTOR, Actor, Role
from carehub.model.periods import Period
from carehub.platform import Platform
from carehub.settings import Settings
from carehub.synth.ics import generate

ADMIN = Actor("bench", "HUB", Role.ADMIN)


def timed(label: str, results: dict[str, float], function, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = function(*args, **kwargs)
    results[label] = time.perf_counter() - start
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        manifest = timed(
            "synth",
            seconds,
            generate,
            root / "synth",
            seed=args.seed,
            last=Period(2026, 10),
            months=args.months,
        )
        hub = Platform(Settings(home=root / "home"))
        timed("init", seconds, hub.init)
        hub.add_organisation(
            SYSTEM_ACTOR, "RAJ", "Mid and South Essex NHS Foundation Trust", "trust"
        )
        for mapping in manifest.mappings:
            hub.install_mapping(ADMIN, root / "synth" / mapping)
        files = [root / "synth" / f.path for f in manifest.feeds if f.dataset == "ed_attendance"]
        receipts = timed(
            "submit_all",
            seconds,
            lambda: [hub.submit(ADMIN, "RAJ", "ed_attendance", p) for p in files],
        )
        timed("metrics_run", seconds, hub.run_metrics)
        timed(
            "metric_view",
            seconds,
            hub.metric_view,
            Actor("a", "HUB", Role.ANALYST),
            "ed_four_hours",
        )
    rows = sum(r.rows_read for r in receipts)
    report = {
        "data": f"synthetic ICS, seed {args.seed}, {args.months} monthly ED files, 3 sites",
        "rows": rows,
        "files": len(receipts),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "rows_per_second_submit": round(rows / seconds["submit_all"]),
        "machine": f"{host.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "command": f"uv run python bench/run.py --months {args.months} --seed {args.seed}",
    }
    print(json.dumps(report, indent=2))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "slice.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
