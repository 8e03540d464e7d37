"""Rotating the pseudonymisation key: which current versions still carry an older key, the jobs
that re-pseudonymise them, and when a rotation is complete.

``person_id`` is an HMAC of the NHS number under the deployment's key, so people link across
datasets only among versions made under the same key. After `carehub keys rotate` writes a new
key, a job per current version runs its submission again from the raw file under the new key and
publishes the result as a new version of the same submission (``Standardiser.republish``). Until
the last one is done, linkage mixes keys and the rotation is incomplete. The audit log records the
start (``keys.rotate.started``), any resumption and, once, the completion of each rotation, with
key ids only (``store/keys.py``), never key material.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carehub.governance.actors import Actor
from carehub.governance.audit import AuditLog
from carehub.store.db import Database
from carehub.store.jobs import JobQueue, JobState
from carehub.store.tables import AuditEvent
from carehub.store.versions import current_not_under, current_versions_by_key

REPSEUDONYMISE_JOB = "repseudonymise"
ROTATION_STARTED = "keys.rotate.started"
ROTATION_RESUMED = "keys.rotate.resumed"
ROTATION_COMPLETED = "keys.rotate.completed"
ROTATION_EVENTS = (ROTATION_STARTED, ROTATION_RESUMED, ROTATION_COMPLETED)
UNRECORDED = "unrecorded"  # versions published before key ids were recorded (migration 0004)


def key_target(key_id: str) -> str:
    """The audit target of a key: its id, which is safe to record."""
    return f"key/{key_id}"


@dataclass(frozen=True)
class RotationState:
    """How far the current versions are from all carrying the current key."""

    key_id: str
    versions: int  # current published versions, of every dataset
    versions_by_key: dict[str, int]  # key id (or "unrecorded") -> current versions made under it
    stale: int  # current versions not made under the current key
    waiting: int  # ... whose re-pseudonymisation job is queued or running
    failed: int  # ... whose latest re-pseudonymisation job failed
    unqueued: int  # ... with no job at all: `carehub keys rotate --resume` queues them
    complete: bool


@dataclass(frozen=True)
class RetiredKey:
    file: str
    mode: str
    owner_only: bool


@dataclass(frozen=True)
class KeyStatus:
    """What `carehub keys status` shows: never the key, only its id and its file's state."""

    key_id: str
    key_file: Path
    mode: str
    owner_only: bool
    rotation: RotationState
    retired: tuple[RetiredKey, ...]


@dataclass(frozen=True)
class RotationReport:
    """What `carehub keys rotate` did."""

    key_id: str
    previous_key_id: str | None  # None when an earlier rotation was resumed
    retired: Path | None  # the old key's file, for the operator to destroy once complete
    jobs_queued: int
    complete: bool  # nothing was left to re-pseudonymise


def mode_text(mode: int) -> str:
    return f"{mode:04o}"


class Rotations:
    def __init__(self, database: Database, audit: AuditLog, jobs: JobQueue) -> None:
        self.database, self.audit, self.jobs = database, audit, jobs

    def queue(self, session: Session, requested_by: str, key_id: str) -> int:
        """Queue a job for each current version not made under ``key_id`` that has none waiting,
        in the caller's transaction; return how many were queued."""
        latest = self.jobs.latest_by_submission(session, REPSEUDONYMISE_JOB)
        queued = 0
        for submission_id in current_not_under(session, key_id):
            job = latest.get(submission_id)
            if job is not None and not job.finished:
                continue
            self.jobs.add(
                session,
                REPSEUDONYMISE_JOB,
                requested_by,
                submission_id=submission_id,
                payload={"key_id": key_id},
            )
            queued += 1
        return queued

    def state(self, key_id: str) -> RotationState:
        with self.database.session() as session:
            by_key = current_versions_by_key(session)
            stale = current_not_under(session, key_id)
            latest = self.jobs.latest_by_submission(session, REPSEUDONYMISE_JOB)
        jobs = [latest.get(submission_id) for submission_id in stale]
        waiting = sum(1 for job in jobs if job is not None and not job.finished)
        failed = sum(1 for job in jobs if job is not None and job.state == JobState.FAILED)
        return RotationState(
            key_id=key_id,
            versions=sum(by_key.values()),
            versions_by_key={key or UNRECORDED: count for key, count in sorted_keys(by_key)},
            stale=len(stale),
            waiting=waiting,
            failed=failed,
            unqueued=len(stale) - waiting - failed,
            complete=not stale,
        )

    def note_if_complete(self, actor: Actor, key_id: str) -> bool:
        """Record that the rotation to ``key_id`` is complete, once, when every current version
        carries it and no re-pseudonymisation job is left. True if recorded now."""
        with self.database.session() as session:
            if self.jobs.unfinished(session, REPSEUDONYMISE_JOB):
                return False
            # Taken before looking, so that two workers finishing together record it once.
            self.database.lock_for_append(session, AuditEvent.__tablename__)
            last = session.scalars(
                select(AuditEvent.action)
                .where(
                    AuditEvent.action.in_(ROTATION_EVENTS),
                    AuditEvent.target == key_target(key_id),
                )
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
            if last in (None, ROTATION_COMPLETED) or current_not_under(session, key_id):
                return False
            versions = sum(current_versions_by_key(session).values())
            self.audit.record(
                session,
                actor,
                ROTATION_COMPLETED,
                key_target(key_id),
                detail={"versions": versions},
            )
            return True


def sorted_keys(by_key: dict[str | None, int]) -> list[tuple[str | None, int]]:
    """Most versions first; unrecorded keys last."""
    return sorted(by_key.items(), key=lambda item: (item[0] is None, -item[1], item[0] or ""))
