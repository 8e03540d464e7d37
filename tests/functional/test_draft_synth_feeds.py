"""Drafting a mapping from each feed of the synthetic ICS recovers the mapping the synth wrote,
and testing the draft gives what a real submission gives, changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from workspaces import ADMIN, make_platform, snapshot

from carehub.model.datasets import FieldType, get_dataset
from carehub.model.mappings import FeedMapping
from carehub.platform import Platform
from carehub.standardise.drafting import Draft
from carehub.synth.ics import Manifest
from carehub.synth.world import Feed

OPTIONAL_FLOOR = 0.95  # measured: 54 of 54 optional fields recovered (seed 7, 60,000 residents)
Key = tuple[str, str]


def _sample_feeds(folder: Path, manifest: Manifest) -> dict[Key, tuple[Feed, FeedMapping]]:
    """For each organisation's feed of a dataset, a file from the middle of the span (none with
    a planted whole-file defect) and the mapping the synth wrote for it."""
    broken = {d.file for d in manifest.defects if d.stage == "file"}
    chosen: dict[Key, tuple[Feed, FeedMapping]] = {}
    for relative in manifest.mappings:
        text = (folder / relative).read_text(encoding="utf-8")
        real = FeedMapping.model_validate(yaml.safe_load(text))
        feeds = [
            f
            for f in manifest.feeds
            if (f.org_code, f.dataset) == (real.organisation, real.dataset)
            and Path(f.path).name not in broken
        ]
        chosen[real.organisation, real.dataset] = (feeds[len(feeds) // 2], real)
    return chosen


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, synth_ics: tuple[Path, Manifest]) -> Platform:
    platform = make_platform(tmp_path_factory.mktemp("drafting") / "home")
    for org in synth_ics[1].organisations:
        platform.add_organisation(ADMIN, org["ods_code"], org["name"], org["kind"])
    return platform


@pytest.fixture(scope="module")
def drafts(
    hub: Platform, synth_ics: tuple[Path, Manifest]
) -> dict[Key, tuple[Feed, FeedMapping, Draft]]:
    folder, manifest = synth_ics
    return {
        key: (feed, real, hub.draft_mapping(ADMIN, *key, folder / feed.path))
        for key, (feed, real) in _sample_feeds(folder, manifest).items()
    }


def test_every_native_feed_of_the_synth_is_drafted(
    drafts: dict[Key, tuple[Feed, FeedMapping, Draft]], synth_ics: tuple[Path, Manifest]
) -> None:
    assert set(drafts) == {(f.org_code, f.dataset) for f in synth_ics[1].feeds}
    for _, real, _ in drafts.values():  # every feed has its own layout: none is the identity
        assert real.fields != FeedMapping.identity(real.organisation, real.dataset).fields


def test_required_columns_and_timestamp_formats_are_recovered(
    drafts: dict[Key, tuple[Feed, FeedMapping, Draft]],
) -> None:
    misses = []
    for key, (_, real, draft) in drafts.items():
        spec = get_dataset(real.dataset)
        for name, expected in real.fields.items():
            got = draft.field(name)
            if spec.field(name).required and got.column != expected.column:
                misses.append(f"{key} {name}: {got.column!r}, not {expected.column!r}")
            timestamp = spec.field(name).type is FieldType.TIMESTAMP
            if timestamp and got.column == expected.column and got.format != expected.format:
                misses.append(f"{key} {name}: format {got.format}, not {expected.format}")
        if (draft.sheet, draft.header_row) != (real.sheet, real.header_row) and real.sheet:
            misses.append(f"{key}: sheet {draft.sheet!r} row {draft.header_row}")
    assert not misses


def test_a_constant_the_file_cannot_show_is_left_to_the_steward(
    drafts: dict[Key, tuple[Feed, FeedMapping, Draft]],
) -> None:
    constants = [
        (key, name)
        for key, (_, real, _) in drafts.items()
        for name, m in real.fields.items()
        if m.value is not None
    ]
    assert constants == [(("NUC01", "ed_attendance"), "department_type")]
    draft = drafts["NUC01", "ed_attendance"][2]
    assert draft.field("department_type").column is None
    assert any(p.startswith("department_type (required)") for p in draft.problems)


def test_optional_columns_are_recovered_above_the_measured_floor(
    drafts: dict[Key, tuple[Feed, FeedMapping, Draft]],
) -> None:
    found = total = 0
    for _, real, draft in drafts.values():
        spec = get_dataset(real.dataset)
        for name, expected in real.fields.items():
            if not spec.field(name).required:
                total += 1
                found += draft.field(name).column == expected.column
    assert total >= 50 and found / total >= OPTIONAL_FLOOR, f"{found} of {total}"


def test_obvious_translations_agree_with_the_synths_own(
    drafts: dict[Key, tuple[Feed, FeedMapping, Draft]],
) -> None:
    proposed = agreed = 0
    for key, (_, real, draft) in drafts.items():
        for name, expected in real.fields.items():
            for local, code in (draft.field(name).translations or {}).items():
                proposed += 1
                assert expected.values.get(local, code) == code, (key, name, local)
                agreed += local in expected.values
    assert proposed >= 20 and agreed >= proposed * 0.9


def _filled(draft: Draft, real: FeedMapping) -> FeedMapping:
    """The draft as the steward finishes it: the constants and code translations the synth's own
    mapping gives (what a steward learns from the partner), everything else as drafted."""
    data = yaml.safe_load(draft.to_yaml())
    for name, expected in real.fields.items():
        if expected.value is not None:
            data["fields"][name] = {"value": expected.value}
        elif get_dataset(real.dataset).field(name).type is FieldType.CODE:
            data["fields"][name]["values"] = dict(expected.values)
    return FeedMapping.model_validate(data)


def test_testing_the_draft_gives_what_a_submission_gives_and_changes_nothing(
    hub: Platform,
    drafts: dict[Key, tuple[Feed, FeedMapping, Draft]],
    synth_ics: tuple[Path, Manifest],
) -> None:
    folder, manifest = synth_ics
    home = hub.settings.home
    for (org, dataset), (feed, real, draft) in drafts.items():
        path = folder / feed.path
        files, tables = snapshot(home)
        events = tables.pop("audit_events")
        trial = hub.test_mapping(ADMIN, _filled(draft, real), path, feed.period)
        after_files, after_tables = snapshot(home)
        new_events = after_tables.pop("audit_events")[len(events) :]
        assert (after_files, after_tables) == (files, tables), (org, dataset)
        assert [e[3:5] for e in new_events] == [("mapping.test", f"mapping/{org}/{dataset}")]
        assert list((home / "scratch").iterdir()) == []
        hub.install_mapping(ADMIN, folder / f"mappings/{org}/{dataset}.yaml")
        receipt = hub.submit(ADMIN, org, dataset, path, feed.period)
        assert (trial.rows_read, trial.rows_would_publish, trial.rows_would_quarantine) == (
            receipt.rows_read,
            receipt.rows_published,
            receipt.rows_quarantined,
        ), (org, dataset)
        assert (trial.period, trial.reasons, trial.warnings) == (
            receipt.period,
            receipt.reasons,
            receipt.warnings,
        )
        assert trial.refusal is None and trial.already_received is None
        assert set(trial.reason_help) == set(trial.reasons) and all(trial.reason_help.values())
    assert len(manifest.mappings) == len(drafts)
