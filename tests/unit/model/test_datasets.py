"""Dataset specifications refuse rules that cannot be checked, naming the file and the line."""

from __future__ import annotations

import pytest

from carehub.errors import UserError
from carehub.model.datasets import DatasetSpec, get_dataset
from carehub.model.yaml_loading import load_model

BASE = (
    "name: example\ntitle: t\ndescription: d\nfreeze_after_days: 0\nfields:\n"
    "  - {name: code, type: string, description: d}\n"
    "  - {name: seen, type: integer, description: d}\n"
    "  - {name: waited, type: integer, description: d}\n"
    "  - {name: rate, type: decimal, description: d}\n"
)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("count_rules:\n  - {part: rate, whole: seen, reason: R}\n", "rate is not an integer"),
        ("count_rules:\n  - {part: seen, whole: seen, reason: R}\n", "seen with itself"),
        ("count_rules:\n  - {part: gone, whole: seen, reason: R}\n", "has no field gone"),
        ("count_rules:\n  - {part: waited, whole: seen, reason: r1}\n", "should match pattern"),
        (
            "summary_rows:\n  - {field: seen, labels: [TOTAL], reason: R}\n",
            "seen is not a string or code",
        ),
        ("summary_rows:\n  - {field: code, labels: [], reason: R}\n", "at least 1 item"),
        (
            "summary_rows:\n  - {field: code, labels: ['TOTAL '], reason: R}\n",
            "no surrounding spaces",
        ),
    ],
)
def test_bad_rules_are_refused(rules: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_model(DatasetSpec, BASE + rules, "example.yaml")


def test_rule_reasons_list_each_code_once() -> None:
    text = (
        BASE
        + "count_rules:\n  - {part: waited, whole: seen, reason: WAITED_ABOVE_SEEN}\n"
        + "  - {part: waited, whole: seen, reason: WAITED_ABOVE_SEEN}\n"
        + "summary_rows:\n  - {field: code, labels: [TOTAL], reason: TOTAL_ROW}\n"
    )
    spec = load_model(DatasetSpec, text, "example.yaml")
    assert spec.rule_reasons == ("WAITED_ABOVE_SEEN", "TOTAL_ROW")


def test_the_monthly_ae_return_quarantines_its_total_row_and_impossible_counts() -> None:
    spec = get_dataset("ae_monthly_return")
    assert [(r.field, r.labels) for r in spec.summary_rows] == [("provider_code", ("TOTAL",))]
    wholes = {r.part: r.whole for r in spec.count_rules}
    assert wholes["over_4_hours_type_1"] == "attendances_type_1"
    assert wholes["booked_over_4_hours_other"] == "booked_attendances_other"
    assert not any(part.startswith("emergency_admissions") for part in wholes)
