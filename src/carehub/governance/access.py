"""The governed reader: the only code path that opens the standard zone for anyone.

It asks the policy, records an audit event whether the read is allowed or refused, and hands back
a table expression over exactly the files that were current (or current at ``as_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from carehub.errors import PolicyDenied
from carehub.governance.actors import Actor
from carehub.governance.audit import AuditLog
from carehub.governance.policy import Decision, Level, Purpose, decide
from carehub.store.db import Database
from carehub.store.engines import Engine
from carehub.store.lake import Lake
from carehub.store.versions import PublishedVersion, current_versions


@dataclass(frozen=True)
class GovernedRead:
    """What a reader may query: ``source`` is None when nothing is published yet."""

    source: exp.Expr | None
    versions: tuple[PublishedVersion, ...]
    decision: Decision


class GovernedReader:
    def __init__(self, database: Database, lake: Lake, engine: Engine, audit: AuditLog) -> None:
        self.database = database
        self.lake = lake
        self.engine = engine
        self.audit = audit

    def authorise(
        self, actor: Actor, purpose: Purpose, dataset: str, level: Level, target: str
    ) -> Decision:
        """Decide, audit, and raise PolicyDenied on refusal (the refusal is audited too)."""
        decision = decide(actor, purpose, dataset, level)
        with self.database.session() as session:
            self.audit.record(
                session,
                actor,
                "read" if decision else "read.denied",
                target,
                purpose=purpose,
                detail={"dataset": dataset, "level": level, "agreement": decision.agreement},
            )
        if not decision:
            raise PolicyDenied(
                f"{actor} may not read {target}: {decision.reason}",
                hint="ask a data steward for access under a data sharing agreement",
            )
        return decision

    def read_standard(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        level: Level,
        as_of: datetime | None = None,
    ) -> GovernedRead:
        decision = decide(actor, purpose, dataset, level)
        with self.database.session() as session:
            versions = current_versions(session, dataset, as_of) if decision else []
            self.audit.record(
                session,
                actor,
                "read" if decision else "read.denied",
                f"standard/{dataset}",
                purpose=purpose,
                detail={
                    "level": level,
                    "agreement": decision.agreement,
                    "submissions": [v.submission_id for v in versions],
                    "as_of": as_of.isoformat() if as_of else None,
                },
            )
        if not decision:
            raise PolicyDenied(
                f"{actor} may not read standard/{dataset}: {decision.reason}",
                hint="ask a data steward for access under a data sharing agreement",
            )
        paths = [self.lake.resolve(v.standard_path) for v in versions]
        source = self.engine.scan_parquet(paths) if paths else None
        return GovernedRead(source=source, versions=tuple(versions), decision=decision)
