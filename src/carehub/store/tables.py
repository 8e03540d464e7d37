"""SQLAlchemy models of the metadata database. Alembic migrations in ``migrations/`` create them;
a test checks that the migrations and these models agree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"

    ods_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.ods_code"))
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(default=True)


class Submission(Base):
    """One file from one organisation for one dataset and period."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("dataset", "org_code", "sha256", name="uq_submission_bytes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.ods_code"))
    period: Mapped[str | None] = mapped_column(String(7))  # None until the rows say which
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    mapping_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_by: Mapped[str] = mapped_column(String(120))
    rows_read: Mapped[int | None] = mapped_column(Integer)
    rows_published: Mapped[int | None] = mapped_column(Integer)
    rows_quarantined: Mapped[int | None] = mapped_column(Integer)
    standard_path: Mapped[str | None] = mapped_column(String(500))
    quarantine_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)  # why it was rejected (never a row value)
    hint: Mapped[str | None] = mapped_column(Text)  # what the sender should do about it
    reasons: Mapped[str | None] = mapped_column(Text)  # JSON: quarantine reason code -> rows
    warnings: Mapped[str | None] = mapped_column(Text)  # JSON: what the sender should know
    key_id: Mapped[str | None] = mapped_column(String(16))  # the pseudonymisation key's id


class Publication(Base):
    """A submission's rows became the current version of (dataset, organisation, period)."""

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publication_key", "dataset", "org_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(7))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    published_at: Mapped[datetime] = mapped_column(DateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The version's own file and key: a submission re-pseudonymised under a new key is published
    # again from a new file, and an as-of read must still find the file that was current then.
    standard_path: Mapped[str | None] = mapped_column(String(500))
    key_id: Mapped[str | None] = mapped_column(String(16))


class CurrentVersion(Base):
    """The pointer: which publication is current for (dataset, organisation, period)."""

    __tablename__ = "current_versions"

    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))


class MetricRun(Base):
    __tablename__ = "metric_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric_id: Mapped[str] = mapped_column(String(64), index=True)
    definition_sha256: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    computed_by: Mapped[str] = mapped_column(String(120))
    engine: Mapped[str] = mapped_column(String(20))


class MetricPoint(Base):
    """One value of a KPI series with its SPC limits and flags."""

    __tablename__ = "metric_points"
    __table_args__ = (UniqueConstraint("run_id", "facet", "period", name="uq_metric_point"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("metric_runs.id"), index=True)
    facet: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    numerator: Mapped[int] = mapped_column(BigInteger)
    denominator: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)
    mean: Mapped[float | None] = mapped_column(Float)
    lpl: Mapped[float | None] = mapped_column(Float)
    upl: Mapped[float | None] = mapped_column(Float)
    nlpl: Mapped[float | None] = mapped_column(Float)
    nupl: Mapped[float | None] = mapped_column(Float)
    special_cause_type: Mapped[str] = mapped_column(String(40))
    point_type: Mapped[str] = mapped_column(String(40))
    period_status: Mapped[str] = mapped_column(String(12))


class MetricRunInput(Base):
    """Lineage: which submissions a run read, for which facet-free (org, period)."""

    __tablename__ = "metric_run_inputs"

    run_id: Mapped[int] = mapped_column(ForeignKey("metric_runs.id"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)


class CurrentMetricRun(Base):
    __tablename__ = "current_metric_runs"

    metric_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("metric_runs.id"))


class AuditEvent(Base):
    """Append-only and hash-chained: ``hash`` = SHA-256 of the previous hash and this event."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Job(Base):
    """Work that outlives a request (see ``store/jobs.py``)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_job_claim", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12))
    progress: Mapped[float] = mapped_column(Float)
    stage: Mapped[str] = mapped_column(String(60))
    attempts: Mapped[int] = mapped_column(Integer)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    worker: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A token for scripts: only its SHA-256 is kept; the secret is shown once, when made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated, e.g. "submit read"
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Agreement(Base):
    """A data sharing agreement in the register: its current text and lifecycle state."""

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)  # goes up when the text is amended
    state: Mapped[str] = mapped_column(String(24))
    document: Mapped[str] = mapped_column(Text)  # the AgreementSpec as JSON
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    state_note: Mapped[str | None] = mapped_column(Text)  # e.g. why it was terminated


class AgreementSignature(Base):
    """A party signed (a version of) an agreement; recorded by the signatory or an admin."""

    __tablename__ = "agreement_signatures"
    __table_args__ = (
        UniqueConstraint("agreement_id", "version", "org_code", name="uq_agreement_signature"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.ods_code"))
    signatory: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime] = mapped_column(DateTime)


class AccessRequest(Base):
    """An analyst asked for access to a dataset for a purpose; a steward decides."""

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.ods_code"))
    dataset: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(ForeignKey("organisations.ods_code"))
    purpose: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(20))
    fields: Mapped[str | None] = mapped_column(Text)  # JSON list; None means every field
    justification: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))  # requested | approved | refused
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    agreement_id: Mapped[str | None] = mapped_column(ForeignKey("agreements.id"))


class CheckRun(Base):
    """One run of a dataset's check pack over a submission's rows (``quality/runner.py``)."""

    __tablename__ = "check_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str | None] = mapped_column(String(7))
    pack_sha256: Mapped[str] = mapped_column(String(64))  # the definitions the run used
    engine: Mapped[str] = mapped_column(String(20))
    run_at: Mapped[datetime] = mapped_column(DateTime)
    run_by: Mapped[str] = mapped_column(String(120))
    rows_checked: Mapped[int] = mapped_column(BigInteger)  # published rows
    rows_quarantined: Mapped[int] = mapped_column(BigInteger)
    checks_failed: Mapped[int] = mapped_column(Integer)
    checks_errored: Mapped[int] = mapped_column(Integer)


class CheckResult(Base):
    """One check's outcome in a run: passed, failed, not_applicable or error."""

    __tablename__ = "check_results"
    __table_args__ = (UniqueConstraint("run_id", "check_id", name="uq_check_result"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"), index=True)
    check_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(20))
    context: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(40))  # the rule kind
    fields: Mapped[str] = mapped_column(String(600))  # the fields it names, comma-separated
    status: Mapped[str] = mapped_column(String(16))
    failing: Mapped[int | None] = mapped_column(BigInteger)
    denominator: Mapped[int | None] = mapped_column(BigInteger)
    failing_pct: Mapped[float | None] = mapped_column(Float)
    tolerated_pct: Mapped[float] = mapped_column(Float)
    captured: Mapped[int] = mapped_column(Integer)  # failing rows kept in check_failures
    error: Mapped[str | None] = mapped_column(Text)  # why it could not run (never a row value)


class CheckFailure(Base):
    """A failing row of a check: its row number in the file, the field and a reason code;
    never the value."""

    __tablename__ = "check_failures"

    run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"), primary_key=True)
    check_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_row: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(60))


class DqIssue(Base):
    """A data quality problem in the issues register (``quality/issues.py``): raised by a check
    that breached its threshold (one issue per problem) or logged by hand."""

    __tablename__ = "dq_issues"
    __table_args__ = (Index("ix_dq_issue_problem", "org_code", "dataset", "check_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.ods_code"))
    dataset: Mapped[str] = mapped_column(String(64))
    check_id: Mapped[str | None] = mapped_column(String(64))  # None for one logged by hand
    origin: Mapped[str] = mapped_column(String(10))  # check | manual
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(10))
    priority: Mapped[str | None] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(120))
    raised_by: Mapped[str] = mapped_column(String(120))
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closing_evidence: Mapped[str | None] = mapped_column(Text)


class DqIssueEvent(Base):
    """An issue's history: stage changes, comments, re-tests (submission and result; counts,
    never row values), splits and merges."""

    __tablename__ = "dq_issue_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("dq_issues.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    result: Mapped[str | None] = mapped_column(String(16))
    failing: Mapped[int | None] = mapped_column(BigInteger)
    denominator: Mapped[int | None] = mapped_column(BigInteger)
    other_issue_id: Mapped[int | None] = mapped_column(Integer)  # split from / merged into


class DqIssueLink(Base):
    """An issue was seen in (or found from) a submission."""

    __tablename__ = "dq_issue_links"

    issue_id: Mapped[int] = mapped_column(ForeignKey("dq_issues.id"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime)
