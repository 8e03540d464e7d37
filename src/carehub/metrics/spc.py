"""Statistical process control (SPC) the NHS England "Making Data Count" way: XmR charts.

An XmR chart asks whether the points of a series differ from what the process usually does.

* The centre line is the mean. The *moving range* is the gap between a value and the one before.
  The process limits are the mean plus or minus 2.66 average moving ranges (about 3 standard
  deviations); a point is "close" to a limit beyond two thirds of that distance (about 2).
* By default a moving range of 3.267 average moving ranges or more is a one-off jump and is left
  out, once, before the limits are worked out. The MDC Excel tool does not do this; set
  ``screen_outliers=False`` to match it.
* A point is special cause (first rule that applies wins) when it is outside the limits; is one of
  7 points each strictly higher (or lower) than the one before; is close to a limit and one of 2
  close points out of 3 in a row, all 3 on the same side of the mean; or is one of 7 or more points
  in a row on one side of the mean. Anything else is common cause (normal variation).
* The improvement direction says whether special cause is good or bad. The variation icon comes
  from the latest point. The assurance icon compares the target with the latest limits: a target
  beyond a limit is consistently met or missed; inside (or exactly on) them, met only sometimes.
* Rebasing starts fresh limits from a date. Fixing limits after n points (at least 12) works them
  out from the first n points of each group. Groups shorter than ``short_group_threshold`` warn:
  their limits are trial limits.

This mirrors NHSRplotthedots 0.2.2 (NHS-R Community, MIT), ``R/ptd_spc_standard.R`` and
``R/ptd_calculate_point_type.R`` (section 1 of the NHS analytics reference), for one series (facet);
the caller loops over facets. Choices where the package is silent or unsafe: missing or non-finite
values are rejected (the package mis-flags them, its issue #156); an empty series gives an empty
result with the "common_cause" icon and no assurance; rebase dates that are not in the series are
ignored, as in the package; the short-group threshold defaults to 12 as the package documents,
although its code uses 13.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import accumulate, groupby, pairwise
from typing import NamedTuple, SupportsFloat

from carehub.errors import UserError

LIMIT_SIGMA_FACTOR = 2.66  # 3 / d2 (d2 = 1.128 for n = 2), NHSRplotthedots ptd_spc_standard.R
NEAR_LIMIT_FACTOR = 2 * (LIMIT_SIGMA_FACTOR / 3)  # "limitclose", 2 sigma, ptd_spc_standard.R
MOVING_RANGE_SCREEN_FACTOR = 3.267  # D4 for n = 2, screen_outliers in ptd_spc_standard.R
RUN_LENGTH = 7  # points in a shift or trend, ptd_calculate_point_type.R
MIN_FIXED_POINTS = 12  # smallest fix_after_n_points allowed, ptd_spc_options.R
DEFAULT_SHORT_GROUP_THRESHOLD = 12  # documented in ptd_add_short_group_warnings.R (code says 13)
COMMON_CAUSE = "Common Cause"  # special_cause_type label, ptd_calculate_point_type.R


class Direction(StrEnum):
    """Which way is better for the measure."""

    INCREASE = "increase"
    DECREASE = "decrease"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class SpcOptions:
    """How to build the chart; defaults follow NHSRplotthedots (see the module docstring)."""

    improvement_direction: Direction = Direction.INCREASE
    screen_outliers: bool = True
    fix_after_n_points: int | None = None
    target: float | None = None
    rebase_dates: tuple[date, ...] = ()
    short_group_threshold: int = DEFAULT_SHORT_GROUP_THRESHOLD

    def __post_init__(self) -> None:
        # Accept the plain strings a KPI definition holds; rejects unknown directions.
        object.__setattr__(self, "improvement_direction", Direction(self.improvement_direction))
        fix = self.fix_after_n_points
        if fix is not None and fix < MIN_FIXED_POINTS:
            raise ValueError(f"fix_after_n_points must be at least {MIN_FIXED_POINTS}")


@dataclass(frozen=True)
class SpcPoint:
    """One point of the chart with its limits (NaN when they cannot be worked out) and flags."""

    date: date
    value: float
    rebase_group: int
    mean: float
    lpl: float
    upl: float
    nlpl: float
    nupl: float
    relative_to_mean: int
    outside_limits: bool
    close_to_limits: bool
    special_cause_type: str
    point_type: str
    short_group_warning: bool


@dataclass(frozen=True)
class SpcResult:
    """The points in date order, the variation icon and the assurance icon (None if no target)."""

    points: tuple[SpcPoint, ...]
    variation_icon: str
    assurance: str | None


class _Limits(NamedTuple):
    """Centre line and limits, in the order of SpcPoint's fields (unpacked into it)."""

    mean: float
    lpl: float
    upl: float
    nlpl: float
    nupl: float


@dataclass(frozen=True)
class RuleHits:
    """Per point, which rule fired (the package's ``part_*`` vectors); input to the labels."""

    outside_limits: Sequence[bool]
    part_trend: Sequence[int]
    part_two_in_three: Sequence[int]
    part_run: Sequence[int]


_DEFAULT_OPTIONS = SpcOptions()


def xmr(
    dates: Sequence[date], values: Sequence[float], options: SpcOptions = _DEFAULT_OPTIONS
) -> SpcResult:
    """Build the XmR chart of one series; raises UserError on unusable input."""
    rows = _validated_rows(dates, values)
    if not rows:
        return SpcResult(points=(), variation_icon="common_cause", assurance=None)
    groups = _rebase_groups([d for d, _ in rows], options.rebase_dates)
    points: list[SpcPoint] = []
    for group, members in groupby(zip(groups, rows, strict=True), key=lambda pair: pair[0]):
        points.extend(_group_points([row for _, row in members], group, options))
    last = points[-1]
    direction = options.improvement_direction
    return SpcResult(
        points=tuple(points),
        variation_icon=variation_icon(last.point_type, direction),
        assurance=assurance_type(options.target, last.lpl, last.upl, direction),
    )


def _validated_rows(dates: Sequence[date], values: Sequence[float]) -> list[tuple[date, float]]:
    if len(dates) != len(values):
        raise UserError(
            f"SPC series has {len(dates)} dates but {len(values)} values",
            hint="give exactly one value per date",
        )
    _check_dates(dates)
    checked = [_checked_value(value, i) for i, value in enumerate(values, start=1)]
    return sorted(zip(dates, checked, strict=True), key=lambda row: row[0])


def _checked_value(value: object, position: int) -> float:
    """Accept anything with ``__float__`` (int, float, Decimal, NumPy scalars) except bool."""
    number = math.nan
    if isinstance(value, SupportsFloat) and not isinstance(value, bool):
        number = float(value)
    if not math.isfinite(number):
        raise UserError(
            f"SPC value at position {position} is missing or not a finite number",
            hint="fill or remove the gap first: SPC needs one number for every date",
        )
    return number


def _check_dates(dates: Sequence[date]) -> None:
    seen: set[date] = set()
    for position, day in enumerate(dates, start=1):
        if not isinstance(day, date) or day in seen:
            raise UserError(
                f"SPC date at position {position} is missing or repeats an earlier date",
                hint="give one value per date (split facets into separate series)",
            )
        seen.add(day)


def _rebase_groups(sorted_dates: Sequence[date], rebase_dates: Sequence[date]) -> list[int]:
    """Cumulative count of rebase dates reached, as ``cumsum(rebase)`` in the package."""
    starts = set(rebase_dates)
    return list(accumulate(int(day in starts) for day in sorted_dates))


def _group_points(
    rows: Sequence[tuple[date, float]], group: int, options: SpcOptions
) -> list[SpcPoint]:
    y = [value for _, value in rows]
    limits = _limits(y[: options.fix_after_n_points], options.screen_outliers)
    rtm = [_sign(value - limits.mean) for value in y]
    outside = [value > limits.upl or value < limits.lpl for value in y]
    close = [
        not out and (value > limits.nupl or value < limits.nlpl)
        for value, out in zip(y, outside, strict=True)
    ]
    labels = special_cause_type(y, rtm, close, outside)
    short = len(rows) < options.short_group_threshold
    kinds = [point_type(label, options.improvement_direction) for label in labels]
    flags = zip(rows, rtm, outside, close, labels, kinds, strict=True)
    return [
        SpcPoint(day, value, group, *limits, sign, out, near, label, kind, short)
        for (day, value), sign, out, near, label, kind in flags
    ]


def _limits(baseline: Sequence[float], screen_outliers: bool) -> _Limits:
    centre = _mean(baseline)
    amr = _average_moving_range(baseline, screen_outliers)
    return _Limits(
        mean=centre,
        lpl=centre - LIMIT_SIGMA_FACTOR * amr,
        upl=centre + LIMIT_SIGMA_FACTOR * amr,
        nlpl=centre - NEAR_LIMIT_FACTOR * amr,
        nupl=centre + NEAR_LIMIT_FACTOR * amr,
    )


def _average_moving_range(baseline: Sequence[float], screen_outliers: bool) -> float:
    """Mean moving range; screening drops ranges >= 3.267 x the raw mean, in one pass."""
    ranges = [abs(b - a) for a, b in pairwise(baseline)]
    raw = _mean(ranges)
    if not screen_outliers:
        return raw
    return _mean([r for r in ranges if r < MOVING_RANGE_SCREEN_FACTOR * raw])


def _mean(values: Sequence[float]) -> float:
    """Mean with exact summation (close to R's long-double mean); NaN for no values, as R."""
    return math.fsum(values) / len(values) if values else math.nan


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def seven_point_one_side_mean(relative_to_mean: Sequence[int]) -> list[int]:
    """1 where a point ends 7 in a row on one side of the mean (ptd_seven_point_one_side_mean)."""
    padded = [0] * (RUN_LENGTH - 1) + list(relative_to_mean)
    return [
        int(padded[i] != 0 and all(padded[i - k] == padded[i] for k in range(1, RUN_LENGTH)))
        for i in range(RUN_LENGTH - 1, len(padded))
    ]


def part_of_seven(markers: Sequence[int]) -> list[int]:
    """1 for a run or trend end marker (+1 or -1) and the 6 points before it."""
    padded = list(markers) + [0] * (RUN_LENGTH - 1)
    return [int(any(abs(m) == 1 for m in padded[i : i + RUN_LENGTH])) for i in range(len(markers))]


def seven_point_trend(y: Sequence[float]) -> list[int]:
    """+1 / -1 where a point ends 7 strictly rising / falling points (ptd_seven_point_trend)."""
    lead = [0] * min(len(y), RUN_LENGTH - 1)
    return lead + [_trend_end(y[i - RUN_LENGTH + 1 : i + 1]) for i in range(RUN_LENGTH - 1, len(y))]


def _trend_end(window: Sequence[float]) -> int:
    steps = {_sign(b - a) for a, b in pairwise(window)}
    return steps.pop() if len(steps) == 1 else 0  # a tie (0) in a rising run breaks it


def two_in_three(close_to_limits: Sequence[int], relative_to_mean: Sequence[int]) -> list[int]:
    """1 where a point lies in a window of 3 with 2+ close points, all 3 on one side of the mean."""
    close = [0, 0, *(int(c) for c in close_to_limits), 0, 0]
    rtm = [0, 0, *relative_to_mean, 0, 0]

    def qualifies(start: int) -> bool:
        window = slice(start, start + 3)
        return sum(close[window]) >= 2 and abs(sum(rtm[window])) == 3

    return [int(any(qualifies(i + k) for k in range(3))) for i in range(len(close_to_limits))]


def part_of_two_in_three(in_window: Sequence[int], close_to_limits: Sequence[int]) -> list[int]:
    """The R4 flag: in a qualifying window and itself close (ptd_part_of_two_in_three)."""
    return [int(w == 1 and abs(c) == 1) for w, c in zip(in_window, close_to_limits, strict=True)]


def special_cause_type(
    y: Sequence[float],
    relative_to_mean: Sequence[int],
    close_to_limits: Sequence[bool],
    outside_limits: Sequence[bool],
) -> list[str]:
    """The package's ``special_cause_type`` labels for one group of points (all four rules)."""
    in_window = two_in_three(close_to_limits, relative_to_mean)
    hits = RuleHits(
        outside_limits=outside_limits,
        part_trend=part_of_seven(seven_point_trend(y)),
        part_two_in_three=part_of_two_in_three(in_window, close_to_limits),
        part_run=part_of_seven(seven_point_one_side_mean(relative_to_mean)),
    )
    return special_cause_labels(y, relative_to_mean, hits)


def special_cause_labels(
    y: Sequence[float], relative_to_mean: Sequence[int], hits: RuleHits
) -> list[str]:
    """Label each point; precedence outside limits > trend > 2 in 3 > shift > common cause."""
    directions = _trend_directions(y, hits.part_trend)
    return [
        _label(relative_to_mean[i], directions[i], hits, i) for i in range(len(relative_to_mean))
    ]


def _label(rtm: int, trend_direction: int, hits: RuleHits, i: int) -> str:
    side = "Above" if rtm > 0 else "Below"
    if hits.outside_limits[i]:
        return "Above UCL" if rtm == 1 else "Below LCL"
    if hits.part_trend[i]:
        return f"7 Point Trend ({'Increasing' if trend_direction == 1 else 'Decreasing'})"
    if hits.part_two_in_three[i]:
        return f"2 in 3 {side} CL"
    if hits.part_run[i]:
        return f"7 Points {side} CL"
    return COMMON_CAUSE


def _trend_directions(y: Sequence[float], part_trend: Sequence[int]) -> list[int]:
    """Step to the next point if it is also in a trend, else the step from the previous one."""
    steps = [_sign(b - a) for a, b in pairwise(y)]
    flagged = [bool(p) for p in part_trend] + [False]
    return [
        steps[i] if flagged[i] and flagged[i + 1] else (steps[i - 1] if i > 0 else 0)
        for i in range(len(y))
    ]


def point_type(label: str, direction: Direction) -> str:
    """Turn a label into the package's point type for the improvement direction."""
    side = _label_side(label)
    if side == 0:
        return "common_cause"
    if direction == Direction.NEUTRAL:
        return "special_cause_neutral_high" if side > 0 else "special_cause_neutral_low"
    improving = (side > 0) == (direction == Direction.INCREASE)
    return "special_cause_improvement" if improving else "special_cause_concern"


def _label_side(label: str) -> int:
    if "Above" in label or "Increasing" in label:
        return 1
    return -1 if "Below" in label or "Decreasing" in label else 0


_VARIATION_ICONS = {
    ("special_cause_improvement", Direction.INCREASE): "improvement_high",
    ("special_cause_improvement", Direction.DECREASE): "improvement_low",
    ("special_cause_concern", Direction.INCREASE): "concern_low",
    ("special_cause_concern", Direction.DECREASE): "concern_high",
}


def variation_icon(last_point_type: str, direction: Direction) -> str:
    """Icon name from the latest point: common_cause, improvement_*, concern_*, neutral_*."""
    fallback = last_point_type.removeprefix("special_cause_")
    return _VARIATION_ICONS.get((last_point_type, direction), fallback)


def assurance_type(
    target: float | None, lpl: float, upl: float, direction: Direction
) -> str | None:
    """Target against the latest limits, strictly; None without a target or when neutral."""
    if target is None or direction == Direction.NEUTRAL:
        return None
    increasing = direction == Direction.INCREASE
    if target > upl:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"
