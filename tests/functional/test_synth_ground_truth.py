"""The hub finds exactly the defects the synthetic ICS planted: no more, no fewer."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb

from carehub.model.datasets import dataset_names
from carehub.platform import Platform
from carehub.synth.ed import EXPECTED_REASONS
from carehub.synth.ics import Manifest
from carehub.synth.utc import EXPECTED_REASONS as UTC_EXPECTED_REASONS


def test_quarantine_matches_the_planted_defects(
    demo_platform: Platform, synth_ics: tuple[Path, Manifest]
) -> None:
    _, manifest = synth_ics
    planted: dict[tuple[str, int], str] = {
        (d.file, d.row): d.kind
        for d in manifest.defects
        if d.stage == "quarantine" and (d.file.startswith("RAJ_ECDS") or d.file.endswith(".xlsx"))
    }
    expected = {**EXPECTED_REASONS, **UTC_EXPECTED_REASONS}
    found: dict[tuple[str, int], set[str]] = defaultdict(set)
    for submission in demo_platform.submissions("ed_attendance"):
        assert submission.quarantine_path is not None
        path = demo_platform.lake.resolve(submission.quarantine_path)
        for row, reasons in duckdb.sql(f"SELECT source_row, reasons FROM '{path}'").fetchall():
            found[submission.filename, row].update(reasons.split(";"))
    assert len(planted) > 100, "the manifest plants defects"
    assert any(file.endswith(".xlsx") for file, _ in planted), "the UTC workbooks are checked too"
    assert set(found) == set(planted), "the quarantined rows are exactly the planted rows"
    for key, kind in planted.items():
        if kind in expected:
            assert found[key] == {expected[kind]}, (key, kind, found[key])
        else:  # shifted columns break several fields at once
            assert "UNKNOWN_CODE:department_type" in found[key], (key, kind, found[key])


def test_feeds_without_planted_row_defects_publish_every_row(
    demo_platform: Platform, synth_ics: tuple[Path, Manifest]
) -> None:
    folder, manifest = synth_ics
    broken = {d.file for d in manifest.defects if d.stage == "file"}  # refused, never published
    lines = {
        Path(f.path).name: (folder / f.path).read_text(encoding="utf-8").count("\n") - 1
        for f in manifest.feeds
        if f.format == "csv"
        and f.dataset in dataset_names()
        and f.dataset != "ed_attendance"
        and Path(f.path).name not in broken
    }
    checked = 0
    for submission in demo_platform.submissions():
        if submission.dataset == "ed_attendance":
            continue
        if submission.filename in broken:
            assert submission.state == "rejected" and submission.error, submission.filename
            continue
        assert submission.state == "published", submission.filename
        assert submission.rows_quarantined == 0, submission.filename
        assert submission.rows_published == lines[submission.filename], submission.filename
        checked += 1
    assert {s.dataset for s in demo_platform.submissions()} >= {
        "admitted_spell",
        "bed_sitrep",
        "ambulance_incident",
        "nhs111_call",
    }
    assert checked > 80
