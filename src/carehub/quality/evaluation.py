"""Evaluate a dataset's check pack over one submission: its published rows (the standard zone
file the hub wrote for it) and its quarantined rows (row numbers and reason codes only).

Every check ends ``passed``, ``failed``, ``not_applicable`` (nothing to check: no rows, no
history, no schedule) or ``error`` (it could not run: a missing reference list, or SQL the
engine refused). An error is recorded with its cause, without row values, and never stops the
other checks: when the one combined query fails, each row-level check is run alone to find the
one at fault. See ``compile.py`` for which query each kind of check runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlglot import exp

from carehub.model.check_rules import (
    QuarantineShare,
    ReceivedByDueDate,
    Reference,
    Unique,
    VolumeVsHistory,
)
from carehub.model.checks import CheckDefinition, CheckPack
from carehub.model.datasets import NAME_PATTERN
from carehub.quality.compile import (
    MAX_CAPTURED_ROWS,
    CheckCannotRun,
    CompileContext,
    RowCheck,
    aggregate_query,
    compile_row_check,
    duplicate_rows_query,
    duplicates_query,
    failing_rows_query,
    quarantine_failures_query,
    quarantine_query,
    reference_query,
    reference_rows_query,
)
from carehub.quality.reference import ReferenceData
from carehub.store.engines import Engine, EngineSession, HmacPads

LOG = logging.getLogger(__name__)
PUBLISHED_VIEW = "published_rows"
QUARANTINED_VIEW = "quarantined_rows"
CAUSE_LENGTH = 300  # characters of an engine's error message kept as the cause
# Checks of the submission's records rather than its rows
RECORD_RULES = (QuarantineShare, VolumeVsHistory, ReceivedByDueDate)


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


@dataclass(frozen=True)
class Failure:
    """A failing row: its number in the file, the field and a reason code; never the value."""

    source_row: int
    field: str
    reason: str


@dataclass(frozen=True)
class CheckOutcome:
    check: CheckDefinition
    status: Status
    failing: int | None = None
    denominator: int | None = None
    error: str | None = None
    failures: tuple[Failure, ...] = ()

    @property
    def failing_pct(self) -> float | None:
        if self.failing is None or not self.denominator:
            return None
        return 100 * self.failing / self.denominator


@dataclass(frozen=True)
class SubmissionRows:
    """What a run knows of one submission, from its records."""

    submission_id: int
    dataset: str
    org_code: str
    period: str | None
    received_at: datetime
    rows_published: int
    rows_quarantined: int
    standard: Path  # the published rows
    quarantine: Path | None  # the quarantined rows (row numbers and reasons)
    due: date | None = None  # when the feed's file for this period was due, if scheduled
    history: tuple[int, ...] = ()  # rows of the provider's earlier periods, latest first

    @property
    def rows_read(self) -> int:
        return self.rows_published + self.rows_quarantined


def outcome_of(check: CheckDefinition, failing: int, denominator: int) -> CheckOutcome:
    """Passed when the failing share is within the tolerated one; not applicable with nothing
    to check."""
    if denominator <= 0:
        return CheckOutcome(check, Status.NOT_APPLICABLE, failing, denominator)
    over = failing * 100 > check.tolerated_failure_pct * denominator
    return CheckOutcome(check, Status.FAILED if over else Status.PASSED, failing, denominator)


_QUOTED = re.compile(r"'[^']*'|\"([^\"]*)\"")
_LONG_NUMBER = re.compile(r"[0-9A-Fa-f]{16,}|[0-9]{4,}")


def cause(error: BaseException) -> str:
    """What went wrong, without anything that could be a row value: the first line of the
    message, with quoted text (other than names), long numbers and hex removed."""
    if isinstance(error, CheckCannotRun):
        return str(error)
    lines = str(error).strip().splitlines()

    def name_or_redacted(match: re.Match[str]) -> str:
        name = match.group(1)
        return f'"{name}"' if name is not None and re.match(NAME_PATTERN, name) else "…"

    text = _QUOTED.sub(name_or_redacted, lines[0] if lines else "")
    text = _LONG_NUMBER.sub("…", text)
    return f"{type(error).__name__}: {text}"[:CAUSE_LENGTH]


class _Run:
    """One evaluation of a pack in one engine session."""

    def __init__(
        self,
        pack: CheckPack,
        rows: SubmissionRows,
        engine: Engine,
        session: EngineSession,
        reference: ReferenceData,
        pads: HmacPads | None,
    ) -> None:
        self.pack, self.rows, self.engine, self.session = pack, rows, engine, session
        self.reference, self.spec = reference, pack.dataset_spec
        self.context = CompileContext(as_of=rows.received_at, pads=pads)
        self.published = exp.to_table(PUBLISHED_VIEW, quoted=True)
        self.quarantined = exp.to_table(QUARANTINED_VIEW, quoted=True)

    def outcomes(self) -> list[CheckOutcome]:
        try:
            self._views()
        except Exception as exc:  # the rows cannot be read: only record-based checks can run
            unreadable = cause(exc)
            return [
                self._guarded(c, self._other)
                if isinstance(c.rule, RECORD_RULES)
                else CheckOutcome(c, Status.ERROR, error=unreadable)
                for c in self.pack.checks
            ]
        done = self._row_level([c for c in self.pack.checks if type(c.rule).ROW_LEVEL])
        for check in self.pack.checks:
            if check.id not in done:
                done[check.id] = self._guarded(check, self._other)
        return [done[c.id] for c in self.pack.checks]

    def _views(self) -> None:
        self.session.view(PUBLISHED_VIEW, exp.select("*").from_(self._scan(self.rows.standard)))
        if self.rows.quarantine is not None and self.rows.rows_quarantined:
            self.session.view(
                QUARANTINED_VIEW, exp.select("*").from_(self._scan(self.rows.quarantine))
            )

    def _scan(self, path: Path) -> exp.Expr:
        return self.engine.scan_parquet([path])

    @staticmethod
    def _guarded(
        check: CheckDefinition, run: Callable[[CheckDefinition], CheckOutcome]
    ) -> CheckOutcome:
        try:
            return run(check)
        except Exception as exc:  # recorded as the check's error; the other checks go on
            return CheckOutcome(check, Status.ERROR, error=cause(exc))

    # --- row-level checks: one pass over the published rows, one over the quarantined ones --

    def _row_level(self, checks: Sequence[CheckDefinition]) -> dict[str, CheckOutcome]:
        done: dict[str, CheckOutcome] = {}
        compiled: list[RowCheck] = []
        for check in checks:
            try:
                compiled.append(compile_row_check(check, self.spec, self.engine, self.context))
            except CheckCannotRun as exc:
                done[check.id] = CheckOutcome(check, Status.ERROR, error=cause(exc))
        published = self._counts(compiled, self.published, aggregate_query)
        quarantined = self._quarantined_counts(compiled)
        failures = self._failures(compiled, published, quarantined)
        for row_check in compiled:
            done[row_check.check.id] = self._row_outcome(
                row_check, published, quarantined, failures.get(row_check.check.id, [])
            )
        return done

    def _row_outcome(
        self,
        row_check: RowCheck,
        published: dict[str, Counts | str],
        quarantined: dict[str, Counts | str],
        failures: list[Failure],
    ) -> CheckOutcome:
        """Failing rows out of the rows the check applies to, published and quarantined."""
        check = row_check.check
        counts = (published.get(check.id), quarantined.get(check.id))
        errors = [c for c in counts if isinstance(c, str)]
        if errors:
            return CheckOutcome(check, Status.ERROR, error=errors[0])
        parts = [c for c in counts if isinstance(c, tuple)]
        failing = sum(p[0] for p in parts)
        applicable = sum(p[1] for p in parts)
        return _with_failures(outcome_of(check, failing, applicable), failures)

    def _counts(
        self,
        checks: Sequence[RowCheck],
        source: exp.Expr,
        query: Callable[[Sequence[RowCheck], exp.Expr], exp.Select],
    ) -> dict[str, Counts | str]:
        """Failing and applicable rows of each check (or the cause of its error): all in one
        query, or each alone if that fails, so that one broken check does not take the others
        with it."""
        if not checks:
            return {}
        try:
            row = self.session.rows(query(checks, source))[0]
            return {c.check.id: _pair(row, i) for i, c in enumerate(checks)}
        except Exception as exc:  # find the check at fault
            LOG.info("the combined query failed (%s); running each check alone", type(exc).__name__)
        counts: dict[str, Counts | str] = {}
        for check in checks:
            try:
                counts[check.check.id] = _pair(self.session.rows(query([check], source))[0], 0)
            except Exception as exc:
                counts[check.check.id] = cause(exc)
        return counts

    def _quarantined_counts(self, checks: Sequence[RowCheck]) -> dict[str, Counts | str]:
        relevant = [c for c in checks if c.quarantine_reason is not None]
        if not relevant or not self.rows.rows_quarantined or self.rows.quarantine is None:
            return {}
        return self._counts(relevant, self.quarantined, quarantine_query)

    def _failures(
        self,
        checks: Sequence[RowCheck],
        published: dict[str, Counts | str],
        quarantined: dict[str, Counts | str],
    ) -> dict[str, list[Failure]]:
        """The first failing rows of each check, from the published rows (only if some failed)
        and the quarantined ones. A capture that fails leaves the counts as they are."""
        found: dict[str, list[Failure]] = {}

        def failed(counts: dict[str, Counts | str]) -> list[RowCheck]:
            return [c for c in checks if _failing(counts.get(c.check.id))]

        sources = (
            (failed(published), self.published, failing_rows_query, _published_reason),
            (failed(quarantined), self.quarantined, quarantine_failures_query, _quarantine_reason),
        )
        for subset, source, query, reason in sources:
            if not subset:
                continue
            try:
                rows = self.session.rows(query(subset, source, MAX_CAPTURED_ROWS))
            except Exception as exc:  # the counts stand; the rows are not kept
                LOG.warning("failing rows not captured: %s", type(exc).__name__)
                continue
            for row in rows:
                for i, check in enumerate(subset):
                    if row[i + 1]:
                        failure = Failure(int(row[0]), check.column, reason(check))
                        found.setdefault(check.check.id, []).append(failure)
        return found

    # --- the other checks --------------------------------------------------------------------

    def _other(self, check: CheckDefinition) -> CheckOutcome:
        rule = check.rule
        if isinstance(rule, Unique):
            count = duplicates_query(rule, self.spec, self.published)
            rows = duplicate_rows_query(rule, self.spec, self.published)
            return self._counted(check, count, rows, ",".join(rule.fields()), "DUPLICATE")
        if isinstance(rule, Reference):
            relation, compact = self.reference.relation(rule.list, self.engine)
            count = reference_query(rule, self.spec, self.published, relation, compact)
            rows = reference_rows_query(rule, self.spec, self.published, relation, compact)
            return self._counted(check, count, rows, rule.field, "NOT_IN_REFERENCE")
        if isinstance(rule, QuarantineShare):
            return outcome_of(check, self.rows.rows_quarantined, self.rows.rows_read)
        if isinstance(rule, VolumeVsHistory):
            return self._volume(check, rule)
        if isinstance(rule, ReceivedByDueDate):
            if self.rows.due is None:
                return CheckOutcome(check, Status.NOT_APPLICABLE)
            late = self.rows.received_at.date() > self.rows.due
            return outcome_of(check, int(late), 1)
        raise TypeError(f"no runner for {rule.kind}")

    def _counted(
        self, check: CheckDefinition, count: exp.Select, rows: exp.Select, field: str, reason: str
    ) -> CheckOutcome:
        denominator, failing = (int(v or 0) for v in self.session.rows(count)[0])
        outcome = outcome_of(check, failing, denominator)
        if not failing:
            return outcome
        try:
            failures = [Failure(int(r[0]), field, reason) for r in self.session.rows(rows)]
        except Exception as exc:  # the count stands; the rows are not kept
            LOG.warning("failing rows of %s not captured: %s", check.id, type(exc).__name__)
            failures = []
        return _with_failures(outcome, failures)

    def _volume(self, check: CheckDefinition, rule: VolumeVsHistory) -> CheckOutcome:
        history = self.rows.history[: rule.months]
        if len(history) < rule.min_history:
            return CheckOutcome(check, Status.NOT_APPLICABLE)
        expected = round(sum(history) / len(history))
        return outcome_of(check, abs(self.rows.rows_read - expected), expected)


Counts = tuple[int, int]  # failing rows, rows the check applies to


def _pair(row: tuple[Any, ...], index: int) -> Counts:
    """Check ``index``'s counts in a row of ``rows, c_0, d_0, c_1, d_1 …``."""
    return int(row[1 + 2 * index] or 0), int(row[2 + 2 * index] or 0)


def _failing(counts: Counts | str | None) -> bool:
    return isinstance(counts, tuple) and counts[0] > 0


def _published_reason(check: RowCheck) -> str:
    return check.reason


def _quarantine_reason(check: RowCheck) -> str:
    """The reason code the row was quarantined with (MISSING_VALUE of MISSING_VALUE:field)."""
    return (check.quarantine_reason or "").partition(":")[0]


def _with_failures(outcome: CheckOutcome, failures: Iterable[Failure]) -> CheckOutcome:
    kept = tuple(sorted(failures, key=lambda f: f.source_row)[:MAX_CAPTURED_ROWS])
    return CheckOutcome(
        outcome.check, outcome.status, outcome.failing, outcome.denominator, outcome.error, kept
    )


def evaluate(
    pack: CheckPack,
    rows: SubmissionRows,
    engine: Engine,
    reference: ReferenceData,
    pads: HmacPads | None = None,
) -> list[CheckOutcome]:
    """Every check of the pack over the submission's rows, in the pack's order. ``pads`` is the
    key the rows were pseudonymised under (None if it is no longer available)."""
    with engine.session() as session:
        return _Run(pack, rows, engine, session, reference, pads).outcomes()


def summary(outcomes: Sequence[CheckOutcome]) -> dict[str, Any]:
    """Counts by status, for the audit log and logs: identifiers and counts only."""
    counts = {status.value: 0 for status in Status}
    for outcome in outcomes:
        counts[outcome.status.value] += 1
    return counts
