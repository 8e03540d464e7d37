"""A dataset's rules across the fields of a row, as a sender reads them: each with the quarantine
reason a receipt names (``REASON:field``) and what it means.

`compile.py` reports a sequence rule on its later time, a count rule on its part and a summary row
on its field; the spec tests of receipts hold it to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from carehub.model.datasets import DatasetSpec
from carehub.standardise.reasons import REASON_HELP

RuleKind = Literal["sequence", "count", "summary"]


@dataclass(frozen=True)
class RowRule:
    kind: RuleKind
    fields: tuple[str, ...]  # (earlier, later), (part, whole) or (the summary row's field,)
    labels: tuple[str, ...]  # a summary row's labels (such as TOTAL); empty for the others
    reason: str  # the quarantine reason code
    on: str  # the field a receipt reports the reason on
    receipt_code: str  # how a receipt names it: REASON:field
    meaning: str  # what the reason means, for the sender ("" if it has no help text)


def _rule(
    kind: RuleKind, fields: tuple[str, ...], on: str, reason: str, labels: tuple[str, ...] = ()
) -> RowRule:
    return RowRule(kind, fields, labels, reason, on, f"{reason}:{on}", REASON_HELP.get(reason, ""))


def row_rules(spec: DatasetSpec) -> tuple[RowRule, ...]:
    """The sequence rules, then the count rules, then the summary rows, in the spec's order."""
    rules = [
        _rule("sequence", (r.earlier, r.later), r.later, r.reason) for r in spec.sequence_rules
    ]
    rules += [_rule("count", (r.part, r.whole), r.part, r.reason) for r in spec.count_rules]
    rules += [_rule("summary", (r.field,), r.field, r.reason, r.labels) for r in spec.summary_rows]
    return tuple(rules)
