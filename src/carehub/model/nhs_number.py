"""NHS number normalisation and the Modulus 11 check (NHS Data Dictionary).

The SQL twin of these rules lives in the engine layer; tests run both on the same vectors.
"""

from __future__ import annotations

import re

# NHS Data Dictionary "NHS NUMBER": ten digits, written 3-3-4; spaces or hyphens, never mixed.
_ACCEPTED_FORMAT = re.compile(r"^(\d{10}|\d{3} \d{3} \d{4}|\d{3}-\d{3}-\d{4})$")
ACCEPTED_FORMAT_PATTERN = _ACCEPTED_FORMAT.pattern
MODULUS_11_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)  # NHS Data Dictionary, NHS NUMBER validation
NHS_NUMBER_LENGTH = 10


def normalise(value: str | int | None) -> str:
    """Return the ten digits of an NHS number, or "" if the value is not in an accepted format.

    Integers are left-padded with zeros (a spreadsheet drops the leading zero of 0607230002).
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int):
        text = str(value)
        return (
            text.zfill(NHS_NUMBER_LENGTH) if value >= 0 and len(text) <= NHS_NUMBER_LENGTH else ""
        )
    text = value.strip()
    if not _ACCEPTED_FORMAT.match(text):
        return ""
    return text.replace(" ", "").replace("-", "")


def check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit of nine digits, or None when no valid number can end them."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_nine, MODULUS_11_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def is_valid(value: str | int | None) -> bool:
    """True when the value normalises to ten digits whose last is the Modulus 11 check digit."""
    digits = normalise(value)
    if len(digits) != NHS_NUMBER_LENGTH:
        return False
    return check_digit(digits[:9]) == int(digits[9])
