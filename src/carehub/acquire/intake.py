"""Receiving a file: land it in the raw zone, record the submission, queue its processing.

Receiving is quick and never looks inside the file: whatever happens later, the bytes the sender
sent are kept (content-addressed), with who sent them, when and for what. The same bytes sent
again for the same organisation and dataset are recognised; if they were rejected before (say the
feed mapping has since been fixed) they are queued again rather than refused as a duplicate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from carehub.errors import CarehubError, NotFound
from carehub.governance.actors import Actor
from carehub.governance.audit import AuditLog
from carehub.store.db import Database, now_utc
from carehub.store.jobs import JobInfo, JobQueue
from carehub.store.lake import Lake
from carehub.store.tables import Submission

SUBMISSION_JOB = "submission"
IN_PROGRESS = frozenset({"received", "validating"})
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._ ()+-]")
MAX_FILENAME = 255


def safe_filename(name: str) -> str:
    """The sender's file name, reduced to something safe to show and to put on disk."""
    base = Path(name.replace("\\", "/")).name.strip() or "upload"
    cleaned = UNSAFE_NAME_CHARACTERS.sub("_", base).lstrip(".") or "upload"
    return cleaned[-MAX_FILENAME:]


@dataclass(frozen=True)
class Received:
    submission: Submission
    job: JobInfo | None
    duplicate: bool


class Intake:
    def __init__(self, database: Database, lake: Lake, audit: AuditLog, queue: JobQueue) -> None:
        self.database, self.lake, self.audit, self.queue = database, lake, audit, queue

    def receive(
        self,
        actor: Actor,
        org: str,
        dataset: str,
        source: Path,
        *,
        filename: str,
        period: str | None,
        mapping_version: int,
        received_at: datetime | None = None,
    ) -> Received:
        sha256, raw = self.lake.receive(source)
        with self.database.session() as session:
            existing = session.scalars(
                select(Submission).where(
                    Submission.dataset == dataset,
                    Submission.org_code == org,
                    Submission.sha256 == sha256,
                )
            ).first()
            if existing is not None and existing.state != "rejected":
                self.audit.record(session, actor, "submission.duplicate", _target(existing))
                return Received(existing, self.queue.latest(session, existing.id), True)
            submission = existing or Submission(dataset=dataset, org_code=org, sha256=sha256)
            submission.state = "received"
            submission.period = period
            submission.filename = safe_filename(filename)
            submission.byte_size = raw.stat().st_size
            submission.mapping_version = mapping_version
            submission.received_at = received_at or now_utc()
            submission.submitted_by = actor.username
            submission.error = submission.hint = None
            submission.reasons = submission.warnings = None
            session.add(submission)
            session.flush()
            job = self.queue.add(
                session, SUBMISSION_JOB, actor.username, submission_id=submission.id
            )
            self.audit.record(
                session,
                actor,
                "submission.resubmitted" if existing else "submission.received",
                _target(submission),
                detail={
                    "dataset": dataset,
                    "org": org,
                    "period": period,
                    "sha256": sha256,
                    "bytes": submission.byte_size,
                    "job": job.id,
                    "backdated": received_at.isoformat() if received_at else None,
                },
            )
            return Received(submission, job, False)

    def get(self, submission_id: int) -> Submission:
        with self.database.session() as session:
            submission = session.get(Submission, submission_id)
            if submission is None:
                raise NotFound(
                    f"there is no submission {submission_id}",
                    hint="list submissions with `carehub submissions list`",
                )
            return submission

    def start(self, submission_id: int) -> Submission:
        with self.database.session() as session:
            submission = session.get_one(Submission, submission_id)
            submission.state = "validating"
            return submission

    def reject(self, actor: Actor, submission_id: int, error: CarehubError) -> None:
        """The file broke the data contract: say why, keep the bytes, publish nothing."""
        with self.database.session() as session:
            submission = session.get_one(Submission, submission_id)
            submission.state = "rejected"
            submission.error, submission.hint = error.message, error.hint
            self.audit.record(
                session,
                actor,
                "submission.rejected",
                _target(submission),
                detail={"error": type(error).__name__},
            )

    def warn(self, submission_id: int, warnings: tuple[str, ...]) -> None:
        """Keep what the sender should know about an accepted file with its receipt."""
        if warnings:
            with self.database.session() as session:
                session.get_one(Submission, submission_id).warnings = json.dumps(list(warnings))

    def stopped(self, submission_id: int) -> None:
        """Its job stopped without a verdict: the submission waits for a retry."""
        with self.database.session() as session:
            submission = session.get_one(Submission, submission_id)
            if submission.state in IN_PROGRESS:
                submission.state = "received"


def _target(submission: Submission) -> str:
    return f"submission/{submission.id}"
