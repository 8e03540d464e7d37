"""How a typed value from a workbook, Parquet or JSON file is written as text for the one-pass
standardisation: ISO 8601 dates and times, whole numbers without ".0", empty for missing."""

from __future__ import annotations

from datetime import date, datetime, time


def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
