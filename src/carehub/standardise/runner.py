"""Run a submission through standardisation and publish it.

Order matters for "nothing is lost or half-published": every check that can refuse the file runs
first, while the engine reads the file into the checked table, before anything is written. Only
then is the raw file landed, the submission recorded, the Parquet files written under temporary
names and renamed, and finally the version pointer flipped in one transaction with the audit
event. The file is read straight into the checked table (the staged table is a view of it), so
it is parsed once and only the typed rows are held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlglot import exp

from carehub.errors import CarehubError, DataContractError
from carehub.governance.actors import Actor
from carehub.governance.audit import AuditLog
from carehub.model.datasets import DatasetSpec
from carehub.model.mappings import FeedMapping
from carehub.model.periods import Period
from carehub.standardise.compile import (
    REASONS,
    STAGED_TABLE,
    StandardiseQuery,
    compile_standardise,
)
from carehub.store.db import Database, now_utc
from carehub.store.engines import Engine, EngineSession, HmacPads
from carehub.store.lake import Lake, sha256_of
from carehub.store.tables import Submission
from carehub.store.versions import publish

CHECKED_TABLE = "checked"
TOP_REASONS = 10


class SourceFile(Protocol):
    """A checked submission file (acquire's profile fits): ``path`` is readable as UTF-8 CSV,
    ``original`` is the file as received."""

    @property
    def path(self) -> Path: ...

    @property
    def original(self) -> Path: ...

    @property
    def delimiter(self) -> str: ...


@dataclass(frozen=True)
class Receipt:
    """What the sender is told about a submission."""

    submission_id: int
    dataset: str
    org_code: str
    period: str
    sha256: str
    state: str
    duplicate: bool
    rows_read: int
    rows_published: int
    rows_quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    superseded: int | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        submission: Submission,
        *,
        duplicate: bool,
        reasons: dict[str, int] | None = None,
        superseded: int | None = None,
    ) -> Receipt:
        return cls(
            submission_id=submission.id,
            dataset=submission.dataset,
            org_code=submission.org_code,
            period=submission.period,
            sha256=submission.sha256,
            state=submission.state,
            duplicate=duplicate,
            rows_read=submission.rows_read or 0,
            rows_published=submission.rows_published or 0,
            rows_quarantined=submission.rows_quarantined or 0,
            reasons=reasons or {},
            superseded=superseded,
        )


@dataclass(frozen=True)
class _Checked:
    rows_read: int
    rows_published: int
    reasons: Counter[str]


class Standardiser:
    def __init__(self, database: Database, lake: Lake, engine: Engine, audit: AuditLog) -> None:
        self.database, self.lake, self.engine, self.audit = database, lake, engine, audit

    def duplicate_of(self, dataset: str, org: str, sha256: str) -> Submission | None:
        with self.database.session() as session:
            query = select(Submission).where(
                Submission.dataset == dataset,
                Submission.org_code == org,
                Submission.sha256 == sha256,
            )
            return session.scalars(query).first()

    def run(
        self,
        actor: Actor,
        spec: DatasetSpec,
        mapping: FeedMapping,
        profile: SourceFile,
        period: Period | None,
        pads: HmacPads,
    ) -> Receipt:
        sha256 = sha256_of(profile.original)
        existing = self.duplicate_of(spec.name, mapping.organisation, sha256)
        if existing is not None:
            return Receipt.of(existing, duplicate=True)
        with self.engine.session(ingest=True) as session:
            with _readable(profile):
                scan = self.engine.scan_csv(
                    profile.path, delimiter=profile.delimiter, encoding="utf-8"
                )
                session.view(STAGED_TABLE, exp.select("*").from_(scan))
                self._require_rows(session, profile)
                period = period or self._infer_period(session, spec, mapping, profile)
                query = compile_standardise(spec, mapping, self.engine, period, pads)
                session.stage(CHECKED_TABLE, query.query)
            checked = self._count(session, profile)
            submission = self._record(actor, spec, mapping, profile, period, sha256, checked)
            return self._write_and_publish(actor, session, query, submission, checked)

    def _require_rows(self, session: EngineSession, profile: SourceFile) -> None:
        first = exp.select(exp.Literal.number(1)).from_(STAGED_TABLE).limit(1)
        if not session.rows(first):
            raise DataContractError(
                f"{profile.original.name}: the file has a header but no data rows",
                hint="export the file again with its rows",
            )

    def _infer_period(
        self, session: EngineSession, spec: DatasetSpec, mapping: FeedMapping, profile: SourceFile
    ) -> Period:
        if spec.period_field is None:
            raise DataContractError(
                f"{profile.original.name}: {spec.name} is a snapshot, so its rows do not say "
                "which period the file is for",
                hint="give the period with --period yyyy-mm",
            )
        column = mapping.fields[spec.period_field]
        if column.column is None:
            raise DataContractError(
                f"{profile.original.name}: the mapping gives {spec.period_field} as a constant",
                hint="give the period the file is for with --period yyyy-mm",
            )
        when = self.engine.try_timestamp(exp.column(column.column, quoted=True), column.format)
        month = self.engine.month_of(when)
        query = (
            exp.select(month.as_("m"))
            .from_(STAGED_TABLE)
            .where(exp.not_(exp.Is(this=when, expression=exp.Null())))
            .distinct()
        )
        months = sorted(str(r[0]) for r in session.rows(query))
        name = profile.original.name
        if not months:
            raise DataContractError(
                f"{name}: no row has a readable {column.column!r} (field {spec.period_field}), so "
                "the reporting period cannot be worked out",
                hint="check the date format in the feed mapping, or give --period yyyy-mm",
            )
        if len(months) > 1:
            raise DataContractError(
                f"{name}: rows span {len(months)} months ({months[0]} to {months[-1]})",
                hint="give the period the file is for with --period yyyy-mm",
            )
        return Period.parse(months[0])

    def _count(self, session: EngineSession, profile: SourceFile) -> _Checked:
        table = exp.to_table(CHECKED_TABLE, quoted=True)
        reasons = exp.column(REASONS, quoted=True)
        rows = session.rows(
            exp.select(reasons, exp.func("count", exp.Star())).from_(table).group_by(reasons)
        )
        counter: Counter[str] = Counter()
        total = published = 0
        for text, count in rows:
            total += count
            if text == "":
                published += count
            for reason in str(text).split(";") if text else []:
                counter[reason] += count
        name = profile.original.name
        if published == 0:
            commonest = ", ".join(f"{r} ({n} rows)" for r, n in counter.most_common(3))
            raise DataContractError(
                f"{name}: none of the {total} rows passed the checks; "
                f"commonest problems: {commonest}",
                hint="check the feed mapping (column names, date formats, code translations)",
            )
        return _Checked(total, published, counter)

    def _record(
        self,
        actor: Actor,
        spec: DatasetSpec,
        mapping: FeedMapping,
        profile: SourceFile,
        period: Period,
        sha256: str,
        checked: _Checked,
    ) -> Submission:
        self.lake.land_raw(profile.original, sha256)
        with self.database.session() as session:
            submission = Submission(
                dataset=spec.name,
                org_code=mapping.organisation,
                period=str(period),
                sha256=sha256,
                filename=profile.original.name[:255],
                byte_size=profile.original.stat().st_size,
                mapping_version=mapping.version,
                state="validating",
                received_at=now_utc(),
                submitted_by=actor.username,
                rows_read=checked.rows_read,
            )
            session.add(submission)
            session.flush()
            self.audit.record(
                session,
                actor,
                "submission.received",
                f"submission/{submission.id}",
                detail={
                    "dataset": spec.name,
                    "org": mapping.organisation,
                    "period": str(period),
                    "sha256": sha256,
                },
            )
        return submission

    def _write_and_publish(
        self,
        actor: Actor,
        session: EngineSession,
        query: StandardiseQuery,
        submission: Submission,
        checked: _Checked,
    ) -> Receipt:
        standard = self.lake.standard_path(
            submission.dataset, submission.org_code, submission.period, submission.id
        )
        quarantine = self.lake.quarantine_path(submission.dataset, submission.id)
        try:
            with self.lake.staging(standard) as temporary:
                session.copy_to_parquet(query.published(CHECKED_TABLE), temporary)
            with self.lake.staging(quarantine) as temporary:
                session.copy_to_parquet(query.quarantined(CHECKED_TABLE), temporary)
            published, superseded = self._flip(actor, submission, standard, quarantine, checked)
        except Exception:
            self.lake.discard(standard, quarantine)
            self._mark_failed(submission.id)
            raise
        return Receipt.of(
            published,
            duplicate=False,
            reasons=dict(checked.reasons.most_common(TOP_REASONS)),
            superseded=superseded,
        )

    def _flip(
        self,
        actor: Actor,
        submission: Submission,
        standard: Path,
        quarantine: Path,
        checked: _Checked,
    ) -> tuple[Submission, int | None]:
        at = now_utc()
        with self.database.session() as session:
            row = session.get_one(Submission, submission.id)
            row.state = "published"
            row.rows_published = checked.rows_published
            row.rows_quarantined = checked.rows_read - checked.rows_published
            row.standard_path = self.lake.relative(standard)
            row.quarantine_path = self.lake.relative(quarantine)
            old = publish(session, row, at)
            if old is not None:
                old.state = "superseded"
            self.audit.record(
                session,
                actor,
                "submission.published",
                f"submission/{submission.id}",
                detail={
                    "rows_published": checked.rows_published,
                    "rows_quarantined": row.rows_quarantined,
                    "superseded": old.id if old else None,
                },
            )
            return row, old.id if old else None

    def _mark_failed(self, submission_id: int) -> None:
        with self.database.session() as session:
            session.get_one(Submission, submission_id).state = "rejected"


@contextmanager
def _readable(profile: SourceFile) -> Iterator[None]:
    """Turn the engine's CSV parse errors, raised wherever it reads the file, into a refusal."""
    try:
        yield
    except CarehubError:
        raise
    except Exception as exc:  # the engine's parser names the line; pass its words on
        first_line = str(exc).splitlines()[0][:200]
        raise DataContractError(
            f"{profile.original.name}: the file cannot be read as CSV "
            f"({_without_values(first_line)})",
            hint="check that every line has the same number of columns and quotes are closed",
        ) from exc


def _without_values(message: str) -> str:
    """Keep the engine's description of a parse error but drop any quoted row content."""
    return message.split("Original Line")[0].split('"')[0].strip().rstrip(":")
