"""The facade: one `Platform` built from `Settings`; its methods are carehub's use cases.

The CLI and the web app call this and nothing else. Every state-changing method takes the acting
user and records an audit event; every read of the lake goes through the governed reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from pathlib import Path

from sqlalchemy import select

from carehub.acquire.files import open_submission
from carehub.errors import AuthenticationRequired, Conflict, NotFound, PolicyDenied, UserError
from carehub.governance.access import GovernedReader
from carehub.governance.actors import SYSTEM_ACTOR, SYSTEM_ORG, Actor, Role
from carehub.governance.audit import AuditLog, VerifyReport
from carehub.governance.passwords import DUMMY_HASH, hash_password, verify_password
from carehub.governance.policy import Level, Purpose
from carehub.metrics.registry import all_metrics, get_metric, metric_ids
from carehub.metrics.runner import MetricRunner, RunSummary
from carehub.metrics.views import MetricView, PointView, SourceView, load_view
from carehub.model.datasets import get_dataset
from carehub.model.mappings import ODS_CODE_PATTERN, FeedMapping
from carehub.model.metrics import MetricDefinition
from carehub.model.periods import Period
from carehub.model.yaml_loading import load_model
from carehub.settings import Settings
from carehub.standardise.runner import Receipt, Standardiser
from carehub.store.db import Database, now_utc
from carehub.store.engines import Engine, HmacPads, make_engine
from carehub.store.keys import create_key, read_key
from carehub.store.lake import Lake
from carehub.store.tables import Organisation, Submission, User
from carehub.store.workspace import Workspace

__all__ = [
    "ORGANISATION_KINDS",
    "SYSTEM_ACTOR",
    "Actor",
    "MetricDefinition",
    "MetricView",
    "Platform",
    "PointView",
    "Receipt",
    "Role",
    "RunSummary",
    "SourceView",
    "VerifyReport",
]

ORGANISATION_KINDS = (
    "trust",
    "icb",
    "council",
    "practice",
    "private_provider",
    "national",
    "hub",
)
SUBMITTING_ROLES = frozenset({Role.ADMIN, Role.STEWARD, Role.SUBMITTER})


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


class Platform:
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
    def reader(self) -> GovernedReader:
        return GovernedReader(self.database, self.lake, self.engine, self.audit)

    @cached_property
    def _pads(self) -> HmacPads:
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

    # --- organisations and users -------------------------------------------------------------

    def add_organisation(self, actor: Actor, ods_code: str, name: str, kind: str) -> None:
        _require_role(actor, {Role.ADMIN, Role.SYSTEM}, "add organisations")
        if not re.match(ODS_CODE_PATTERN, ods_code) or kind not in ORGANISATION_KINDS:
            raise UserError(
                f"organisation {ods_code!r} of kind {kind!r} is not valid",
                hint="ODS codes are 3-6 capital letters or digits; kinds: "
                + ", ".join(ORGANISATION_KINDS),
            )
        with self.database.session() as session:
            existing = session.get(Organisation, ods_code)
            if existing is not None:
                existing.name, existing.kind = name, kind
            else:
                session.add(Organisation(ods_code=ods_code, name=name, kind=kind))
            self.audit.record(
                session,
                actor,
                "organisation.upsert",
                f"organisation/{ods_code}",
                detail={"kind": kind},
            )

    def organisations(self) -> list[tuple[str, str, str]]:
        with self.database.session() as session:
            rows = session.scalars(select(Organisation).order_by(Organisation.ods_code))
            return [(o.ods_code, o.name, o.kind) for o in rows]

    def add_user(
        self,
        actor: Actor,
        username: str,
        password: str,
        org_code: str,
        role: Role,
        display_name: str = "",
    ) -> None:
        _require_role(actor, {Role.ADMIN, Role.SYSTEM}, "add users")
        if role is Role.SYSTEM:
            raise UserError(
                "the system role is reserved for carehub itself", hint="choose another role"
            )
        password_hash = hash_password(password)
        with self.database.session() as session:
            if session.get(Organisation, org_code) is None:
                raise NotFound(
                    f"there is no organisation {org_code}", hint="add it with `carehub orgs add`"
                )
            if session.scalars(select(User).where(User.username == username)).first():
                raise Conflict(f"user {username} already exists", hint="choose another username")
            session.add(
                User(
                    username=username,
                    display_name=display_name or username,
                    org_code=org_code,
                    role=role,
                    password_hash=password_hash,
                    created_at=now_utc(),
                )
            )
            self.audit.record(
                session,
                actor,
                "user.add",
                f"user/{username}",
                detail={"org": org_code, "role": role},
            )

    def user_exists(self, username: str) -> bool:
        with self.database.session() as session:
            return (
                session.scalars(select(User.id).where(User.username == username)).first()
                is not None
            )

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

    def authenticate(self, username: str, password: str) -> Actor:
        """Check a password; both outcomes are audited (without the password)."""
        with self.database.session() as session:
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
            ok = (
                verify_password(user.password_hash if user else DUMMY_HASH, password)
                and user is not None
            )
            who = Actor(
                username[:120],
                user.org_code if user else "",
                Role(user.role) if user else Role.VIEWER,
            )
            self.audit.record(
                session, who, "signin" if ok else "signin.failed", f"user/{username[:100]}"
            )
        if not ok or user is None:
            raise AuthenticationRequired("the username or password is not right", hint="try again")
        return self.actor(username)

    # --- feeds ---------------------------------------------------------------------------------

    def install_mapping(self, actor: Actor, path: Path) -> FeedMapping:
        _require_role(actor, {Role.ADMIN, Role.STEWARD, Role.SYSTEM}, "install feed mappings")
        if not path.is_file():
            raise NotFound(
                f"{path}: no such file", hint="give the path of a feed mapping YAML file"
            )
        text = self.workspace.read_text(path)
        mapping = load_model(FeedMapping, text, str(path))
        self._require_organisation(mapping.organisation)
        saved = self.workspace.save_mapping(mapping.organisation, mapping.dataset, text)
        with self.database.session() as session:
            self.audit.record(
                session,
                actor,
                "mapping.install",
                f"mapping/{mapping.organisation}/{mapping.dataset}",
                detail={"version": mapping.version, "file": saved.name},
            )
        return mapping

    def mapping_for(self, org: str, dataset: str) -> FeedMapping:
        stored = self.workspace.read_mapping(org, dataset)
        if stored is None:
            return FeedMapping.identity(org, dataset)
        return load_model(FeedMapping, stored[0], stored[1])

    def submit(
        self, actor: Actor, org: str, dataset: str, path: Path, period: str | None = None
    ) -> Receipt:
        """Land, check, standardise and publish one file. Bad input changes nothing."""
        _require_role(actor, SUBMITTING_ROLES, "submit data")
        if actor.role is Role.SUBMITTER and actor.org_code != org:
            raise PolicyDenied(
                f"{actor} submits for {actor.org_code}, not {org}",
                hint="submit your own organisation's data",
            )
        spec = get_dataset(dataset)
        self._require_organisation(org)
        parsed_period = Period.parse(period) if period else None
        mapping = self.mapping_for(org, dataset)
        standardiser = Standardiser(self.database, self.lake, self.engine, self.audit)
        with open_submission(path, mapping, self.workspace.scratch) as profile:
            used = mapping.without(profile.missing_optional)
            receipt = standardiser.run(actor, spec, used, profile, parsed_period, self._pads)
        warnings = tuple(
            f"column {mapping.fields[name].column!r} (field {name}) is not in the file; "
            f"{name} is left empty"
            for name in profile.missing_optional
        )
        return replace(receipt, warnings=warnings)

    def submissions(self, dataset: str | None = None) -> list[Submission]:
        with self.database.session() as session:
            query = select(Submission).order_by(Submission.id)
            if dataset:
                query = query.where(Submission.dataset == dataset)
            return list(session.scalars(query))

    def _require_organisation(self, org: str) -> None:
        with self.database.session() as session:
            if session.get(Organisation, org) is None:
                raise NotFound(
                    f"there is no organisation {org!r}", hint="add it first with `carehub orgs add`"
                )

    # --- metrics -------------------------------------------------------------------------------

    def metric_definitions(self) -> tuple[MetricDefinition, ...]:
        return all_metrics()

    def run_metrics(
        self, actor: Actor = SYSTEM_ACTOR, ids: list[str] | None = None, today: date | None = None
    ) -> list[RunSummary]:
        runner = MetricRunner(self.database, self.reader, self.engine, self.audit)
        chosen = ids or list(metric_ids())
        return [runner.run(actor, m, today or date.today()) for m in chosen]

    def metric_view(self, actor: Actor, metric_id: str) -> MetricView:
        definition = get_metric(metric_id)
        self.reader.authorise(
            actor,
            Purpose.PERFORMANCE_MONITORING,
            definition.dataset,
            Level.AGGREGATE,
            f"metric/{metric_id}",
        )
        with self.database.session() as session:
            return load_view(session, metric_id)

    # --- audit ---------------------------------------------------------------------------------

    def verify_audit(self) -> VerifyReport:
        return self.audit.verify()


def _require_role(actor: Actor, roles: set[Role] | frozenset[Role], action: str) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise PolicyDenied(
            f"{actor} ({actor.role}) may not {action}",
            hint=f"this needs one of the roles: {allowed}",
        )
