"""Run a dataset's check pack over one accepted submission and keep the results.

The checks read the files the hub itself wrote for that submission: its standard zone file (the
published rows) and its quarantine file (row numbers and reason codes). This is part of
processing the sender's own submission, like standardisation, not a read of the lake for a
user: nothing leaves but counts, row numbers, field names and reason codes, which the sender and
the stewards may see, as they see the submission's receipt. Reads of the lake for users still go
through ``governance.access`` only.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from carehub.errors import Conflict, NotFound
from carehub.governance.actors import Actor
from carehub.governance.audit import AuditLog
from carehub.model.checks import CheckPack, get_check_pack
from carehub.quality.coverage import ACCEPTED_STATES
from carehub.quality.evaluation import Failure, SubmissionRows, evaluate, summary
from carehub.quality.reference import ReferenceData
from carehub.quality.results import (
    CheckRunReport,
    latest_run_id,
    load_run,
    run_failures,
    store_run,
)
from carehub.store.db import Database, now_utc
from carehub.store.engines import Engine, HmacPads
from carehub.store.lake import Lake
from carehub.store.tables import Submission


class QualityRunner:
    def __init__(
        self,
        database: Database,
        lake: Lake,
        engine: Engine,
        audit: AuditLog,
        reference: ReferenceData,
    ) -> None:
        self.database, self.lake, self.engine, self.audit = database, lake, engine, audit
        self.reference = reference

    def run(
        self,
        actor: Actor,
        submission_id: int,
        *,
        pads: HmacPads | None,
        due: date | None = None,
        pack: CheckPack | None = None,
    ) -> CheckRunReport:
        """Evaluate the dataset's pack (or ``pack``) and record the run, audited with counts.
        ``pads`` is the current pseudonymisation key: used only if the rows were pseudonymised
        under it (to recognise placeholder NHS numbers)."""
        rows, key_id = self.submission_rows(submission_id, due)
        pack = pack or get_check_pack(rows.dataset)
        usable = pads if pads is not None and key_id in (None, pads.key_id) else None
        outcomes = evaluate(pack, rows, self.engine, self.reference, usable)
        with self.database.session() as session:
            run_id = store_run(
                session, rows, pack, outcomes, self.engine.name, actor.username, now_utc()
            )
            self.audit.record(
                session,
                actor,
                "quality.checked",
                f"submission/{submission_id}",
                detail={"run": run_id, "dataset": rows.dataset, **summary(outcomes)},
            )
            return load_run(session, run_id)

    def submission_rows(
        self, submission_id: int, due: date | None
    ) -> tuple[SubmissionRows, str | None]:
        """What a run needs to know of an accepted submission, and its key's id."""
        with self.database.session() as session:
            submission = session.get(Submission, submission_id)
            if submission is None:
                raise NotFound(f"there is no submission {submission_id}")
            if submission.state not in ACCEPTED_STATES or submission.standard_path is None:
                raise Conflict(
                    f"submission {submission_id} has no published rows to check "
                    f"(it is {submission.state})",
                    hint="checks run on accepted submissions; see `carehub submissions list`",
                )
            quarantine = submission.quarantine_path
            rows = SubmissionRows(
                submission_id=submission.id,
                dataset=submission.dataset,
                org_code=submission.org_code,
                period=submission.period,
                received_at=submission.received_at,
                rows_published=submission.rows_published or 0,
                rows_quarantined=submission.rows_quarantined or 0,
                standard=self.lake.resolve(submission.standard_path),
                quarantine=self.lake.resolve(quarantine) if quarantine else None,
                due=due,
                history=self._history(submission),
            )
            return rows, submission.key_id

    def _history(self, submission: Submission) -> tuple[int, ...]:
        """Rows read of the provider's accepted submissions for earlier periods of the same
        dataset, the latest version of each period, latest period first."""
        if submission.period is None:
            return ()
        query = (
            select(Submission.period, Submission.rows_read)
            .where(
                Submission.dataset == submission.dataset,
                Submission.org_code == submission.org_code,
                Submission.state.in_(ACCEPTED_STATES),
                Submission.period < submission.period,
            )
            .order_by(Submission.period.desc(), Submission.id.desc())
        )
        with self.database.session() as session:
            latest: dict[str, int] = {}
            for period, rows_read in session.execute(query):
                if period is not None and period not in latest:
                    latest[period] = rows_read or 0
        return tuple(latest.values())

    def latest(self, submission_id: int) -> CheckRunReport | None:
        with self.database.session() as session:
            run_id = latest_run_id(session, submission_id)
            return load_run(session, run_id) if run_id is not None else None

    def failures(
        self, run_id: int, check_id: str | None = None, limit: int | None = None
    ) -> list[tuple[str, Failure]]:
        with self.database.session() as session:
            return run_failures(session, run_id, check_id, limit)
