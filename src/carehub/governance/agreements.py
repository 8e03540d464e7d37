"""The agreements register: an information sharing gateway.

Lifecycle: draft → awaiting_signature (each party signs) → active ⇄ under_review, and at the end
expired (its end date passed, worked out on every read, so access stops at once) or terminated.
Every change takes the acting user and records an audit event with identifiers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from carehub.errors import Conflict, NotFound, PolicyDenied, UserError
from carehub.governance.actors import SYSTEM_ORG, Actor, Role
from carehub.governance.audit import AuditLog
from carehub.model.agreements import AgreementSpec
from carehub.store.db import Database, now_utc
from carehub.store.tables import Agreement, AgreementSignature, Organisation

REVIEW_WARNING_DAYS = 30  # warn a month before a review falls due
EXPIRY_WARNING_DAYS = 90  # a quarter's notice to renew before an agreement lapses
MANAGING_ROLES = frozenset({Role.ADMIN, Role.STEWARD})


class State(StrEnum):
    DRAFT = "draft"
    AWAITING_SIGNATURE = "awaiting_signature"
    ACTIVE = "active"
    UNDER_REVIEW = "under_review"
    EXPIRED = "expired"  # never stored: an active agreement past its end date
    TERMINATED = "terminated"


SIGNABLE = frozenset({State.AWAITING_SIGNATURE, State.ACTIVE, State.UNDER_REVIEW})


@dataclass(frozen=True)
class Signature:
    org_code: str
    signatory: str
    recorded_by: str
    signed_at: datetime


@dataclass(frozen=True)
class AgreementState:
    """An agreement as it stands on ``today``: what the policy decides with."""

    spec: AgreementSpec
    version: int
    state: State
    signatures: tuple[Signature, ...]
    state_note: str | None
    today: date

    @property
    def signed(self) -> frozenset[str]:
        return frozenset(s.org_code for s in self.signatures)

    @property
    def awaiting(self) -> tuple[str, ...]:
        return tuple(p for p in self.spec.parties if p not in self.signed)

    @property
    def in_force(self) -> bool:
        return (
            self.state in (State.ACTIVE, State.UNDER_REVIEW)
            and self.spec.starts_on <= self.today <= self.spec.ends_on
        )

    def binds(self, org: str) -> bool:
        """In force for ``org``: a recipient that joined later counts once it has signed."""
        return self.in_force and org in self.signed

    def actions_for(self, actor: Actor) -> frozenset[str]:
        """The lifecycle steps ``actor`` may take now: who may act, and what the state allows
        (the register checks both again when a step is taken)."""
        if actor.role not in MANAGING_ROLES:
            return frozenset()
        offered = {
            "send": self.state is State.DRAFT,
            "sign": self.state in SIGNABLE and actor.org_code in self.awaiting,
            "review": self.state is State.ACTIVE,
            "complete": self.state is State.UNDER_REVIEW,
            "terminate": self.state is not State.TERMINATED,
        }
        return frozenset(name for name, allowed in offered.items() if allowed)

    @property
    def warnings(self) -> tuple[str, ...]:
        if self.state not in (State.ACTIVE, State.UNDER_REVIEW):
            return ()
        out = []
        if self.today < self.spec.starts_on:
            out.append(f"not in force until {self.spec.starts_on}")
        days_to_review = (self.spec.review_on - self.today).days
        if self.state is State.ACTIVE and days_to_review < 0:
            out.append(f"review overdue since {self.spec.review_on}")
        elif self.state is State.ACTIVE and days_to_review <= REVIEW_WARNING_DAYS:
            out.append(f"review due on {self.spec.review_on}")
        if 0 <= (self.spec.ends_on - self.today).days <= EXPIRY_WARNING_DAYS:
            out.append(f"expires on {self.spec.ends_on}")
        return tuple(out)


def _effective(stored: str, spec: AgreementSpec, today: date) -> State:
    state = State(stored)
    if state in (State.ACTIVE, State.UNDER_REVIEW) and today > spec.ends_on:
        return State.EXPIRED
    return state


class AgreementRegister:
    def __init__(self, database: Database, audit: AuditLog) -> None:
        self.database, self.audit = database, audit

    # --- reads ----------------------------------------------------------------------------

    def all(self, today: date) -> list[AgreementState]:
        with self.database.session() as session:
            rows = session.scalars(select(Agreement).order_by(Agreement.id)).all()
            return [self._state(session, row, today) for row in rows]

    def get(self, agreement_id: str, today: date) -> AgreementState:
        with self.database.session() as session:
            return self._state(session, self._row(session, agreement_id), today)

    def covering(self, dataset: str, today: date) -> list[AgreementState]:
        """Who has this dataset, under what terms."""
        return [a for a in self.all(today) if a.spec.grant(dataset) is not None]

    def involving(self, org: str, today: date) -> list[AgreementState]:
        """What an organisation shares, and receives, with whom."""
        return [a for a in self.all(today) if org in a.spec.parties]

    # --- changes --------------------------------------------------------------------------

    def add(self, actor: Actor, spec: AgreementSpec) -> None:
        _require_manager(actor, "draft a data sharing agreement")
        with self.database.session() as session:
            if session.get(Agreement, spec.id) is not None:
                raise Conflict(
                    f"agreement {spec.id} is already in the register",
                    hint="amend it instead (carehub agreements amend), or choose a new id",
                )
            _require_parties(session, spec)
            at = now_utc()
            session.add(
                Agreement(
                    id=spec.id,
                    title=spec.title,
                    version=1,
                    state=State.DRAFT,
                    document=spec.model_dump_json(),
                    created_at=at,
                    created_by=actor.username,
                    updated_at=at,
                )
            )
            session.flush()
            self._audit(session, actor, "agreement.draft", spec, version=1)

    def amend(self, actor: Actor, spec: AgreementSpec) -> None:
        """Replace the text of a draft, or one awaiting signature (signatures start again)."""
        _require_manager(actor, "amend a data sharing agreement")
        with self.database.session() as session:
            row = self._row(session, spec.id)
            if row.state not in (State.DRAFT, State.AWAITING_SIGNATURE):
                raise Conflict(
                    f"agreement {spec.id} is {row.state}: its text can no longer be changed",
                    hint="a new recipient can accede to it; anything else needs a new agreement",
                )
            _require_parties(session, spec)
            self._new_version(session, row, spec, carry_signatures=False)
            row.state = State.DRAFT
            self._audit(session, actor, "agreement.amend", spec, version=row.version)

    def accede(self, actor: Actor, agreement_id: str, org: str) -> None:
        """Add ``org`` as a recipient of an agreement; it is bound once it signs."""
        _require_manager(actor, "add a party to a data sharing agreement")
        with self.database.session() as session:
            row = self._row(session, agreement_id)
            spec = AgreementSpec.model_validate_json(row.document)
            if org in spec.recipients:
                raise Conflict(f"{org} is already a recipient of agreement {agreement_id}")
            if row.state == State.TERMINATED:
                raise Conflict(f"agreement {agreement_id} is terminated")
            amended = spec.model_copy(update={"recipients": (*spec.recipients, org)})
            amended = AgreementSpec.model_validate(amended.model_dump())
            _require_parties(session, amended)
            self._new_version(session, row, amended, carry_signatures=True)
            self._audit(session, actor, "agreement.accede", amended, version=row.version, org=org)

    def submit_for_signature(self, actor: Actor, agreement_id: str) -> None:
        _require_manager(actor, "send an agreement for signature")
        self._move(actor, agreement_id, {State.DRAFT}, State.AWAITING_SIGNATURE, "agreement.send")

    def sign(self, actor: Actor, agreement_id: str, org: str, signatory: str) -> State:
        """Record ``org``'s signature: by a steward or admin of ``org``, or by a hub admin
        recording a signature made on paper. The last party's signature activates it."""
        own = actor.org_code == org and actor.role in MANAGING_ROLES
        recorder = actor.org_code == SYSTEM_ORG and actor.role is Role.ADMIN
        if not (own or recorder):
            raise PolicyDenied(
                f"{actor} may not sign agreement {agreement_id} for {org}",
                hint=f"a steward or admin of {org} signs for it (or a hub admin records it)",
            )
        if not signatory.strip():
            raise UserError("the signatory's name is missing", hint="give --signatory NAME")
        with self.database.session() as session:
            row = self._row(session, agreement_id)
            spec = AgreementSpec.model_validate_json(row.document)
            if org not in spec.parties:
                raise UserError(f"{org} is not a party to agreement {agreement_id}")
            if row.state not in SIGNABLE:
                raise Conflict(
                    f"agreement {agreement_id} is {row.state}, not awaiting signatures",
                    hint="send it for signature first (carehub agreements send)",
                )
            signed = {s.org_code for s in self._signatures(session, row)}
            if org in signed:
                raise Conflict(f"{org} has already signed agreement {agreement_id}")
            session.add(
                AgreementSignature(
                    agreement_id=row.id,
                    version=row.version,
                    org_code=org,
                    signatory=signatory.strip()[:200],
                    recorded_by=actor.username,
                    signed_at=now_utc(),
                )
            )
            self._audit(session, actor, "agreement.sign", spec, version=row.version, org=org)
            if row.state == State.AWAITING_SIGNATURE and set(spec.parties) <= signed | {org}:
                row.state = State.ACTIVE
                self._audit(session, actor, "agreement.activate", spec, version=row.version)
            return State(row.state)

    def start_review(self, actor: Actor, agreement_id: str) -> None:
        _require_manager(actor, "review a data sharing agreement")
        self._move(actor, agreement_id, {State.ACTIVE}, State.UNDER_REVIEW, "agreement.review")

    def complete_review(self, actor: Actor, agreement_id: str, next_review: date) -> None:
        """The review found the agreement still sound: back to active until ``next_review``."""
        _require_manager(actor, "review a data sharing agreement")
        with self.database.session() as session:
            row = self._row(session, agreement_id)
            if row.state != State.UNDER_REVIEW:
                raise Conflict(
                    f"agreement {agreement_id} is {row.state}, not under review",
                    hint="start a review first (carehub agreements review)",
                )
            spec = AgreementSpec.model_validate_json(row.document)
            if not now_utc().date() <= next_review <= spec.ends_on:
                raise UserError(
                    f"the next review date must fall between today and the end date "
                    f"({spec.ends_on}) of agreement {agreement_id}"
                )
            reviewed = spec.model_copy(update={"review_on": next_review})
            self._new_version(session, row, reviewed, carry_signatures=True)
            row.state = State.ACTIVE
            self._audit(session, actor, "agreement.reviewed", reviewed, version=row.version)

    def terminate(self, actor: Actor, agreement_id: str, reason: str) -> None:
        """End an agreement now; access under it stops with the next read."""
        if not reason.strip():
            raise UserError("say why the agreement is terminated", hint="give --reason TEXT")
        _require_manager(actor, "terminate a data sharing agreement")
        with self.database.session() as session:
            row = self._row(session, agreement_id)
            if row.state == State.TERMINATED:
                raise Conflict(f"agreement {agreement_id} is already terminated")
            row.state, row.state_note, row.updated_at = State.TERMINATED, reason, now_utc()
            spec = AgreementSpec.model_validate_json(row.document)
            self._audit(session, actor, "agreement.terminate", spec, version=row.version)

    # --- internals ------------------------------------------------------------------------

    def _move(
        self, actor: Actor, agreement_id: str, allowed: set[State], to: State, action: str
    ) -> None:
        with self.database.session() as session:
            row = self._row(session, agreement_id)
            if row.state not in allowed:
                raise Conflict(
                    f"agreement {agreement_id} is {row.state}; this needs it to be "
                    + " or ".join(sorted(allowed))
                )
            row.state, row.updated_at = to, now_utc()
            spec = AgreementSpec.model_validate_json(row.document)
            self._audit(session, actor, action, spec, version=row.version)

    def _new_version(
        self, session: Session, row: Agreement, spec: AgreementSpec, *, carry_signatures: bool
    ) -> None:
        old = self._signatures(session, row)
        row.version += 1
        row.document, row.title, row.updated_at = spec.model_dump_json(), spec.title, now_utc()
        for signature in old if carry_signatures else ():
            session.add(
                AgreementSignature(
                    agreement_id=row.id,
                    version=row.version,
                    org_code=signature.org_code,
                    signatory=signature.signatory,
                    recorded_by=signature.recorded_by,
                    signed_at=signature.signed_at,
                )
            )
        session.flush()

    def _audit(
        self,
        session: Session,
        actor: Actor,
        action: str,
        spec: AgreementSpec,
        *,
        version: int,
        org: str | None = None,
    ) -> None:
        detail: dict[str, str | int | None] = {"version": version, "org": org}
        self.audit.record(session, actor, action, f"agreement/{spec.id}", detail=detail)

    @staticmethod
    def _row(session: Session, agreement_id: str) -> Agreement:
        row = session.get(Agreement, agreement_id)
        if row is None:
            raise NotFound(
                f"there is no agreement {agreement_id!r} in the register",
                hint="list them with `carehub agreements list`",
            )
        return row

    @staticmethod
    def _signatures(session: Session, row: Agreement) -> Sequence[AgreementSignature]:
        return session.scalars(
            select(AgreementSignature)
            .where(
                AgreementSignature.agreement_id == row.id,
                AgreementSignature.version == row.version,
            )
            .order_by(AgreementSignature.signed_at, AgreementSignature.org_code)
        ).all()

    def _state(self, session: Session, row: Agreement, today: date) -> AgreementState:
        spec = AgreementSpec.model_validate_json(row.document)
        signatures = tuple(
            Signature(s.org_code, s.signatory, s.recorded_by, s.signed_at)
            for s in self._signatures(session, row)
        )
        return AgreementState(
            spec, row.version, _effective(row.state, spec, today), signatures, row.state_note, today
        )


def _require_manager(actor: Actor, action: str) -> None:
    if actor.role not in MANAGING_ROLES:
        raise PolicyDenied(
            f"{actor} ({actor.role}) may not {action}",
            hint="a data steward or an administrator manages the agreements register",
        )


def _require_parties(session: Session, spec: AgreementSpec) -> None:
    known = set(session.scalars(select(Organisation.ods_code)))
    unknown = [code for code in spec.parties if code not in known]
    if unknown:
        raise NotFound(
            f"agreement {spec.id} names organisations that are not registered: "
            + ", ".join(unknown),
            hint="add them first with `carehub orgs add`",
        )
