"""Disclosure control against the reference vectors (§4.1 and §4.2)."""

from __future__ import annotations

import pytest
from reference import yaml_blocks

from carehub.governance.disclosure import (
    SMALL_NUMBER_THRESHOLD,
    DisclosurePolicy,
    release_count,
    release_proportion,
)

NHSD = yaml_blocks("### 4.1")[0]["nhsd_2018_subnational_count"]
EHRQL = yaml_blocks("### 4.2")[0]["ehrql_apply_sdc"]


@pytest.mark.parametrize("case", NHSD, ids=lambda c: str(c["in"]))
def test_nhs_digital_subnational_counts(case: dict[str, object]) -> None:
    expected = None if case["out"] == "*" else case["out"]
    assert release_count(case["in"]) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("case", [c for c in EHRQL if "out" in c], ids=lambda c: str(c["in"]))
def test_ehrql_apply_sdc(case: dict[str, int]) -> None:
    # ehrQL writes 0 for a redacted count; carehub releases None (shown as *) instead.
    released = release_count(case["in"])
    assert (released or 0) == case["out"]


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        release_count(-1)


def test_threshold_is_configurable_per_agreement() -> None:
    stricter = DisclosurePolicy(threshold=9)  # e.g. "<10" for outputs leaving to an SDE
    assert release_count(9, stricter) is None
    assert release_count(10, stricter) == 10
    assert release_count(9) == 10 and SMALL_NUMBER_THRESHOLD == 7


def test_proportions_use_released_counts() -> None:
    assert release_proportion(12, 23) == pytest.approx(10 / 25)
    assert release_proportion(5, 100) is None
    assert release_proportion(0, 100) == 0.0
    assert release_proportion(0, 0) is None
