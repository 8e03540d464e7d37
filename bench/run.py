"""carehub benchmark: the whole slice on the demo-sized synthetic ICS.

Generates the synthetic ICS, submits every feed carehub reads (the planted broken files are
refused, as a partner would be told), computes the KPIs and renders the KPI view. Reproduce with
`make bench` or `uv run python bench/run.py --months 24 --seed 2026`. Prints what it measured,
on which data and machine, and writes the same to bench/results/slice.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from reporting import machine, save

from carehub.errors import DataContractError
from carehub.governance.actors import Actor, Role
from carehub.model.datasets import dataset_names
from carehub.model.periods import Period
from carehub.platform import Platform, Receipt
from carehub.settings import Settings
from carehub.synth.ics import Manifest, generate

ADMIN = Actor("bench", "HUB", Role.ADMIN)
T = TypeVar("T")


def timed(label: str, seconds: dict[str, float], function: Callable[[], T]) -> T:
    start = time.perf_counter()
    value = function()
    seconds[label] = time.perf_counter() - start
    return value


def submit_all(hub: Platform, manifest: Manifest, folder: Path) -> tuple[list[Receipt], int]:
    receipts, refused = [], 0
    for feed in manifest.feeds:
        if feed.dataset in dataset_names():
            try:
                receipts.append(
                    hub.submit(ADMIN, feed.org_code, feed.dataset, folder / feed.path, feed.period)
                )
            except DataContractError:
                refused += 1
    return receipts, refused


def run(months: int, seed: int, root: Path) -> dict[str, object]:
    seconds: dict[str, float] = {}
    shared = Settings().resolved_shared_data
    manifest = timed(
        "synth",
        seconds,
        lambda: generate(
            root / "synth", seed=seed, last=Period(2026, 10), months=months, shared_data=shared
        ),
    )
    hub = Platform(Settings(home=root / "home"))
    timed("init", seconds, hub.init)
    for org in manifest.organisations:
        hub.add_organisation(ADMIN, org["ods_code"], org["name"], org["kind"])
    for mapping in manifest.mappings:
        hub.install_mapping(ADMIN, root / "synth" / mapping)
    for agreement in manifest.agreements:
        hub.adopt_agreement(ADMIN, root / "synth" / agreement, "benchmark")
    receipts, refused = timed(
        "submit_all", seconds, lambda: submit_all(hub, manifest, root / "synth")
    )
    timed("metrics_run", seconds, hub.run_metrics)
    timed(
        "metric_view",
        seconds,
        lambda: hub.metric_view(Actor("a", "HUB", Role.ANALYST), "ed_four_hours"),
    )
    rows = sum(r.rows_read for r in receipts)
    return {
        "data": f"synthetic ICS, seed {seed}, {months} months, small scale (60,000 residents)",
        "files_published": len(receipts),
        "files_refused": refused,
        "rows": rows,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "rows_per_second_submit": round(rows / seconds["submit_all"]),
        "machine": machine(),
        "command": f"uv run python bench/run.py --months {months} --seed {seed}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        report = run(args.months, args.seed, Path(folder))
    save("slice", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
