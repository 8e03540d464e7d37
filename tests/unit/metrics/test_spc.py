"""XmR / Making Data Count SPC against the NHSRplotthedots vectors (reference section 1.9).

V1, V2, V4, V5 and V7 come from the package's own tests and snapshots; V8 to V13 were derived by an
independent re-implementation of the package's logic. Positions in the vectors are 1-based.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from carehub.errors import UserError
from carehub.metrics.spc import (
    Direction,
    RuleHits,
    SpcOptions,
    SpcResult,
    assurance_type,
    part_of_seven,
    part_of_two_in_three,
    seven_point_one_side_mean,
    seven_point_trend,
    special_cause_labels,
    special_cause_type,
    two_in_three,
    variation_icon,
    xmr,
)

EXPECTED_DIR = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "nhsrplotthedots_expected"
)
START = date(2020, 1, 2)  # the package tests' first date

# set.seed(123); rnorm(20) in R, as printed in the reference (V1).
SEED123 = [
    -0.560475646552213, -0.23017748948328, 1.55870831414912, 0.070508391424576,
    0.129287735160946, 1.71506498688328, 0.460916205989202, -1.26506123460653,
    -0.686852851893526, -0.445661970099958, 1.22408179743946, 0.359813827057364,
    0.400771450594052, 0.11068271594512, -0.555841134754075, 1.78691313680308,
    0.497850478229239, -1.96661715662964, 0.701355901563686, -0.472791407727934,
]  # fmt: skip
SEED123_Y15_10 = [*SEED123[:14], 10.0, *SEED123[15:]]
BASE = [10, 12, 9, 11, 10, 12, 9, 11, 10, 12, 9, 11]
V10_Y = [*BASE, 10, 11, 16, 12, 16.2, 11, 10]
V11_Y = [10, 12, 9, 11, 10, 12, 9, 11, 10, 12, 20, 22, 19, 21, 20, 22, 19, 21, 20, 22]
V13_Y = [*BASE, 14, 15, 16, 17, 18, 19]
INCREASE, DECREASE, NEUTRAL = Direction.INCREASE, Direction.DECREASE, Direction.NEUTRAL


def days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def run(y: Sequence[float], options: SpcOptions | None = None) -> SpcResult:
    return xmr(days(len(y)), y, options or SpcOptions())


def approx(expected: float) -> object:
    """The reference prints 7 or 8 significant figures."""
    return pytest.approx(expected, rel=1e-6, abs=1e-9)


def positions(spec: str) -> list[int]:
    """'13-19' or '1,3,5' (1-based, as the reference writes them) to 0-based indexes."""
    if "-" in spec:
        first, last = spec.split("-")
        return list(range(int(first) - 1, int(last)))
    return [int(p) - 1 for p in spec.split(",")]


def expand(n: int, spec: dict[str, str], default: str) -> list[str]:
    out = [default] * n
    for where, value in spec.items():
        for i in positions(where):
            out[i] = value
    return out


@dataclass(frozen=True)
class Vector:
    id: str
    y: Sequence[float]
    options: SpcOptions = field(default_factory=SpcOptions)
    limits: dict[str, float] = field(default_factory=dict)  # of the first point's group
    labels: dict[str, str] = field(default_factory=dict)  # others "Common Cause"
    types: dict[str, str] = field(default_factory=dict)  # others "common_cause"
    icon: str | None = None
    close: str | None = None  # positions close to limits; None = not stated


VECTORS = [
    Vector(
        "V1",
        SEED123,
        limits={"mean": 0.1416238, "lpl": -3.01138, "upl": 3.294627, "amr": 1.1853396,
                "nlpl": -1.9603785, "nupl": 2.2436261},
        icon="common_cause",
        close="18",
    ),
    Vector("V1b-facet0", SEED123[:10], limits={"mean": 0.0746256, "lpl": -2.6005854,
                                               "upl": 2.7498367}, icon="common_cause"),
    Vector("V1b-facet1", SEED123[10:], limits={"mean": 0.2086220, "lpl": -3.2790054,
                                               "upl": 3.6962494}, icon="common_cause"),
    Vector(
        "V1-fix-after-12",
        SEED123,
        SpcOptions(fix_after_n_points=12),
        limits={"mean": 0.1941793, "amr": 1.0532252, "lpl": -2.6073998, "upl": 2.9957585},
        icon="common_cause",
    ),
    Vector(
        "V2-screened",
        SEED123_Y15_10,
        limits={"mean": 0.6694159, "lpl": -2.383666, "upl": 3.722497, "amr": 1.1477750},
        labels={"15": "Above UCL"},
        types={"15": "special_cause_improvement"},
        close="18",
    ),
    Vector(
        "V2-unscreened",
        SEED123_Y15_10,
        SpcOptions(screen_outliers=False),
        limits={"mean": 0.6694159, "lpl": -4.596625, "upl": 5.935457, "amr": 1.9797147},
        labels={"15": "Above UCL"},
        types={"15": "special_cause_improvement"},
    ),
    Vector(
        "V4",
        [1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 5.5, -5.5],
        limits={"mean": 0.0, "amr": 2.3214286, "lpl": -6.175, "upl": 6.175,
                "nlpl": -4.1166667, "nupl": 4.1166667},
        icon="common_cause",
        close="15-16",
    ),
    Vector(
        "V8",
        [*BASE, 12.5, 12, 12.5, 12, 12.5, 12, 12.5],
        limits={"mean": 11.1578947, "amr": 1.5277778, "lpl": 7.0940058, "upl": 15.2217836,
                "nlpl": 8.4486355, "nupl": 13.8671540},
        labels={"13-19": "7 Points Above CL"},
        types={"13-19": "special_cause_improvement"},
        icon="improvement_high",
    ),
    Vector(
        "V9",
        [*BASE, 9.2, 9.6, 10.1, 10.5, 11.0, 11.4, 11.9, 10],
        SpcOptions(improvement_direction=DECREASE),
        limits={"mean": 10.485, "amr": 1.5473684, "lpl": 6.369, "upl": 14.601},
        labels={"13-19": "7 Point Trend (Increasing)"},
        types={"13-19": "special_cause_concern"},
        icon="common_cause",
    ),
    Vector(
        "V10",
        V10_Y,
        SpcOptions(improvement_direction=NEUTRAL),
        limits={"mean": 11.1684211, "amr": 2.4666667, "lpl": 4.6070877, "upl": 17.7297544,
                "nlpl": 6.7941988, "nupl": 15.5426433},
        labels={"15,17": "2 in 3 Above CL"},
        types={"15,17": "special_cause_neutral_high"},
        icon="common_cause",
        close="15,17",
    ),
    Vector(
        "V10-variant-middle-below-mean",
        [*V10_Y[:15], 10.5, *V10_Y[16:]],
        SpcOptions(improvement_direction=NEUTRAL),
        limits={"mean": 11.0894737, "amr": 2.6333333, "nupl": 15.7592515},
        close="15,17",
    ),
    Vector(
        "V11-rebase",
        V11_Y,
        SpcOptions(rebase_dates=(START + timedelta(days=10),)),
        limits={"mean": 10.6, "amr": 2.0, "lpl": 5.28, "upl": 15.92},
        icon="common_cause",
    ),
    Vector(
        "V11-no-rebase",
        V11_Y,
        limits={"mean": 15.6, "amr": 2.0, "lpl": 10.28, "upl": 20.92, "nlpl": 12.0533333,
                "nupl": 19.1466667},
        labels={"1,3,5,7,9": "Below LCL", "2,4,6,8,10": "2 in 3 Below CL",
                "12,14,16,18,20": "Above UCL", "11,13,15,17,19": "7 Points Above CL"},
        types={"1-10": "special_cause_concern", "11-20": "special_cause_improvement"},
        icon="improvement_high",
    ),
    Vector(
        "V12-near-constant-screened",
        [5] * 11 + [6],
        limits={"mean": 5.0833333, "amr": 0.0, "lpl": 5.0833333, "upl": 5.0833333},
        labels={"1-11": "Below LCL", "12": "Above UCL"},
        types={"1-11": "special_cause_concern", "12": "special_cause_improvement"},
        icon="improvement_high",
    ),
    Vector(
        "V12-near-constant-unscreened",
        [5] * 11 + [6],
        SpcOptions(screen_outliers=False),
        limits={"mean": 5.0833333, "amr": 0.0909091, "lpl": 4.8415152, "upl": 5.3251515},
        labels={"1-11": "7 Points Below CL", "12": "Above UCL"},
        types={"1-11": "special_cause_concern", "12": "special_cause_improvement"},
    ),
    Vector(
        "V12-constant-unscreened",
        [5] * 8,
        SpcOptions(screen_outliers=False),
        limits={"mean": 5.0, "amr": 0.0, "lpl": 5.0, "upl": 5.0},
        icon="common_cause",
    ),
    Vector(
        "V13-fixed-after-12",
        V13_Y,
        SpcOptions(fix_after_n_points=12),
        limits={"mean": 10.5, "amr": 2.0909091, "lpl": 4.9381818, "upl": 16.0618182,
                "nupl": 14.2078788},
        labels={"11-15": "7 Point Trend (Increasing)", "16-18": "Above UCL"},
        types={"11-18": "special_cause_improvement"},
    ),
    Vector(
        "V13-not-fixed",
        V13_Y,
        limits={"mean": 12.5, "amr": 1.8235294, "lpl": 7.6494118, "upl": 17.3505882},
        labels={"1-10": "7 Points Below CL", "11-16": "7 Point Trend (Increasing)",
                "17-18": "Above UCL"},
        types={"1-10": "special_cause_concern", "11-18": "special_cause_improvement"},
    ),
]  # fmt: skip
BY_ID = [pytest.param(v, id=v.id) for v in VECTORS]


@pytest.mark.parametrize("vector", BY_ID)
def test_limits(vector: Vector) -> None:
    first = run(vector.y, vector.options).points[0]
    actual = {
        "mean": first.mean,
        "lpl": first.lpl,
        "upl": first.upl,
        "nlpl": first.nlpl,
        "nupl": first.nupl,
        "amr": (first.upl - first.mean) / 2.66,
    }
    assert {k: actual[k] for k in vector.limits} == {k: approx(v) for k, v in vector.limits.items()}


@pytest.mark.parametrize("vector", BY_ID)
def test_special_cause_type(vector: Vector) -> None:
    result = run(vector.y, vector.options)
    expected = expand(len(vector.y), vector.labels, "Common Cause")
    assert [p.special_cause_type for p in result.points] == expected


@pytest.mark.parametrize("vector", BY_ID)
def test_point_type(vector: Vector) -> None:
    result = run(vector.y, vector.options)
    expected = expand(len(vector.y), vector.types, "common_cause")
    assert [p.point_type for p in result.points] == expected


@pytest.mark.parametrize("vector", [pytest.param(v, id=v.id) for v in VECTORS if v.icon])
def test_variation_icon(vector: Vector) -> None:
    assert run(vector.y, vector.options).variation_icon == vector.icon


@pytest.mark.parametrize("vector", [pytest.param(v, id=v.id) for v in VECTORS if v.close])
def test_close_to_limits(vector: Vector) -> None:
    assert vector.close is not None
    result = run(vector.y, vector.options)
    assert [i for i, p in enumerate(result.points) if p.close_to_limits] == positions(vector.close)


@pytest.mark.parametrize(
    ("y", "first", "expected"),
    [
        pytest.param(SEED123, 1,
                     [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1, 1, 1, -1, 1, -1],
                     id="V1-all"),
        pytest.param(SEED123_Y15_10, 1, [-1, -1, 1, -1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1],
                     id="V2-first14"),
        pytest.param([*BASE, 9.2, 9.6, 10.1, 10.5, 11.0, 11.4, 11.9, 10], 13,
                     [-1, -1, -1, 1, 1, 1, 1], id="V9-13-19"),
    ],
)  # fmt: skip
def test_relative_to_mean(y: Sequence[float], first: int, expected: list[int]) -> None:
    rtm = [p.relative_to_mean for p in run(y).points]
    assert rtm[first - 1 : first - 1 + len(expected)] == expected


def test_v1_no_point_outside_limits_and_no_short_group_warning() -> None:
    points = run(SEED123).points
    assert not any(p.outside_limits for p in points)
    assert not any(p.short_group_warning for p in points)


@pytest.mark.parametrize("half", [SEED123[:10], SEED123[10:]], ids=["facet0", "facet1"])
def test_v1b_short_facets_warn(half: list[float]) -> None:
    points = run(half).points
    assert [p.short_group_warning for p in points] == [True] * 10


def test_v2_screening_narrows_the_limits() -> None:
    screened = run(SEED123_Y15_10).points[0]
    unscreened = run(SEED123_Y15_10, SpcOptions(screen_outliers=False)).points[0]
    assert unscreened.upl - unscreened.lpl > screened.upl - screened.lpl


def test_v11_rebase_groups_have_their_own_limits_and_warn() -> None:
    points = run(V11_Y, SpcOptions(rebase_dates=(START + timedelta(days=10),))).points
    assert [p.rebase_group for p in points] == [0] * 10 + [1] * 10
    second = points[10]
    assert (second.mean, second.lpl, second.upl) == pytest.approx((20.6, 15.28, 25.92), rel=1e-6)
    assert all(p.short_group_warning for p in points)


def test_v12_constant_screened_has_nan_limits_and_common_cause() -> None:
    points = run([5] * 8).points
    assert [p.mean for p in points] == [5.0] * 8
    assert all(math.isnan(x) for p in points for x in (p.lpl, p.upl, p.nlpl, p.nupl))
    assert {p.special_cause_type for p in points} == {"Common Cause"}
    assert {p.point_type for p in points} == {"common_cause"}


def test_v12_constant_unscreened_points_sit_on_the_mean() -> None:
    points = run([5] * 8, SpcOptions(screen_outliers=False)).points
    assert [p.relative_to_mean for p in points] == [0] * 8
    assert not any(p.outside_limits or p.close_to_limits for p in points)


# V5: assurance -------------------------------------------------------------------------------

V5_ROWS = {"a": (1.0, 3.0), "b": (5.0, 7.0), "c": (1.0, 5.0)}  # (lpl, upl), target 4


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        (INCREASE, ["consistent_fail", "consistent_pass", "inconsistent"]),
        (DECREASE, ["consistent_pass", "consistent_fail", "inconsistent"]),
        (NEUTRAL, [None, None, None]),
    ],
    ids=["increase", "decrease", "neutral"],
)
def test_v5_assurance(direction: Direction, expected: list[str | None]) -> None:
    assert [assurance_type(4.0, lpl, upl, direction) for lpl, upl in V5_ROWS.values()] == expected


def test_v5_no_target_no_assurance() -> None:
    assert assurance_type(None, 1.0, 3.0, INCREASE) is None
    assert run(BASE, SpcOptions(target=None)).assurance is None


@pytest.mark.parametrize("target", [5.28, 15.92], ids=["on-lpl", "on-upl"])
def test_assurance_target_on_a_limit_is_inconsistent(target: float) -> None:
    lpl, upl = 5.28, 15.92
    assert assurance_type(target, lpl, upl, INCREASE) == "inconsistent"


# Three rebase groups whose limits sit below, above and around the target 4, like rows a, b, c.
V5_GROUPS = {"a": [2.0, 2.1] * 6, "b": [6.0, 6.1] * 6, "c": [1.0, 5.0] * 6}


@pytest.mark.parametrize(
    ("order", "expected"),
    [("abc", "inconsistent"), ("bca", "consistent_pass"), ("cab", "consistent_fail")],
)
def test_v5_assurance_uses_the_last_rebase_group(order: str, expected: str) -> None:
    y = [value for key in order for value in V5_GROUPS[key]]
    rebase = (START + timedelta(days=12), START + timedelta(days=24))
    result = run(y, SpcOptions(improvement_direction=DECREASE, target=4.0, rebase_dates=rebase))
    assert [p.rebase_group for p in result.points] == [0] * 12 + [1] * 12 + [2] * 12
    assert result.assurance == expected


def test_assurance_with_target_and_neutral_direction_is_none() -> None:
    assert run(BASE, SpcOptions(improvement_direction=NEUTRAL, target=4.0)).assurance is None


# V7: the package's helper-level tests --------------------------------------------------------


@pytest.mark.parametrize(
    ("rtm", "expected"),
    [
        ([], []),
        ([1] * 6, [0] * 6),
        ([1] * 6 + [-1], [0] * 7),
        ([1] * 8 + [-1], [0, 0, 0, 0, 0, 0, 1, 1, 0]),
        ([-1] * 8 + [1], [0, 0, 0, 0, 0, 0, 1, 1, 0]),
    ],
)
def test_v7_seven_point_one_side_mean(rtm: list[int], expected: list[int]) -> None:
    assert seven_point_one_side_mean(rtm) == expected


@pytest.mark.parametrize(
    ("markers", "expected"),
    [
        ([0] * 6, [0] * 6),
        ([0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1, 1, 0]),
        ([0, 0, 0, 0, 0, 0, 0, 1, 0], [0, 1, 1, 1, 1, 1, 1, 1, 0]),
        ([0, 0, 0, 0, 0, 0, -1, 0], [1, 1, 1, 1, 1, 1, 1, 0]),
    ],
)
def test_v7_part_of_seven(markers: list[int], expected: list[int]) -> None:
    assert part_of_seven(markers) == expected


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([1, 2, 3, 4, 5, 6], [0] * 6),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),
        ([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 1]),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0, 0, 0, 0, 0, 0, 0, 1, 0]),
        ([7, 6, 5, 4, 3, 2, 1], [0, 0, 0, 0, 0, 0, -1]),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0, 0, 0, 0, 0, 0, 0, -1, 0]),
    ],
)
def test_v7_seven_point_trend(y: list[float], expected: list[int]) -> None:
    assert seven_point_trend(y) == expected


SAME = [1] * 7
ALTERNATING = [1, -1, 1, -1, 1, -1, 1]


@pytest.mark.parametrize(
    ("close", "rtm", "expected"),
    [
        ([1, 0, 1], [1, 1, 1], [1, 1, 1]),
        ([0, 1, 1], [1, 1, 1], [1, 1, 1]),
        ([1, 1, 0], [1, 1, 1], [1, 1, 1]),
        ([0, 0, 1, 0, 1, 0, 0], SAME, [0, 0, 1, 1, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], SAME, [0, 1, 1, 1, 1, 0, 0]),
        ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
        ([0, 1, 1], [1, -1, 1], [0, 0, 0]),
        ([1, 1, 0], [1, -1, 1], [0, 0, 0]),
        ([0, 0, 1, 0, 1, 0, 0], ALTERNATING, [0] * 7),
    ],
)
def test_v7_two_in_three(close: list[int], rtm: list[int], expected: list[int]) -> None:
    assert two_in_three(close, rtm) == expected


@pytest.mark.parametrize(
    ("close", "rtm", "expected"),
    [
        ([1, 0, 1], [1, 1, 1], [1, 0, 1]),
        ([1, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1]),
    ],
)
def test_v7_part_of_two_in_three(close: list[int], rtm: list[int], expected: list[int]) -> None:
    assert part_of_two_in_three(two_in_three(close, rtm), close) == expected


def test_v7_precedence() -> None:
    hits = RuleHits(
        outside_limits=[False, False, False, False, False, True, True, False],
        part_trend=[1, 1, 0, 0, 0, 0, 0, 0],
        part_two_in_three=[0, 0, 0, 0, 1, 0, 0, 0],
        part_run=[0, 0, 1, 1, 0, 0, 0, 0],
    )
    labels = special_cause_labels(list(range(1, 9)), [1, 1, 1, 1, -1, -1, -1, -1], hits)
    assert labels == [
        "7 Point Trend (Increasing)",
        "7 Point Trend (Increasing)",
        "7 Points Above CL",
        "7 Points Above CL",
        "2 in 3 Below CL",
        "Below LCL",
        "Below LCL",
        "Common Cause",
    ]


def test_trend_direction_at_a_peak_follows_the_next_step() -> None:
    y = [1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1]
    n = len(y)
    labels = special_cause_type(y, [0] * n, [False] * n, [False] * n)
    assert labels == ["7 Point Trend (Increasing)"] * 6 + ["7 Point Trend (Decreasing)"] * 7


@pytest.mark.parametrize(
    ("point_type", "direction", "expected"),
    [
        ("common_cause", INCREASE, "common_cause"),
        ("special_cause_improvement", INCREASE, "improvement_high"),
        ("special_cause_improvement", DECREASE, "improvement_low"),
        ("special_cause_concern", INCREASE, "concern_low"),
        ("special_cause_concern", DECREASE, "concern_high"),
        ("special_cause_neutral_high", NEUTRAL, "neutral_high"),
        ("special_cause_neutral_low", NEUTRAL, "neutral_low"),
    ],
)
def test_variation_icon_names(point_type: str, direction: Direction, expected: str) -> None:
    assert variation_icon(point_type, direction) == expected


# The package's snapshot as a CSV table (inputs rounded to 8 dp) ------------------------------


@pytest.mark.parametrize("case", ["r1", "r2", "r3"])
def test_package_snapshot_csv(case: str) -> None:
    if not EXPECTED_DIR.is_dir():
        pytest.skip(f"shared NHSRplotthedots expected results not found at {EXPECTED_DIR}")
    with (EXPECTED_DIR / "ptd_spc_standard_expected.csv").open(newline="") as f:
        expected = next(row for row in csv.DictReader(f) if row["case"] == case)
    with (EXPECTED_DIR / "ptd_spc_standard_inputs.csv").open(newline="") as f:
        inputs = list(csv.DictReader(f))
    column = expected["data"].split(" ")[0]
    dates = [date.fromisoformat(row["x"]) for row in inputs]
    values = [float(row[column]) for row in inputs]
    options = SpcOptions(screen_outliers=expected["screen_outliers"] == "True")
    first = xmr(dates, values, options).points[0]
    actual = (first.mean, first.lpl, first.upl)
    wanted = tuple(float(expected[k]) for k in ("mean_col", "lpl", "upl"))
    assert actual == pytest.approx(wanted, abs=1e-5)


# Input handling ------------------------------------------------------------------------------


def test_input_order_does_not_matter() -> None:
    y = [*BASE, 12.5, 12, 12.5, 12, 12.5, 12, 12.5]
    pairs = list(zip(days(len(y)), y, strict=True))
    shuffled = pairs[7:] + pairs[:7][::-1]
    result = xmr([d for d, _ in shuffled], [v for _, v in shuffled])
    assert result == run(y)
    assert [p.date for p in result.points] == days(len(y))


def test_duplicate_dates_are_rejected() -> None:
    dates = days(5)
    dates[3] = dates[1]
    with pytest.raises(UserError, match="position 4"):
        xmr(dates, [1.0, 2.0, 3.0, 4.0, 5.0])


@pytest.mark.parametrize("bad", [math.nan, None, math.inf], ids=["nan", "none", "inf"])
def test_missing_values_are_rejected(bad: float) -> None:
    with pytest.raises(UserError, match="position 3"):
        xmr(days(4), [1.0, 2.0, bad, 4.0])


def test_length_mismatch_is_rejected() -> None:
    with pytest.raises(UserError, match="4 dates but 3 values"):
        xmr(days(4), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("n", [0, 1, 11])
def test_fix_after_fewer_than_12_points_is_rejected(n: int) -> None:
    with pytest.raises(ValueError, match="at least 12"):
        SpcOptions(fix_after_n_points=n)


def test_fix_after_12_points_is_accepted() -> None:
    assert SpcOptions(fix_after_n_points=12).fix_after_n_points == 12


def test_empty_series_gives_an_empty_result() -> None:
    assert xmr([], [], SpcOptions(target=1.0)) == SpcResult((), "common_cause", None)


def test_constant_inexact_decimal_sits_exactly_on_the_mean() -> None:
    # sum([0.1] * 10) / 10 != 0.1 in binary floating point; exact summation keeps the points on the
    # mean (as R's mean does), so they are common cause rather than all "Above UCL" (section 1.8).
    points = run([0.1] * 10, SpcOptions(screen_outliers=False)).points
    assert [p.relative_to_mean for p in points] == [0] * 10
    assert {p.special_cause_type for p in points} == {"Common Cause"}


def test_one_point_has_nan_limits_and_is_common_cause() -> None:
    (point,) = run([3.0]).points
    assert math.isnan(point.upl)
    assert point.relative_to_mean == 0
    assert point.special_cause_type == "Common Cause"


@pytest.mark.parametrize(("threshold", "warns"), [(12, False), (13, True)])
def test_short_group_threshold_documented_12_code_13(threshold: int, warns: bool) -> None:
    points = run(BASE, SpcOptions(short_group_threshold=threshold)).points
    assert {p.short_group_warning for p in points} == {warns}


def test_direction_accepts_plain_strings() -> None:
    from_yaml: Any = "decrease"
    options = SpcOptions(improvement_direction=from_yaml)
    assert options.improvement_direction is DECREASE
