"""Synthetic residents' NHS numbers: valid Modulus 11, in the never-issued 999 test range."""

from __future__ import annotations

import random

from carehub.model.nhs_number import check_digit

TEST_RANGE_PREFIX = "999"  # 999 000 0000 - 999 999 9999: never issued (PDS test data)


def nhs_numbers(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct valid NHS numbers in the test range."""
    found: set[str] = set()
    while len(found) < count:
        first_nine = TEST_RANGE_PREFIX + f"{rng.randrange(1_000_000):06d}"
        check = check_digit(first_nine)
        if check is not None:
            found.add(first_nine + str(check))
    return sorted(found)


def invalid_nhs_number(rng: random.Random) -> str:
    """A ten-digit number in the test range whose check digit is wrong."""
    while True:
        first_nine = TEST_RANGE_PREFIX + f"{rng.randrange(1_000_000):06d}"
        check = check_digit(first_nine)
        if check is not None:
            return first_nine + str((check + 1 + rng.randrange(8)) % 10)
