"""Scorecards on a small workspace: three monthly files of one provider, where a problem appears
and is then resolved while another persists."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner
from workspaces import ADMIN, ED_HEADER, make_platform, nhs_numbers

from carehub.cli.main import app
from carehub.errors import NotFound
from carehub.governance.actors import Actor, Role
from carehub.platform import Platform

PLACEHOLDER = "0000000000"  # passes Modulus 11


def ed_file(path: Path, period: str, *, placeholder: bool, missing_acuity: int) -> Path:
    """Twenty attendances in ``period``: the first may carry a placeholder NHS number, the last
    ``missing_acuity`` have no acuity."""
    numbers = iter(nhs_numbers(999_400_000))
    rows = []
    for n in range(1, 21):
        number = PLACEHOLDER if placeholder and n == 1 else next(numbers)
        acuity = "" if n > 20 - missing_acuity else "3"
        rows.append(
            f"{period}-{n},{number},RAJ01,01,{period}-{n:02d} 10:00:00,"
            f"{period}-{n:02d} 12:00:00,{acuity}"
        )
    path.write_text(ED_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def hub(tmp_path: Path) -> Platform:
    return make_platform(tmp_path / "home")


@pytest.fixture
def submissions(hub: Platform, tmp_path: Path) -> list[int]:
    """January clean; February a placeholder and missing acuities; March missing acuities."""
    ids = []
    for month, placeholder, missing in (("01", False, 0), ("02", True, 3), ("03", False, 3)):
        period = f"2025-{month}"
        path = ed_file(
            tmp_path / f"{period}.csv", period, placeholder=placeholder, missing_acuity=missing
        )
        received = datetime(2025, int(month) + 1, 3, 9)
        receipt = hub.submit(ADMIN, "RAJ", "ed_attendance", path, period, received_at=received)
        assert receipt.state == "published"
        ids.append(receipt.submission_id)
    return ids


def test_problems_appear_persist_and_are_resolved(hub: Platform, submissions: list[int]) -> None:
    january, february, march = (hub.scorecard(ADMIN, s) for s in submissions)
    assert january.previous_submission_id is None
    assert january.problems.new == () and january.problems.resolved == ()
    assert february.previous_submission_id == submissions[0]
    assert set(february.problems.new) == {"nhs_number_placeholder", "acuity_recorded"}
    assert february.problems.persisting == february.problems.resolved == ()
    assert march.previous_submission_id == submissions[1]
    assert march.problems.new == ()
    assert march.problems.resolved == ("nhs_number_placeholder",)
    assert march.problems.persisting == ("acuity_recorded",)


def test_the_score_follows_the_data_items(hub: Platform, submissions: list[int]) -> None:
    january, february, march = (hub.scorecard(ADMIN, s) for s in submissions)
    assert january.score == pytest.approx(100.0) and january.coverage == 1.0  # no schedule
    items = {i.field: i for i in february.items}
    nhs = items["nhs_number"]
    assert (nhs.records, nhs.defaults, nhs.threshold) == (20, 1, 0.0)
    assert nhs.score == pytest.approx(19 / 20)  # one default in excess of none allowed
    assert items["acuity"].valid_and_complete == 17
    assert "site_code" in items and "attendance_id" not in items  # uniqueness is not an item
    expected = sum(i.score for i in february.items if i.score is not None) / len(items) * 100
    assert february.score == pytest.approx(expected)
    assert february.published_score == round(expected, 1)
    assert january.score > march.score > february.score
    checks = {r.check_id for r in february.results}
    assert {"attendance_id_unique", "received_on_time"} <= checks  # every check's result


def test_trend_peers_and_the_current_submission(hub: Platform, submissions: list[int]) -> None:
    scores = hub.scores(ADMIN, "ed_attendance")
    assert [p.period for p in scores.trend] == ["2025-01", "2025-02", "2025-03"]
    assert [p.submission_id for p in scores.trend] == submissions
    assert [(p.org_code, p.period) for p in scores.peers] == [("RAJ", "2025-03")]
    card = hub.provider_scorecard(ADMIN, "ed_attendance", "RAJ", "2025-02")
    assert card.submission_id == submissions[1]
    with pytest.raises(NotFound):
        hub.provider_scorecard(ADMIN, "ed_attendance", "RAJ", "2024-12")
    with pytest.raises(NotFound):
        hub.scores(ADMIN, "ed_attendance", org="RXX")


def test_who_sees_scorecards_and_scores(hub: Platform, submissions: list[int]) -> None:
    hub.add_organisation(ADMIN, "NUC01", "Urgent treatment centre", "private_provider")
    assert hub.scorecard(Actor("sam", "RAJ", Role.SUBMITTER), submissions[0]).score is not None
    outsider = Actor("nina", "NUC01", Role.ANALYST)
    with pytest.raises(NotFound):
        hub.scorecard(outsider, submissions[0])
    assert len(hub.scores(outsider, "ed_attendance").trend) == 3  # scores are not row data


def test_the_cli_reports_and_scores(
    hub: Platform, submissions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREHUB_HOME", str(hub.settings.home))
    monkeypatch.delenv("CAREHUB_DATABASE_URL", raising=False)
    runner = CliRunner()
    shown = runner.invoke(app, ["dq", "report", str(submissions[2])])
    assert shown.exit_code == 0, shown.output
    assert "resolved\tnhs_number_placeholder" in shown.stdout
    assert "persisting\tacuity_recorded" in shown.stdout
    data = json.loads(runner.invoke(app, ["dq", "report", str(submissions[1]), "--json"]).stdout)
    assert set(data["problems"]["new"]) == {"nhs_number_placeholder", "acuity_recorded"}
    assert data["score"] == pytest.approx(hub.scorecard(ADMIN, submissions[1]).score)
    scored = runner.invoke(app, ["dq", "scores", "ed_attendance", "--org", "RAJ", "--json"])
    assert scored.exit_code == 0, scored.output
    listed = json.loads(scored.stdout)
    assert [p["period"] for p in listed["trend"]] == ["2025-01", "2025-02", "2025-03"]
    text = runner.invoke(app, ["dq", "scores", "ed_attendance"]).stdout
    assert text.count("\ntrend\tRAJ") + text.startswith("trend\tRAJ") == 3
    assert "peer\tRAJ\t2025-03" in text


def test_the_cli_writes_the_feedback_workbook(
    hub: Platform, submissions: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    monkeypatch.setenv("CAREHUB_HOME", str(hub.settings.home))
    monkeypatch.delenv("CAREHUB_DATABASE_URL", raising=False)
    out = tmp_path / "feedback.xlsx"
    written = CliRunner().invoke(app, ["dq", "feedback", str(submissions[1]), "--out", str(out)])
    assert written.exit_code == 0, written.output
    book = load_workbook(out, read_only=True)
    checks = {row[0] for row in book["Failing rows"].iter_rows(min_row=2, values_only=True)}
    assert {"nhs_number_placeholder", "acuity_recorded"} <= checks
    missing = CliRunner().invoke(app, ["dq", "feedback", "999999", "--out", str(out)])
    assert missing.exit_code == 4
