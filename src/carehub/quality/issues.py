"""The data quality issues register (DQIR).

Lifecycle, as the ICS's BI strategy sets it out: log → triage → initial prioritisation →
root-cause analysis → split / merge / continue → assess and confirm priority → options for fix →
approval → manage fix → programme of work, and ``closed`` (with evidence) from any stage. An issue
moves forward one stage at a time, or is closed; at any stage it can be split (a new issue from
it) or merged (closed into another).

Issues are raised by the checks: after each check run, a failed check of severity warning or
worse finds the open issue of its problem (organisation, dataset, check) or raises one, and links
the submission; an open issue raised by a check that now passes is closed with the evidence.
People log issues by hand too, from a figure that looks wrong.

This module decides what the state allows; who may act is the facade's (``platform/issues.py``).
Every change records an audit event (identifiers only: no titles, comments or evidence) and an
event in the issue's history (counts and submission ids, never row values).

(Over 400 lines: the register's reads, its lifecycle and the automatic re-test share one set
of row helpers and one transaction each; splitting them would spread one state machine over
modules.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from carehub.errors import Conflict, NotFound, UserError
from carehub.governance.actors import SYSTEM_ACTOR, Actor
from carehub.governance.audit import AuditLog
from carehub.quality.results import CheckResultView, CheckRunReport
from carehub.store.db import Database, now_utc
from carehub.store.tables import DqIssue, DqIssueEvent, DqIssueLink, Organisation

RAISING_SEVERITIES = frozenset({"warning", "error"})  # info-level failures are not issues
PRIORITIES = ("low", "medium", "high", "critical")
TITLE_MAX = 200


class Stage(StrEnum):
    LOGGED = "logged"
    TRIAGE = "triage"
    INITIAL_PRIORITISATION = "initial_prioritisation"
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis"
    SPLIT_MERGE_CONTINUE = "split_merge_continue"
    PRIORITY_CONFIRMED = "priority_confirmed"
    OPTIONS_FOR_FIX = "options_for_fix"
    APPROVAL = "approval"
    MANAGE_FIX = "manage_fix"
    PROGRAMME_OF_WORK = "programme_of_work"
    CLOSED = "closed"


ORDER = tuple(Stage)


def next_stage(stage: Stage) -> Stage | None:
    """The stage after ``stage`` in the lifecycle (None once closed)."""
    if stage is Stage.CLOSED:
        return None
    return ORDER[ORDER.index(stage) + 1]


@dataclass(frozen=True)
class IssueEvent:
    at: datetime
    actor: str
    kind: str  # raised | logged | stage | comment | retest | closed | split | merged | update
    from_stage: str | None
    to_stage: str | None
    note: str | None
    submission_id: int | None
    result: str | None
    failing: int | None
    denominator: int | None
    other_issue_id: int | None


@dataclass(frozen=True)
class Issue:
    id: int
    org_code: str
    dataset: str
    check_id: str | None
    origin: str
    title: str
    stage: str
    severity: str
    priority: str | None
    owner: str | None
    raised_by: str
    raised_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closing_evidence: str | None
    submissions: tuple[int, ...]

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED


@dataclass(frozen=True)
class IssueDetail:
    issue: Issue
    history: tuple[IssueEvent, ...]


@dataclass(frozen=True)
class Retest:
    """What one check run did to the register."""

    raised: tuple[int, ...]
    linked: tuple[int, ...]
    closed: tuple[int, ...]


class IssueRegister:
    def __init__(self, database: Database, audit: AuditLog) -> None:
        self.database, self.audit = database, audit

    # --- reads ------------------------------------------------------------------------------

    def find(
        self,
        org: str | None = None,
        dataset: str | None = None,
        state: str | None = None,
        orgs: frozenset[str] | None = None,
    ) -> list[Issue]:
        """Issues by id; ``orgs`` limits them to those organisations (None: every one)."""
        query = select(DqIssue).order_by(DqIssue.id)
        if org is not None:
            query = query.where(DqIssue.org_code == org)
        if dataset is not None:
            query = query.where(DqIssue.dataset == dataset)
        if state == "open":
            query = query.where(DqIssue.stage != Stage.CLOSED)
        elif state == "closed":
            query = query.where(DqIssue.stage == Stage.CLOSED)
        elif state is not None:
            raise UserError(f"unknown issue state {state!r}", hint="use open or closed")
        if orgs is not None:
            query = query.where(DqIssue.org_code.in_(orgs))
        with self.database.session() as session:
            return [_issue(session, row) for row in session.scalars(query)]

    def get(self, issue_id: int) -> IssueDetail:
        with self.database.session() as session:
            row = _row(session, issue_id)
            events = session.scalars(
                select(DqIssueEvent)
                .where(DqIssueEvent.issue_id == issue_id)
                .order_by(DqIssueEvent.id)
            )
            return IssueDetail(_issue(session, row), tuple(_event(e) for e in events))

    # --- changes by people --------------------------------------------------------------------

    def log(
        self,
        actor: Actor,
        org: str,
        dataset: str,
        title: str,
        check_id: str | None = None,
        severity: str = "warning",
        submission_id: int | None = None,
    ) -> int:
        """Log an issue by hand (from a figure that looks wrong); returns its id."""
        title = _title(title)
        with self.database.session() as session:
            if session.get(Organisation, org) is None:
                raise NotFound(f"there is no organisation {org}", hint="see `carehub orgs list`")
            row = self._new(session, actor, org, dataset, check_id, "manual", title, severity)
            self._event(session, actor, row, "logged", to_stage=Stage.LOGGED)
            if submission_id is not None:
                self._link(session, row, submission_id)
            self._audit(session, actor, "quality.issue.log", row)
            return row.id

    def move(
        self,
        actor: Actor,
        issue_id: int,
        stage: Stage,
        note: str | None = None,
        *,
        priority: str | None = None,
        owner: str | None = None,
    ) -> Issue:
        """Move an open issue forward one stage (or to ``closed``: use ``close``), optionally
        setting its priority and owner on the way."""
        if stage is Stage.CLOSED:
            raise UserError(
                "close an issue with its evidence", hint="carehub dq issues close ID --evidence"
            )
        if priority is not None and priority not in PRIORITIES:
            raise UserError(
                f"unknown priority {priority!r}", hint=f"one of {', '.join(PRIORITIES)}"
            )
        with self.database.session() as session:
            row = _open_row(session, issue_id)
            current = Stage(row.stage)
            if stage is not current and stage is not next_stage(current):
                raise Conflict(
                    f"issue {issue_id} is at {current}; it can move on to {next_stage(current)} "
                    "or be closed",
                    hint="issues move forward one stage at a time",
                )
            row.stage = stage
            row.priority = priority or row.priority
            row.owner = owner or row.owner
            row.updated_at = now_utc()
            self._event(session, actor, row, "stage", current, stage, note)
            self._audit(session, actor, "quality.issue.move", row, from_stage=current)
            return _issue(session, row)

    def comment(self, actor: Actor, issue_id: int, text: str) -> None:
        if not text.strip():
            raise UserError("the comment is empty")
        with self.database.session() as session:
            row = _row(session, issue_id)
            row.updated_at = now_utc()
            self._event(session, actor, row, "comment", note=text.strip())
            self._audit(session, actor, "quality.issue.comment", row)

    def close(self, actor: Actor, issue_id: int, evidence: str) -> None:
        if not evidence.strip():
            raise UserError("say why the issue is closed", hint="give --evidence TEXT")
        with self.database.session() as session:
            self._close(session, actor, _open_row(session, issue_id), evidence.strip())

    def split(self, actor: Actor, issue_id: int, title: str) -> int:
        """A new issue from part of an open one (same organisation, dataset and submissions)."""
        title = _title(title)
        with self.database.session() as session:
            source = _open_row(session, issue_id)
            new = self._new(
                session,
                actor,
                source.org_code,
                source.dataset,
                None,
                "manual",
                title,
                source.severity,
            )
            for submission_id in _links(session, source.id):
                self._link(session, new, submission_id)
            self._event(session, actor, new, "split", to_stage=Stage.LOGGED, other=source.id)
            self._event(
                session, actor, source, "split", note=f"split into issue {new.id}", other=new.id
            )
            self._audit(session, actor, "quality.issue.split", new, source=source.id)
            return new.id

    def merge(self, actor: Actor, issue_id: int, into: int) -> None:
        """Close an open issue into another open one of the same organisation and dataset; its
        submissions move with it."""
        if issue_id == into:
            raise UserError("an issue cannot be merged into itself")
        with self.database.session() as session:
            source, target = _open_row(session, issue_id), _open_row(session, into)
            if (source.org_code, source.dataset) != (target.org_code, target.dataset):
                raise Conflict(
                    f"issues {issue_id} and {into} are about different organisations or datasets"
                )
            for submission_id in _links(session, source.id):
                self._link(session, target, submission_id)
            self._event(
                session,
                actor,
                target,
                "merged",
                note=f"issue {issue_id} merged in",
                other=source.id,
            )
            self._audit(session, actor, "quality.issue.merge", target, source=source.id)
            self._close(session, actor, source, f"merged into issue {into}", other=into)

    # --- changes by the checks ----------------------------------------------------------------

    def retest(self, report: CheckRunReport) -> Retest:
        """Update the register from a check run: one open issue per failing problem (raised if
        new, the submission linked), and automatic issues whose check now passes closed."""
        actor = SYSTEM_ACTOR
        raised: list[int] = []
        linked: list[int] = []
        closed: list[int] = []
        with self.database.session() as session:
            open_rows = session.scalars(
                select(DqIssue)
                .where(
                    DqIssue.org_code == report.org_code,
                    DqIssue.dataset == report.dataset,
                    DqIssue.check_id.is_not(None),
                    DqIssue.stage != Stage.CLOSED,
                )
                .order_by(DqIssue.id)
            ).all()
            by_check: dict[str, DqIssue] = {}
            for open_row in open_rows:
                by_check.setdefault(open_row.check_id or "", open_row)
            for result in report.results:
                found = by_check.get(result.check_id)
                if result.status == "failed" and result.severity in RAISING_SEVERITIES:
                    if found is None:
                        found = self._raise(session, actor, report, result)
                        raised.append(found.id)
                    else:
                        linked.append(found.id)
                    self._retested(session, actor, found, report, result)
                elif result.status == "passed" and found is not None and found.origin == "check":
                    row = found
                    self._retested(session, actor, row, report, result)
                    evidence = (
                        f"passed on submission {report.submission_id}: "
                        f"{result.failing or 0} of {result.denominator or 0} rows failing"
                    )
                    self._close(session, actor, row, evidence, submission=report.submission_id)
                    closed.append(row.id)
        return Retest(tuple(raised), tuple(linked), tuple(closed))

    # --- internals --------------------------------------------------------------------------

    def _raise(
        self, session: Session, actor: Actor, report: CheckRunReport, result: CheckResultView
    ) -> DqIssue:
        title = f"{result.check_id} failed ({result.category}, {result.severity})"
        row = self._new(
            session,
            actor,
            report.org_code,
            report.dataset,
            result.check_id,
            "check",
            title,
            result.severity,
        )
        row.priority = "high" if result.severity == "error" else "medium"
        self._event(session, actor, row, "raised", to_stage=Stage.LOGGED)
        self._audit(session, actor, "quality.issue.raise", row)
        return row

    def _retested(
        self,
        session: Session,
        actor: Actor,
        row: DqIssue,
        report: CheckRunReport,
        result: CheckResultView,
    ) -> None:
        self._link(session, row, report.submission_id)
        session.add(
            DqIssueEvent(
                issue_id=row.id,
                at=now_utc(),
                actor=actor.username,
                kind="retest",
                submission_id=report.submission_id,
                result=result.status,
                failing=result.failing,
                denominator=result.denominator,
            )
        )
        row.updated_at = now_utc()
        self._audit(
            session,
            actor,
            "quality.issue.retest",
            row,
            submission=report.submission_id,
            result=result.status,
        )

    def _new(
        self,
        session: Session,
        actor: Actor,
        org: str,
        dataset: str,
        check_id: str | None,
        origin: str,
        title: str,
        severity: str,
    ) -> DqIssue:
        at = now_utc()
        row = DqIssue(
            org_code=org,
            dataset=dataset,
            check_id=check_id,
            origin=origin,
            title=title,
            stage=Stage.LOGGED,
            severity=severity,
            raised_by=actor.username,
            raised_at=at,
            updated_at=at,
        )
        session.add(row)
        session.flush()
        return row

    def _close(
        self,
        session: Session,
        actor: Actor,
        row: DqIssue,
        evidence: str,
        *,
        submission: int | None = None,
        other: int | None = None,
    ) -> None:
        before = Stage(row.stage)
        row.stage, row.closing_evidence = Stage.CLOSED, evidence
        row.closed_at = row.updated_at = now_utc()
        session.add(
            DqIssueEvent(
                issue_id=row.id,
                at=row.closed_at,
                actor=actor.username,
                kind="closed",
                from_stage=before,
                to_stage=Stage.CLOSED,
                note=evidence,
                submission_id=submission,
                other_issue_id=other,
            )
        )
        self._audit(session, actor, "quality.issue.close", row, from_stage=before)

    def _event(
        self,
        session: Session,
        actor: Actor,
        row: DqIssue,
        kind: str,
        from_stage: str | None = None,
        to_stage: str | None = None,
        note: str | None = None,
        *,
        other: int | None = None,
    ) -> None:
        session.add(
            DqIssueEvent(
                issue_id=row.id,
                at=now_utc(),
                actor=actor.username,
                kind=kind,
                from_stage=from_stage,
                to_stage=to_stage,
                note=note,
                other_issue_id=other,
            )
        )

    @staticmethod
    def _link(session: Session, row: DqIssue, submission_id: int) -> None:
        if session.get(DqIssueLink, (row.id, submission_id)) is None:
            session.add(
                DqIssueLink(issue_id=row.id, submission_id=submission_id, linked_at=now_utc())
            )
            session.flush()

    def _audit(
        self, session: Session, actor: Actor, action: str, row: DqIssue, **extra: str | int | None
    ) -> None:
        detail: dict[str, str | int | None] = {
            "org": row.org_code,
            "dataset": row.dataset,
            "check": row.check_id,
            "stage": row.stage,
            **extra,
        }
        self.audit.record(session, actor, action, f"dq-issue/{row.id}", detail=detail)


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UserError("the issue's title is empty", hint="give --title TEXT")
    return title[:TITLE_MAX]


def _row(session: Session, issue_id: int) -> DqIssue:
    row = session.get(DqIssue, issue_id)
    if row is None:
        raise NotFound(
            f"there is no data quality issue {issue_id}", hint="see `carehub dq issues list`"
        )
    return row


def _open_row(session: Session, issue_id: int) -> DqIssue:
    row = _row(session, issue_id)
    if row.stage == Stage.CLOSED:
        raise Conflict(f"issue {issue_id} is closed", hint="log a new issue if the problem is back")
    return row


def _links(session: Session, issue_id: int) -> list[int]:
    return list(
        session.scalars(
            select(DqIssueLink.submission_id)
            .where(DqIssueLink.issue_id == issue_id)
            .order_by(DqIssueLink.submission_id)
        )
    )


def _issue(session: Session, row: DqIssue) -> Issue:
    return Issue(
        id=row.id,
        org_code=row.org_code,
        dataset=row.dataset,
        check_id=row.check_id,
        origin=row.origin,
        title=row.title,
        stage=row.stage,
        severity=row.severity,
        priority=row.priority,
        owner=row.owner,
        raised_by=row.raised_by,
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        closing_evidence=row.closing_evidence,
        submissions=tuple(_links(session, row.id)),
    )


def _event(e: DqIssueEvent) -> IssueEvent:
    return IssueEvent(
        at=e.at,
        actor=e.actor,
        kind=e.kind,
        from_stage=e.from_stage,
        to_stage=e.to_stage,
        note=e.note,
        submission_id=e.submission_id,
        result=e.result,
        failing=e.failing,
        denominator=e.denominator,
        other_issue_id=e.other_issue_id,
    )
