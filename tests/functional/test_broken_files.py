"""The broken-file corpus (tests/brokenfiles.py) through `Platform.submit`, on a workspace that
already has good data published: every file gets its clear answer, nothing but a CarehubError is
raised, no row value appears in any message, receipt, log line or audit detail, and nothing
published before changes."""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from brokenfiles import (
    CORPUS,
    DATASET,
    ORG,
    PERIOD,
    SENTINELS,
    Accepted,
    BrokenFile,
    Refused,
    contains_sentinel,
    csv_bytes,
    rows,
)
from sqlalchemy import select
from workspaces import ADMIN, make_platform

from carehub.errors import CarehubError
from carehub.platform import Platform
from carehub.settings import Settings
from carehub.standardise.runner import Receipt
from carehub.store.tables import AuditEvent
from carehub.store.versions import current_versions

EARLIER_PERIOD = "2024-12"


@dataclass(frozen=True)
class Published:
    """What is published: the current version pointers and every standard-zone file's hash."""

    pointers: dict[tuple[str, str, str], int]
    files: dict[str, str]


def published(hub: Platform) -> Published:
    with hub.database.session() as session:
        versions = current_versions(session, DATASET)
    standard = hub.lake.root / "standard"
    return Published(
        pointers={(v.dataset, v.org_code, v.period): v.submission_id for v in versions},
        files={
            p.relative_to(standard).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(standard.rglob("*.parquet"))
        },
    )


@pytest.fixture(scope="module")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace where RAJ has published good files for the corpus' period and the one
    before; each test works on a copy."""
    folder = tmp_path_factory.mktemp("published")
    platform = make_platform(folder / "home")
    for period in (EARLIER_PERIOD, PERIOD):
        good = folder / f"good-{period}.csv"
        good.write_bytes(csv_bytes(rows(5, period)))
        receipt = platform.submit(ADMIN, ORG, DATASET, good, period)
        assert receipt.state == "published"
    platform.database.dispose()  # SQLite checkpoints its write-ahead log: the copy is whole
    return folder / "home"


@pytest.fixture
def hub(published_home: Path, tmp_path: Path) -> Platform:
    home = tmp_path / "home"
    shutil.copytree(published_home, home)
    return Platform(Settings(home=home))


def audit_text(hub: Platform) -> str:
    with hub.database.session() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        return "\n".join(f"{e.action} {e.target} {e.purpose} {e.detail}" for e in events)


def assert_no_row_values(*texts: str) -> None:
    for text in texts:
        for sentinel in SENTINELS:
            assert sentinel not in text, f"a row value ({sentinel}) leaked into: {text[:300]}"


def submit(hub: Platform, case: BrokenFile, path: Path) -> Receipt | CarehubError:
    """Submit the file; a CarehubError is an answer, any other exception fails the test."""
    if case.mapping is not None:
        mapping = path.parent / "mapping.yaml"
        mapping.write_text(case.mapping)
        hub.install_mapping(ADMIN, mapping)
    try:
        return hub.submit(ADMIN, ORG, DATASET, path, case.period)
    except CarehubError as error:
        return error


def check_refused(expected: Refused, outcome: Receipt | CarehubError, filename: str) -> None:
    assert isinstance(outcome, CarehubError), f"accepted, should be refused: {outcome}"
    assert type(outcome) is expected.error, f"{type(outcome).__name__}: {outcome}"
    assert filename in outcome.message, outcome.message
    for word in expected.words:
        assert word in outcome.message, f"{word!r} not in: {outcome.message}"
    assert outcome.hint.strip(), f"no hint: {outcome.message}"
    for word in expected.hint:
        assert word in outcome.hint, f"{word!r} not in the hint: {outcome.hint}"


def check_accepted(
    hub: Platform, expected: Accepted, outcome: Receipt | CarehubError, before: Published
) -> None:
    assert isinstance(outcome, Receipt), f"refused, should be accepted: {outcome}"
    assert (outcome.state, outcome.duplicate) == ("published", False)
    assert (outcome.rows_read, outcome.rows_published) == (
        expected.rows_read,
        expected.rows_published,
    )
    assert outcome.rows_quarantined == expected.rows_read - expected.rows_published
    assert outcome.reasons == dict(expected.reasons)
    assert len(outcome.warnings) == expected.warnings, outcome.warnings
    assert outcome.superseded == before.pointers[(DATASET, ORG, outcome.period)]
    with hub.database.session() as session:
        new = {v.submission_id: v.standard_path for v in current_versions(session, DATASET)}
    rows_published = pq.read_table(hub.lake.resolve(new[outcome.submission_id])).to_pydict()
    for column, values in expected.values.items():
        assert tuple(sorted(rows_published[column])) == values, column
    for column, count in expected.distinct.items():
        assert len({v for v in rows_published[column] if v is not None}) == count, column


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_a_broken_file_gets_its_answer_and_changes_nothing_published(
    case: BrokenFile, hub: Platform, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    folder = tmp_path / "incoming"
    folder.mkdir()
    path = case.write(folder)
    before = published(hub)

    outcome = submit(hub, case, path)

    after = published(hub)
    if isinstance(case.expected, Refused):
        check_refused(case.expected, outcome, case.filename)
        assert isinstance(outcome, CarehubError)
        assert_no_row_values(outcome.message, outcome.hint)
        assert after == before  # a refused file is never published
    else:
        check_accepted(hub, case.expected, outcome, before)
        assert isinstance(outcome, Receipt)
        assert_no_row_values(repr(outcome))
        key = (DATASET, ORG, outcome.period)
        assert after.pointers == {**before.pointers, key: outcome.submission_id}
        # the files published before are still there, byte for byte; one new file joins them
        assert {k: after.files[k] for k in before.files} == before.files
        assert len(after.files) == len(before.files) + 1
    assert_no_row_values(audit_text(hub), caplog.text)
    assert hub.verify_audit().events > 0
    assert not list(hub.workspace.scratch.iterdir())  # temporary copies are removed


def test_the_corpus_is_large_and_its_names_are_unique() -> None:
    names = [case.name for case in CORPUS]
    assert len(CORPUS) >= 30
    assert len(set(names)) == len(names)
    assert len({case.filename for case in CORPUS}) == len(CORPUS)
    assert all(case.defect for case in CORPUS)


def test_every_case_that_can_hold_a_row_plants_a_sentinel() -> None:
    """Otherwise the "no row values" assertions would prove nothing for that case."""
    for case in CORPUS:
        data = case.make()
        assert contains_sentinel(data) == case.plants_sentinel, case.name
        assert all(s not in case.filename for s in SENTINELS)
    assert sum(not case.plants_sentinel for case in CORPUS) <= 3
