"""The synthetic ICS is deterministic for a seed and plants only what it records."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from carehub.model.nhs_number import is_valid
from carehub.model.periods import Period
from carehub.synth.ics import generate


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path, shared_data: Path) -> None:
    for name in ("a", "b"):
        generate(
            tmp_path / name,
            seed=11,
            last=Period(2025, 2),
            months=2,
            residents=2000,
            shared_data=shared_data,
        )
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    generate(
        tmp_path / "c",
        seed=12,
        last=Period(2025, 2),
        months=2,
        residents=2000,
        shared_data=shared_data,
    )
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_nhs_numbers_are_test_range_and_valid_unless_planted(
    tmp_path: Path, shared_data: Path
) -> None:
    manifest = generate(
        tmp_path, seed=3, last=Period(2025, 1), months=1, residents=20_000, shared_data=shared_data
    )
    feed = manifest.feeds[0]
    assert feed.dataset == "ed_attendance"
    planted = {d.row: d.kind for d in manifest.defects if d.column == "NHSNumber"}
    with (tmp_path / feed.path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 500
    assert planted, "the month has planted NHS number defects"
    for number, row in enumerate(rows, start=1):
        kind = planted.get(number)
        if kind is None:
            assert row["NHSNumber"].startswith("999") and is_valid(row["NHSNumber"])
        elif kind == "invalid_nhs_number":
            assert not is_valid(row["NHSNumber"])
        else:
            assert row["NHSNumber"] in ("", "0000000000")
