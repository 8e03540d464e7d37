"""The data quality issues register on a small workspace: a placeholder NHS number raises one
issue, a second bad file links to it, a corrected file closes it with evidence; issues logged,
moved, commented on, split, merged and closed by hand; who may see and act."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner
from workspaces import ADMIN, ED_HEADER, make_platform, nhs_numbers

from carehub.cli.main import app
from carehub.errors import Conflict, NotFound, PolicyDenied, UserError
from carehub.governance.actors import Actor, Role
from carehub.platform import Platform
from carehub.quality.issues import Stage, next_stage
from carehub.store.tables import AuditEvent

PLACEHOLDER = "0000000000"  # passes Modulus 11
CHECK = "nhs_number_placeholder"
STEWARD = Actor("stella", "HUB", Role.STEWARD)
ANALYST = Actor("ana", "HUB", Role.ANALYST)
SUBMITTER = Actor("sam", "RAJ", Role.SUBMITTER)
OUTSIDER = Actor("nina", "NUC01", Role.SUBMITTER)


def audited(hub: Platform, prefix: str) -> list[str]:
    """The audit actions on targets starting with ``prefix``, in order."""
    with hub.database.session() as session:
        query = select(AuditEvent).where(AuditEvent.target.startswith(prefix))
        return [e.action for e in session.scalars(query.order_by(AuditEvent.seq))]


def ed_file(path: Path, period: str, *, placeholder: bool) -> Path:
    numbers = iter(nhs_numbers(999_400_000))
    rows = []
    for n in range(1, 21):
        number = PLACEHOLDER if placeholder and n == 1 else next(numbers)
        rows.append(
            f"{period}-{n},{number},RAJ01,01,{period}-{n:02d} 10:00:00,{period}-{n:02d} 12:00:00,3"
        )
    path.write_text(ED_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def submit(hub: Platform, tmp_path: Path, month: int, *, placeholder: bool) -> int:
    period = f"2025-{month:02d}"
    path = ed_file(tmp_path / f"{period}.csv", period, placeholder=placeholder)
    received = datetime(2025, month + 1, 3, 9)
    receipt = hub.submit(ADMIN, "RAJ", "ed_attendance", path, period, received_at=received)
    assert receipt.state == "published"
    return receipt.submission_id


@pytest.fixture
def hub(tmp_path: Path) -> Platform:
    platform = make_platform(tmp_path / "home")
    platform.add_organisation(ADMIN, "NUC01", "Urgent treatment centre", "private_provider")
    return platform


def test_one_issue_per_problem_retested_and_closed_with_evidence(
    hub: Platform, tmp_path: Path
) -> None:
    clean = submit(hub, tmp_path, 1, placeholder=False)
    assert hub.dq_issues(ADMIN) == []
    first = submit(hub, tmp_path, 2, placeholder=True)
    [issue] = hub.dq_issues(ADMIN)
    assert (issue.org_code, issue.dataset, issue.check_id) == ("RAJ", "ed_attendance", CHECK)
    assert (issue.stage, issue.severity, issue.origin) == ("logged", "error", "check")
    assert issue.raised_by == "carehub" and issue.submissions == (first,)
    second = submit(hub, tmp_path, 3, placeholder=True)
    [same] = hub.dq_issues(ADMIN)
    assert same.id == issue.id and same.submissions == (first, second)
    corrected = submit(hub, tmp_path, 4, placeholder=False)
    [closed] = hub.dq_issues(ADMIN, state="closed")
    assert hub.dq_issues(ADMIN, state="open") == []
    assert closed.closing_evidence == f"passed on submission {corrected}: 0 of 20 rows failing"
    assert closed.submissions == (first, second, corrected) and clean not in closed.submissions
    history = hub.dq_issue(ADMIN, issue.id).history
    assert [(e.kind, e.submission_id, e.result) for e in history] == [
        ("raised", None, None),
        ("retest", first, "failed"),
        ("retest", second, "failed"),
        ("retest", corrected, "passed"),
        ("closed", corrected, None),
    ]
    assert {e.actor for e in history} == {"carehub"}
    assert next((e.failing, e.denominator) for e in history if e.kind == "retest") == (1, 20)
    actions = audited(hub, f"dq-issue/{issue.id}")
    assert actions.count("quality.issue.retest") == 3
    assert {"quality.issue.raise", "quality.issue.close"} <= set(actions)
    assert hub.verify_audit().events > 0  # the chain still verifies
    submit(hub, tmp_path, 5, placeholder=True)  # the problem is back: a new issue
    assert [i.id for i in hub.dq_issues(ADMIN, state="open")] == [issue.id + 1]


def test_the_lifecycle_by_hand(hub: Platform) -> None:
    issue_id = hub.log_dq_issue(ANALYST, "RAJ", "ed_attendance", "  4-hour figure looks  low ")
    detail = hub.dq_issue(ANALYST, issue_id)
    assert detail.issue.title == "4-hour figure looks low" and detail.issue.origin == "manual"
    assert detail.issue.check_id is None and detail.issue.raised_by == "ana"
    with pytest.raises(Conflict):  # one stage at a time
        hub.move_dq_issue(STEWARD, issue_id, "root_cause_analysis")
    moved = hub.move_dq_issue(STEWARD, issue_id, "triage", "looking", priority="high", owner="bo")
    assert (moved.stage, moved.priority, moved.owner) == ("triage", "high", "bo")
    with pytest.raises(UserError):
        hub.move_dq_issue(STEWARD, issue_id, "nonsense")
    hub.comment_dq_issue(SUBMITTER, issue_id, "a site was missing from the extract")
    part = hub.split_dq_issue(STEWARD, issue_id, "Site RAJ02 missing")
    other = hub.log_dq_issue(STEWARD, "RAJ", "ed_attendance", "Duplicate of the first")
    hub.merge_dq_issue(STEWARD, other, issue_id)
    assert hub.dq_issue(ADMIN, other).issue.closing_evidence == f"merged into issue {issue_id}"
    with pytest.raises(Conflict):
        hub.move_dq_issue(STEWARD, other, "triage")
    hub.close_dq_issue(STEWARD, issue_id, "extract fixed; resubmitted")
    with pytest.raises(Conflict):
        hub.close_dq_issue(STEWARD, issue_id, "again")
    history = hub.dq_issue(ADMIN, issue_id).history
    assert [e.kind for e in history] == ["logged", "stage", "comment", "split", "merged", "closed"]
    assert history[1].from_stage == "logged" and history[1].to_stage == "triage"
    assert history[3].other_issue_id == part and history[4].other_issue_id == other
    assert hub.dq_issue(ADMIN, part).issue.stage == "logged"
    actions = set(audited(hub, "dq-issue/"))
    assert {
        "quality.issue.log",
        "quality.issue.move",
        "quality.issue.comment",
        "quality.issue.split",
        "quality.issue.merge",
        "quality.issue.close",
    } <= actions


def test_every_stage_in_order() -> None:
    stage, seen = Stage.LOGGED, []
    while stage is not Stage.CLOSED:
        seen.append(stage.value)
        stage = next_stage(stage)  # type: ignore[assignment]
    assert seen[0] == "logged" and seen[-1] == "programme_of_work" and len(seen) == 10


def test_who_may_see_and_act(hub: Platform) -> None:
    raj = hub.log_dq_issue(SUBMITTER, "RAJ", "ed_attendance", "Counts doubled in March")
    assert [i.id for i in hub.dq_issues(SUBMITTER)] == [raj]
    assert hub.dq_issues(OUTSIDER) == []
    with pytest.raises(NotFound):
        hub.dq_issue(OUTSIDER, raj)
    with pytest.raises(PolicyDenied):
        hub.log_dq_issue(OUTSIDER, "RAJ", "ed_attendance", "not mine")
    with pytest.raises(PolicyDenied):
        hub.log_dq_issue(Actor("vic", "RAJ", Role.VIEWER), "RAJ", "ed_attendance", "looks off")
    for actor in (SUBMITTER, ANALYST):
        with pytest.raises(PolicyDenied):
            hub.move_dq_issue(actor, raj, "triage")
        with pytest.raises(PolicyDenied):
            hub.close_dq_issue(actor, raj, "fine")
    assert [i.id for i in hub.dq_issues(ANALYST, org="RAJ", state="open")] == [raj]
    hub.close_dq_issue(STEWARD, raj, "explained by a new site opening")


def test_the_cli(hub: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREHUB_HOME", str(hub.settings.home))
    monkeypatch.delenv("CAREHUB_DATABASE_URL", raising=False)
    submission = submit(hub, tmp_path, 2, placeholder=True)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["dq", "issues", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    listed = json.loads(run("list", "--org", "RAJ", "--state", "open", "--json"))
    assert [(i["check_id"], i["submissions"]) for i in listed] == [(CHECK, [submission])]
    logged = int(run("log", "--org", "RAJ", "--dataset", "ed_attendance", "--title", "Odd"))
    run("move", str(logged), "triage", "--note", "checking")
    run("comment", str(logged), "asked the trust")
    run("close", str(logged), "--evidence", "figure confirmed")
    shown = run("show", str(logged))
    assert "closed" in shown and "evidence\tfigure confirmed" in shown
    assert "comment" in shown and "asked the trust" in shown
    assert run("list", "--state", "closed").startswith(f"{logged}\tclosed")
    part = int(run("split", str(listed[0]["id"]), "--title", "Placeholder from site RAJ01"))
    run("merge", str(part), "--into", str(listed[0]["id"]))
    assert f"merged into issue {listed[0]['id']}" in run("show", str(part))
    bad = runner.invoke(app, ["dq", "issues", "move", str(listed[0]["id"]), "approval"])
    assert bad.exit_code != 0 and "one stage at a time" in bad.output
