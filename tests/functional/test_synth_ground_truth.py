"""The hub finds exactly the defects the synthetic ICS planted: no more, no fewer."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import duckdb
from workspaces import ADMIN

from carehub.model.datasets import dataset_names
from carehub.model.mappings import Schedule
from carehub.model.periods import Period
from carehub.platform import MonthState, Platform
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


def test_coverage_finds_the_late_and_missing_months_that_were_planted(
    demo_platform: Platform, synth_ics: tuple[Path, Manifest]
) -> None:
    _, manifest = synth_ics
    by_file = {Path(f.path).name: (f.org_code, f.dataset, f.period) for f in manifest.feeds}
    late_files = {d.file for d in manifest.defects if d.kind == "late_period"}
    broken_files = {d.file for d in manifest.defects if d.stage == "file"}
    planted_missing = [d for d in manifest.defects if d.kind == "missing_period"]
    as_of = Period.parse(manifest.last_period).end + timedelta(days=40)  # every month now due
    coverage = demo_platform.coverage(ADMIN, as_of)
    scheduled = {(f.org_code, f.dataset) for f in coverage}
    months = {(f.org_code, f.dataset, m.period): m for f in coverage for m in f.months}
    delivered = {(f.org_code, f.dataset, f.period) for f in manifest.feeds}
    spans = Period.parse(manifest.first_period), Period.parse(manifest.last_period)

    expected_late = {by_file[name] for name in late_files}
    expected_missing = {by_file[name] for name in broken_files} | {
        key for key in months if key[:2] in scheduled and key not in delivered
    }
    found = {state: {k for k, m in months.items() if m.state is state} for state in MonthState}
    assert found[MonthState.LATE] == expected_late and len(expected_late) == 3
    assert found[MonthState.MISSING] == expected_missing
    assert len(expected_missing) == len(planted_missing) + len(broken_files) == 3
    assert all(months[by_file[name]].rejected == 1 for name in broken_files)
    assert found[MonthState.AWAITED] == set()
    assert all(m.days_late == 25 for k, m in months.items() if k in expected_late)
    assert {m.period for m in months.values()} <= {
        str(p) for p in Schedule(first_period=str(spans[0]), due_days=0).expected(as_of)
    }
    # every known dataset's feed is scheduled, so a dropped feed could not hide
    assert scheduled == {
        (f.org_code, f.dataset) for f in manifest.feeds if f.dataset in dataset_names()
    }
