"""Disclosure control against the reference vectors (§4.1 and §4.2), and of tables."""

from __future__ import annotations

import pytest
from reference import yaml_blocks

from carehub.governance.disclosure import (
    REDACTED,
    SMALL_NUMBER_THRESHOLD,
    DisclosurePolicy,
    Totals,
    release_categories,
    release_count,
    release_proportion,
    release_table,
    shown,
)

NHSD = yaml_blocks("### 4.1")[0]["nhsd_2018_subnational_count"]
EHRQL = yaml_blocks("### 4.2")[0]["ehrql_apply_sdc"]


@pytest.mark.parametrize("case", NHSD, ids=lambda c: str(c["in"]))
def test_nhs_digital_subnational_counts(case: dict[str, object]) -> None:
    expected = None if case["out"] == "*" else case["out"]
    assert release_count(case["in"]) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("case", [c for c in EHRQL if "out" in c], ids=lambda c: str(c["in"]))
def test_ehrql_apply_sdc(case: dict[str, int]) -> None:
    # ehrQL writes 0 for a redacted count; carehub releases None (shown as *) instead.
    released = release_count(case["in"])
    assert (released or 0) == case["out"]


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        release_count(-1)


def test_threshold_is_configurable_per_agreement() -> None:
    stricter = DisclosurePolicy(threshold=9)  # e.g. "<10" for outputs leaving to an SDE
    assert release_count(9, stricter) is None
    assert release_count(10, stricter) == 10
    assert release_count(9) == 10 and SMALL_NUMBER_THRESHOLD == 7


def test_proportions_use_released_counts() -> None:
    assert release_proportion(12, 23) == pytest.approx(10 / 25)
    assert release_proportion(5, 100) is None
    assert release_proportion(0, 100) == 0.0
    assert release_proportion(0, 0) is None


# Tables: primary suppression, totals, and complementary suppression.

OPENSAFELY_TABLE = yaml_blocks("### 4.2")[0]["opensafely_table_example"]
OPENSAFELY_RULE = DisclosurePolicy(totals=Totals.SUM_OF_RELEASED)


def _column(rows: list[dict[str, object]], name: str) -> dict[str, object]:
    return {str(row["age"]): row[name] for row in rows}


def _released(value: object) -> object:
    return None if value == "[REDACTED]" else value


@pytest.mark.parametrize("name", ["hd", "pop"])
def test_opensafely_table_example_under_its_own_totals_rule(name: str) -> None:
    # The vector's table is two one-way tables (hd and pop by age band) whose totals OpenSAFELY
    # recomputes from the released cells; such a total adds nothing, so there are no complements.
    before = _column(OPENSAFELY_TABLE["before"]["rows"], name)
    after = {
        age: _released(value)
        for age, value in _column(OPENSAFELY_TABLE["after"]["rows"], name).items()
    }
    released = release_categories(before, OPENSAFELY_RULE)  # type: ignore[arg-type]
    assert dict(zip(released.categories, released.counts, strict=True)) == after
    assert released.total == OPENSAFELY_TABLE["after"]["totals"][name]
    assert sum(before.values()) == OPENSAFELY_TABLE["before"]["totals"][name]  # type: ignore[arg-type]


def test_opensafely_table_example_under_carehubs_default_totals_rule() -> None:
    # carehub follows NHS Digital (2018): a total is the unrounded sum, then rounded. Every cell
    # is released as in the vector but for one complement: the hd line has a published total and
    # one redacted cell, so its smallest other cell (8, shown as 10) is redacted too.
    rows = OPENSAFELY_TABLE["before"]["rows"]
    expected = {name: _column(OPENSAFELY_TABLE["after"]["rows"], name) for name in ("hd", "pop")}
    hd = release_categories(_column(rows, "hd"))  # type: ignore[arg-type]
    pop = release_categories(_column(rows, "pop"))  # type: ignore[arg-type]
    assert hd.counts == (None, None, expected["hd"]["41-50"], expected["hd"]["51+"])
    assert hd.total == 50  # round5(50); the vector's 50 is 10 + 15 + 25 and agrees by chance
    assert pop.counts == tuple(expected["pop"].values())
    assert pop.total == 115  # round5(116), where the sum of the released cells is 120
    assert pop.total != OPENSAFELY_TABLE["after"]["totals"]["pop"]


def test_table_cells_and_margins_are_released_like_counts() -> None:
    table = release_table({("a", "x"): 12, ("a", "y"): 30, ("b", "x"): 0, ("b", "y"): 9})
    assert table.rows == ("a", "b") and table.columns == ("x", "y")
    assert table.cells == ((10, 30), (0, 10))
    assert table.row_totals == (40, 10)  # 42 rounds to 40: totals come from unrounded counts
    assert table.column_totals == (10, 40)  # 39 rounds to 40, not 30 + 10
    assert table.grand_total == 50  # 51
    assert table.cell("b", "x") == 0 and table.row_total("a") == 40
    assert table.column_total("y") == 40


def test_a_missing_cell_is_zero_and_labels_keep_the_order_given() -> None:
    table = release_table({("b", "y"): 20}, rows=["a", "b"], columns=["y", "x"])
    assert table.grid() == (
        ("", "y", "x", "Total"),
        ("a", "0", "0", "0"),
        ("b", "20", "0", "20"),
        ("Total", "20", "0", "20"),
    )


def test_labels_must_cover_the_cells_without_naming_them() -> None:
    with pytest.raises(ValueError, match="not among the rows given") as refused:
        release_table({("Leeds", "x"): 20}, rows=["York"])
    assert "Leeds" not in str(refused.value)
    with pytest.raises(ValueError, match="named twice"):
        release_table({("a", "x"): 20}, columns=["x", "x"])
    with pytest.raises(ValueError, match="negative"):
        release_table({("a", "x"): -1})


def test_a_line_with_one_small_cell_loses_its_smallest_other_non_zero_cell() -> None:
    released = release_categories({"a": 3, "b": 40, "c": 12, "d": 0, "e": 12})
    # c and e are both released as 10; the first is taken. The zero is never a complement.
    assert released.counts == (None, 40, None, 0, 10)
    assert released.total == 65


def test_zero_cells_are_never_complements() -> None:
    released = release_categories({"a": 3, "b": 0, "c": 0, "d": 25})
    assert released.counts == (None, 0, 0, None)
    assert released.total == 30


def test_complements_spread_across_rows_and_columns_until_stable() -> None:
    cells = {("a", "x"): 3, ("a", "y"): 20, ("a", "z"): 30}
    cells |= {("b", "x"): 40, ("b", "y"): 50, ("b", "z"): 60}
    table = release_table(cells)
    # a,x is small; row a then loses a,y; column x loses b,x; column y (now holding one
    # redacted cell) loses b,y; row b then holds two and everything is stable.
    assert table.cells == ((None, None, 30), (None, None, 60))
    assert table.row_totals == (55, 150)
    assert table.column_totals == (45, 70, 90)
    assert table.grand_total == 205


def test_a_line_whose_other_cells_are_zero_loses_its_total() -> None:
    table = release_table({("a", "x"): 3, ("a", "y"): 30, ("b", "x"): 40, ("b", "y"): 0})
    # b,x is redacted as the complement in column x; row b has nothing else non-zero, so its
    # total (40) would show it. The same holds for column y and a,y.
    assert table.cells == ((None, None), (None, 0))
    assert table.row_totals[1] is None and table.column_totals[1] is None
    # and the totals' own lines then need a second redacted total each
    assert table.row_totals == (None, None) and table.column_totals == (None, None)
    assert table.grand_total == 75


def test_a_total_redacted_as_a_complement_takes_a_cell_of_its_own_line() -> None:
    cells = {("a", "x"): 3, ("b", "x"): 40, ("b", "y"): 30, ("c", "x"): 20, ("c", "y"): 60}
    table = release_table(cells, rows=["a", "b", "c"], columns=["x", "y"])
    # row a's total (3) is small, so the smallest other row total (b's 70) is its complement;
    # b's cells would add up to it, so b,y goes too, and then c,y for column y.
    assert table.row_totals == (None, None, 80)
    assert table.cells == ((None, 0), (40, None), (None, None))
    assert table.column_totals == (65, 90) and table.grand_total == 155


def test_rounding_alone_can_pin_two_redacted_cells_so_a_third_goes() -> None:
    # *, *, 10, 10 with a total of 40: the 10s are at most 12 and the total at least 38, so the
    # two redacted cells add up to 14 or more and each of them must be 7.
    released = release_categories({"a": 7, "b": 7, "c": 12, "d": 12})
    assert released.counts == (None, None, None, 10)
    assert released.total == 40


def test_a_pinned_line_with_nothing_left_to_redact_loses_its_total() -> None:
    # Under "<10", *, * with a total of 20 (18 to 22) shows both cells are 9.
    released = release_categories({"a": 9, "b": 9}, DisclosurePolicy(threshold=9))
    assert released.counts == (None, None) and released.total is None


def test_the_table_threshold_is_configurable() -> None:
    counts = {"a": 9, "b": 12, "c": 30}
    assert release_categories(counts).counts == (10, 10, 30)
    stricter = release_categories(counts, DisclosurePolicy(threshold=9))
    assert stricter.counts == (None, None, 30)
    assert stricter.total == 50


def test_opensafely_totals_rule_sums_the_released_cells_of_a_two_way_table() -> None:
    cells = {("a", "x"): 3, ("a", "y"): 12, ("b", "x"): 13, ("b", "y"): 44}
    table = release_table(cells, OPENSAFELY_RULE)
    assert table.cells == ((None, 10), (15, 45))
    assert table.row_totals == (10, 60) and table.column_totals == (15, 55)
    assert table.grand_total == 70


def test_one_way_and_one_column_tables_agree() -> None:
    counts = {"a": 3, "b": 40, "c": 12, "d": 0, "e": 8}
    one_way = release_categories(counts)
    table = release_table({(name, "n"): count for name, count in counts.items()})
    assert table.cells == tuple((count,) for count in one_way.counts)
    assert table.column_totals == (one_way.total,) and table.grand_total == one_way.total
    assert one_way.count("b") == 40


@pytest.mark.parametrize(("threshold", "base"), [(5, 5), (6, 5), (10, 5), (10, 10), (0, 5)])
def test_a_policy_that_would_release_a_count_at_or_below_its_threshold_is_refused(
    threshold: int, base: int
) -> None:
    # e.g. redacting 1..5 and rounding to 5 releases a 6 as 5 (OpenSAFELY redacts up to 7).
    with pytest.raises(ValueError, match="at or below"):
        DisclosurePolicy(threshold=threshold, rounding_base=base)


@pytest.mark.parametrize(("threshold", "base"), [(7, 5), (9, 5), (5, 10), (9, 10), (0, 1)])
def test_coherent_policies_are_accepted(threshold: int, base: int) -> None:
    policy = DisclosurePolicy(threshold=threshold, rounding_base=base)
    assert release_count(threshold + 1, policy) > threshold  # type: ignore[operator]


def test_redacted_values_are_shown_as_a_star() -> None:
    assert shown(None) == REDACTED == "*"
    assert shown(0) == "0" and shown(15) == "15"
