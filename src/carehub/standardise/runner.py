"""Run a submission through standardisation and publish it.

The file has already been received (landed in the raw zone and recorded; see
``acquire/intake.py``). Order matters for "nothing is half-published": every check that can refuse
the file runs first, while the engine reads the file into the checked table, before anything is
written. Only then are the Parquet files written under temporary names and renamed, and finally
the version pointer flipped in one transaction with the audit event. The file is read straight
into the checked table (the staged table is a view of it), so it is parsed once and only the typed
rows are held.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
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
from carehub.standardise.reasons import Reason, help_for
from carehub.store.db import Database, now_utc
from carehub.store.engines import Engine, EngineSession, HmacPads
from carehub.store.lake import Lake, sha256_of
from carehub.store.tables import Submission
from carehub.store.versions import current_publication, publish

CHECKED_TABLE = "checked"
TOP_REASONS = 10

ProgressReport = Callable[[float, str], None]


def no_progress(_fraction: float, _stage: str) -> None:
    """For callers that do not show progress."""


class SourceFile(Protocol):
    """A checked submission file (acquire's profile fits): ``path`` is readable as UTF-8 CSV,
    ``original`` is the file as received."""

    @property
    def path(self) -> Path: ...

    @property
    def original(self) -> Path: ...

    @property
    def delimiter(self) -> str: ...

    @property
    def columns(self) -> tuple[str, ...]: ...

    def where(self, line: int) -> str:
        """Name line ``line`` of ``path`` as the sender knows it ("line 3", "data row 2")."""
        ...


@dataclass(frozen=True)
class Receipt:
    """What the sender is told about a submission."""

    submission_id: int
    dataset: str
    org_code: str
    period: str | None
    sha256: str
    state: str
    duplicate: bool
    rows_read: int
    rows_published: int
    rows_quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    superseded: int | None = None
    warnings: tuple[str, ...] = ()
    filename: str = ""
    job_id: int | None = None
    error: str | None = None
    hint: str | None = None

    @classmethod
    def of(
        cls,
        submission: Submission,
        *,
        duplicate: bool,
        reasons: dict[str, int] | None = None,
        superseded: int | None = None,
        job_id: int | None = None,
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
            warnings=tuple(json.loads(submission.warnings or "[]")),
            filename=submission.filename,
            job_id=job_id,
            error=submission.error,
            hint=submission.hint,
        )


@dataclass(frozen=True)
class TrialReceipt:
    """What the receipt of a file would say, from a trial run that changes nothing."""

    dataset: str
    org_code: str
    period: str
    file: str
    mapping_version: int
    rows_read: int
    rows_would_publish: int
    rows_would_quarantine: int
    reasons: dict[str, int] = field(default_factory=dict)  # the commonest, by rows
    reason_help: dict[str, str] = field(default_factory=dict)  # what each reason means
    warnings: tuple[str, ...] = ()
    already_received: int | None = None  # the submission that already holds these bytes
    refusal: str | None = None  # why submit would refuse the file (no row passes), if it would


def missing_column_warnings(mapping: FeedMapping, names: tuple[str, ...]) -> tuple[str, ...]:
    """The receipt's warnings for optional fields whose columns a file lacks."""
    return tuple(
        f"column {mapping.fields[name].column!r} (field {name}) is not in the file; "
        f"{name} is left empty"
        for name in names
    )


@dataclass(frozen=True)
class _Checked:
    rows_read: int
    rows_published: int
    reasons: Counter[str]


@dataclass(frozen=True)
class _Target:
    """Where a run publishes: which submission, under which mapping, period and key, and whether
    it is a new version of an already published submission."""

    submission_id: int
    mapping: FeedMapping
    period: Period
    key_id: str
    republish: bool


class _NoLongerCurrent(Exception):
    """A submission to re-publish was superseded meanwhile: its new version must not go live."""


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
        submission_id: int,
        spec: DatasetSpec,
        mapping: FeedMapping,
        profile: SourceFile,
        period: Period | None,
        pads: HmacPads,
        progress: ProgressReport = no_progress,
    ) -> Receipt:
        """Check, standardise and publish a received submission; refusals raise before writing."""
        return self._run(
            actor, submission_id, spec, mapping, profile, period, pads, progress, republish=False
        )

    def republish(
        self,
        actor: Actor,
        submission_id: int,
        spec: DatasetSpec,
        mapping: FeedMapping,
        profile: SourceFile,
        period: Period,
        pads: HmacPads,
        progress: ProgressReport = no_progress,
    ) -> Receipt | None:
        """Run a published submission again from its raw file, pseudonymised under ``pads``,
        into new files named after the key's id, and publish them as a new version of the same
        submission. The earlier version's files stay, for as-of reads. Returns None, publishing
        nothing, if the submission is no longer the current version of its period."""
        try:
            return self._run(
                actor, submission_id, spec, mapping, profile, period, pads, progress, republish=True
            )
        except _NoLongerCurrent:
            return None

    def _run(
        self,
        actor: Actor,
        submission_id: int,
        spec: DatasetSpec,
        mapping: FeedMapping,
        profile: SourceFile,
        period: Period | None,
        pads: HmacPads,
        progress: ProgressReport,
        *,
        republish: bool,
    ) -> Receipt:
        with self.engine.session(ingest=True) as session:
            period, query, checked = self._check(
                session, spec, mapping, profile, period, pads, progress
            )
            if (refusal := self._none_passed(checked, profile, period)) is not None:
                raise refusal
            progress(0.7, "writing the standard zone")
            target = _Target(submission_id, mapping, period, pads.key_id, republish)
            return self._write_and_publish(actor, session, query, target, checked)

    def trial(
        self,
        spec: DatasetSpec,
        mapping: FeedMapping,
        profile: SourceFile,
        period: Period | None,
        pads: HmacPads,
    ) -> TrialReceipt:
        """The checks and the one-pass query of ``run``, in the engine's memory only: nothing is
        landed, recorded or published. Refuses the file as ``run`` would, except that a file none
        of whose rows pass is counted, with the refusal ``run`` would give in ``refusal``."""
        earlier = self.duplicate_of(spec.name, mapping.organisation, sha256_of(profile.original))
        with self.engine.session(ingest=True) as session:
            period, _, checked = self._check(session, spec, mapping, profile, period, pads)
        reasons = dict(checked.reasons.most_common(TOP_REASONS))
        refusal = self._none_passed(checked, profile, period)
        return TrialReceipt(
            dataset=spec.name,
            org_code=mapping.organisation,
            period=str(period),
            file=profile.original.name,
            mapping_version=mapping.version,
            rows_read=checked.rows_read,
            rows_would_publish=checked.rows_published,
            rows_would_quarantine=checked.rows_read - checked.rows_published,
            reasons=reasons,
            reason_help={reason: help_for(reason) for reason in reasons},
            # a refused file may be sent again: only an accepted one is "already received"
            already_received=earlier.id if earlier and earlier.state != "rejected" else None,
            refusal=refusal.message if refusal is not None else None,
        )

    def _check(
        self,
        session: EngineSession,
        spec: DatasetSpec,
        mapping: FeedMapping,
        profile: SourceFile,
        period: Period | None,
        pads: HmacPads,
        progress: ProgressReport = no_progress,
    ) -> tuple[Period, StandardiseQuery, _Checked]:
        """Read the file (a view: parsed once, by the one-pass query), work out the period, run
        the query into the checked table and count the results."""
        progress(0.2, "reading rows")
        with _readable(profile):
            scan = self.engine.scan_csv(
                profile.path, delimiter=profile.delimiter, encoding="utf-8", columns=profile.columns
            )
            session.view(STAGED_TABLE, exp.select("*").from_(scan))
            self._require_rows(session, profile)
            period = period or self._infer_period(session, spec, mapping, profile)
            query = compile_standardise(spec, mapping, self.engine, period, pads)
            progress(0.4, "checking rows")
            session.stage(CHECKED_TABLE, query.query)
        return period, query, self._count(session)

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

    def _count(self, session: EngineSession) -> _Checked:
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
        return _Checked(total, published, counter)

    @staticmethod
    def _none_passed(
        checked: _Checked, profile: SourceFile, period: Period
    ) -> DataContractError | None:
        """The refusal of a file none of whose rows passed, if none did."""
        if checked.rows_published:
            return None
        commonest = ", ".join(f"{r} ({n} rows)" for r, n in checked.reasons.most_common(3))
        outside = checked.reasons.most_common(1)[0][0].startswith(Reason.OUTSIDE_PERIOD)
        return DataContractError(
            f"{profile.original.name}: none of the {checked.rows_read} rows passed the checks; "
            f"commonest problems: {commonest}",
            hint=f"check the period you gave: the rows' dates are not in {period}"
            if outside
            else "check the feed mapping (column names, date formats, code translations)",
        )

    def _write_and_publish(
        self,
        actor: Actor,
        session: EngineSession,
        query: StandardiseQuery,
        target: _Target,
        checked: _Checked,
    ) -> Receipt:
        dataset, org = target.mapping.dataset, target.mapping.organisation
        tag = target.key_id if target.republish else None
        standard = self.lake.standard_path(
            dataset, org, str(target.period), target.submission_id, tag
        )
        quarantine = self.lake.quarantine_path(dataset, target.submission_id, tag)
        try:
            with self.lake.staging(standard) as temporary:
                session.copy_to_parquet(query.published(CHECKED_TABLE), temporary)
            with self.lake.staging(quarantine) as temporary:
                session.copy_to_parquet(query.quarantined(CHECKED_TABLE), temporary)
            published, superseded = self._flip(actor, target, standard, quarantine, checked)
        except Exception:
            self.lake.discard(standard, quarantine)
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
        target: _Target,
        standard: Path,
        quarantine: Path,
        checked: _Checked,
    ) -> tuple[Submission, int | None]:
        at = now_utc()
        period = str(target.period)
        with self.database.session() as session:
            row = session.get_one(Submission, target.submission_id)
            previous_key_id = row.key_id
            if target.republish:
                current = current_publication(session, row.dataset, row.org_code, period, lock=True)
                if current is None or current.submission_id != row.id:
                    raise _NoLongerCurrent
            row.state = "published"
            row.period = period
            row.mapping_version = target.mapping.version
            row.rows_read = checked.rows_read
            row.reasons = json.dumps(dict(checked.reasons.most_common(TOP_REASONS)))
            row.rows_published = checked.rows_published
            row.rows_quarantined = checked.rows_read - checked.rows_published
            row.standard_path = self.lake.relative(standard)
            row.quarantine_path = self.lake.relative(quarantine)
            row.key_id = target.key_id
            old = publish(session, row, at)
            superseded = old.id if old is not None and old.id != row.id else None
            if old is not None and superseded is not None:
                old.state = "superseded"
            detail: dict[str, str | int | None] = {
                "period": period,
                "mapping_version": target.mapping.version,
                "rows_published": checked.rows_published,
                "rows_quarantined": row.rows_quarantined,
                "superseded": superseded,
                "key_id": target.key_id,
            }
            if target.republish:
                detail["previous_key_id"] = previous_key_id
            self.audit.record(
                session,
                actor,
                "submission.repseudonymised" if target.republish else "submission.published",
                f"submission/{target.submission_id}",
                detail=detail,
            )
            return row, superseded


# DuckDB's CSV errors: "CSV Error on Line: N", then the line itself, then what was wrong.
_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")
_FIELD_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_LINE_SIZE = re.compile(r"Maximum line size of (\d+) bytes exceeded")
_UNCLOSED_QUOTE = "Value with unterminated quote found"
_MIXED_LINE_ENDINGS = "state machine reached an invalid state"


def _csv_problem(error: str, profile: SourceFile) -> tuple[str, str]:
    """What the engine found wrong, and a hint, without the row text it quotes. Its own words
    come after the quoted line, so the last match is taken."""
    first_line = error.splitlines()[0] if error else ""
    line = _ERROR_LINE.search(first_line)
    where = profile.where(int(line.group(1))) if line else "a line"
    if counts := _FIELD_COUNT.findall(error):
        expected, found = counts[-1]
        return (
            f"{where} has {found} fields where the header has {expected}",
            f"quote every value that holds the delimiter ({profile.delimiter!r}), and give "
            "every line as many fields as the header",
        )
    if sizes := _LINE_SIZE.findall(error):
        return (
            f"{where} is longer than the {int(sizes[-1]):,} bytes a line may hold",
            "look there for a quote that is never closed, or a value far too long",
        )
    if _UNCLOSED_QUOTE in error:
        return (
            f"{where} has a quote that is never closed, or text after a closing quote",
            'close the quote, and write a quote inside a quoted value as two ("")',
        )
    if _MIXED_LINE_ENDINGS in error:  # a CR or LF outside quotes that is not the file's ending
        return (
            "its lines do not all end the same way (CRLF, LF or CR)",
            "save the file again from one program, so that every line ends the same way",
        )
    return (
        f"the file cannot be read as CSV ({_without_values(first_line[:200])})",
        "check that every line has the same number of columns and quotes are closed",
    )


@contextmanager
def _readable(profile: SourceFile) -> Iterator[None]:
    """Turn the engine's CSV parse errors, raised wherever it reads the file, into a refusal."""
    try:
        yield
    except CarehubError:
        raise
    except Exception as exc:  # the engine's parser names the line; say it in our words
        problem, hint = _csv_problem(str(exc), profile)
        raise DataContractError(f"{profile.original.name}: {problem}", hint=hint) from exc


def _without_values(message: str) -> str:
    """Keep the engine's description of a parse error but drop any quoted row content."""
    return message.split("Original Line")[0].split('"')[0].strip().rstrip(":")
