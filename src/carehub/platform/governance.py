"""Governance use cases: the agreements register, access decisions explained, governed reads of
rows and counts, access requests and the public transparency summary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from carehub.errors import Conflict, NotFound, UserError
from carehub.governance.actors import SYSTEM_ORG, Actor, Role
from carehub.governance.agreements import AgreementState, State
from carehub.governance.outputs import CountsResult, Outputs, RowsResult
from carehub.governance.policy import Decision, Level, Purpose, ReadRequest, decide
from carehub.model.agreements import AgreementSpec, DatasetGrant
from carehub.model.datasets import dataset_names
from carehub.model.yaml_loading import load_model_file
from carehub.platform.base import STEWARDING_ROLES, PlatformBase, require_role
from carehub.store.db import now_utc
from carehub.store.tables import AccessRequest, AuditEvent, Organisation

USE_ACTIONS = ("read", "export")  # audited actions counted as uses on the transparency page


@dataclass(frozen=True)
class AccessLine:
    dataset: str
    purpose: Purpose
    level: Level
    decision: Decision


@dataclass(frozen=True)
class RequestInfo:
    id: int
    requested_by: str
    org_code: str
    dataset: str
    provider: str
    purpose: str
    level: str
    fields: tuple[str, ...] | None
    justification: str
    state: str
    created_at: datetime
    decided_by: str | None
    decision_note: str | None
    agreement_id: str | None


@dataclass(frozen=True)
class TransparencyEntry:
    agreement: AgreementState
    party_names: dict[str, str]
    uses_by_month: dict[str, int]


def _request_info(row: AccessRequest) -> RequestInfo:
    return RequestInfo(
        row.id,
        row.requested_by,
        row.org_code,
        row.dataset,
        row.provider,
        row.purpose,
        row.level,
        tuple(json.loads(row.fields)) if row.fields else None,
        row.justification,
        row.state,
        row.created_at,
        row.decided_by,
        row.decision_note,
        row.agreement_id,
    )


class GovernanceMixin(PlatformBase):
    def today(self) -> date:
        return self.reader.today()

    # --- the agreements register -----------------------------------------------------------

    def load_agreement(self, actor: Actor, path: Path) -> AgreementSpec:
        """Add an agreement from its YAML text, or amend the draft of the same id."""
        spec = load_model_file(AgreementSpec, path)
        try:
            self.register.get(spec.id, self.today())
        except NotFound:
            self.register.add(actor, spec)
        else:
            self.register.amend(actor, spec)
        return spec

    def agreements(self) -> list[AgreementState]:
        return self.register.all(self.today())

    def agreement(self, agreement_id: str) -> AgreementState:
        return self.register.get(agreement_id, self.today())

    def agreements_for_dataset(self, dataset: str) -> list[AgreementState]:
        return self.register.covering(dataset, self.today())

    def agreements_for_org(self, org: str) -> list[AgreementState]:
        self._require_organisation(org)
        return self.register.involving(org, self.today())

    def send_agreement(self, actor: Actor, agreement_id: str) -> None:
        self.register.submit_for_signature(actor, agreement_id)

    def sign_agreement(self, actor: Actor, agreement_id: str, org: str, signatory: str) -> State:
        return self.register.sign(actor, agreement_id, org, signatory)

    def review_agreement(self, actor: Actor, agreement_id: str) -> None:
        self.register.start_review(actor, agreement_id)

    def complete_review(self, actor: Actor, agreement_id: str, next_review: date) -> None:
        self.register.complete_review(actor, agreement_id, next_review)

    def terminate_agreement(self, actor: Actor, agreement_id: str, reason: str) -> None:
        self.register.terminate(actor, agreement_id, reason)

    def adopt_agreement(self, actor: Actor, path: Path, signatory: str) -> AgreementSpec:
        """Bring an agreement already signed outside carehub into the register, in force."""
        spec = self.load_agreement(actor, path)
        self.record_paper_signatures(actor, spec.id, signatory)
        return spec

    def record_paper_signatures(self, actor: Actor, agreement_id: str, signatory: str) -> State:
        """Send a draft for signature and record every outstanding party's signature, made on
        paper outside carehub (a hub admin only): how an existing agreement joins the register."""
        current = self.agreement(agreement_id)
        if current.state is State.DRAFT:
            self.send_agreement(actor, agreement_id)
        state = current.state
        for org in current.awaiting:
            state = self.sign_agreement(actor, agreement_id, org, signatory)
        return state

    # --- access decisions ------------------------------------------------------------------

    def explain_access(
        self, actor: Actor, username: str, dataset: str | None = None
    ) -> list[AccessLine]:
        """Every (dataset, purpose, level) decision for ``username``: yourself, or anyone if
        you are a steward or an admin."""
        if username != actor.username:
            require_role(actor, STEWARDING_ROLES, "see another person's access")
        subject = self.actor(username)
        datasets = [dataset] if dataset else list(dataset_names())
        agreements = self.agreements()
        return [
            AccessLine(
                name, purpose, level, decide(ReadRequest(subject, purpose, name, level), agreements)
            )
            for name in datasets
            for purpose in Purpose
            for level in Level
        ]

    # --- governed reads --------------------------------------------------------------------

    @property
    def outputs(self) -> Outputs:
        return Outputs(self.reader)

    def read_rows(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        *,
        level: Level = Level.PSEUDONYMISED,
        fields: tuple[str, ...] | None = None,
        limit: int = 100,
        offset: int = 0,
        as_of: datetime | None = None,
    ) -> RowsResult:
        return self.outputs.rows(
            actor,
            purpose,
            dataset,
            level=level,
            fields=fields,
            limit=limit,
            offset=offset,
            as_of=as_of,
        )

    def export_rows(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        *,
        level: Level = Level.PSEUDONYMISED,
        fields: tuple[str, ...] | None = None,
        as_of: datetime | None = None,
    ) -> tuple[tuple[str, ...], Iterator[list[tuple[Any, ...]]]]:
        return self.outputs.export(actor, purpose, dataset, level=level, fields=fields, as_of=as_of)

    def read_counts(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        by: tuple[str, ...],
        *,
        as_of: datetime | None = None,
    ) -> CountsResult:
        return self.outputs.counts(actor, purpose, dataset, by, as_of=as_of)

    # --- access requests -------------------------------------------------------------------

    def request_access(
        self,
        actor: Actor,
        dataset: str,
        provider: str,
        purpose: Purpose,
        level: Level,
        justification: str,
        fields: tuple[str, ...] | None = None,
    ) -> RequestInfo:
        require_role(actor, {Role.ANALYST, Role.STEWARD, Role.VIEWER}, "request access to data")
        if len(justification.strip()) < 10:
            raise UserError(
                "say why the access is needed (at least a sentence)",
                hint="the data owner's steward decides on the purpose you give",
            )
        DatasetGrant(dataset=dataset, fields=fields)  # names a real dataset and real fields
        self._require_organisation(provider)
        with self.database.session() as session:
            row = AccessRequest(
                requested_by=actor.username,
                org_code=actor.org_code,
                dataset=dataset,
                provider=provider,
                purpose=purpose,
                level=level,
                fields=json.dumps(list(fields)) if fields else None,
                justification=justification.strip(),
                state="requested",
                created_at=now_utc(),
            )
            session.add(row)
            session.flush()
            detail = {"dataset": dataset, "provider": provider, "level": level}
            self.audit.record(
                session,
                actor,
                "access.request",
                f"access-request/{row.id}",
                purpose=purpose,
                detail=detail,
            )
            return _request_info(row)

    def access_requests(self, actor: Actor) -> list[RequestInfo]:
        """Your own requests; a steward also sees those for data their organisation provides
        (a hub steward or admin sees them all)."""
        with self.database.session() as session:
            query = select(AccessRequest).order_by(AccessRequest.id.desc())
            rows = session.scalars(query).all()
            return [_request_info(r) for r in rows if self._may_see_request(actor, r)]

    @staticmethod
    def _may_see_request(actor: Actor, row: AccessRequest) -> bool:
        if row.requested_by == actor.username:
            return True
        return actor.role in STEWARDING_ROLES and actor.org_code in (row.provider, SYSTEM_ORG)

    def decide_access_request(
        self,
        actor: Actor,
        request_id: int,
        *,
        approve: bool,
        note: str,
        agreement_id: str | None = None,
        new_agreement: AgreementSpec | None = None,
    ) -> RequestInfo:
        """Approve (the requester's organisation accedes to ``agreement_id``, or
        ``new_agreement`` is drafted for the parties to sign) or refuse with a reason."""
        require_role(actor, STEWARDING_ROLES, "decide on access requests")
        if not note.strip():
            raise UserError("give the reason for the decision", hint="it is shown to the requester")
        with self.database.session() as session:
            row = session.get(AccessRequest, request_id)
            if (
                row is None
                or not self._may_see_request(actor, row)
                or row.requested_by == actor.username
            ):
                raise NotFound(f"there is no access request {request_id} for you to decide")
            if row.state != "requested":
                raise Conflict(f"access request {request_id} was already {row.state}")
            provider, org, dataset = row.provider, row.org_code, row.dataset
        chosen = None
        if approve:
            chosen = self._grant_request(actor, provider, org, dataset, agreement_id, new_agreement)
        with self.database.session() as session:
            row = session.get_one(AccessRequest, request_id)
            row.state = "approved" if approve else "refused"
            row.decided_by, row.decided_at = actor.username, now_utc()
            row.decision_note, row.agreement_id = note.strip(), chosen
            self.audit.record(
                session,
                actor,
                f"access.{row.state}",
                f"access-request/{row.id}",
                purpose=row.purpose,
                detail={"agreement": chosen, "dataset": dataset},
            )
            return _request_info(row)

    def _grant_request(
        self,
        actor: Actor,
        provider: str,
        org: str,
        dataset: str,
        agreement_id: str | None,
        new_agreement: AgreementSpec | None,
    ) -> str:
        if (agreement_id is None) == (new_agreement is None):
            raise UserError(
                "to approve, name an agreement to accede to or give a new agreement",
                hint="--agreement ID, or --new-agreement FILE",
            )
        if new_agreement is not None:
            if new_agreement.grant(dataset) is None or org not in new_agreement.recipients:
                raise UserError(f"the new agreement must share {dataset} with {org}")
            self.register.add(actor, new_agreement)
            return new_agreement.id
        chosen = str(agreement_id)
        existing = self.agreement(chosen)
        if existing.spec.grant(dataset) is None or provider not in existing.spec.providers:
            raise UserError(
                f"agreement {agreement_id} does not share {dataset} from {provider}",
                hint="choose an agreement that covers the request, or draft a new one",
            )
        self.register.accede(actor, chosen, org)
        return chosen

    # --- transparency ----------------------------------------------------------------------

    def transparency(self) -> list[TransparencyEntry]:
        """What a citizen would want to know: the agreements in force, who is party to them, for
        which datasets and purposes, and how often data was used under each, month by month."""
        in_force = [a for a in self.agreements() if a.in_force]
        uses: dict[str, Counter[str]] = {a.spec.id: Counter() for a in in_force}
        with self.database.session() as session:
            orgs = session.execute(select(Organisation.ods_code, Organisation.name))
            names = {code: name for code, name in orgs}
            events = session.execute(
                select(AuditEvent.at, AuditEvent.detail).where(AuditEvent.action.in_(USE_ACTIONS))
            )
            for at, detail in events:
                agreement = json.loads(detail).get("agreement") or ""
                for agreement_id in agreement.split(", "):
                    if agreement_id in uses:
                        uses[agreement_id][at.strftime("%Y-%m")] += 1
        return [
            TransparencyEntry(
                a,
                {code: names.get(code, code) for code in a.spec.parties},
                dict(sorted(uses[a.spec.id].items())),
            )
            for a in in_force
        ]
