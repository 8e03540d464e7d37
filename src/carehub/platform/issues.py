"""Data quality issues register use cases: who may see and act on issues (``quality/issues.py``
decides what an issue's state allows).

- Stewards and admins see and manage every issue: move, close, split, merge.
- Analysts see every issue and may log one by hand on any organisation's dataset (from a figure
  that looks wrong), and comment. Issues carry identifiers, counts and people's notes, never row
  values.
- A provider's submitters and viewers see their own organisation's issues, may log one on it and
  comment on them.
- The hub raises, links and closes issues from check runs by itself, as the system.
"""

from __future__ import annotations

from functools import cached_property

from carehub.errors import NotFound, PolicyDenied, UserError
from carehub.governance.actors import Actor, Role
from carehub.platform.base import STEWARDING_ROLES, PlatformBase, require_role
from carehub.quality.issues import Issue, IssueDetail, IssueRegister, Retest, Stage
from carehub.quality.results import CheckRunReport

SEEING_EVERY_ISSUE = frozenset({Role.ADMIN, Role.STEWARD, Role.ANALYST, Role.SYSTEM})
LOGGING_ROLES = frozenset({Role.ADMIN, Role.STEWARD, Role.ANALYST, Role.SUBMITTER})


class IssuesMixin(PlatformBase):
    @cached_property
    def issues(self) -> IssueRegister:
        return IssueRegister(self.database, self.audit)

    def dq_issues(
        self,
        actor: Actor,
        org: str | None = None,
        dataset: str | None = None,
        state: str | None = None,
    ) -> list[Issue]:
        """The issues the actor may see, by id."""
        orgs = None if actor.role in SEEING_EVERY_ISSUE else frozenset({actor.org_code})
        return self.issues.find(org, dataset, state, orgs)

    def dq_issue(self, actor: Actor, issue_id: int) -> IssueDetail:
        detail = self.issues.get(issue_id)
        if not self._may_see_issue(actor, detail.issue):
            raise NotFound(
                f"there is no data quality issue {issue_id}",
                hint="you can see your own organisation's issues",
            )
        return detail

    def log_dq_issue(
        self,
        actor: Actor,
        org: str,
        dataset: str,
        title: str,
        check_id: str | None = None,
        submission_id: int | None = None,
    ) -> int:
        """Log an issue by hand; returns its id."""
        require_role(actor, LOGGING_ROLES, "log a data quality issue")
        if actor.role not in SEEING_EVERY_ISSUE and actor.org_code != org:
            raise PolicyDenied(
                f"{actor} may not log an issue on {org}'s data",
                hint="log issues on your own organisation's data, or ask a data steward",
            )
        return self.issues.log(actor, org, dataset, title, check_id, submission_id=submission_id)

    def move_dq_issue(
        self,
        actor: Actor,
        issue_id: int,
        stage: str,
        note: str | None = None,
        *,
        priority: str | None = None,
        owner: str | None = None,
    ) -> Issue:
        require_role(actor, STEWARDING_ROLES, "move a data quality issue on")
        self.dq_issue(actor, issue_id)
        return self.issues.move(
            actor, issue_id, _stage(stage), note, priority=priority, owner=owner
        )

    def comment_dq_issue(self, actor: Actor, issue_id: int, text: str) -> None:
        self.dq_issue(actor, issue_id)
        require_role(actor, LOGGING_ROLES, "comment on a data quality issue")
        self.issues.comment(actor, issue_id, text)

    def close_dq_issue(self, actor: Actor, issue_id: int, evidence: str) -> None:
        require_role(actor, STEWARDING_ROLES, "close a data quality issue")
        self.dq_issue(actor, issue_id)
        self.issues.close(actor, issue_id, evidence)

    def split_dq_issue(self, actor: Actor, issue_id: int, title: str) -> int:
        require_role(actor, STEWARDING_ROLES, "split a data quality issue")
        return self.issues.split(actor, issue_id, title)

    def merge_dq_issue(self, actor: Actor, issue_id: int, into: int) -> None:
        require_role(actor, STEWARDING_ROLES, "merge data quality issues")
        self.issues.merge(actor, issue_id, into)

    def retest_dq_issues(self, report: CheckRunReport) -> Retest:
        """Raise, link and close issues from a stored check run (the system acts)."""
        return self.issues.retest(report)

    @staticmethod
    def _may_see_issue(actor: Actor, issue: Issue) -> bool:
        return actor.role in SEEING_EVERY_ISSUE or issue.org_code == actor.org_code


def _stage(name: str) -> Stage:
    try:
        return Stage(name)
    except ValueError:
        raise UserError(
            f"there is no issue stage {name!r}",
            hint="stages: " + ", ".join(s.value for s in Stage),
        ) from None
