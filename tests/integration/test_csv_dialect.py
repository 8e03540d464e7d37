"""CSV files are read as RFC 4180 with the header's own names: nothing is guessed, no row is
skipped, and a line the engine cannot read is named by its number, never by its content."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp
from workspaces import ADMIN

from carehub.errors import DataContractError
from carehub.model.datasets import get_dataset
from carehub.platform import Platform
from carehub.store.engines import make_engine

HEADER = ",".join(f.name for f in get_dataset("ed_attendance").fields)


def row(n: int, first: str | None = None) -> str:
    return (
        f"{first or f'A{n}'},9990000018,RAJ01,01,,2025-01-0{n} 10:00:00,,,,"
        f"2025-01-0{n} 11:00:00,3,45,1,home"
    )


def test_the_engine_reads_what_the_header_says(tmp_path: Path) -> None:
    """DuckDB's sniffer used to take a row starting with '#' for a comment and drop it."""
    path = tmp_path / "in.csv"
    path.write_text('a,b\n#1,x\n2,"y\nz"\n3,"say ""hi"""\n')
    engine = make_engine("duckdb")
    scan = engine.scan_csv(path, delimiter=",", encoding="utf-8", columns=("a", "b"))
    with engine.session(ingest=True) as session:
        rows = session.rows(exp.select("*").from_(scan))
    assert rows == [("#1", "x"), ("2", "y\nz"), ("3", 'say "hi"')]


def test_a_row_starting_with_hash_is_published(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "ed.csv"
    lines = [row(n, f"{10000 + n}") for n in range(1, 5)]
    lines[1] = row(2, "#10002")  # numeric references: the sniffer took this line for a comment
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    receipt = platform.submit(ADMIN, "RAJ", "ed_attendance", path, "2025-01")
    assert (receipt.rows_read, receipt.rows_published) == (4, 4)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([row(1), row(2) + ",extra", row(3)], "line 3 has 15 fields where the header has 14"),
        (
            [row(1), row(2), row(3).rsplit(",", 3)[0]],
            "line 4 has 11 fields where the header has 14",
        ),
        ([row(1), row(2).replace("A2", '"A2'), row(3)], "line 3 has a quote that is never closed"),
        (
            [row(1), row(2).replace("A2", '"A2"x'), row(3)],
            "line 3 has a quote that is never closed",
        ),
        (["\r\n".join([row(1), row(2)]), row(3)], "its lines do not all end the same way"),
        ([row(1), row(2).replace("A2", "A2" + "x" * 2_100_000)], "line 3 is longer than the"),
    ],
    ids=["too-many", "too-few", "unclosed-quote", "text-after-quote", "mixed-endings", "huge"],
)
def test_an_unreadable_line_is_named_by_number(
    platform: Platform, tmp_path: Path, lines: list[str], expected: str
) -> None:
    path = tmp_path / "ed.csv"
    path.write_bytes(("\n".join([HEADER, *lines]) + "\n").encode())
    with pytest.raises(DataContractError) as caught:
        platform.submit(ADMIN, "RAJ", "ed_attendance", path, "2025-01")
    assert caught.value.message.startswith(f"ed.csv: {expected}")
    assert caught.value.hint
    assert "9990000018" not in str(caught.value) and "A2" not in str(caught.value)
