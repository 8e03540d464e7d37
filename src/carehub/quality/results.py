"""Check runs in the metadata database: one ``check_runs`` row per run of a pack over a
submission, a ``check_results`` row per check, and the first failing rows of each check in
``check_failures`` (row number, field, reason code; never a value)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from carehub.model.checks import CheckPack
from carehub.quality.evaluation import CheckOutcome, Failure, Status, SubmissionRows
from carehub.store.tables import CheckFailure, CheckResult, CheckRun, Submission

INSERT_BATCH = 5_000  # failing rows written per statement


@dataclass(frozen=True)
class CheckResultView:
    """A check's stored outcome."""

    check_id: str
    category: str
    context: str
    severity: str
    rule: str
    fields: tuple[str, ...]
    status: str
    failing: int | None
    denominator: int | None
    failing_pct: float | None
    tolerated_pct: float
    captured: int  # failing rows kept (the first ones, up to the cap)
    error: str | None


@dataclass(frozen=True)
class CheckRunReport:
    run_id: int
    submission_id: int
    dataset: str
    org_code: str
    period: str | None
    run_at: datetime
    run_by: str
    rows_checked: int
    rows_quarantined: int
    results: tuple[CheckResultView, ...]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def pack_sha256(pack: CheckPack) -> str:
    """The definitions a run used, as a digest of the pack's canonical JSON."""
    return hashlib.sha256(pack.model_dump_json(by_alias=True).encode()).hexdigest()


def _result_row(run_id: int, outcome: CheckOutcome) -> CheckResult:
    check = outcome.check
    return CheckResult(
        run_id=run_id,
        check_id=check.id,
        category=check.category,
        context=check.context,
        severity=check.severity,
        rule=check.rule.kind,
        fields=",".join(check.rule.fields()),
        status=outcome.status,
        failing=outcome.failing,
        denominator=outcome.denominator,
        failing_pct=outcome.failing_pct,
        tolerated_pct=check.tolerated_failure_pct,
        captured=len(outcome.failures),
        error=outcome.error,
    )


def store_run(
    session: Session,
    rows: SubmissionRows,
    pack: CheckPack,
    outcomes: Sequence[CheckOutcome],
    engine: str,
    run_by: str,
    at: datetime,
) -> int:
    """Record a run with its results and failing rows; returns the run's id."""
    run = CheckRun(
        submission_id=rows.submission_id,
        dataset=rows.dataset,
        org_code=rows.org_code,
        period=rows.period,
        pack_sha256=pack_sha256(pack),
        engine=engine,
        run_at=at,
        run_by=run_by,
        rows_checked=rows.rows_published,
        rows_quarantined=rows.rows_quarantined,
        checks_failed=sum(1 for o in outcomes if o.status is Status.FAILED),
        checks_errored=sum(1 for o in outcomes if o.status is Status.ERROR),
    )
    session.add(run)
    session.flush()
    session.add_all([_result_row(run.id, o) for o in outcomes])
    failures = [
        {
            "run_id": run.id,
            "check_id": o.check.id,
            "source_row": f.source_row,
            "field": f.field,
            "reason": f.reason,
        }
        for o in outcomes
        for f in o.failures
    ]
    for start in range(0, len(failures), INSERT_BATCH):
        session.execute(insert(CheckFailure), failures[start : start + INSERT_BATCH])
    return run.id


def _view(result: CheckResult) -> CheckResultView:
    return CheckResultView(
        check_id=result.check_id,
        category=result.category,
        context=result.context,
        severity=result.severity,
        rule=result.rule,
        fields=tuple(f for f in result.fields.split(",") if f),
        status=result.status,
        failing=result.failing,
        denominator=result.denominator,
        failing_pct=result.failing_pct,
        tolerated_pct=result.tolerated_pct,
        captured=result.captured,
        error=result.error,
    )


def load_run(session: Session, run_id: int) -> CheckRunReport:
    run = session.get_one(CheckRun, run_id)
    results = session.scalars(
        select(CheckResult).where(CheckResult.run_id == run_id).order_by(CheckResult.id)
    )
    return CheckRunReport(
        run_id=run.id,
        submission_id=run.submission_id,
        dataset=run.dataset,
        org_code=run.org_code,
        period=run.period,
        run_at=run.run_at,
        run_by=run.run_by,
        rows_checked=run.rows_checked,
        rows_quarantined=run.rows_quarantined,
        results=tuple(_view(r) for r in results),
    )


def latest_run_id(session: Session, submission_id: int) -> int | None:
    query = (
        select(CheckRun.id)
        .where(CheckRun.submission_id == submission_id)
        .order_by(CheckRun.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def run_failures(
    session: Session, run_id: int, check_id: str | None = None, limit: int | None = None
) -> list[tuple[str, Failure]]:
    """The kept failing rows of a run (of one check, if given): (check id, failure), by check
    and row number."""
    query = select(CheckFailure).where(CheckFailure.run_id == run_id)
    if check_id is not None:
        query = query.where(CheckFailure.check_id == check_id)
    query = query.order_by(CheckFailure.check_id, CheckFailure.source_row).limit(limit)
    return [
        (row.check_id, Failure(row.source_row, row.field, row.reason))
        for row in session.scalars(query)
    ]


def previous_checked(session: Session, submission: Submission) -> int | None:
    """The provider's checked submission of the same dataset received just before this one
    (whatever its period), for a scorecard's new, resolved and persisting problems."""
    query = (
        select(Submission.id)
        .join(CheckRun, CheckRun.submission_id == Submission.id)
        .where(
            Submission.dataset == submission.dataset,
            Submission.org_code == submission.org_code,
            Submission.id != submission.id,
            (Submission.received_at < submission.received_at)
            | (
                (Submission.received_at == submission.received_at) & (Submission.id < submission.id)
            ),
        )
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def published_submissions(
    session: Session, dataset: str, org_code: str | None = None, period: str | None = None
) -> list[Submission]:
    """The current (published) submission of each provider and period of a dataset."""
    query = select(Submission).where(
        Submission.dataset == dataset,
        Submission.state == "published",
        Submission.period.is_not(None),
    )
    if org_code is not None:
        query = query.where(Submission.org_code == org_code)
    if period is not None:
        query = query.where(Submission.period == period)
    return list(session.scalars(query.order_by(Submission.org_code, Submission.period)))
