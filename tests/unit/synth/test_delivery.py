"""Whole-file delivery defects are really in the files, and recorded."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.delivery import LATE_DAYS
from carehub.synth.ics import Manifest

Synth = tuple[Path, Manifest]


def _feed(manifest: Manifest, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in manifest.feeds if Path(f.path).name == name)


def test_every_file_has_a_sending_date_and_late_ones_are_late(synth_ics: Synth) -> None:
    manifest = synth_ics[1]
    late = {d.file for d in manifest.defects if d.kind == "late_period"}
    assert len(late) == 3
    for feed in manifest.feeds:
        delay = (date.fromisoformat(feed.sent_on) - Period.parse(feed.period).end).days
        assert (delay >= LATE_DAYS) == (Path(feed.path).name in late), feed


def test_a_missing_period_has_no_file_and_no_feed(synth_ics: Synth) -> None:
    folder, manifest = synth_ics
    missing = [d for d in manifest.defects if d.kind == "missing_period"]
    assert len(missing) == 1
    assert not any(Path(f.path).name == missing[0].file for f in manifest.feeds)
    assert not list(folder.rglob(missing[0].file))


def test_the_truncated_file_ends_part_way_through_a_line(synth_ics: Synth) -> None:
    folder, manifest = synth_ics
    defect = next(d for d in manifest.defects if d.kind == "truncated_file")
    path = folder / _feed(manifest, defect.file).path
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert len(rows) - 1 == defect.row
    assert len(rows[-1]) < len(rows[0]) or not path.read_bytes().endswith(b"\n")


def test_the_wrongly_encoded_file_is_utf16(synth_ics: Synth) -> None:
    folder, manifest = synth_ics
    defect = next(d for d in manifest.defects if d.kind == "wrong_encoding")
    data = (folder / _feed(manifest, defect.file).path).read_bytes()
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert data.decode("utf-16").startswith("WeekEnding,")
