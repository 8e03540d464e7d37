"""The pandas + pandera baseline of the ingest benchmark: carehub's checks of ed_attendance, its
HMAC-SHA-256 pseudonym and its clean/quarantine split, written the way a careful pandas user would.

pandas reads the file (its pyarrow CSV engine, every column as text, pyarrow-backed strings) and
parses the typed columns with vectorised calls; a pandera schema (lazy validation) declares and
runs the checks, and its failure cases name the failing rows and reasons; Python's ``hmac`` makes
the pseudonym of each published row; both splits are written as ZSTD Parquet, as carehub does.
It reads the dataset spec, so the rules are carehub's own: required fields, types, code sets,
ranges, Modulus 11, the sequence rules and the period.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from time import perf_counter

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from carehub.model.datasets import DatasetSpec, FieldType
from carehub.model.nhs_number import ACCEPTED_FORMAT_PATTERN, MODULUS_11_WEIGHTS
from carehub.model.periods import Period

PARSED = {
    FieldType.TIMESTAMP: "INVALID_TIMESTAMP",
    FieldType.INTEGER: "NOT_AN_INTEGER",
    FieldType.DECIMAL: "NOT_A_NUMBER",
}


def _text(column: pd.Series) -> pd.Series:
    """Trimmed text, missing when empty (carehub's NULLIF(TRIM(x), ''))."""
    trimmed = column.str.strip()
    return trimmed.mask(trimmed == "")


def _nhs_digits(raw: pd.Series) -> pd.Series:
    accepted = raw.str.fullmatch(ACCEPTED_FORMAT_PATTERN.strip("^$")).fillna(False).astype(bool)
    return raw.where(accepted).str.replace(r"[ -]", "", regex=True)


def _modulus_11_valid(digits: pd.Series) -> pd.Series:
    """Vectorised Modulus 11 over ten-digit strings (missing values count as valid)."""
    present = digits.notna().to_numpy()
    number = digits.fillna("0").astype("int64").to_numpy()
    weighted = np.zeros(len(number), dtype=np.int64)
    for position, weight in enumerate(MODULUS_11_WEIGHTS):
        weighted += weight * (number // 10 ** (9 - position) % 10)
    check = 11 - weighted % 11
    check[check == 11] = 0
    return pd.Series(~present | (check == number % 10), index=digits.index)


def parse(raw: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """The typed columns next to the trimmed text ones (``raw__<field>``)."""
    typed: dict[str, pd.Series] = {}
    for field in spec.fields:
        text = _text(raw[field.name])
        typed[f"raw__{field.name}"] = text
        if field.type is FieldType.TIMESTAMP:
            typed[field.name] = pd.to_datetime(text, format="ISO8601", errors="coerce")
        elif field.type in (FieldType.INTEGER, FieldType.DECIMAL):
            number = pd.to_numeric(text, errors="coerce")
            if field.type is FieldType.INTEGER:
                number = number.where(number % 1 == 0).astype("Int64")
            typed[field.name] = number
        elif field.type is FieldType.NHS_NUMBER:
            typed[field.name] = _nhs_digits(text)
        else:
            typed[field.name] = text
    return pd.DataFrame(typed)


def _parsed(field: str, reason: str) -> pa.Check:
    return pa.Check(
        lambda frame: frame[f"raw__{field}"].isna() | frame[field].notna(),
        name=f"{reason}:{field}",
    )


def _before(earlier: str, later: str, reason: str) -> pa.Check:
    # NaT compares False, as NULL does in SQL: a missing time breaks no sequence rule
    return pa.Check(lambda frame: ~(frame[later] < frame[earlier]), name=f"{reason}:{later}")


def schema(spec: DatasetSpec, period: Period) -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {}
    frame_checks = []
    for field in spec.fields:
        raw_checks = []
        if field.type is FieldType.CODE:
            assert field.code_set is not None
            codes = list(spec.code_sets[field.code_set].codes)
            raw_checks.append(
                pa.Check(lambda s, c=codes: s.isin(c), name=f"UNKNOWN_CODE:{field.name}")
            )
        if field.type is FieldType.NHS_NUMBER:
            columns[field.name] = pa.Column(
                checks=pa.Check(_modulus_11_valid, name=f"NHS_NUMBER_INVALID:{field.name}"),
                nullable=True,
            )
            frame_checks.append(_parsed(field.name, "NHS_NUMBER_INVALID"))
        if field.type in PARSED:
            frame_checks.append(_parsed(field.name, PARSED[field.type]))
        bounds = (field.minimum, field.maximum)
        if bounds != (None, None):
            columns[field.name] = pa.Column(
                checks=pa.Check(
                    _in_range(field.minimum, field.maximum), name=f"OUT_OF_RANGE:{field.name}"
                ),
                nullable=True,
            )
        columns[f"raw__{field.name}"] = pa.Column(
            checks=raw_checks, nullable=not field.required, title=field.name
        )
    for rule in spec.sequence_rules:
        frame_checks.append(_before(rule.earlier, rule.later, rule.reason))
    if spec.period_field is not None:
        start, end = pd.Timestamp(period.start_at()), pd.Timestamp(period.end_at())
        when = spec.period_field
        frame_checks.append(
            pa.Check(
                lambda frame: ~((frame[when] < start) | (frame[when] >= end)),
                name=f"OUTSIDE_PERIOD:{when}",
            )
        )
    return pa.DataFrameSchema(columns, checks=frame_checks)


def _in_range(low: float | None, high: float | None) -> Callable[[pd.Series], pd.Series]:
    def check(values: pd.Series) -> pd.Series:
        ok = pd.Series(True, index=values.index)
        if low is not None:
            ok &= ~(values < low)
        if high is not None:
            ok &= ~(values > high)
        return ok.fillna(True).astype(bool)

    return check


def reasons(frame: pd.DataFrame, checks: pa.DataFrameSchema) -> pd.Series:
    """';'-joined reasons of each failing row (pandera's failure cases), by row index."""
    try:
        checks.validate(frame, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return pd.Series(dtype="str")
    cases = cases[cases["index"].notna()]
    missing = cases["check"] == "not_nullable"
    named = (
        cases["check"]
        .astype("str")
        .where(~missing, "MISSING_VALUE:" + cases["column"].astype("str").str.removeprefix("raw__"))
    )
    found = pd.DataFrame({"row": cases["index"].astype("int64"), "reason": named})
    found = found.drop_duplicates()
    return found.groupby("row")["reason"].agg(lambda r: ";".join(sorted(r)))


def pseudonymise(digits: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA-256 of each NHS number with Python's hmac (32 bytes, like carehub's person_id)."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def one(value: object) -> bytes | None:
        if not isinstance(value, str):
            return None
        mac = keyed.copy()
        mac.update(value.encode())
        return mac.digest()

    return pd.Series([one(v) for v in digits], index=digits.index, dtype="object")


def run(
    csv: Path, out: Path, spec: DatasetSpec, period: Period, key: bytes, seconds: dict[str, float]
) -> tuple[int, int, int]:
    """Check, pseudonymise, split and write; return rows read, published and quarantined."""

    def lap(label: str, start: float) -> float:
        now = perf_counter()
        seconds[label] = round(now - start, 3)
        return now

    start = perf_counter()
    raw = pd.read_csv(csv, dtype=str, engine="pyarrow", keep_default_na=False)
    start = lap("read", start)
    frame = parse(raw, spec)
    del raw
    start = lap("parse", start)
    failing = reasons(frame, schema(spec, period))
    start = lap("validate", start)
    bad = frame.index.isin(failing.index)
    clean = frame.loc[~bad, [f.name for f in spec.fields]]
    del frame
    nhs = spec.nhs_number_field
    assert nhs is not None
    person = pseudonymise(clean[nhs.name], key)
    start = lap("pseudonymise", start)
    published = clean.assign(**{nhs.name: person}).rename(columns={nhs.name: "person_id"})
    published.insert(0, "source_row", published.index + 1)
    published.to_parquet(out / "standard.parquet", compression="zstd", index=False)
    quarantine = pd.DataFrame({"source_row": failing.index + 1, "reasons": failing.to_numpy()})
    quarantine.to_parquet(out / "quarantine.parquet", compression="zstd", index=False)
    lap("write", start)
    return len(bad), len(published), len(quarantine)
