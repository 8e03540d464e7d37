"""What every part of the facade shares: the workspace, its stores and engines, and the roles
that may act."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import select

from carehub.acquire.intake import Intake
from carehub.errors import (
    AuthenticationRequired,
    NotFound,
    PolicyDenied,
    UserError,
)
from carehub.governance.access import GovernedReader
from carehub.governance.actors import SYSTEM_ACTOR, SYSTEM_ORG, Actor, Role
from carehub.governance.agreements import AgreementRegister
from carehub.governance.audit import AuditLog
from carehub.model.mappings import FeedMapping
from carehub.model.yaml_loading import load_model
from carehub.settings import Settings
from carehub.standardise.runner import (
    Receipt,
)
from carehub.store.db import Database
from carehub.store.engines import Engine, HmacPads, make_engine
from carehub.store.jobs import JobQueue
from carehub.store.keys import (
    create_key,
    read_key,
)
from carehub.store.lake import Lake
from carehub.store.tables import Organisation, Submission, User
from carehub.store.workspace import Workspace

ORGANISATION_KINDS = (
    "trust",
    "icb",
    "council",
    "practice",
    "private_provider",
    "national",
    "hub",
)
SUBMITTING_ROLES = frozenset({Role.ADMIN, Role.STEWARD, Role.SUBMITTER, Role.SYSTEM})
STEWARDING_ROLES = frozenset({Role.ADMIN, Role.STEWARD})


@dataclass(frozen=True)
class InitReport:
    home: Path
    database_url: str
    created_keys: tuple[str, ...]


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str
    org_code: str
    role: str


def require_role(actor: Actor, roles: set[Role] | frozenset[Role], action: str) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise PolicyDenied(
            f"{actor} ({actor.role}) may not {action}",
            hint=f"this needs one of the roles: {allowed}",
        )


class PlatformBase:
    """The workspace and its services, built lazily from `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lake = Lake(settings.lake_root)
        self.workspace = Workspace(settings.home)

    @cached_property
    def database(self) -> Database:
        return Database(self.settings.resolved_database_url)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.engine, spill=self.workspace.spill)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.database)

    @cached_property
    def register(self) -> AgreementRegister:
        return AgreementRegister(self.database, self.audit)

    @cached_property
    def reader(self) -> GovernedReader:
        return GovernedReader(self.database, self.lake, self.engine, self.audit, self.register)

    @property
    def _pads(self) -> HmacPads:
        """Read afresh each time: a running worker picks up a rotated key for its next file."""
        return HmacPads.from_key(read_key(self.settings.resolved_key_file, "pseudonymisation"))

    # --- workspace -------------------------------------------------------------------------

    def init(self) -> InitReport:
        """Create (or bring up to date) the workspace: folders, keys, database, hub organisation."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.lake.create()
        created = []
        for path, label in (
            (self.settings.resolved_key_file, "pseudonymisation"),
            (self.settings.resolved_session_key_file, "session"),
        ):
            if create_key(path):
                created.append(label)
        self.database.upgrade()
        with self.database.session() as session:
            if session.get(Organisation, SYSTEM_ORG) is None:
                session.add(
                    Organisation(ods_code=SYSTEM_ORG, name="carehub (this hub)", kind="hub")
                )
                self.audit.record(session, SYSTEM_ACTOR, "workspace.init", str(self.settings.home))
        return InitReport(self.settings.home, self.database.url, tuple(created))

    def check_ready(self) -> None:
        """Fail with a clear configuration error unless the workspace is initialised."""
        self.database.check_connection()
        if not self.database.is_current():
            raise UserError(
                "the metadata database is not initialised or not up to date",
                hint="run `carehub init`",
            )
        read_key(self.settings.resolved_key_file, "pseudonymisation")

    def session_key(self) -> bytes:
        return read_key(self.settings.resolved_session_key_file, "session")

    # --- shared by the use cases ---------------------------------------------------------------

    def actor(self, username: str) -> Actor:
        """The actor for a known, active user (e.g. from a web session or `--user`)."""
        with self.database.session() as session:
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
            if user is None:
                raise AuthenticationRequired(
                    f"there is no active user {username!r}", hint="check the username"
                )
            return Actor(user.username, user.org_code, Role(user.role), user.display_name)

    def mapping_for(self, org: str, dataset: str) -> FeedMapping:
        stored = self.workspace.read_mapping(org, dataset)
        if stored is None:
            return FeedMapping.identity(org, dataset)
        return load_model(FeedMapping, stored[0], stored[1])

    def _receipt(self, submission_id: int, job_id: int | None) -> Receipt:
        submission = self.intake.get(submission_id)
        reasons = json.loads(submission.reasons) if submission.reasons else {}
        return Receipt.of(submission, duplicate=False, reasons=reasons, job_id=job_id)

    def submissions(self, dataset: str | None = None, org: str | None = None) -> list[Submission]:
        with self.database.session() as session:
            query = select(Submission).order_by(Submission.id)
            if dataset:
                query = query.where(Submission.dataset == dataset)
            if org:
                query = query.where(Submission.org_code == org)
            return list(session.scalars(query))

    @cached_property
    def jobs(self) -> JobQueue:
        return JobQueue(self.database, lease_seconds=self.settings.job_lease_seconds)

    @cached_property
    def intake(self) -> Intake:
        return Intake(self.database, self.lake, self.audit, self.jobs)

    @contextmanager
    def _named_copy(self, submission: Submission) -> Iterator[Path]:
        """The raw file under the name the sender gave it, so every message names their file."""
        scratch = self.workspace.scratch
        folder = Path(tempfile.mkdtemp(prefix=f"submission-{submission.id}-", dir=scratch))
        link = folder / submission.filename
        try:
            link.symlink_to(self.lake.raw_path(submission.sha256))
            yield link
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _require_organisation(self, org: str) -> None:
        with self.database.session() as session:
            if session.get(Organisation, org) is None:
                raise NotFound(
                    f"there is no organisation {org!r}", hint="add it first with `carehub orgs add`"
                )
