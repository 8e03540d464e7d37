"""The job queue: work that outlives a request, kept in the metadata database.

A job is claimed by one worker at a time. On PostgreSQL several ``carehub worker`` processes share
the queue: the claim reads the next job with ``FOR UPDATE SKIP LOCKED``, so two workers never wait
for each other or take the same job. On SQLite writers are serialised by the database itself and
the claim is a conditional update. A running job's worker refreshes its heartbeat; a job whose
heartbeat is older than the lease (its worker was killed, or the server restarted) is claimed
again, up to ``max_attempts`` times.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from carehub.errors import Conflict, NotFound
from carehub.store.db import Database, now_utc
from carehub.store.tables import Job

DEFAULT_LEASE_SECONDS = 60  # a worker that has not beaten its heart for this long is presumed dead
DEFAULT_MAX_ATTEMPTS = 3  # a job that kills its worker three times needs a person to look at it
PROGRESS_MIN_INTERVAL_SECONDS = 0.5  # progress writes are throttled: they are not free


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINISHED = frozenset({JobState.DONE, JobState.FAILED})


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    state: str
    progress: float
    stage: str
    attempts: int
    submission_id: int | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker: str | None
    error: str | None
    payload: dict[str, Any]

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @classmethod
    def of(cls, job: Job) -> JobInfo:
        return cls(
            id=job.id,
            kind=job.kind,
            state=job.state,
            progress=job.progress,
            stage=job.stage,
            attempts=job.attempts,
            submission_id=job.submission_id,
            requested_by=job.requested_by,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            worker=job.worker,
            error=job.error,
            payload=json.loads(job.payload or "{}"),
        )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


class JobQueue:
    def __init__(
        self,
        database: Database,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.database = database
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts

    def enqueue(
        self,
        kind: str,
        requested_by: str,
        *,
        submission_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> JobInfo:
        with self.database.session() as session:
            return self.add(
                session, kind, requested_by, submission_id=submission_id, payload=payload
            )

    def add(
        self,
        session: Session,
        kind: str,
        requested_by: str,
        *,
        submission_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> JobInfo:
        """Queue a job in the caller's transaction (so it exists exactly when its cause does)."""
        job = Job(
            kind=kind,
            state=JobState.QUEUED,
            progress=0.0,
            stage="queued",
            attempts=0,
            submission_id=submission_id,
            requested_by=requested_by,
            created_at=now_utc(),
            payload=json.dumps(payload or {}, sort_keys=True),
        )
        session.add(job)
        session.flush()
        return JobInfo.of(job)

    def claim(self, worker: str, job_id: int | None = None) -> JobInfo | None:
        """Take the oldest claimable job (or the given one): queued, or running on a dead lease."""
        now = now_utc()
        claimable = or_(
            Job.state == JobState.QUEUED,
            (Job.state == JobState.RUNNING) & (Job.heartbeat_at < now - self.lease),
        )
        with self.database.session() as session:
            query = select(Job.id, Job.attempts).where(claimable).order_by(Job.id).limit(1)
            if job_id is not None:
                query = query.where(Job.id == job_id)
            candidate = session.execute(query.with_for_update(skip_locked=True)).first()
            if candidate is None:
                return None
            if candidate.attempts >= self.max_attempts:
                self._give_up(session, candidate.id, now)
                return None
            taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(Job)
                .where(Job.id == candidate.id, claimable)
                .values(
                    state=JobState.RUNNING,
                    attempts=Job.attempts + 1,
                    worker=worker,
                    started_at=now,
                    heartbeat_at=now,
                    stage="started",
                    error=None,
                )
            )
            if taken.rowcount != 1:  # another worker won the race (SQLite has no SKIP LOCKED)
                return None
            return JobInfo.of(session.get_one(Job, candidate.id))

    def _give_up(self, session: Session, job_id: int, now: datetime) -> None:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                state=JobState.FAILED,
                finished_at=now,
                error=f"gave up after {self.max_attempts} attempts: the worker stopped each time",
            )
        )

    def heartbeat(self, job_id: int, worker: str) -> None:
        with self.database.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == worker, Job.state == JobState.RUNNING)
                .values(heartbeat_at=now_utc())
            )

    def report(self, job_id: int, worker: str, progress: float, stage: str) -> None:
        with self.database.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == worker, Job.state == JobState.RUNNING)
                .values(progress=max(0.0, min(1.0, progress)), stage=stage, heartbeat_at=now_utc())
            )

    def finish(self, job_id: int, worker: str, *, error: str | None = None) -> None:
        """Done (``error`` None) or failed. Only the worker holding the job may finish it."""
        values: dict[str, Any] = {"finished_at": now_utc(), "error": error}
        if error is None:
            values.update(state=JobState.DONE, progress=1.0, stage="finished")
        else:
            values.update(state=JobState.FAILED, stage="failed")
        with self.database.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == worker, Job.state == JobState.RUNNING)
                .values(**values)
            )

    def retry(self, job_id: int) -> JobInfo:
        """Queue a failed job again (a person has looked at why it failed)."""
        with self.database.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise NotFound(
                    f"there is no job {job_id}", hint="list jobs with `carehub jobs list`"
                )
            if job.state != JobState.FAILED:
                raise Conflict(
                    f"job {job_id} is {job.state}, so there is nothing to retry",
                    hint="only failed jobs are retried; a stopped running job is retried "
                    "automatically when its lease runs out",
                )
            job.state, job.attempts, job.progress, job.stage = JobState.QUEUED, 0, 0.0, "queued"
            job.finished_at = job.worker = None
            return JobInfo.of(job)

    def get(self, job_id: int) -> JobInfo:
        with self.database.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise NotFound(
                    f"there is no job {job_id}", hint="list jobs with `carehub jobs list`"
                )
            return JobInfo.of(job)

    def wait(self, job_id: int, poll_seconds: float = 0.25) -> JobInfo:
        """Block until a job (run by another worker) has finished."""
        while not (job := self.get(job_id)).finished:
            time.sleep(poll_seconds)
        return job

    def for_submission(self, submission_id: int) -> JobInfo | None:
        with self.database.session() as session:
            return self.latest(session, submission_id)

    def latest(self, session: Session, submission_id: int) -> JobInfo | None:
        query = select(Job).where(Job.submission_id == submission_id).order_by(Job.id.desc())
        job = session.scalars(query.limit(1)).first()
        return JobInfo.of(job) if job else None

    def latest_by_submission(self, session: Session, kind: str) -> dict[int, JobInfo]:
        """The latest job of ``kind`` of every submission that has one."""
        query = select(Job).where(Job.kind == kind, Job.submission_id.is_not(None))
        return {
            job.submission_id: JobInfo.of(job)
            for job in session.scalars(query.order_by(Job.id))
            if job.submission_id is not None
        }

    def unfinished(self, session: Session, kind: str) -> int:
        """How many jobs of ``kind`` are queued or running."""
        query = select(func.count()).where(
            Job.kind == kind, Job.state.in_([JobState.QUEUED, JobState.RUNNING])
        )
        return session.scalar(query) or 0

    def recent(self, limit: int = 50) -> list[JobInfo]:
        with self.database.session() as session:
            jobs = session.scalars(select(Job).order_by(Job.id.desc()).limit(limit))
            return [JobInfo.of(j) for j in jobs]


class Progress:
    """What a running job calls to say how far it has got; it also keeps the heartbeat fresh."""

    def __init__(self, queue: JobQueue, job_id: int, worker: str) -> None:
        self.queue, self.job_id, self.worker = queue, job_id, worker
        self._last = 0.0
        self._stage = ""
        self._stop = threading.Event()

    def __call__(self, fraction: float, stage: str) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._last < PROGRESS_MIN_INTERVAL_SECONDS:
            return  # a new stage is always written; more of the same at most twice a second
        self._last, self._stage = now, stage
        self.queue.report(self.job_id, self.worker, fraction, stage)

    @contextmanager
    def beating(self) -> Iterator[Progress]:
        """Beat the heart from a thread while one long engine statement runs."""
        interval = max(self.queue.lease.total_seconds() / 4, 0.05)
        thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.queue.heartbeat(self.job_id, self.worker)
