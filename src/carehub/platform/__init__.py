"""The facade: one `Platform` built from `Settings`; its methods are carehub's use cases.

The CLI and the web app import from here and nothing below it. `hub.py` assembles the class from
parts that each own one area: `base.py` (the workspace and its services), `tokens.py`, `keys.py`,
`reference.py` and `quality.py`.
"""

from __future__ import annotations

from carehub.governance.actors import SYSTEM_ACTOR, Actor, Role
from carehub.governance.agreements import AgreementState, State
from carehub.governance.audit import VerifyReport
from carehub.governance.outputs import CountsResult, RowsResult
from carehub.governance.policy import Decision
from carehub.governance.tokens import Scope, TokenInfo
from carehub.metrics.runner import RunSummary
from carehub.metrics.views import MetricView, PointView, SourceView
from carehub.model.agreements import AgreementSpec, Level, Purpose
from carehub.model.datasets import DatasetSpec
from carehub.model.metrics import MetricDefinition
from carehub.platform.base import ORGANISATION_KINDS
from carehub.platform.governance import AccessLine, RequestInfo, TransparencyEntry
from carehub.platform.hub import Platform
from carehub.quality.coverage import FeedCoverage, MonthState
from carehub.quality.feedback import FailedCheck, FeedbackReport, ResolvedCheck
from carehub.quality.issues import Issue, IssueDetail, IssueEvent
from carehub.quality.issues import Stage as IssueStage
from carehub.quality.results import CheckRunReport
from carehub.quality.scorecard import ItemScore, Problems, Scorecard, ScorePoint, Scores
from carehub.standardise.rotation import KeyStatus, RotationReport
from carehub.standardise.row_rules import RowRule
from carehub.standardise.runner import Receipt, TrialReceipt
from carehub.store.jobs import JobInfo

__all__ = [
    "ORGANISATION_KINDS",
    "SYSTEM_ACTOR",
    "AccessLine",
    "Actor",
    "AgreementSpec",
    "AgreementState",
    "CheckRunReport",
    "CountsResult",
    "DatasetSpec",
    "Decision",
    "FailedCheck",
    "FeedCoverage",
    "FeedbackReport",
    "Issue",
    "IssueDetail",
    "IssueEvent",
    "IssueStage",
    "ItemScore",
    "JobInfo",
    "KeyStatus",
    "Level",
    "MetricDefinition",
    "MetricView",
    "MonthState",
    "Platform",
    "PointView",
    "Problems",
    "Purpose",
    "Receipt",
    "RequestInfo",
    "ResolvedCheck",
    "Role",
    "RotationReport",
    "RowRule",
    "RowsResult",
    "RunSummary",
    "Scope",
    "ScorePoint",
    "Scorecard",
    "Scores",
    "SourceView",
    "State",
    "TokenInfo",
    "TransparencyEntry",
    "TrialReceipt",
    "VerifyReport",
]
