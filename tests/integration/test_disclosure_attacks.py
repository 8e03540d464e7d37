"""Differencing attacks on released counts, through the real governed reader and engine.

An analyst with aggregate access asks for the same rows counted three ways — by site and
department type, by site alone, and by department type alone — and tries to work out a suppressed
cell from everything released. The attacker knows the rules (redact 1..7, round the rest to 5,
totals from unrounded counts) and solves every released figure of all three tables together, by
brute force over the true values each released or suppressed figure could have had.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from workspaces import ADMIN, ED_HEADER, agreement_spec, make_platform, nhs_numbers, put_in_force

from carehub.governance.actors import Actor, Role
from carehub.governance.disclosure import SMALL_NUMBER_THRESHOLD, release_count
from carehub.governance.policy import Purpose
from carehub.platform import Platform

SITES, TYPES = ("S1", "S2"), ("01", "02", "03")
ANALYST = Actor("rita", "RAJ", Role.ANALYST)
MAX_TRUE_COUNT = 60  # no cell of the tables below is larger


def workspace(folder: Path, counts: dict[tuple[str, str], int]) -> Platform:
    hub = make_platform(folder / "home")
    numbers = iter(nhs_numbers())
    lines = [
        f"{site}-{kind}-{n},{next(numbers)},{site},{kind},2025-01-05 10:00:00,"
        f"2025-01-05 13:00:00,3\n"
        for (site, kind), count in counts.items()
        for n in range(count)
    ]
    path = folder / "ed.csv"
    path.write_text(ED_HEADER + "".join(lines))
    hub.submit(ADMIN, "RAJ", "ed_attendance", path, "2025-01")
    put_in_force(
        hub,
        agreement_spec(
            "ISA-AGG",
            purpose="performance_monitoring",
            providers=["RAJ"],
            recipients=["RAJ"],
            datasets=[{"dataset": "ed_attendance"}],
            level="aggregate",
        ),
    )
    return hub


@dataclass(frozen=True)
class Released:
    """Every figure released about the rows, from all the tables asked for; None = suppressed.
    A margin released by two tables must be released the same way by both."""

    cells: dict[tuple[str, str], int | None]
    sites: dict[str, int | None]
    types: dict[str, int | None]
    total: int | None


def released_by_the_hub(hub: Platform) -> Released:
    read = functools.partial(
        hub.read_counts, ANALYST, Purpose.PERFORMANCE_MONITORING, "ed_attendance"
    )
    both = read(("site_code", "department_type")).table
    by_site, by_type = read(("site_code",)).table, read(("department_type",)).table
    sites = {s: both.row_total(s) for s in SITES}
    types = {t: both.column_total(t) for t in TYPES}
    assert sites == {s: by_site.row_total(s) for s in SITES}
    assert types == {t: by_type.row_total(t) for t in TYPES}
    assert both.grand_total == by_site.grand_total == by_type.grand_total
    cells = {(s, t): both.cell(s, t) for s in SITES for t in TYPES}
    return Released(cells, sites, types, both.grand_total)


def released_naively(counts: dict[tuple[str, str], int]) -> Released:
    """Every figure redacted or rounded on its own, with no complementary suppression."""
    return Released(
        {k: release_count(v) for k, v in counts.items()},
        {s: release_count(sum(counts[(s, t)] for t in TYPES)) for s in SITES},
        {t: release_count(sum(counts[(s, t)] for s in SITES)) for t in TYPES},
        release_count(sum(counts.values())),
    )


def attack(released: Released, *, complements: bool) -> dict[tuple[str, str], set[int]]:
    """Every value each suppressed cell could take, given every released figure. With
    ``complements`` a suppressed figure may hide any positive count (it may protect another);
    without, only a small one."""

    def consistent(value: int, shown: int | None) -> bool:
        if shown is None:
            return value >= 1 if complements else 1 <= value <= SMALL_NUMBER_THRESHOLD
        return release_count(value) == shown

    known = [v for v in (released.total, *released.sites.values()) if v is not None]
    bound = max(known, default=MAX_TRUE_COUNT - 2) + 2

    def rows_of(site: str) -> list[tuple[int, ...]]:
        options = [
            [v for v in range(bound + 1) if consistent(v, released.cells[(site, t)])] for t in TYPES
        ]
        return [
            values
            for values in itertools.product(*options)
            if consistent(sum(values), released.sites[site])
        ]

    possible: dict[tuple[str, str], set[int]] = {
        key: set() for key, shown in released.cells.items() if shown is None
    }
    for first, second in itertools.product(rows_of(SITES[0]), rows_of(SITES[1])):
        columns = [a + b for a, b in zip(first, second, strict=True)]
        if all(
            consistent(c, released.types[t]) for c, t in zip(columns, TYPES, strict=True)
        ) and consistent(sum(columns), released.total):
            cells = dict(zip(released.cells, (*first, *second), strict=True))
            for key in possible:
                possible[key].add(cells[key])
    return possible


TABLES = {
    "one small cell": {
        ("S1", "01"): 3,
        ("S1", "02"): 20,
        ("S1", "03"): 9,
        ("S2", "01"): 12,
        ("S2", "02"): 16,
        ("S2", "03"): 30,
    },
    "two small cells in a row": {
        ("S1", "01"): 7,
        ("S1", "02"): 7,
        ("S1", "03"): 12,
        ("S2", "01"): 12,
        ("S2", "02"): 25,
        ("S2", "03"): 9,
    },
    "a small cell beside zeros": {
        ("S1", "01"): 5,
        ("S1", "02"): 0,
        ("S1", "03"): 0,
        ("S2", "01"): 14,
        ("S2", "02"): 22,
        ("S2", "03"): 18,
    },
    # A naive release gives both sevens away (see the last test); complements protect them.
    "two sevens": {
        ("S1", "01"): 9,
        ("S1", "02"): 7,
        ("S1", "03"): 7,
        ("S2", "01"): 8,
        ("S2", "02"): 15,
        ("S2", "03"): 0,
    },
    "small cells everywhere": {
        ("S1", "01"): 1,
        ("S1", "02"): 2,
        ("S1", "03"): 6,
        ("S2", "01"): 4,
        ("S2", "02"): 9,
        ("S2", "03"): 13,
    },
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_no_suppressed_cell_is_recovered_by_differencing_tables(tmp_path: Path, name: str) -> None:
    counts = TABLES[name]
    hub = workspace(tmp_path, counts)
    possible = attack(released_by_the_hub(hub), complements=True)
    small = {k for k, v in counts.items() if 1 <= v <= 7}
    assert small <= set(possible)  # every small count was suppressed
    for key, values in possible.items():
        assert counts[key] in values  # the attacker's model is right about the truth...
        assert len(values) >= 2, f"{name}: {key} recovered as {values}"  # ...but cannot pin it


def test_released_counts_are_the_rows_the_agreement_allows(tmp_path: Path) -> None:
    counts = TABLES["one small cell"]
    hub = workspace(tmp_path, counts)
    table = hub.read_counts(
        ANALYST, Purpose.PERFORMANCE_MONITORING, "ed_attendance", ("site_code",)
    ).table
    truth = Counter()
    for (site, _), n in counts.items():
        truth[site] += n
    assert {s: table.row_total(s) for s in SITES} == {s: release_count(truth[s]) for s in SITES}


def test_the_attack_breaks_a_release_without_complementary_suppression() -> None:
    """The attacker is strong enough to matter: against each figure released on its own, it
    works out both sevens exactly."""
    counts = TABLES["two sevens"]
    possible = attack(released_naively(counts), complements=False)
    assert possible[("S1", "02")] == possible[("S1", "03")] == {7}
