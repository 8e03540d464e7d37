"""Benchmark: how long the synthetic ICS takes to generate, and its peak memory, per scale.

Reproduce with `make bench` or `uv run python bench/synth.py --scales small,full --years 3`.
Each scale runs in a fresh process so that peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from reporting import machine, save

CHILD = """
import json, resource, sys, time
from pathlib import Path
from carehub.model.periods import Period
from carehub.settings import Settings
from carehub.synth.ics import ICB_POPULATION, SCALES, generate
scale, years, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
start = time.perf_counter()
manifest = generate(out, seed=2026, last=Period(2026, 10), months=12 * years,
                    shared_data=Settings().resolved_shared_data,
                    residents=int(ICB_POPULATION * SCALES[scale]))
seconds = time.perf_counter() - start
ed = [f for f in manifest.feeds if f.dataset == "ed_attendance" and f.format == "csv"]
rows = sum(sum(1 for _ in (out / f.path).open(encoding="utf-8")) - 1 for f in ed)
size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"scale": scale, "years": years, "residents": manifest.footprint["residents"],
                  "people": manifest.footprint["people"], "trust_ed_rows": rows,
                  "files": len(manifest.feeds), "megabytes": round(size / 1e6),
                  "seconds": round(seconds, 1),
                  "peak_rss_mb": round(peak)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="small,full")
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    results = []
    for scale in args.scales.split(","):
        with tempfile.TemporaryDirectory() as folder:
            run = subprocess.run(
                [sys.executable, "-c", CHILD, scale, str(args.years), folder],
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode:
                print(run.stderr, file=sys.stderr)
                return run.returncode
            results.append(json.loads(run.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]))
    report = {
        "benchmark": "synthetic ICS generation (seed 2026, ending 2026-10)",
        "results": results,
        "machine": machine(),
        "command": f"uv run python bench/synth.py --scales {args.scales} --years {args.years}",
    }
    save("synth", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
