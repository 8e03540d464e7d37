"""Scorecards: a DQMI-compatible score per submission, built from its stored check results, with
each check's result and the problems new, resolved and persisting since the provider's previous
submission of the dataset; and the scores over time and across providers.

How checks become DQMI data items (a judgement; the DQMI itself scores national datasets' core
items, which a local check pack does not name):

* A data item is a **field** that some single-field, row-level check of the pack looks at:
  completeness (``not_null``) and validity (``in_code_set``, ``range``, ``pattern``,
  ``not_in_future``, ``valid_nhs_number_share``, ``reference``). Its records are the largest
  denominator among those checks and ``valid_and_complete = records − failures``, the failures of
  the field's checks added up (a row failing two checks of one field counts twice, so the score is
  a lower bound; the validity checks skip missing values, so they rarely overlap).
* A ``default_value_share`` check gives the item's defaults (its failing rows) and the share
  allowed, its ``tolerated_failure_pct`` / 100. Defaults count as valid and complete, as in DQMI.
* Checks across fields or of the whole file (sequence, uniqueness, duplicates, volume, timeliness,
  quarantine share) are not data items: they stay in the scorecard as check results and problems
  but do not enter the score. A check that errored or was not applicable is left out.
* Coverage is the share of the feed's expected months received (accepted, on time or late) in the
  ``COVERAGE_WINDOW_MONTHS`` months up to the submission's period, measured against the feed's
  schedule (``coverage.py``); 1 for a feed with no schedule.

A *problem* is a check that failed; comparing with the provider's previous checked submission of
the same dataset (by time received, whatever its period) gives the ones that are new, resolved and
persisting, by check id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from carehub.quality.coverage import FeedCoverage, MonthState
from carehub.quality.dqmi import DataItem, dqmi, item_score, published
from carehub.quality.results import CheckResultView, CheckRunReport

ITEM_RULES = frozenset(  # single-field, row-level checks of completeness and validity
    {
        "not_null",
        "in_code_set",
        "range",
        "pattern",
        "not_in_future",
        "valid_nhs_number_share",
        "reference",
    }
)
DEFAULT_RULE = "default_value_share"  # DQMI "use of excessive default values"
SCORED_STATUSES = frozenset({"passed", "failed"})  # errored and not applicable checks say nothing
PROBLEM_STATUS = "failed"
# DQMI Appendix 1's coverages (1, 1/3, 2/3) fit a share of three expected months [UNVERIFIED]
COVERAGE_WINDOW_MONTHS = 3
RECEIVED = frozenset({MonthState.ON_TIME, MonthState.LATE})


@dataclass(frozen=True)
class ItemScore:
    """One data item (a field) of a submission, with the checks it was scored from."""

    field: str
    records: int
    valid_and_complete: int
    defaults: int | None
    threshold: float | None
    score: float | None
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Problems:
    """Failed checks compared with the previous submission, by check id."""

    new: tuple[str, ...]
    resolved: tuple[str, ...]
    persisting: tuple[str, ...]


@dataclass(frozen=True)
class Scorecard:
    submission_id: int
    dataset: str
    org_code: str
    period: str | None
    run_id: int
    coverage: float
    score: float | None  # 0-100; None when no item had records
    published_score: float | None  # to one decimal place, as the DQMI is published
    items: tuple[ItemScore, ...]
    results: tuple[CheckResultView, ...]
    previous_submission_id: int | None
    problems: Problems


@dataclass(frozen=True)
class ScorePoint:
    """A provider's score for one period (of its current submission): no counts of rows."""

    org_code: str
    dataset: str
    period: str
    submission_id: int
    score: float | None
    coverage: float
    problems: int


@dataclass(frozen=True)
class Scores:
    dataset: str
    trend: tuple[ScorePoint, ...]  # by provider and period
    peers: tuple[ScorePoint, ...]  # each provider's latest period


def _scored(result: CheckResultView) -> bool:
    return (
        result.status in SCORED_STATUSES
        and result.failing is not None
        and result.denominator is not None
        and len(result.fields) == 1
        and (result.rule in ITEM_RULES or result.rule == DEFAULT_RULE)
    )


def data_items(results: Iterable[CheckResultView]) -> tuple[ItemScore, ...]:
    """The DQMI data items of a run's results, by field in the order first checked."""
    by_field: dict[str, list[CheckResultView]] = {}
    for result in filter(_scored, results):
        by_field.setdefault(result.fields[0], []).append(result)
    return tuple(_item(name, checks) for name, checks in by_field.items())


def _item(name: str, checks: Sequence[CheckResultView]) -> ItemScore:
    records = max(c.denominator or 0 for c in checks)
    failures = sum(c.failing or 0 for c in checks if c.rule in ITEM_RULES)
    defaults = [c for c in checks if c.rule == DEFAULT_RULE]
    default_count = sum(c.failing or 0 for c in defaults) if defaults else None
    threshold = min(c.tolerated_pct for c in defaults) / 100 if defaults else None
    valid = max(0, records - failures)
    item = DataItem(records, valid, default_count, threshold)
    return ItemScore(
        name,
        records,
        valid,
        default_count,
        threshold,
        item_score(item),
        tuple(c.check_id for c in checks),
    )


def coverage_share(feed: FeedCoverage | None, period: str | None) -> float:
    """The share of the feed's expected months received in the window up to ``period``."""
    if feed is None or period is None:
        return 1.0
    months = [m for m in feed.months if m.period <= period][-COVERAGE_WINDOW_MONTHS:]
    if not months:
        return 1.0
    return sum(1 for m in months if m.state in RECEIVED) / len(months)


def failed_checks(report: CheckRunReport | None) -> frozenset[str]:
    if report is None:
        return frozenset()
    return frozenset(r.check_id for r in report.results if r.status == PROBLEM_STATUS)


def compare(current: CheckRunReport, previous: CheckRunReport | None) -> Problems:
    now, before = failed_checks(current), failed_checks(previous)
    order = [r.check_id for r in current.results]
    ordered = order + sorted(before - set(order))  # checks since dropped from the pack last
    return Problems(
        new=tuple(c for c in ordered if c in now - before),
        resolved=tuple(c for c in ordered if c in before - now),
        persisting=tuple(c for c in ordered if c in now & before),
    )


def score_of(items: Iterable[ItemScore], coverage: float) -> float | None:
    data = [
        DataItem(i.records, i.valid_and_complete, i.defaults, i.threshold, coverage) for i in items
    ]
    return dqmi(data)


def build_scorecard(
    report: CheckRunReport, coverage: float, previous: CheckRunReport | None
) -> Scorecard:
    items = data_items(report.results)
    score = score_of(items, coverage)
    return Scorecard(
        submission_id=report.submission_id,
        dataset=report.dataset,
        org_code=report.org_code,
        period=report.period,
        run_id=report.run_id,
        coverage=coverage,
        score=score,
        published_score=published(score),
        items=items,
        results=report.results,
        previous_submission_id=previous.submission_id if previous else None,
        problems=compare(report, previous),
    )


def point(report: CheckRunReport, coverage: float) -> ScorePoint:
    assert report.period is not None  # only submissions with a period are published
    return ScorePoint(
        org_code=report.org_code,
        dataset=report.dataset,
        period=report.period,
        submission_id=report.submission_id,
        score=score_of(data_items(report.results), coverage),
        coverage=coverage,
        problems=len(failed_checks(report)),
    )


def scores(dataset: str, points: Iterable[ScorePoint]) -> Scores:
    """The trend (every point, by provider and period) and each provider's latest point."""
    trend = tuple(sorted(points, key=lambda p: (p.org_code, p.period)))
    latest: dict[str, ScorePoint] = {}
    for p in trend:
        latest[p.org_code] = p
    return Scores(dataset, trend, tuple(latest.values()))
