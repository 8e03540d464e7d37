"""The governed reader: the only code path that opens the standard zone for anyone.

Every read asks the policy (``policy.decide``) with the agreements as they stand today, records
an audit event whether it is allowed or refused (with the rows returned, never their values), and
builds a relation that holds only what the decision allows: the files of the permitted
organisations, the permitted fields, and no one on the national data opt-out list when the
purpose is a secondary use. The restriction is applied inside the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlglot import exp

from carehub.errors import PolicyDenied
from carehub.governance.actors import Actor
from carehub.governance.agreements import AgreementRegister
from carehub.governance.audit import AuditLog, DetailValue
from carehub.governance.policy import Decision, Level, Purpose, ReadRequest, decide
from carehub.model.agreements import ORG_CODE, PERIOD, PERSON_ID, VERSION_FIELDS
from carehub.model.datasets import get_dataset
from carehub.store.db import Database, now_utc
from carehub.store.engines import Engine
from carehub.store.lake import Lake
from carehub.store.versions import PublishedVersion, current_versions

OPT_OUT_DATASET = "national_opt_out"
LAKE_ORG, LAKE_PERIOD = "org", "period"  # the partition folders of the standard zone


@dataclass(frozen=True)
class GovernedRead:
    """What a reader may query: ``source`` is None when nothing it may read is published."""

    source: exp.Subquery | None  # FROM-able, like a table
    versions: tuple[PublishedVersion, ...]
    decision: Decision
    opt_out_submissions: tuple[int, ...] = ()


class GovernedReader:
    def __init__(
        self,
        database: Database,
        lake: Lake,
        engine: Engine,
        audit: AuditLog,
        register: AgreementRegister,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.database, self.lake, self.engine, self.audit = database, lake, engine, audit
        self.register = register
        self.today = today or (lambda: now_utc().date())

    def decide(self, request: ReadRequest) -> Decision:
        return decide(request, self.register.all(self.today()))

    def authorise(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        level: Level,
        target: str,
        fields: tuple[str, ...] | None = None,
    ) -> Decision:
        """Decide, audit, and raise PolicyDenied on refusal (the refusal is audited too)."""
        decision = self.decide(ReadRequest(actor, purpose, dataset, level, fields))
        self.record(actor, decision, purpose, target, {"dataset": dataset, "level": level})
        raise_if_denied(actor, target, decision)
        return decision

    def record(
        self,
        actor: Actor,
        decision: Decision,
        purpose: Purpose,
        target: str,
        detail: dict[str, DetailValue],
        action: str = "read",
    ) -> None:
        with self.database.session() as session:
            self.audit.record(
                session,
                actor,
                action if decision else f"{action}.denied",
                target,
                purpose=purpose,
                detail={**detail, "agreement": decision.agreement},
            )

    def read_standard(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        level: Level,
        *,
        fields: tuple[str, ...] | None = None,
        as_of: datetime | None = None,
        audit: bool = True,
    ) -> GovernedRead:
        """The restricted relation. With ``audit`` False the caller records the read itself,
        once it knows how many rows it returned."""
        decision = self.decide(ReadRequest(actor, purpose, dataset, level, fields))
        target = f"standard/{dataset}"
        if not decision:
            self.record(actor, decision, purpose, target, {"level": level})
            raise_if_denied(actor, target, decision)
        with self.database.session() as session:
            versions = [
                v for v in current_versions(session, dataset, as_of) if v.org_code in decision.orgs
            ]
            opt_outs = _latest(current_versions(session, OPT_OUT_DATASET, as_of))
        read = GovernedRead(
            source=self._relation(dataset, versions, decision, opt_outs),
            versions=tuple(versions),
            decision=decision,
            opt_out_submissions=tuple(v.submission_id for v in opt_outs)
            if decision.exclude_opt_outs
            else (),
        )
        if audit:
            self.record(actor, decision, purpose, target, read_detail(read, level, as_of))
        return read

    def _relation(
        self,
        dataset: str,
        versions: list[PublishedVersion],
        decision: Decision,
        opt_outs: list[PublishedVersion],
    ) -> exp.Subquery | None:
        if not versions:
            return None
        paths = [self.lake.resolve(v.standard_path) for v in versions]
        scan = exp.alias_(self.engine.scan_parquet(paths, partitions=True), "t")
        columns: list[exp.Expr] = [exp.column(LAKE_ORG, "t").as_(ORG_CODE, quoted=True)]
        columns.append(exp.column(LAKE_PERIOD, "t").as_(PERIOD, quoted=True))
        columns += [
            exp.column(name, "t", quoted=True)
            for name in decision.fields
            if name not in VERSION_FIELDS
        ]
        query = exp.select(*columns).from_(scan)
        if decision.exclude_opt_outs and opt_outs and _has_person_id(dataset):
            query = query.where(exp.not_(self._opted_out(opt_outs)))
        return query.subquery("governed")

    def _opted_out(self, opt_outs: list[PublishedVersion]) -> exp.Expr:
        paths = [self.lake.resolve(v.standard_path) for v in opt_outs]
        listed = exp.alias_(self.engine.scan_parquet(paths), "o")
        match = exp.EQ(
            this=exp.column(PERSON_ID, "o", quoted=True),
            expression=exp.column(PERSON_ID, "t", quoted=True),
        )
        return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(listed).where(match))


def read_detail(
    read: GovernedRead, level: Level, as_of: datetime | None, rows: int | None = None
) -> dict[str, DetailValue]:
    """What the audit log keeps of a read: identifiers and counts only."""
    return {
        "level": level,
        "orgs": sorted(read.decision.orgs),
        "fields": list(read.decision.fields),
        "submissions": [v.submission_id for v in read.versions],
        "opt_out_list": read.opt_out_submissions[0] if read.opt_out_submissions else None,
        "as_of": as_of.isoformat() if as_of else None,
        "rows": rows,
    }


def raise_if_denied(actor: Actor, target: str, decision: Decision) -> None:
    if not decision:
        raise PolicyDenied(
            f"{actor} may not read {target}: {decision.reason}",
            hint=f"ask a data steward for access; needed: {decision.needed}",
        )


def _latest(versions: list[PublishedVersion]) -> list[PublishedVersion]:
    """The opt-out list is a snapshot: its latest period is the one in force."""
    if not versions:
        return []
    last = max(v.period for v in versions)
    return [v for v in versions if v.period == last]


def _has_person_id(dataset: str) -> bool:
    return get_dataset(dataset).nhs_number_field is not None
