"""The audit log: append-only and hash-chained.

Each event's hash is SHA-256 over the previous event's hash and this event's canonical JSON, so
editing, deleting or reordering any event breaks every hash after it; `verify` finds the first
break. Details hold identifiers and counts only, never row values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carehub.errors import AuditChainBroken
from carehub.governance.actors import Actor
from carehub.store.db import Database, now_utc
from carehub.store.tables import AuditEvent

GENESIS_HASH = bytes(32)  # the "previous hash" of the first event
DetailValue = str | int | float | bool | None | list[int] | list[str]


def _canonical(
    seq: int, at: datetime, actor: str, action: str, target: str, purpose: str | None, detail: str
) -> bytes:
    fields = [seq, at.isoformat(), actor, action, target, purpose, detail]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()


def event_hash(prev_hash: bytes, event: AuditEvent) -> bytes:
    body = _canonical(
        event.seq, event.at, event.actor, event.action, event.target, event.purpose, event.detail
    )
    return hashlib.sha256(prev_hash + body).digest()


@dataclass(frozen=True)
class VerifyReport:
    events: int
    last_hash: str


class AuditLog:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self,
        session: Session,
        actor: Actor,
        action: str,
        target: str,
        *,
        purpose: str | None = None,
        detail: Mapping[str, DetailValue] | None = None,
    ) -> AuditEvent:
        """Append one event inside the caller's transaction (so it commits with the change)."""
        self.database.lock_for_append(session, AuditEvent.__tablename__)
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
        prev_hash = last.hash if last else GENESIS_HASH
        event = AuditEvent(
            seq=(last.seq + 1) if last else 1,
            at=now_utc().replace(microsecond=0),
            actor=actor.username,
            action=action,
            target=target,
            purpose=purpose,
            detail=json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":")),
            prev_hash=prev_hash,
        )
        event.hash = event_hash(prev_hash, event)
        session.add(event)
        session.flush()
        return event

    def verify(self) -> VerifyReport:
        """Walk the chain; raise AuditChainBroken at the first event that does not fit."""
        prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
        with self.database.session() as session:
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
                problem = _problem(event, prev_hash, expected_seq)
                if problem:
                    raise AuditChainBroken(f"audit event {event.seq}: {problem}")
                prev_hash, expected_seq, count = bytes(event.hash), event.seq + 1, count + 1
        return VerifyReport(events=count, last_hash=prev_hash.hex())


def _problem(event: AuditEvent, prev_hash: bytes, expected_seq: int) -> str | None:
    if event.seq != expected_seq:
        return f"expected sequence number {expected_seq} (an event was deleted or reordered)"
    if bytes(event.prev_hash) != prev_hash:
        return "its link to the previous event is broken (an earlier event was changed or removed)"
    if bytes(event.hash) != event_hash(prev_hash, event):
        return "its contents do not match its hash (the event was edited)"
    return None
