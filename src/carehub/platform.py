"""The facade: one `Platform` built from `Settings`; its methods are carehub's use cases.

The CLI and the web app call this and nothing else. Every state-changing method takes the acting
user and records an audit event; every read of the lake goes through the governed reader.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from carehub.acquire.files import open_submission
from carehub.acquire.intake import SUBMISSION_JOB, Intake
from carehub.acquire.sampling import read_sample
from carehub.errors import (
    AuthenticationRequired,
    CarehubError,
    ConfigurationError,
    Conflict,
    DataContractError,
    NotFound,
    PolicyDenied,
    UserError,
)
from carehub.governance import tokens as api_tokens
from carehub.governance.access import GovernedReader
from carehub.governance.actors import SYSTEM_ACTOR, SYSTEM_ORG, Actor, Role
from carehub.governance.audit import AuditLog, VerifyReport
from carehub.governance.passwords import DUMMY_HASH, hash_password, verify_password
from carehub.governance.policy import Level, Purpose
from carehub.governance.tokens import Scope, TokenInfo
from carehub.metrics.registry import all_metrics, get_metric, metric_ids
from carehub.metrics.runner import MetricRunner, RunSummary
from carehub.metrics.views import MetricView, PointView, SourceView, load_view
from carehub.model.datasets import DatasetSpec, dataset_names, get_dataset
from carehub.model.mappings import ODS_CODE_PATTERN, FeedMapping
from carehub.model.metrics import MetricDefinition
from carehub.model.periods import Period
from carehub.model.yaml_loading import load_model
from carehub.quality.coverage import Arrival, FeedCoverage, MonthState, feed_coverage
from carehub.settings import Settings
from carehub.standardise.drafting import Draft, propose_mapping
from carehub.standardise.reasons import REASON_HELP, Reason
from carehub.standardise.rotation import (
    REPSEUDONYMISE_JOB,
    ROTATION_RESUMED,
    ROTATION_STARTED,
    KeyStatus,
    RetiredKey,
    RotationReport,
    Rotations,
    key_target,
    mode_text,
)
from carehub.standardise.row_rules import RowRule, row_rules
from carehub.standardise.runner import (
    ProgressReport,
    Receipt,
    Standardiser,
    TrialReceipt,
    missing_column_warnings,
    no_progress,
)
from carehub.store.db import Database, now_utc
from carehub.store.engines import Engine, HmacPads, make_engine
from carehub.store.jobs import JobInfo, JobQueue, Progress, worker_name
from carehub.store.keys import (
    create_key,
    file_mode,
    owner_only,
    read_key,
    retired_keys,
    rotate_key,
)
from carehub.store.lake import Lake
from carehub.store.tables import Organisation, Submission, User
from carehub.store.workspace import Workspace

LOG = logging.getLogger(__name__)

__all__ = [
    "ORGANISATION_KINDS",
    "SYSTEM_ACTOR",
    "Actor",
    "DatasetSpec",
    "FeedCoverage",
    "JobInfo",
    "KeyStatus",
    "MetricDefinition",
    "MetricView",
    "MonthState",
    "Platform",
    "PointView",
    "Receipt",
    "Role",
    "RotationReport",
    "RowRule",
    "RunSummary",
    "Scope",
    "SourceView",
    "TokenInfo",
    "TrialReceipt",
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

    # --- API tokens ------------------------------------------------------------------------------

    def create_token(
        self,
        actor: Actor,
        username: str,
        name: str,
        scopes: list[str],
        lifetime_days: int = api_tokens.DEFAULT_LIFETIME_DAYS,
    ) -> tuple[str, TokenInfo]:
        """Make a token for ``username`` (yourself, or anyone if you are an admin).

        Returns the secret, which is shown once and never stored, and the token's record.
        """
        if username != actor.username:
            _require_role(actor, {Role.ADMIN, Role.SYSTEM}, "make tokens for other people")
        chosen = api_tokens.parse_scopes(scopes)
        with self.database.session() as session:
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
            if user is None:
                raise NotFound(f"there is no active user {username!r}", hint="check the username")
            secret, row = api_tokens.issue(session, user, name, chosen, lifetime_days)
            self.audit.record(
                session,
                actor,
                "token.create",
                f"token/{row.id}",
                detail={
                    "user": username,
                    "scopes": [str(c) for c in chosen],
                    "days": lifetime_days,
                },
            )
            return secret, api_tokens.info(row, username)

    def tokens(self, actor: Actor) -> list[TokenInfo]:
        """Your own tokens; an admin sees everyone's. Never the secrets."""
        every = actor.role in (Role.ADMIN, Role.SYSTEM)
        with self.database.session() as session:
            return api_tokens.listing(session, None if every else actor.username)

    def revoke_token(self, actor: Actor, token_id: int) -> TokenInfo:
        with self.database.session() as session:
            token, user = api_tokens.get(session, token_id)
            if user.username != actor.username:
                _require_role(actor, {Role.ADMIN, Role.SYSTEM}, "revoke other people's tokens")
            token.revoked_at = token.revoked_at or now_utc()
            self.audit.record(session, actor, "token.revoke", f"token/{token_id}")
            return api_tokens.info(token, user.username)

    def authenticate_token(self, secret: str, scope: Scope) -> Actor:
        """The actor an API token speaks for; refusals are audited (without the token)."""
        try:
            with self.database.session() as session:
                user, _ = api_tokens.check(session, secret, scope)
                return Actor(user.username, user.org_code, Role(user.role), user.display_name)
        except AuthenticationRequired:
            with self.database.session() as session:
                self.audit.record(
                    session,
                    Actor("api:unknown", "", Role.VIEWER),
                    "token.refused",
                    "api",
                    detail={"scope": scope},
                )
            raise

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

    def draft_mapping(
        self,
        actor: Actor,
        org: str,
        dataset: str,
        sample_file: Path,
        sheet: str | None = None,
        header_row: int | None = None,
    ) -> Draft:
        """Propose a feed mapping from a sample of a partner's file (its first rows only). A
        workbook's sheet and header row are found when not given. Changes nothing but the
        audit log."""
        _require_role(actor, {Role.ADMIN, Role.STEWARD, Role.SYSTEM}, "draft feed mappings")
        spec = get_dataset(dataset)
        self._require_organisation(org)
        sample = read_sample(
            sample_file, self.workspace.scratch, sheet=sheet, header_row=header_row
        )
        draft = propose_mapping(spec, org, sample)
        with self.database.session() as session:
            self.audit.record(
                session,
                actor,
                "mapping.draft",
                f"mapping/{org}/{dataset}",
                detail={
                    "file": sample_file.name,
                    "sample_rows": draft.sample_rows,
                    "columns": len(sample.columns),
                    "fields_matched": len(draft.matched),
                    "problems": len(draft.problems),
                },
            )
        return draft

    def test_mapping(
        self,
        actor: Actor,
        mapping: Path | FeedMapping,
        sample_file: Path,
        period: str | None = None,
    ) -> TrialReceipt:
        """What submitting ``sample_file`` under ``mapping`` would give: the same whole-file
        checks and one-pass query as `submit`, run in memory. Nothing is landed, recorded or
        published; a file `submit` would refuse is refused the same way."""
        _require_role(actor, {Role.ADMIN, Role.STEWARD, Role.SYSTEM}, "test feed mappings")
        if isinstance(mapping, Path):
            if not mapping.is_file():
                raise NotFound(
                    f"{mapping}: no such file", hint="give the path of a feed mapping YAML file"
                )
            mapping = load_model(FeedMapping, self.workspace.read_text(mapping), str(mapping))
        spec = get_dataset(mapping.dataset)
        self._require_organisation(mapping.organisation)
        parsed_period = Period.parse(period) if period else None
        standardiser = Standardiser(self.database, self.lake, self.engine, self.audit)
        target = f"mapping/{mapping.organisation}/{mapping.dataset}"
        try:
            with open_submission(sample_file, mapping, self.workspace.scratch) as profile:
                used = mapping.without(profile.missing_optional)
                trial = standardiser.trial(spec, used, profile, parsed_period, self._pads)
        except UserError:  # refused as a submission would be
            self._audit_trial(actor, target, sample_file, {"outcome": "refused"})
            raise
        trial = replace(trial, warnings=missing_column_warnings(mapping, profile.missing_optional))
        counts: dict[str, str | int] = {
            "outcome": "would be refused" if trial.refusal else "checked",
            "rows_read": trial.rows_read,
            "rows_would_publish": trial.rows_would_publish,
            "rows_would_quarantine": trial.rows_would_quarantine,
        }
        self._audit_trial(actor, target, sample_file, counts)
        return trial

    def _audit_trial(
        self, actor: Actor, target: str, sample_file: Path, detail: dict[str, str | int]
    ) -> None:
        with self.database.session() as session:
            self.audit.record(
                session, actor, "mapping.test", target, detail={"file": sample_file.name, **detail}
            )

    def receive(
        self,
        actor: Actor,
        org: str,
        dataset: str,
        path: Path,
        period: str | None = None,
        *,
        filename: str | None = None,
        received_at: datetime | None = None,
    ) -> Receipt:
        """Land a file in the raw zone and queue it for processing; returns at once.

        ``received_at`` backdates a receipt (admins loading a partner's historical files with
        the dates they were first sent, so coverage shows what was late); it is audited.
        """
        _require_role(actor, SUBMITTING_ROLES, "submit data")
        if actor.role is Role.SUBMITTER and actor.org_code != org:
            raise PolicyDenied(
                f"{actor} submits for {actor.org_code}, not {org}",
                hint="submit your own organisation's data",
            )
        if received_at is not None:
            _require_role(actor, {Role.ADMIN, Role.SYSTEM}, "backdate a submission")
        get_dataset(dataset)
        self._require_organisation(org)
        parsed = str(Period.parse(period)) if period else None
        if not path.is_file():
            raise DataContractError(
                f"{path}: no such file", hint="give the path of the file to submit"
            )
        received = self.intake.receive(
            actor,
            org,
            dataset,
            path,
            filename=filename or path.name,
            period=parsed,
            mapping_version=self.mapping_for(org, dataset).version,
            received_at=received_at,
        )
        job_id = received.job.id if received.job else None
        return Receipt.of(received.submission, duplicate=received.duplicate, job_id=job_id)

    def receive_upload(
        self,
        actor: Actor,
        org: str,
        dataset: str,
        stream: BinaryIO,
        filename: str,
        period: str | None = None,
    ) -> Receipt:
        """Receive a file sent over HTTP (streamed to scratch first: memory stays bounded)."""
        _require_role(actor, SUBMITTING_ROLES, "submit data")
        with self.workspace.spooled(stream) as path:
            return self.receive(actor, org, dataset, path, period, filename=filename)

    def submit(
        self,
        actor: Actor,
        org: str,
        dataset: str,
        path: Path,
        period: str | None = None,
        *,
        progress: ProgressReport = no_progress,
        received_at: datetime | None = None,
    ) -> Receipt:
        """Receive a file and process it here and now; a refusal raises DataContractError.

        The raw file and the submission record are kept whatever happens; what was published
        before is never changed by a refused file.
        """
        receipt = self.receive(actor, org, dataset, path, period, received_at=received_at)
        if receipt.duplicate or receipt.job_id is None:
            return receipt
        worker = worker_name()
        job = self.jobs.claim(worker, receipt.job_id)
        if job is not None:
            outcome = self._run_claimed(job, worker, progress)
        else:  # a worker took it first: wait for its verdict
            finished = self.jobs.wait(receipt.job_id)
            if finished.state == "failed":
                raise CarehubError(
                    f"processing submission {receipt.submission_id} stopped: {finished.error}",
                    hint=f"retry it with `carehub jobs retry {finished.id}`",
                )
            outcome = self._receipt(receipt.submission_id, finished.id)
        if outcome.state == "rejected":
            raise DataContractError(outcome.error or "the file was rejected", hint=outcome.hint)
        return outcome

    def submission(self, actor: Actor, submission_id: int) -> Receipt:
        """A submission's receipt, for its own organisation and for stewards and admins."""
        submission = self.intake.get(submission_id)
        if actor.role not in STEWARDING_ROLES and submission.org_code != actor.org_code:
            raise NotFound(
                f"there is no submission {submission_id}",
                hint="you can see your own organisation's submissions",
            )
        job = self.jobs.for_submission(submission_id)
        return self._receipt(submission_id, job.id if job else None)

    def visible_submissions(
        self, actor: Actor, dataset: str | None = None, limit: int = 500
    ) -> list[Receipt]:
        """The latest submissions the actor may see: their organisation's, or all for stewards."""
        org = None if actor.role in STEWARDING_ROLES else actor.org_code
        rows = self.submissions(dataset, org)[-limit:]
        return [
            Receipt.of(s, duplicate=False, reasons=json.loads(s.reasons or "{}"))
            for s in reversed(rows)
        ]

    def dataset_choices(self) -> list[tuple[str, str]]:
        return [(name, get_dataset(name).title) for name in dataset_names()]

    def submitting_organisations(self, actor: Actor) -> list[tuple[str, str]]:
        """Whom the actor may send files for: their own organisation, or any for stewards."""
        every = actor.role in STEWARDING_ROLES | {Role.SYSTEM}
        return [
            (code, name)
            for code, name, kind in self.organisations()
            if kind != "hub" and (every or code == actor.org_code)
        ]

    @staticmethod
    def explain_reasons(reasons: dict[str, int]) -> list[dict[str, str | int]]:
        """Quarantine reason codes (``RULE:field``) with what each means, for senders."""
        explained: list[dict[str, str | int]] = []
        for code, rows in reasons.items():
            rule, _, field = code.partition(":")
            help_text = REASON_HELP.get(rule, "see the data dictionary for this rule")
            explained.append(
                {"code": code, "rule": rule, "field": field, "rows": rows, "help": help_text}
            )
        return explained

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

    # --- coverage ------------------------------------------------------------------------------

    def coverage(self, actor: Actor, as_of: date | None = None) -> list[FeedCoverage]:
        """For every scheduled feed the actor may see (a submitter: their organisation's), the
        months expected by ``as_of`` (default today) and whether each came on time, late, not at
        all, or is not yet due."""
        day = as_of or date.today()
        every = actor.role is not Role.SUBMITTER
        feeds = []
        for org, dataset in self.workspace.installed_mappings():
            schedule = self.mapping_for(org, dataset).schedule
            if schedule is None or not (every or org == actor.org_code):
                continue
            arrivals = [
                Arrival(s.period, s.received_at, s.state) for s in self.submissions(dataset, org)
            ]
            feeds.append(feed_coverage(org, dataset, schedule, arrivals, day))
        return feeds

    # --- jobs ----------------------------------------------------------------------------------

    @cached_property
    def jobs(self) -> JobQueue:
        return JobQueue(self.database, lease_seconds=self.settings.job_lease_seconds)

    @cached_property
    def intake(self) -> Intake:
        return Intake(self.database, self.lake, self.audit, self.jobs)

    def job(self, actor: Actor, job_id: int) -> JobInfo:
        job = self.jobs.get(job_id)
        if job.submission_id is not None:
            self.submission(actor, job.submission_id)  # the same visibility as its submission
        elif actor.role not in STEWARDING_ROLES:
            raise NotFound(f"there is no job {job_id}")
        return job

    def recent_jobs(self, actor: Actor, limit: int = 50) -> list[JobInfo]:
        _require_role(actor, STEWARDING_ROLES | {Role.SYSTEM}, "list every job")
        return self.jobs.recent(limit)

    def retry_job(self, actor: Actor, job_id: int) -> JobInfo:
        _require_role(actor, STEWARDING_ROLES | {Role.SYSTEM}, "retry jobs")
        job = self.jobs.retry(job_id)
        with self.database.session() as session:
            self.audit.record(session, actor, "job.retry", f"job/{job_id}")
        return job

    def run_job(
        self, job_id: int | None = None, *, progress: ProgressReport = no_progress
    ) -> Receipt:
        """Claim a job (the given one, else the oldest waiting) and run it in this thread."""
        worker = worker_name()
        job = self.jobs.claim(worker, job_id)
        if job is None:
            raise Conflict(
                f"job {job_id} is not waiting to run" if job_id else "no job is waiting",
                hint="see `carehub jobs list`",
            )
        return self._run_claimed(job, worker, progress)

    def work(self, stop: threading.Event, *, once: bool = False, poll_seconds: float = 1.0) -> int:
        """Run jobs until ``stop`` is set (or, with ``once``, until none is waiting)."""
        worker, done = worker_name(), 0
        while not stop.is_set():
            job = self.jobs.claim(worker)
            if job is None:
                if once:
                    break
                stop.wait(poll_seconds)
                continue
            try:
                self._run_claimed(job, worker, no_progress)
            except Exception as exc:  # the job is marked failed; the worker goes on to the next
                # The type only: an exception's text may quote a row value.
                LOG.error(
                    "job %s stopped: %s (retry it once the cause is fixed)",
                    job.id,
                    type(exc).__name__,
                )
            done += 1
        return done

    def _run_claimed(self, job: JobInfo, worker: str, report: ProgressReport) -> Receipt:
        if job.kind == REPSEUDONYMISE_JOB:
            return self._run_repseudonymise(job, worker, report)
        tracker = Progress(self.jobs, job.id, worker)

        def both(fraction: float, stage: str) -> None:
            tracker(fraction, stage)
            report(fraction, stage)

        if job.kind != SUBMISSION_JOB or job.submission_id is None:
            self.jobs.finish(job.id, worker, error=f"unknown kind of job {job.kind!r}")
            raise ConfigurationError(f"job {job.id} is of an unknown kind {job.kind!r}")
        try:
            with tracker.beating():
                receipt = self._process(job, both)
        except BaseException as exc:
            self.jobs.finish(job.id, worker, error=f"stopped by {type(exc).__name__}")
            self.intake.stopped(job.submission_id)
            raise
        self.jobs.finish(job.id, worker)
        report(1.0, "finished")
        return receipt

    def _process(self, job: JobInfo, progress: ProgressReport) -> Receipt:
        assert job.submission_id is not None
        submission = self.intake.start(job.submission_id)
        actor = self._submitter(submission)
        mapping = self.mapping_for(submission.org_code, submission.dataset)
        spec = get_dataset(submission.dataset)
        period = Period.parse(submission.period) if submission.period else None
        standardiser = Standardiser(self.database, self.lake, self.engine, self.audit)
        progress(0.05, "checking the file")
        try:
            with (
                self._named_copy(submission) as original,
                open_submission(original, mapping, self.workspace.scratch) as profile,
            ):
                used = mapping.without(profile.missing_optional)
                receipt = standardiser.run(
                    actor, submission.id, spec, used, profile, period, self._pads, progress
                )
        except (DataContractError, UserError) as error:
            self.intake.reject(actor, submission.id, error)
            return self._receipt(submission.id, job.id)
        warnings = missing_column_warnings(mapping, profile.missing_optional)
        unnamed = sum(1 for column in profile.columns if not column.strip())
        if unnamed:
            warnings += (f"{unnamed} column(s) of line 1 have no name and are ignored",)
        self.intake.warn(submission.id, warnings)
        return replace(receipt, warnings=warnings, job_id=job.id)

    def _submitter(self, submission: Submission) -> Actor:
        try:
            return self.actor(submission.submitted_by)
        except AuthenticationRequired:
            return SYSTEM_ACTOR  # the sender has left since; the work is the hub's now

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

    # --- data dictionary ------------------------------------------------------------------------
    # Reference information from the packaged dataset specifications: no patient data and no
    # workspace state, so these reads need no actor, no agreement and no audit event.

    def dataset_specs(self) -> tuple[DatasetSpec, ...]:
        """Every dataset of the common data model, by name."""
        return tuple(get_dataset(name) for name in dataset_names())

    def dataset_spec(self, name: str) -> DatasetSpec:
        """One dataset's specification; NotFound names the known datasets."""
        return get_dataset(name)

    def row_rules(self, name: str) -> tuple[RowRule, ...]:
        """The dataset's rules across fields, each with its quarantine reason code."""
        return row_rules(get_dataset(name))

    @staticmethod
    def quarantine_reasons() -> dict[str, str]:
        """Every quarantine reason code with what it means."""
        return dict(REASON_HELP)

    @staticmethod
    def field_check_reasons() -> tuple[str, ...]:
        """The reason codes of the checks on each field (type, required, code set, range, NHS
        number, period), which apply to every dataset; the others are datasets' own rules."""
        return tuple(Reason)

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

    # --- keys ----------------------------------------------------------------------------------

    @cached_property
    def rotations(self) -> Rotations:
        return Rotations(self.database, self.audit, self.jobs)

    def key_status(self, actor: Actor) -> KeyStatus:
        """The pseudonymisation key's id (never the key), its file's permissions, and how many
        current versions each key made: the rotation is complete when all carry this key."""
        _require_role(actor, STEWARDING_ROLES | {Role.SYSTEM}, "see the pseudonymisation key")
        path = self.settings.resolved_key_file
        key_id = self._pads.key_id  # refuses a key file others can read
        rotation = self.rotations.state(key_id)
        if rotation.complete:  # e.g. the last old version was superseded by a new submission
            self.rotations.note_if_complete(actor, key_id)
        mode = file_mode(path)
        return KeyStatus(
            key_id=key_id,
            key_file=path,
            mode=mode_text(mode),
            owner_only=owner_only(mode),
            rotation=rotation,
            retired=tuple(
                RetiredKey(name, mode_text(bits), owner_only(bits))
                for name, bits in retired_keys(path)
            ),
        )

    def rotate_key(
        self, actor: Actor, *, resume: bool = False, today: date | None = None
    ) -> RotationReport:
        """Write a new pseudonymisation key (the old one is kept, owner-only, in the retired
        folder beside it) and queue a job per current version to re-pseudonymise it from its raw
        file under the new key. ``resume`` writes no key: it queues jobs for the current versions
        still under another key that have none waiting (after a failure, or a straggler)."""
        _require_role(actor, {Role.ADMIN}, "rotate the pseudonymisation key")
        self.check_ready()  # before the key changes: the jobs must be queued straight after
        if resume:
            queued = self._queue_repseudonymisation(actor, self._pads.key_id, None, None)
            return RotationReport(self._pads.key_id, None, None, queued, self._completed(actor))
        rotated = rotate_key(self.settings.resolved_key_file, today or date.today())
        try:
            queued = self._queue_repseudonymisation(
                actor, rotated.key_id, rotated.previous_key_id, rotated.retired.name
            )
        except Exception as exc:
            raise CarehubError(
                f"the pseudonymisation key is now {rotated.key_id}, but its re-pseudonymisation "
                f"jobs could not be queued ({type(exc).__name__})",
                hint="check the metadata database, then run `carehub keys rotate --resume`",
            ) from exc
        return RotationReport(
            rotated.key_id,
            rotated.previous_key_id,
            rotated.retired,
            queued,
            self._completed(actor),
        )

    def _queue_repseudonymisation(
        self, actor: Actor, key_id: str, previous: str | None, retired: str | None
    ) -> int:
        with self.database.session() as session:
            queued = self.rotations.queue(session, actor.username, key_id)
            self.audit.record(
                session,
                actor,
                ROTATION_RESUMED if previous is None else ROTATION_STARTED,
                key_target(key_id),
                detail={"previous_key_id": previous, "retired_file": retired, "jobs": queued},
            )
        return queued

    def _completed(self, actor: Actor) -> bool:
        """Whether every current version carries the current key (recording it, once)."""
        key_id = self._pads.key_id
        self.rotations.note_if_complete(actor, key_id)
        return self.rotations.state(key_id).complete

    def _run_repseudonymise(self, job: JobInfo, worker: str, report: ProgressReport) -> Receipt:
        assert job.submission_id is not None
        tracker = Progress(self.jobs, job.id, worker)

        def both(fraction: float, stage: str) -> None:
            tracker(fraction, stage)
            report(fraction, stage)

        error: str | None = None
        try:
            with tracker.beating():
                key_id = self._repseudonymise(job.submission_id, both)
        except UserError as exc:  # the file no longer goes through: a person must look
            error = exc.message
            with self.database.session() as session:
                self.audit.record(
                    session,
                    SYSTEM_ACTOR,
                    "submission.repseudonymise_failed",
                    f"submission/{job.submission_id}",
                    detail={"job": job.id, "error": type(exc).__name__},
                )
        except BaseException as exc:
            self.jobs.finish(job.id, worker, error=f"stopped by {type(exc).__name__}")
            raise
        self.jobs.finish(job.id, worker, error=error)
        if error is None:  # the last job to finish records that the rotation is complete
            self.rotations.note_if_complete(SYSTEM_ACTOR, key_id)
        report(1.0, "finished")
        return self._receipt(job.submission_id, job.id)

    def _repseudonymise(self, submission_id: int, progress: ProgressReport) -> str:
        """Publish a new version of a current submission made under the current key, from its
        raw file; nothing to do if it was superseded or already carries the key."""
        submission = self.intake.get(submission_id)
        pads = self._pads  # one read: the key that pseudonymises is the key that is recorded
        if submission.state == "published" and submission.key_id != pads.key_id:
            assert submission.period is not None  # every published submission has its period
            mapping = self.mapping_for(submission.org_code, submission.dataset)
            standardiser = Standardiser(self.database, self.lake, self.engine, self.audit)
            progress(0.05, "checking the file")
            with (
                self._named_copy(submission) as original,
                open_submission(original, mapping, self.workspace.scratch) as profile,
            ):
                standardiser.republish(
                    SYSTEM_ACTOR,
                    submission.id,
                    get_dataset(submission.dataset),
                    mapping.without(profile.missing_optional),
                    profile,
                    Period.parse(submission.period),
                    pads,
                    progress,
                )
        return pads.key_id

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
