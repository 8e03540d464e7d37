"""The hub finds exactly the defects the synthetic ICS planted: no more, no fewer."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb

from carehub.platform import Platform
from carehub.synth.ed import EXPECTED_REASONS
from carehub.synth.ics import Manifest


def test_quarantine_matches_the_planted_defects(
    demo_platform: Platform, synth_ics: tuple[Path, Manifest]
) -> None:
    _, manifest = synth_ics
    planted: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for defect in manifest.defects:
        if defect.stage == "quarantine" and defect.file.startswith("RAJ_ECDS"):
            planted[defect.file].add((defect.row, EXPECTED_REASONS[defect.kind]))
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for submission in demo_platform.submissions("ed_attendance"):
        assert submission.quarantine_path is not None
        path = demo_platform.lake.resolve(submission.quarantine_path)
        for row, reasons in duckdb.sql(f"SELECT source_row, reasons FROM '{path}'").fetchall():
            found[submission.filename].update((row, reason) for reason in reasons.split(";"))
    assert sum(len(v) for v in planted.values()) > 20, "the manifest plants defects"
    assert dict(found) == dict(planted)
