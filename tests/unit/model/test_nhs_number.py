"""NHS number rules against the reference vectors (§2.3) and the uk-fci test data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from reference import yaml_blocks

from carehub.model.nhs_number import check_digit, is_valid, normalise

VECTORS = {k.split(" ")[0]: v for k, v in yaml_blocks("### 2.3")[0].items()}


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: repr(c["value"]))
def test_reference_valid_numbers_pass(case: dict[str, object]) -> None:
    assert is_valid(case["value"])  # type: ignore[arg-type]


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: repr(c["value"]))
def test_reference_invalid_numbers_fail(case: dict[str, object]) -> None:
    assert not is_valid(case["value"])  # type: ignore[arg-type]


@pytest.mark.parametrize("case", VECTORS["standardise"], ids=lambda c: repr(c["in"]))
def test_reference_normalisation(case: dict[str, object]) -> None:
    assert normalise(case["in"]) == case["out"]  # type: ignore[arg-type]


def test_shared_csv_vectors(shared_data: Path) -> None:
    with (shared_data / "nhs_number_vectors" / "nhs_number_test_vectors.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 10
    for row in rows:
        assert is_valid(row["input"]) == (row["expected_valid_mod11"] == "True"), row["input"]


def test_uk_fci_valid_test_numbers(shared_data: Path) -> None:
    lines = (
        shared_data / "nhs_number_vectors" / "uk-fci_testdata-9-valid-nhs-numbers.csv"
    ).read_text()
    numbers = [line.strip() for line in lines.splitlines() if line.strip()]
    assert len(numbers) == 9
    assert all(is_valid(n) for n in numbers)


def test_check_digit_ten_means_no_valid_number() -> None:
    assert check_digit("999123456") is None  # R=1 -> C=10 (reference §2.1)
    assert check_digit("943476591") == 9
