"""The DQMI against the worked example of its methodology (reference §7.1), and its edge cases."""

from __future__ import annotations

from typing import Any

import pytest
from reference import json_blocks

from carehub.quality.dqmi import DataItem, defaults_in_excess, dqmi, item_score, published

EXAMPLE = json_blocks("### 7.1")["dqmi_appendix1_example"]
# The example's coverages are printed to six decimals (0.333333 for 1/3), so sums built from them
# differ from the exact ones by at most a few millionths.
PRINTED = 1e-5


def _item(row: dict[str, Any]) -> DataItem:
    return DataItem(
        records=row["records"] or 0,
        valid_and_complete=row.get("valid_complete") or 0,
        defaults=row.get("defaults"),
        threshold=row.get("threshold"),
        coverage=row.get("coverage", 1.0),
    )


def test_the_worked_example_reproduces() -> None:
    items = [_item(row) for row in EXAMPLE["items"]]
    score = dqmi(items)
    assert score == pytest.approx(EXAMPLE["dqmi_exact"], abs=PRINTED)
    assert published(score) == EXAMPLE["dqmi_published"]
    scored = [(item_score(i), i.coverage) for i in items if item_score(i) is not None]
    assert len(scored) == EXAMPLE["n"]
    assert sum(s for s, _ in scored) == pytest.approx(EXAMPLE["sum_item_scores"])
    assert sum(c for _, c in scored) == pytest.approx(EXAMPLE["sum_coverage"], abs=PRINTED)


@pytest.mark.parametrize("row", [r for r in EXAMPLE["items"] if r["records"]])
def test_each_item_of_the_example(row: dict[str, Any]) -> None:
    assert defaults_in_excess(row["records"], row["defaults"], row["threshold"]) == pytest.approx(
        row["excess"]
    )
    assert item_score(_item(row)) == pytest.approx(row["score"])


def test_the_index_is_a_product_of_averages_not_an_average_of_products() -> None:
    items = [DataItem(10, 10, coverage=1.0), DataItem(10, 0, coverage=0.0)]
    assert dqmi(items) == pytest.approx(0.5 * 0.5 * 100)  # an average of products gives 50


def test_items_with_no_records_are_left_out() -> None:
    assert item_score(DataItem(0, 0)) is None
    assert dqmi([DataItem(0, 0, coverage=0.0), DataItem(4, 3)]) == pytest.approx(75.0)
    assert dqmi([DataItem(0, 0)]) is None and dqmi([]) is None and published(None) is None


def test_defaults_within_their_threshold_cost_nothing() -> None:
    assert defaults_in_excess(100, 2, 0.05) == 0.0  # 2 − 5 is negative: no excess
    assert defaults_in_excess(100, 8, 0.05) == pytest.approx(3.0)
    assert defaults_in_excess(100, None, None) == 0.0
    assert item_score(DataItem(100, 100, defaults=2, threshold=0.05)) == 1.0
    assert item_score(DataItem(100, 100, defaults=8, threshold=0.05)) == pytest.approx(0.97)


@pytest.mark.parametrize(
    "fields",
    [
        {"records": 5, "valid_and_complete": 6},
        {"records": 5, "valid_and_complete": -1},
        {"records": 5, "valid_and_complete": 5, "threshold": 1.5},
        {"records": 5, "valid_and_complete": 5, "coverage": 2.0},
    ],
)
def test_impossible_counts_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        DataItem(**fields)
