"""Statistical disclosure control of counts released in aggregate outputs.

Default policy (ARCHITECTURE.md §4, OpenSAFELY / NHS England): counts of 1 to 7 are redacted and
every other count is rounded to the nearest 5, so a released 5 cannot be known to be 6 or 7.
Pure functions; the reference vectors are in tests/unit/governance/test_disclosure.py.
"""

from __future__ import annotations

from dataclasses import dataclass

SMALL_NUMBER_THRESHOLD = 7  # OpenSAFELY / NHS England SDC: redact counts of 1..7
ROUNDING_BASE = 5  # OpenSAFELY / NHS England SDC: round the rest to the nearest 5


@dataclass(frozen=True)
class DisclosurePolicy:
    threshold: int = SMALL_NUMBER_THRESHOLD
    rounding_base: int = ROUNDING_BASE


DEFAULT_POLICY = DisclosurePolicy()


def _round_half_up(value: int, base: int) -> int:
    return ((value + base // 2) // base) * base if base > 1 else value


def release_count(value: int, policy: DisclosurePolicy = DEFAULT_POLICY) -> int | None:
    """The count as released: None when redacted, else rounded. Zero is released as zero."""
    if value < 0 or isinstance(value, bool):
        raise ValueError("a count cannot be negative")
    if value == 0:
        return 0
    if value <= policy.threshold:
        return None
    return _round_half_up(value, policy.rounding_base)


def release_proportion(
    numerator: int, denominator: int, policy: DisclosurePolicy = DEFAULT_POLICY
) -> float | None:
    """A proportion computed from the released (rounded) counts; None when either is redacted."""
    released_numerator = release_count(numerator, policy)
    released_denominator = release_count(denominator, policy)
    if released_numerator is None or not released_denominator:
        return None
    return released_numerator / released_denominator
