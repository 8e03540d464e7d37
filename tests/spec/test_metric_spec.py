"""The four-hour KPI on a small table: numerator and denominator at the boundary."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from carehub.metrics.compile import compile_metric
from carehub.metrics.registry import get_metric
from carehub.store.engines import Engine


def test_four_hours_or_less_counts_and_241_minutes_does_not(engine: Engine, tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    start = datetime(2025, 1, 10, 10, 0)
    stays = {"RAJ01": [0, 239, 240, 241, 600], "RAJ02": [240.5, 30]}  # minutes in department
    rows = [
        (site, start + timedelta(days=day), start + timedelta(days=day, minutes=m))
        for site, minutes in stays.items()
        for day, m in enumerate(minutes)
    ]
    rows.append(("RAJ01", datetime(2025, 2, 1, 0, 0), datetime(2025, 2, 1, 1, 0)))
    path = tmp_path / "ed.parquet"
    pq.write_table(
        pa.table(
            {
                "site_code": [r[0] for r in rows],
                "arrival_at": [r[1] for r in rows],
                "departed_at": [r[2] for r in rows],
            }
        ),
        path,
    )
    query = compile_metric(get_metric("ed_four_hours"), engine.scan_parquet([path]), engine)
    with engine.session() as session:
        result = session.rows(query)
    assert result == [
        ("RAJ01", "2025-01", 3, 5),
        ("RAJ01", "2025-02", 1, 1),
        ("RAJ02", "2025-01", 1, 2),
    ]
