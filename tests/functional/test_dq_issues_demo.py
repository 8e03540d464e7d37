"""The issues register on the synthetic ICS (read-only): DPP03, the planted poor provider of the
Diabetes Prevention Programme, has open issues raised by the dpp_event checks, one per problem."""

from __future__ import annotations

from workspaces import ADMIN

from carehub.governance.actors import Actor, Role
from carehub.platform import Platform

POOR = "DPP03"


def test_the_poor_provider_has_open_issues_one_per_problem(demo_platform: Platform) -> None:
    issues = demo_platform.dq_issues(ADMIN, org=POOR, dataset="dpp_event", state="open")
    assert issues, "DPP03's planted problems raise issues"
    checks = [i.check_id for i in issues]
    assert None not in checks and len(checks) == len(set(checks))  # one issue per problem
    assert all(i.origin == "check" and i.severity in ("warning", "error") for i in issues)
    assert any(len(i.submissions) > 1 for i in issues)  # re-tested on later submissions
    detail = demo_platform.dq_issue(ADMIN, issues[0].id)
    assert [e.kind for e in detail.history][:2] == ["raised", "retest"]


def test_a_provider_sees_only_its_own_issues(demo_platform: Platform) -> None:
    mine = demo_platform.dq_issues(Actor("dpp3", POOR, Role.SUBMITTER))
    assert mine and {i.org_code for i in mine} == {POOR}
    every = demo_platform.dq_issues(Actor("analyst", "HUB", Role.ANALYST))
    assert len(every) >= len(mine)
