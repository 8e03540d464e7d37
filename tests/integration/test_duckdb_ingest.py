"""DuckDB 2.0's type_pushdown bug (duckdb/duckdb#23818) and carehub's workaround."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from carehub.store.engines import make_engine

DIRTY = "a,b\n1,x\n2,3\nzz,4\n"


@pytest.fixture
def dirty_csv(tmp_path: Path) -> Path:
    path = tmp_path / "dirty.csv"
    path.write_text(DIRTY)
    return path


def test_ingest_sessions_survive_dirty_csv(dirty_csv: Path) -> None:
    engine = make_engine("duckdb")
    scan = engine.scan_csv(dirty_csv, delimiter=",", encoding="utf-8")
    query = exp.select(engine.try_integer(exp.column("a")).as_("a")).from_(scan)
    with engine.session(ingest=True) as session:
        assert session.rows(query) == [(1,), (2,), (None,)]


def test_upstream_bug_is_still_present(dirty_csv: Path) -> None:
    """When this fails, DuckDB has fixed the bug: remove INGEST_SETTINGS and this test."""
    sql = f"SELECT TRY_CAST(a AS INTEGER) FROM read_csv('{dirty_csv}', all_varchar=true)"
    with pytest.raises(duckdb.ConversionException):
        duckdb.connect().execute(sql).fetchall()
