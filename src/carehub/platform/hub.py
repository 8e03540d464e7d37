"""The facade: one `Platform` built from `Settings`; its methods are carehub's use cases.

The CLI and the web app call this and nothing else. Every state-changing method takes the acting
user and records an audit event; every read of the lake goes through the governed reader. The
class is assembled from parts that each own one area (tokens, keys, reference reads)."""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from carehub.acquire.files import open_submission
from carehub.acquire.intake import SUBMISSION_JOB
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
from carehub.governance.access import raise_if_denied
from carehub.governance.actors import SYSTEM_ACTOR, Actor, Role
from carehub.governance.audit import DetailValue, VerifyReport
from carehub.governance.disclosure import DisclosurePolicy
from carehub.governance.passwords import DUMMY_HASH, hash_password, verify_password
from carehub.governance.policy import Level, Purpose, ReadRequest
from carehub.metrics.registry import all_metrics, get_metric, metric_ids
from carehub.metrics.runner import MetricRunner, RunSummary
from carehub.metrics.views import MetricView, load_view
from carehub.model.agreements import DisclosureRule
from carehub.model.datasets import get_dataset
from carehub.model.mappings import ODS_CODE_PATTERN, FeedMapping
from carehub.model.metrics import MetricDefinition
from carehub.model.periods import Period
from carehub.model.yaml_loading import load_model
from carehub.platform.base import (
    ORGANISATION_KINDS,
    STEWARDING_ROLES,
    SUBMITTING_ROLES,
    require_role,
)
from carehub.platform.governance import GovernanceMixin
from carehub.platform.issues import IssuesMixin
from carehub.platform.keys import KeysMixin
from carehub.platform.quality import QualityMixin
from carehub.platform.reference import ReferenceMixin
from carehub.platform.tokens import TokensMixin
from carehub.standardise.drafting import Draft, propose_mapping
from carehub.standardise.rotation import (
    REPSEUDONYMISE_JOB,
)
from carehub.standardise.runner import (
    ProgressReport,
    Receipt,
    Standardiser,
    TrialReceipt,
    missing_column_warnings,
    no_progress,
)
from carehub.store.db import now_utc
from carehub.store.jobs import JobInfo, Progress, worker_name
from carehub.store.tables import Organisation, Submission, User

LOG = logging.getLogger(__name__)


class Platform(TokensMixin, KeysMixin, ReferenceMixin, GovernanceMixin, QualityMixin, IssuesMixin):
    # --- organisations and users -------------------------------------------------------------

    def add_organisation(self, actor: Actor, ods_code: str, name: str, kind: str) -> None:
        require_role(actor, {Role.ADMIN, Role.SYSTEM}, "add organisations")
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
        require_role(actor, {Role.ADMIN, Role.SYSTEM}, "add users")
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

    def set_role(self, actor: Actor, username: str, role: Role) -> None:
        """Change what a user may do (an admin only); audited with the old and new role."""
        require_role(actor, {Role.ADMIN}, "change roles")
        if role is Role.SYSTEM:
            raise UserError("the system role is reserved for carehub itself")
        with self.database.session() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(
                    f"there is no user {username!r}", hint="list them with `carehub users list`"
                )
            old, user.role = user.role, role
            detail = {"from": old, "to": role}
            self.audit.record(session, actor, "user.role", f"user/{username}", detail=detail)

    def user_exists(self, username: str) -> bool:
        with self.database.session() as session:
            return (
                session.scalars(select(User.id).where(User.username == username)).first()
                is not None
            )

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

    def authenticate_external(self, username: str, issuer: str) -> Actor:
        """Sign in someone an OpenID Connect provider vouched for, as the existing, active user
        its claim names; nothing is created (roles and organisations are managed here). Both
        outcomes are audited like a password sign-in, with the method and the issuer."""
        with self.database.session() as session:
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
            who = Actor(
                username[:120],
                user.org_code if user else "",
                Role(user.role) if user else Role.VIEWER,
            )
            detail = {"method": "oidc", "issuer": issuer}
            action = "signin" if user else "signin.failed"
            self.audit.record(session, who, action, f"user/{username[:100]}", detail=detail)
        if user is None:
            raise AuthenticationRequired(
                f"You signed in as {username[:120]!r}, but carehub has no active user of that "
                "name, so you have not been signed in to carehub.",
                hint="ask a carehub administrator to add you under that username "
                "(`carehub users add`); they also choose your role and organisation",
            )
        return self.actor(username)

    def refuse_external_sign_in(self, issuer: str, reason: str) -> None:
        """Audit an OpenID Connect sign-in refused before any user was known (a bad answer
        from the provider): the reason is a short code, never the token."""
        with self.database.session() as session:
            self.audit.record(
                session,
                Actor("oidc:unknown", "", Role.VIEWER),
                "signin.failed",
                "oidc",
                detail={"method": "oidc", "issuer": issuer, "reason": reason[:60]},
            )

    # --- feeds ---------------------------------------------------------------------------------

    def install_mapping(self, actor: Actor, path: Path) -> FeedMapping:
        require_role(actor, {Role.ADMIN, Role.STEWARD, Role.SYSTEM}, "install feed mappings")
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
        require_role(actor, {Role.ADMIN, Role.STEWARD, Role.SYSTEM}, "draft feed mappings")
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
        require_role(actor, {Role.ADMIN, Role.STEWARD, Role.SYSTEM}, "test feed mappings")
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
        require_role(actor, SUBMITTING_ROLES, "submit data")
        if actor.role is Role.SUBMITTER and actor.org_code != org:
            raise PolicyDenied(
                f"{actor} submits for {actor.org_code}, not {org}",
                hint="submit your own organisation's data",
            )
        if received_at is not None:
            require_role(actor, {Role.ADMIN, Role.SYSTEM}, "backdate a submission")
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
        require_role(actor, SUBMITTING_ROLES, "submit data")
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

    def submitting_organisations(self, actor: Actor) -> list[tuple[str, str]]:
        """Whom the actor may send files for: their own organisation, or any for stewards."""
        every = actor.role in STEWARDING_ROLES | {Role.SYSTEM}
        return [
            (code, name)
            for code, name, kind in self.organisations()
            if kind != "hub" and (every or code == actor.org_code)
        ]

    # --- jobs ----------------------------------------------------------------------------------

    def job(self, actor: Actor, job_id: int) -> JobInfo:
        job = self.jobs.get(job_id)
        if job.submission_id is not None:
            self.submission(actor, job.submission_id)  # the same visibility as its submission
        elif actor.role not in STEWARDING_ROLES:
            raise NotFound(f"there is no job {job_id}")
        return job

    def recent_jobs(self, actor: Actor, limit: int = 50) -> list[JobInfo]:
        require_role(actor, STEWARDING_ROLES | {Role.SYSTEM}, "list every job")
        return self.jobs.recent(limit)

    def retry_job(self, actor: Actor, job_id: int) -> JobInfo:
        require_role(actor, STEWARDING_ROLES | {Role.SYSTEM}, "retry jobs")
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
        progress(0.9, "checking data quality")
        # published: whatever happens to the checks now, the submission stays
        self.check_after_publication(actor, submission.id, mapping.schedule)
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
        """A KPI, for those whose agreements give aggregate access, for performance monitoring,
        to every organisation whose rows it was computed from; counts under the strictest
        disclosure rule of those agreements."""
        definition = get_metric(metric_id)
        request = ReadRequest(
            actor, Purpose.PERFORMANCE_MONITORING, definition.dataset, Level.AGGREGATE, ()
        )
        decision = self.reader.decide(request)
        rule = decision.disclosure or DisclosureRule()
        with self.database.session() as session:
            view = load_view(
                session, metric_id, DisclosurePolicy(rule.threshold, rule.rounding_base)
            )
        uncovered = sorted({s.org_code for s in view.sources} - decision.orgs)
        if decision and uncovered:
            decision = replace(
                decision,
                allowed=False,
                reason=f"the KPI is computed from rows of {', '.join(uncovered)}, which "
                f"{decision.agreement} does not share with {actor.org_code}",
            )
        target = f"metric/{metric_id}"
        detail: dict[str, DetailValue] = {
            "dataset": definition.dataset,
            "level": Level.AGGREGATE,
            "run": view.run_id,
        }
        self.reader.record(actor, decision, Purpose.PERFORMANCE_MONITORING, target, detail)
        raise_if_denied(actor, target, decision)
        return view

    # --- audit ---------------------------------------------------------------------------------

    def verify_audit(self) -> VerifyReport:
        return self.audit.verify()
