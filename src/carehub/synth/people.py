"""Synthetic residents' NHS numbers: valid Modulus 11, in the never-issued 999 test range."""

from __future__ import annotations

import random

from carehub.errors import UserError
from carehub.model.nhs_number import check_digit

TEST_RANGE_PREFIX = "999"  # 999 000 0000 - 999 999 9999: never issued (PDS test data)


def _valid_test_range() -> list[str]:
    numbers = []
    for serial in range(1_000_000):
        first_nine = TEST_RANGE_PREFIX + f"{serial:06d}"
        check = check_digit(first_nine)
        if check is not None:
            numbers.append(first_nine + str(check))
    return numbers


TEST_RANGE_CAPACITY = 909_091  # valid Modulus 11 numbers in 999 000 0000 - 999 999 9999


def nhs_numbers(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct valid NHS numbers in the test range, in random order."""
    if count > TEST_RANGE_CAPACITY:
        raise UserError(
            f"{count:,} residents need more NHS numbers than the 999 test range holds "
            f"({TEST_RANGE_CAPACITY:,} valid numbers)",
            hint="choose a smaller scale",
        )
    if count > TEST_RANGE_CAPACITY // 4:  # near capacity, rejection sampling would crawl
        return rng.sample(_valid_test_range(), count)
    found: set[str] = set()
    while len(found) < count:
        first_nine = TEST_RANGE_PREFIX + f"{rng.randrange(1_000_000):06d}"
        check = check_digit(first_nine)
        if check is not None:
            found.add(first_nine + str(check))
    numbers = sorted(found)
    rng.shuffle(numbers)
    return numbers


def invalid_nhs_number(rng: random.Random) -> str:
    """A ten-digit number in the test range whose check digit is wrong."""
    while True:
        first_nine = TEST_RANGE_PREFIX + f"{rng.randrange(1_000_000):06d}"
        check = check_digit(first_nine)
        if check is not None:
            return first_nine + str((check + 1 + rng.randrange(8)) % 10)
