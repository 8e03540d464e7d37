"""Writing feed files the way partners do."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path


def write_csv(
    path: Path, columns: Sequence[str], rows: list[list[str]], encoding: str = "utf-8"
) -> int:
    """Write a header and rows; return the number of data rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return len(rows)
