"""The job queue on SQLite and PostgreSQL: order, leases, give-up, retries, concurrent workers,
and SKIP LOCKED on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select, text

from carehub.errors import Conflict
from carehub.store.db import Database
from carehub.store.jobs import JobQueue
from carehub.store.tables import Job


@pytest.fixture
def database(database_url: str) -> Database:
    database = Database(database_url)
    database.upgrade()
    return database


def test_jobs_are_claimed_oldest_first_and_once(database: Database) -> None:
    queue = JobQueue(database)
    ids = [queue.enqueue("test", "someone").id for _ in range(3)]
    claimed = [queue.claim("w1"), queue.claim("w2"), queue.claim("w1")]
    assert [j.id for j in claimed if j] == ids
    assert all(j is not None and j.state == "running" and j.attempts == 1 for j in claimed)
    assert queue.claim("w3") is None
    queue.finish(ids[0], "w1")
    queue.finish(ids[1], "w2", error="it broke")
    assert queue.get(ids[0]).state == "done" and queue.get(ids[0]).progress == 1.0
    assert queue.get(ids[1]).state == "failed" and queue.get(ids[1]).error == "it broke"


def test_progress_is_recorded_only_by_the_worker_holding_the_job(database: Database) -> None:
    queue = JobQueue(database)
    job = queue.enqueue("test", "someone")
    queue.claim("w1")
    queue.report(job.id, "w1", 0.4, "checking rows")
    queue.report(job.id, "intruder", 0.9, "nonsense")
    queue.finish(job.id, "intruder")
    seen = queue.get(job.id)
    assert (seen.state, seen.progress, seen.stage) == ("running", 0.4, "checking rows")


def test_a_job_whose_worker_died_is_taken_up_again_after_its_lease(database: Database) -> None:
    queue = JobQueue(database, lease_seconds=0.3)
    job = queue.enqueue("test", "someone")
    assert queue.claim("dead-worker") is not None
    assert queue.claim("w2") is None  # the lease still runs
    time.sleep(0.4)
    again = queue.claim("w2")
    assert again is not None and again.id == job.id and again.attempts == 2
    queue.finish(job.id, "dead-worker")  # a zombie's late word is ignored
    assert queue.get(job.id).state == "running" and queue.get(job.id).worker == "w2"


def test_a_heartbeat_keeps_a_long_job(database: Database) -> None:
    queue = JobQueue(database, lease_seconds=0.3)
    job = queue.enqueue("test", "someone")
    assert queue.claim("w1") is not None
    for _ in range(4):
        time.sleep(0.15)
        queue.heartbeat(job.id, "w1")
        assert queue.claim("w2") is None


def test_a_job_that_keeps_killing_its_worker_is_given_up(database: Database) -> None:
    queue = JobQueue(database, lease_seconds=0.05, max_attempts=2)
    job = queue.enqueue("test", "someone")
    for worker in ("w1", "w2"):
        assert queue.claim(worker) is not None
        time.sleep(0.1)
    assert queue.claim("w3") is None
    failed = queue.get(job.id)
    assert failed.state == "failed" and "gave up after 2 attempts" in (failed.error or "")
    retried = queue.retry(job.id)
    assert (retried.state, retried.attempts) == ("queued", 0)
    with pytest.raises(Conflict, match="nothing to retry"):
        queue.retry(job.id)


def test_several_workers_share_the_queue_and_run_each_job_once(database: Database) -> None:
    queue = JobQueue(database)
    ids = {queue.enqueue("test", "someone").id for _ in range(40)}
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    def work(name: str) -> None:
        while (job := queue.claim(name)) is not None or _waiting(database):
            if job is None:
                continue
            with lock:
                ran[job.id] += 1
            queue.finish(job.id, name)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(ran) == ids and set(ran.values()) == {1}
    with database.session() as session:
        states = set(session.scalars(select(Job.state)))
    assert states == {"done"}


def _waiting(database: Database) -> bool:
    with database.session() as session:
        return session.scalars(select(Job.id).where(Job.state == "queued")).first() is not None


@pytest.mark.postgres
def test_on_postgresql_a_locked_job_is_skipped_not_waited_for(postgres_url: str) -> None:
    database = Database(postgres_url)
    database.upgrade()
    queue = JobQueue(database)
    first, second = queue.enqueue("test", "a"), queue.enqueue("test", "b")
    with database.engine.connect() as holder:
        transaction = holder.begin()
        holder.execute(text("SELECT id FROM jobs WHERE id = :id FOR UPDATE"), {"id": first.id})
        started = time.monotonic()
        claimed = queue.claim("w2")  # would block until the holder commits without SKIP LOCKED
        waited = time.monotonic() - started
        transaction.rollback()
    assert claimed is not None and claimed.id == second.id
    assert waited < 5
    assert queue.claim("w3") is not None  # the first job, once its lock is gone
    database.dispose()
