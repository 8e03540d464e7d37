"""Data quality use cases: the check packs, running them on a submission and their results.

Checks run on their own after a submission is published (``check_after_publication``, called by
the processing job once the version pointer has flipped: a check that fails to run is logged and
never loses the submission) and again on request (`carehub dq run`). They read the submission's
own files as part of processing it; who may run them and see their results follows who may see
the submission (its organisation, stewards and admins).

Scorecards follow the same rule: a submission's scorecard (each check's result, its data items
and its problems since the provider's previous submission) is for the submission's organisation,
stewards and admins. The scores alone (``scores``: a DQMI-compatible percentage, the coverage and
the number of failed checks per provider and period, never a count of rows) may be seen by every
user, whatever their role or organisation: they are aggregate measures of a provider's data, as
NHS England publishes the DQMI of every provider, and comparing peers is their point.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import cached_property

from carehub.errors import NotFound
from carehub.governance.actors import Actor, Role
from carehub.model.checks import CheckPack, check_pack_names, check_pack_schema, get_check_pack
from carehub.model.mappings import Schedule
from carehub.model.periods import Period
from carehub.platform.base import STEWARDING_ROLES, SUBMITTING_ROLES, PlatformBase, require_role
from carehub.quality.coverage import Arrival, FeedCoverage, feed_coverage
from carehub.quality.evaluation import Failure
from carehub.quality.feedback import PAGE_ROWS, FeedbackReport, build_feedback, workbook_bytes
from carehub.quality.issues import IssueRegister
from carehub.quality.reference import ReferenceData
from carehub.quality.results import CheckRunReport, previous_checked, published_submissions
from carehub.quality.runner import QualityRunner
from carehub.quality.scorecard import (
    Scorecard,
    Scores,
    build_scorecard,
    coverage_share,
    point,
)
from carehub.quality.scorecard import (
    scores as gather_scores,
)
from carehub.store.tables import Submission

LOG = logging.getLogger(__name__)


class QualityMixin(PlatformBase):
    @cached_property
    def quality(self) -> QualityRunner:
        reference = ReferenceData(self.settings.resolved_shared_data)
        return QualityRunner(self.database, self.lake, self.engine, self.audit, reference)

    # --- definitions: reference information, no patient data -----------------------------------

    @staticmethod
    def check_packs() -> tuple[CheckPack, ...]:
        return tuple(get_check_pack(name) for name in check_pack_names())

    @staticmethod
    def check_pack(dataset: str) -> CheckPack:
        return get_check_pack(dataset)

    @staticmethod
    def check_schema() -> dict[str, object]:
        """The JSON Schema of a check pack file."""
        return check_pack_schema()

    # --- runs ----------------------------------------------------------------------------------

    def run_checks(self, actor: Actor, submission_id: int) -> CheckRunReport:
        """Run the dataset's checks on an accepted submission and keep the results (audited)."""
        require_role(actor, SUBMITTING_ROLES, "run data quality checks")
        submission = self._visible_submission(actor, submission_id)
        report = self.quality.run(actor, submission_id, pads=self._pads, due=self._due(submission))
        IssueRegister(self.database, self.audit).retest(report)
        return report

    def check_results(self, actor: Actor, submission_id: int) -> CheckRunReport:
        """The latest check run of a submission the actor may see."""
        self._visible_submission(actor, submission_id)
        report = self.quality.latest(submission_id)
        if report is None:
            raise NotFound(
                f"submission {submission_id} has not been checked",
                hint=f"run its checks with `carehub dq run {submission_id}`",
            )
        return report

    def check_failures(
        self, actor: Actor, submission_id: int, check_id: str | None = None, limit: int = 100
    ) -> list[tuple[str, Failure]]:
        """The first failing rows the latest run kept: row number, field and reason code."""
        report = self.check_results(actor, submission_id)
        return self.quality.failures(report.run_id, check_id, limit)

    # --- scorecards ----------------------------------------------------------------------------

    def scorecard(self, actor: Actor, submission_id: int) -> Scorecard:
        """A checked submission's DQMI-compatible score, data items, check results and problems
        new, resolved and persisting since the provider's previous checked submission."""
        submission = self._visible_submission(actor, submission_id)
        report = self.check_results(actor, submission_id)
        with self.database.session() as session:
            previous_id = previous_checked(session, submission)
        previous = self.quality.latest(previous_id) if previous_id is not None else None
        feed = self._feed_coverage(submission.org_code, submission.dataset)
        return build_scorecard(report, coverage_share(feed, submission.period), previous)

    # --- feedback to the sender ------------------------------------------------------------------

    def feedback_report(self, actor: Actor, submission_id: int) -> FeedbackReport:
        """The report a provider can act on (see ``quality/feedback.py``): each failed check with
        what is wrong, how to fix it and its first failing rows (numbers, fields, reason codes),
        compared with the previous submission. Seen by whoever may see the scorecard."""
        card = self.scorecard(actor, submission_id)
        return build_feedback(card, self._failing_rows(card.run_id, PAGE_ROWS))

    def feedback_workbook(self, actor: Actor, submission_id: int) -> bytes:
        """The report as an Excel workbook with every kept failing row (audited)."""
        card = self.scorecard(actor, submission_id)
        rows = self._failing_rows(card.run_id, None)
        report = build_feedback(card, {c: r[:PAGE_ROWS] for c, r in rows.items()})
        with self.database.session() as session:
            target, detail = f"submission/{submission_id}", {"run": card.run_id}
            self.audit.record(session, actor, "quality.feedback", target, detail=detail)
        return workbook_bytes(report, rows)

    def _failing_rows(self, run_id: int, per_check: int | None) -> dict[str, list[Failure]]:
        rows: dict[str, list[Failure]] = {}
        for check_id, failure in self.quality.failures(run_id):
            kept = rows.setdefault(check_id, [])
            if per_check is None or len(kept) < per_check:
                kept.append(failure)
        return rows

    def provider_scorecard(self, actor: Actor, dataset: str, org: str, period: str) -> Scorecard:
        """The scorecard of the current (published) submission of a provider, dataset and
        period."""
        with self.database.session() as session:
            current = published_submissions(session, dataset, org, period)
        if not current:
            raise NotFound(
                f"{org} has no published {dataset} submission for {period}",
                hint="see `carehub submissions list`",
            )
        return self.scorecard(actor, current[0].id)

    def scores(self, actor: Actor, dataset: str, org: str | None = None) -> Scores:
        """The score per period of each provider of a dataset (of ``org`` only, if given) and
        every provider's latest score. Any user may see them (see the module's docstring)."""
        get_check_pack(dataset)  # NotFound names the datasets with checks
        with self.database.session() as session:
            current = published_submissions(session, dataset)
        feeds: dict[str, FeedCoverage | None] = {}
        points = []
        for submission in current:
            report = self.quality.latest(submission.id)
            if report is None:
                continue  # published before checks existed, or its checks did not run
            if submission.org_code not in feeds:
                feeds[submission.org_code] = self._feed_coverage(submission.org_code, dataset)
            coverage = coverage_share(feeds[submission.org_code], submission.period)
            points.append(point(report, coverage))
        every = gather_scores(dataset, points)
        if org is None:
            return every
        trend = tuple(p for p in every.trend if p.org_code == org)
        if not trend:
            raise NotFound(
                f"{org} has no checked {dataset} submission",
                hint=f"providers with scores: {', '.join(p.org_code for p in every.peers) or '-'}",
            )
        return Scores(dataset, trend, every.peers)

    def _feed_coverage(self, org: str, dataset: str) -> FeedCoverage | None:
        schedule = self.mapping_for(org, dataset).schedule
        if schedule is None:
            return None
        arrivals = [
            Arrival(s.period, s.received_at, s.state) for s in self.submissions(dataset, org)
        ]
        return feed_coverage(org, dataset, schedule, arrivals, date.today())

    def check_after_publication(
        self, actor: Actor, submission_id: int, schedule: Schedule | None
    ) -> None:
        """Run the checks of a just-published submission (``schedule``: its feed's, from the
        mapping it was processed with). Called once it is published: a failure here is logged
        (its type only) and the submission stays published."""
        try:
            submission = self.intake.get(submission_id)
            if submission.dataset not in check_pack_names():
                return
            due = (
                schedule.due(Period.parse(submission.period))
                if schedule and submission.period
                else None
            )
            report = self.quality.run(actor, submission_id, pads=self._pads, due=due)
            IssueRegister(self.database, self.audit).retest(report)  # the issues register
        except Exception as exc:  # the submission is already safe; say so and carry on
            LOG.error(
                "data quality checks of submission %s did not run: %s (run them again with "
                "`carehub dq run %s`)",
                submission_id,
                type(exc).__name__,
                submission_id,
            )

    def _visible_submission(self, actor: Actor, submission_id: int) -> Submission:
        submission = self.intake.get(submission_id)
        every = actor.role in STEWARDING_ROLES or actor.role is Role.SYSTEM
        if not every and submission.org_code != actor.org_code:
            raise NotFound(
                f"there is no submission {submission_id}",
                hint="you can see your own organisation's submissions",
            )
        return submission

    def _due(self, submission: Submission) -> date | None:
        """The date the feed's file for the submission's period was due, if it is scheduled."""
        if submission.period is None:
            return None
        schedule = self.mapping_for(submission.org_code, submission.dataset).schedule
        return schedule.due(Period.parse(submission.period)) if schedule else None
