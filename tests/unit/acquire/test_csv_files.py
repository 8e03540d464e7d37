"""Whole-file checks of CSV submissions: what kind of text a file is, and its header."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from carehub.acquire import csv_files
from carehub.acquire.csv_files import open_csv
from carehub.errors import DataContractError
from carehub.model.datasets import get_dataset
from carehub.model.mappings import FeedMapping

MAPPING = FeedMapping.identity("RAJ", "ed_attendance")
HEADER = ",".join(f.name for f in get_dataset("ed_attendance").fields)
ROW = "A1,9990000018,RAJ01,01,,2025-01-03 10:00:00,,,,2025-01-03 11:00:00,3,45,1,"


def refusal(tmp_path: Path, data: bytes, header: str = HEADER) -> str:
    path = tmp_path / "ed.csv"
    path.write_bytes(header.encode() + b"\r\n" + data)
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    with pytest.raises(DataContractError) as caught, open_csv(path, MAPPING, scratch):
        pass
    assert not list(scratch.iterdir())
    assert "9990000018" not in str(caught.value)
    return caught.value.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ((ROW + "\r\n" + ROW + "\0\r\n").encode(), "ed.csv: line 3 has a NUL byte"),
        (
            (ROW.replace("A1", "Zoë") + "\r\n").encode()
            + ROW.replace("A1", "Zoë").encode("cp1252"),
            "ed.csv: line 3 is not UTF-8 but line 2 is: the file mixes two encodings",
        ),
        (  # the Latin-1 line first: it is still the one named as not UTF-8
            ROW.replace("A1", "Zoë").encode("cp1252") + ("\n" + ROW.replace("A1", "Zoë")).encode(),
            "ed.csv: line 2 is not UTF-8 but line 3 is",
        ),
        (  # 0x81 is no character in Windows-1252: this used to crash with UnicodeDecodeError
            (ROW + "\r\n").encode() + ROW.replace("A1", "A\x81").encode("latin-1"),
            "ed.csv: line 3 has bytes that are neither UTF-8 nor Windows-1252 text",
        ),
    ],
    ids=["nul", "utf-8-then-latin-1", "latin-1-then-utf-8", "undefined-in-windows-1252"],
)
def test_files_that_are_not_one_kind_of_text_are_refused_by_line(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    assert refusal(tmp_path, data).startswith(expected)


def test_lines_are_counted_across_read_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_files, "READ_CHUNK_CHARS", 7)  # CRLFs fall across chunk edges
    lines = [ROW.replace("A1", f"A{n}") for n in range(40)]
    lines[29] = lines[29].replace("A29", "A\x81")
    data = "\r\n".join(lines).encode("latin-1")
    assert "line 31 has bytes that are neither" in refusal(tmp_path, data)
    lines[29] = lines[29].replace("A\x81", "A\0")
    assert "line 31 has a NUL byte" in refusal(tmp_path, "\r".join(lines).encode("latin-1"))


def test_windows_1252_alone_is_read_through_a_utf_8_copy(tmp_path: Path) -> None:
    path = tmp_path / "ed.csv"
    path.write_bytes(f"{HEADER}\n{ROW.replace('A1', 'Zoë £')}\n".encode("cp1252"))
    with open_csv(path, MAPPING, tmp_path) as profile:
        assert (profile.encoding, profile.path != path) == ("windows-1252", True)
        assert "Zoë £" in profile.path.read_text(encoding="utf-8")
        copy = profile.path
    assert not copy.exists()


def test_columns_that_differ_only_in_capitals_are_the_same_column(tmp_path: Path) -> None:
    message = refusal(tmp_path, ROW.encode(), header=HEADER + ",Site_Code")
    assert message == (
        "ed.csv: line 1 repeats column(s) 'Site_Code', 'site_code' "
        "(names that differ only in capitals are the same name)"
    )


def test_unnamed_columns_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "ed.csv"
    path.write_text(f"{HEADER},,\n{ROW},,\n")
    with open_csv(path, MAPPING, tmp_path) as profile:
        assert profile.columns[-2:] == ("", "")


def test_only_converted_files_count_data_rows() -> None:
    profile = csv_files.CsvProfile(Path("a"), Path("b.csv"), "utf-8", ",", (), ())
    assert (profile.where(3), replace(profile, converted=True).where(3)) == (
        "line 3",
        "data row 2",
    )
