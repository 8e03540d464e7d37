"""Properties of disclosure control on tables (STYLE.md): after it no released count is between 1
and the threshold, and no redacted count can be worked out from its row or column and the total.

The attacker here works by brute force, independently of the module: the true counts behind a
released value are found by trying counts through ``release_count``, and the counts a redacted
cell can take are found by enumerating what the rest of its line can add up to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from carehub.governance.disclosure import (
    DisclosurePolicy,
    ReleasedTable,
    Totals,
    release_categories,
    release_count,
    release_table,
)

# Thresholds 5..10 with rounding to 5 or 10, less the pairs DisclosurePolicy refuses because they
# would release a count above the threshold as one at or below it: (5, 5), (6, 5), (10, 5) and
# (10, 10) (see the unit tests).
COHERENT = [(7, 5), (8, 5), (9, 5), (5, 10), (6, 10), (7, 10), (8, 10), (9, 10)]
COUNTS = st.one_of(st.just(0), st.integers(1, 12), st.integers(0, 60))


@st.composite
def tables(draw: st.DrawFn) -> list[list[int]]:
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return [draw(st.lists(COUNTS, min_size=width, max_size=width)) for _ in range(height)]


@dataclass(frozen=True)
class Line:
    """A row or column of the table laid out with its totals: cells that add up to ``total``."""

    cells: tuple[tuple[int, int], ...]
    total: tuple[int, int]


def _laid_out(counts: list[list[int]]) -> list[list[int]]:
    with_totals = [[*row, sum(row)] for row in counts]
    return [*with_totals, [sum(column) for column in zip(*with_totals, strict=True)]]


def _released_grid(table: ReleasedTable) -> list[list[int | None]]:
    rows = [[*cells, total] for cells, total in zip(table.cells, table.row_totals, strict=True)]
    return [*rows, [*table.column_totals, table.grand_total]]


def _lines(height: int, width: int) -> list[Line]:
    """Every row and column of the laid-out table, the row and column of totals included."""
    across = [Line(tuple((i, j) for j in range(width)), (i, width)) for i in range(height + 1)]
    down = [Line(tuple((i, j) for i in range(height)), (height, j)) for j in range(width + 1)]
    return across + down


def _preimage(value: int, policy: DisclosurePolicy) -> range:
    """The true counts released as ``value``, found by trying them."""
    found = [
        count
        for count in range(value + policy.rounding_base + 1)
        if release_count(count, policy) == value
    ]
    assert found == list(range(found[0], found[-1] + 1))
    return range(found[0], found[-1] + 1)


def _reachable(domains: Iterable[range]) -> set[int]:
    """Every sum of one value from each domain."""
    sums = {0}
    for domain in domains:
        sums = {partial + value for partial in sums for value in domain}
    return sums


def _consistent(target: range, others: Sequence[range], total: range) -> list[int]:
    """The values of the target cell that, with some values of the others, make the total."""
    sums = _reachable(others)
    return [value for value in target if any(t - value in sums for t in total)]


def _check_line(
    line: Line,
    truth: list[list[int]],
    released: list[list[int | None]],
    policy: DisclosurePolicy,
) -> None:
    entries = [*line.cells, line.total]
    hidden = [(i, j) for i, j in entries if released[i][j] is None]
    # (b) a line holds no redacted value or at least two (its total counting as one)
    assert len(hidden) != 1
    total = released[line.total[0]][line.total[1]]
    if total is None:
        return
    total_range = _preimage(total, policy)
    small = range(1, policy.threshold + 1)
    # A reader who takes every redacted count to be 1..threshold (as a primary one is), and one
    # who allows any positive count up to the total (a complement can be large).
    for reader in (small, range(1, total_range[-1] + 1)):

        def domain(cell: tuple[int, int], reader: range = reader) -> range:
            value = released[cell[0]][cell[1]]
            return reader if value is None else _preimage(value, policy)

        for target in (cell for cell in line.cells if cell in hidden):
            others = [domain(cell) for cell in line.cells if cell != target]
            values = _consistent(domain(target), others, total_range)
            # (c) never exactly one possible value
            assert len(values) != 1, (line, target, values)
            if all(truth[i][j] in reader for i, j in hidden):
                assert truth[target[0]][target[1]] in values  # the attacker's model is sound


@settings(max_examples=200, deadline=None)
@given(counts=tables(), pair=st.sampled_from(COHERENT))
def test_no_redacted_count_can_be_worked_out_from_its_line(
    counts: list[list[int]], pair: tuple[int, int]
) -> None:
    policy = DisclosurePolicy(threshold=pair[0], rounding_base=pair[1])
    cells = {
        (f"r{i}", f"c{j}"): count for i, row in enumerate(counts) for j, count in enumerate(row)
    }
    truth = _laid_out(counts)
    released = _released_grid(release_table(cells, policy))
    for true_row, released_row in zip(truth, released, strict=True):
        for true, shown in zip(true_row, released_row, strict=True):
            # (a) nothing released between 1 and the threshold; a released value, total or not,
            # is the true count released alone; only counts above zero are ever redacted.
            assert shown is None or shown == 0 or shown > policy.threshold
            assert shown is None or shown == release_count(true, policy)
            assert shown is not None or true > 0
    for line in _lines(len(counts), len(counts[0])):
        _check_line(line, truth, released, policy)


@settings(max_examples=100, deadline=None)
@given(counts=tables(), pair=st.sampled_from(COHERENT))
def test_opensafely_totals_are_sums_of_the_released_cells(
    counts: list[list[int]], pair: tuple[int, int]
) -> None:
    policy = DisclosurePolicy(pair[0], pair[1], Totals.SUM_OF_RELEASED)
    cells = {
        (f"r{i}", f"c{j}"): count for i, row in enumerate(counts) for j, count in enumerate(row)
    }
    table = release_table(cells, policy)
    assert table.cells == tuple(
        tuple(release_count(count, policy) for count in row) for row in counts
    )
    released = _released_grid(table)
    for line in _lines(len(counts), len(counts[0])):
        total = released[line.total[0]][line.total[1]]
        assert total == sum(released[i][j] or 0 for i, j in line.cells)
        assert total == 0 or total > policy.threshold


@settings(max_examples=100, deadline=None)
@given(counts=st.lists(COUNTS, min_size=1, max_size=8), pair=st.sampled_from(COHERENT))
def test_a_one_way_table_is_released_as_a_one_column_table(
    counts: list[int], pair: tuple[int, int]
) -> None:
    policy = DisclosurePolicy(threshold=pair[0], rounding_base=pair[1])
    one_way = release_categories({f"r{i}": count for i, count in enumerate(counts)}, policy)
    table = release_table({(f"r{i}", "n"): count for i, count in enumerate(counts)}, policy)
    assert table.cells == tuple((count,) for count in one_way.counts)
    assert table.column_totals == (one_way.total,)
