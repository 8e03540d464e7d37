"""Reading the synthetic ICS's CSV feeds in tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import csv
from pathlib import Path

from carehub.synth.ics import Manifest


def read_feeds(
    synth: tuple[Path, Manifest], dataset: str, org: str | None = None
) -> list[dict[str, str]]:
    """Every row of a dataset's CSV feeds, in feed order; the cut-off last line of a planted
    truncated file (a row with missing fields) is left out."""
    folder, manifest = synth
    rows: list[dict[str, str]] = []
    for feed in manifest.feeds:
        if feed.dataset == dataset and feed.format == "csv" and org in (None, feed.org_code):
            with (folder / feed.path).open(newline="", encoding="utf-8") as handle:
                rows.extend(r for r in csv.DictReader(handle) if None not in r.values())
    return rows
