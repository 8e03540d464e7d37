"""JSON lines submissions are UTF-8 text, one object per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carehub.acquire.columnar_files import open_jsonl
from carehub.errors import DataContractError
from carehub.model.mappings import FeedMapping

MAPPING = FeedMapping.identity("RAJ", "ed_attendance")
RECORD = {
    "attendance_id": "Zoë-1",
    "nhs_number": "9990000018",
    "site_code": "RAJ01",
    "department_type": "01",
    "arrival_at": "2025-01-03 10:00:00",
    "departed_at": "2025-01-03 11:00:00",
    "acuity": "3",
    "age_years": "45",
}


def lines(*records: dict[str, str]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + lines(RECORD, RECORD).encode())
    with open_jsonl(path, MAPPING, tmp_path) as profile:
        assert profile.columns == tuple(RECORD)
        assert profile.path.read_text(encoding="utf-8").count("Zoë-1") == 2


def test_a_line_that_is_not_utf_8_is_named(tmp_path: Path) -> None:
    """This used to escape as a UnicodeDecodeError."""
    path = tmp_path / "ed.jsonl"
    path.write_bytes(lines(RECORD).encode() + lines(RECORD).encode("latin-1"))
    with pytest.raises(DataContractError) as caught, open_jsonl(path, MAPPING, tmp_path):
        pass
    assert caught.value.message == "ed.jsonl: line 2 is not UTF-8 text"
    assert not list(tmp_path.glob("*.csv"))
