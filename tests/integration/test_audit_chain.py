"""The audit log detects edited, deleted and reordered events, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from carehub.errors import AuditChainBroken
from carehub.governance.actors import Actor, Role
from carehub.governance.audit import AuditLog
from carehub.store.db import Database
from carehub.store.tables import AuditEvent

ANALYST = Actor("ana", "HUB", Role.ANALYST)


@pytest.fixture
def audit(database_url: str) -> AuditLog:
    database = Database(database_url)
    database.upgrade()
    log = AuditLog(database)
    with database.session() as session:
        for n in range(5):
            log.record(
                session,
                ANALYST,
                "read",
                f"standard/ed_attendance#{n}",
                purpose="test",
                detail={"rows": n},
            )
    return log


def test_an_untouched_chain_verifies(audit: AuditLog) -> None:
    report = audit.verify()
    assert report.events == 5 and len(report.last_hash) == 64


def test_an_edited_event_is_detected(audit: AuditLog) -> None:
    with audit.database.session() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(detail='{"rows":999}'))
    with pytest.raises(AuditChainBroken, match=r"audit event 3: .*edited"):
        audit.verify()


def test_a_deleted_event_is_detected(audit: AuditLog) -> None:
    with audit.database.session() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    with pytest.raises(AuditChainBroken, match="audit event 3: expected sequence number 2"):
        audit.verify()


def test_reordered_events_are_detected(audit: AuditLog) -> None:
    with audit.database.session() as session:
        events = {e.seq: e for e in session.scalars(select(AuditEvent))}
        events[2].target, events[4].target = events[4].target, events[2].target
    with pytest.raises(AuditChainBroken, match="audit event 2"):
        audit.verify()


def test_a_rehashed_edit_still_breaks_the_next_link(audit: AuditLog) -> None:
    from carehub.governance.audit import event_hash

    with audit.database.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.seq == 2)).one()
        event.actor = "someone-else"
        event.hash = event_hash(bytes(event.prev_hash), event)
    with pytest.raises(AuditChainBroken, match="audit event 3: its link"):
        audit.verify()
