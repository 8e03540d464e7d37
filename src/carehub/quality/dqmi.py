"""The NHS England Data Quality Maturity Index (DQMI), as pure functions.

Per data item *i* of a dataset the provider was expected to submit::

    defaults_in_excess_i = max(0, defaults_i − threshold_i × records_i)
    item_score_i         = (valid_and_complete_i − defaults_in_excess_i) / records_i
    DQMI                 = mean(item_score_i) × mean(coverage_i) × 100

The index is the product of two averages, not an average of products. Items with no records
(no data expected, or none submitted) are left out of both averages. Source: NHS Digital, DQMI
methodology and its "Appendix 1: Example of DQMI calculation" (NHS_ANALYTICS_REFERENCE.md §7.1),
whose worked example gives 47.1527778, published as 47.2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DQMI_SCALE = 100  # the index is published as a percentage (DQMI methodology)
PUBLISHED_DECIMALS = 1  # published to one decimal place (DQMI Appendix 1: 47.2)


@dataclass(frozen=True)
class DataItem:
    """One data item's counts. ``defaults`` and ``threshold`` are None when the item has no
    default values to watch; ``coverage`` (0-1) is that of the dataset the item belongs to."""

    records: int
    valid_and_complete: int
    defaults: int | None = None
    threshold: float | None = None  # the share of records that may hold a default (0-1)
    coverage: float = 1.0

    def __post_init__(self) -> None:
        if self.records < 0 or not 0 <= self.valid_and_complete <= max(self.records, 0):
            raise ValueError("valid_and_complete must be between 0 and records")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ValueError("a default threshold is a share between 0 and 1")
        if not 0 <= self.coverage <= 1:
            raise ValueError("coverage is a share between 0 and 1")


def defaults_in_excess(records: int, defaults: int | None, threshold: float | None) -> float:
    """Defaults above the share allowed; never negative (the example shows negative as 0)."""
    if defaults is None:
        return 0.0
    return max(0.0, defaults - (threshold or 0.0) * records)


def item_score(item: DataItem) -> float | None:
    """The item's score (0-1), or None when it has no records and so does not count."""
    if item.records <= 0:
        return None
    excess = defaults_in_excess(item.records, item.defaults, item.threshold)
    return (item.valid_and_complete - excess) / item.records


def dqmi(items: Iterable[DataItem]) -> float | None:
    """The index (0-100) over the items with records; None when no item has any."""
    scored = [(score, item.coverage) for item in items if (score := item_score(item)) is not None]
    if not scored:
        return None
    mean_score = sum(s for s, _ in scored) / len(scored)
    mean_coverage = sum(c for _, c in scored) / len(scored)
    return mean_score * mean_coverage * DQMI_SCALE


def published(score: float | None) -> float | None:
    """The index as NHS England publishes it (one decimal place)."""
    return None if score is None else round(score, PUBLISHED_DECIMALS)
