"""Scorecards on the synthetic ICS (read-only): DPP03, the planted poor provider of the Diabetes
Prevention Programme, scores below its two peers."""

from __future__ import annotations

from workspaces import ADMIN

from carehub.governance.actors import Actor, Role
from carehub.platform import Platform

GOOD, POOR = ("DPP01", "DPP02"), "DPP03"


def test_the_poor_provider_scores_lower_in_the_same_periods(demo_platform: Platform) -> None:
    trend = demo_platform.scores(ADMIN, "dpp_event").trend
    by_org: dict[str, dict[str, float]] = {}
    for p in trend:
        if p.score is not None:
            by_org.setdefault(p.org_code, {})[p.period] = p.score
    poor = by_org[POOR]
    for good in GOOD:
        shared = sorted(set(poor) & set(by_org[good]))
        assert len(shared) >= 12, (good, shared)
        lower = [period for period in shared if poor[period] < by_org[good][period]]
        # small months are noisy: in the demo DPP02's June 2025 dips below DPP03's
        assert len(lower) >= 0.9 * len(shared), (good, sorted(set(shared) - set(lower)))
        mean = sum(poor[p] for p in shared) / len(shared)
        assert mean < sum(by_org[good][p] for p in shared) / len(shared), good


def test_peers_list_the_three_providers(demo_platform: Platform) -> None:
    viewer = Actor("viewer", "HUB", Role.VIEWER)
    scores = demo_platform.scores(viewer, "dpp_event")
    assert sorted(p.org_code for p in scores.peers) == [*GOOD, POOR]
    latest = max(p.period for p in scores.trend)
    assert all(p.period == latest and p.score is not None for p in scores.peers)
    mine = demo_platform.scores(viewer, "dpp_event", org=POOR)
    assert {p.org_code for p in mine.trend} == {POOR} and len(mine.peers) == 3


def test_a_providers_scorecard_compares_with_its_previous_submission(
    demo_platform: Platform,
) -> None:
    latest = next(p for p in demo_platform.scores(ADMIN, "dpp_event").peers if p.org_code == POOR)
    card = demo_platform.provider_scorecard(ADMIN, "dpp_event", POOR, latest.period)
    assert card.submission_id == latest.submission_id
    assert card.previous_submission_id is not None
    failed = {r.check_id for r in card.results if r.status == "failed"}
    assert set(card.problems.new) | set(card.problems.persisting) == failed
    assert card.items and all(0 <= i.valid_and_complete <= i.records for i in card.items)
