from __future__ import annotations

import random

import pytest

from carehub.errors import UserError
from carehub.model.nhs_number import is_valid
from carehub.synth.people import (
    TEST_RANGE_CAPACITY,
    _valid_test_range,
    invalid_nhs_number,
    nhs_numbers,
)


def test_the_test_range_capacity_is_what_modulus_11_allows() -> None:
    numbers = _valid_test_range()
    assert len(numbers) == TEST_RANGE_CAPACITY
    assert all(n.startswith("999") and is_valid(n) for n in numbers[::997])


@pytest.mark.parametrize("count", [1_000, TEST_RANGE_CAPACITY // 4 + 1])
def test_numbers_are_distinct_valid_and_deterministic(count: int) -> None:
    first = nhs_numbers(random.Random(5), count)
    assert first == nhs_numbers(random.Random(5), count)
    assert len(set(first)) == count and all(
        is_valid(n) and n.startswith("999") for n in first[:5000]
    )


def test_more_residents_than_the_range_holds_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="more NHS numbers than the 999 test range holds"):
        nhs_numbers(random.Random(1), TEST_RANGE_CAPACITY + 1)


def test_planted_invalid_numbers_fail_modulus_11() -> None:
    rng = random.Random(2)
    assert not any(is_valid(invalid_nhs_number(rng)) for _ in range(500))
