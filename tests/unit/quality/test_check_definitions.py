"""Check packs as definitions: every dataset's pack loads, and a bad definition is refused with
the file and the line of the problem."""

from __future__ import annotations

import re
from typing import Any, get_args

import pytest

from carehub.errors import UserError
from carehub.model.checks import (
    CheckPack,
    Rule,
    check_pack_names,
    check_pack_schema,
    get_check_pack,
    parse_check_pack,
)
from carehub.model.datasets import dataset_names, get_dataset

SOURCE = "checks/bad.yaml"
# A valid pack of one check; each test changes one line of it (numbered on the right).
VALID = """\
dataset: ed_attendance
description: A pack for the tests.
checks:
  - id: acuity_recorded
    title: Acuity is recorded
    category: completeness
    context: verification
    severity: warning
    rule:
      kind: not_null
      field: acuity
    tolerated_failure_pct: 5
    notes: Patients who leave before triage have none.
"""
#  1 dataset   4 id   6 category   9 rule   10 kind   11 field   12 threshold


def _replace(line: int, text: str) -> str:
    lines = VALID.splitlines()
    lines[line - 1] = text
    return "\n".join(lines) + "\n"


def _refused(text: str) -> str:
    with pytest.raises(UserError) as refused:
        parse_check_pack(text, SOURCE)
    return refused.value.message


def test_the_valid_example_loads() -> None:
    pack = parse_check_pack(VALID, SOURCE)
    assert [(c.id, c.rule.kind, c.rule.fields()) for c in pack.checks] == [
        ("acuity_recorded", "not_null", ("acuity",))
    ]


@pytest.mark.parametrize("dataset", dataset_names())
def test_every_dataset_has_a_pack_that_loads(dataset: str) -> None:
    pack = get_check_pack(dataset)
    spec = get_dataset(dataset)
    assert pack.dataset == dataset
    names = {f.name for f in spec.fields}
    for check in pack.checks:
        assert set(check.rule.fields()) <= names, check.id
        assert check.notes.strip(), f"{check.id} does not say why its threshold was chosen"
    kinds = {c.rule.kind for c in pack.checks}
    # every pack watches its quarantine, its volume and its timeliness
    assert {"quarantine_share", "volume_vs_history", "received_by_due_date"} <= kinds


def test_there_is_no_pack_without_a_dataset() -> None:
    assert set(check_pack_names()) == set(dataset_names())


def test_the_ed_pack_carries_the_ecds_validity_rules() -> None:
    pack = get_check_pack("ed_attendance")
    rules = {c.rule.kind: c.rule for c in pack.checks}
    assert {"sequence", "max_duration", "range", "not_in_future", "unique"} <= set(rules)
    durations = {c.rule.hours for c in pack.checks if c.rule.kind == "max_duration"}  # type: ignore[union-attr]
    assert 72 in durations
    ages = [c for c in pack.checks if c.rule.kind == "range"]
    assert [(c.rule.min, c.rule.max) for c in ages] == [(0, 120)]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "text", "problem"),
    [
        (11, "      field: acuityx", r"dataset ed_attendance has no field 'acuityx'"),
        (11, "      field: acuity; drop table x", r"String should match pattern"),
        (4, "  - id: x; drop table submissions", r"checks\.0\.id: String should match pattern"),
        (12, "    tolerated_failure_pct: 5%", r"tolerated_failure_pct: Input should be a valid"),
        (12, "    tolerated_failure_pct: 150", r"less than or equal to 100"),
        (12, "    tolerated_failure_pct: -1", r"greater than or equal to 0"),
        (12, '    tolerated_failure_pct: "5"', r"tolerated_failure_pct: Input should be"),
        (10, "      kind: drop_table", r"does not match any of the expected tags"),
        (6, "    category: feelings", r"category: Input should be 'conformance'"),
        (1, "dataset: ed_attendances", r"there is no dataset 'ed_attendances'"),
    ],
)
def test_a_bad_definition_is_refused_with_its_file_and_line(
    line: int, text: str, problem: str
) -> None:
    message = _refused(_replace(line, text))
    assert message.startswith(f"{SOURCE}, line {line}:"), message
    assert re.search(problem, message), message


def _rule(body: str, category: str = "completeness") -> str:
    """VALID with another rule (lines 9 onwards) and category."""
    text = VALID.replace("    category: completeness", f"    category: {category}")
    return text.replace("    rule:\n      kind: not_null\n      field: acuity\n", body)


@pytest.mark.parametrize(
    ("body", "category", "line", "problem"),
    [
        (  # a free regular expression where a named format belongs
            "    rule:\n      kind: pattern\n      field: site_code\n      format: '[A-Z]+'\n",
            "conformance",
            12,
            r"format: Input should be 'uk_postcode'",
        ),
        (  # a code set check of a field that has no code set
            "    rule:\n      kind: in_code_set\n      field: site_code\n",
            "conformance",
            11,
            r"needs a code field; site_code is a string field",
        ),
        (  # a sequence of a field that is not a time
            "    rule:\n      kind: sequence\n      earlier: arrival_at\n      later: age_years\n",
            "plausibility",
            12,
            r"needs a timestamp field; age_years is a integer field",
        ),
        (  # a range wider than the dataset's own
            "    rule:\n      kind: range\n      field: age_years\n      min: 0\n      max: 150\n",
            "plausibility",
            10,
            r"max must be at most the dataset's maximum 120",
        ),
        (  # a malformed bound
            "    rule:\n      kind: range\n      field: age_years\n      min: zero\n",
            "plausibility",
            12,
            r"min: Input should be a valid number",
        ),
        (  # a reference list that does not exist
            "    rule:\n      kind: reference\n      field: site_code\n      list: my_table\n",
            "referential",
            12,
            r"list: Input should be 'ods_gp_practices'",
        ),
        (  # a uniqueness key with SQL in it
            '    rule:\n      kind: unique\n      fields: [attendance_id, "x) or (1=1"]\n',
            "uniqueness",
            11,
            r"'x\) or \(1=1' is not a field name",
        ),
        (  # a default that is not a code of the field
            "    rule:\n      kind: default_value_share\n      field: sex\n      values: [Z]\n",
            "completeness",
            10,
            r"'Z' is not a code of sex",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_its_line(
    body: str, category: str, line: int, problem: str
) -> None:
    message = _refused(_rule(body, category))
    assert message.startswith(f"{SOURCE}, line {line}:"), message
    assert re.search(problem, message), message


def test_a_category_must_fit_the_rule() -> None:
    message = _refused(VALID.replace("category: completeness", "category: linkage"))
    assert message.startswith(f"{SOURCE}, line 4:"), message  # the check's first line
    assert "a not_null rule is a check of completeness, not linkage" in message


def test_when_needs_a_code_field_and_its_codes() -> None:
    text = VALID + "    when: {field: department_type, values: ['09']}\n"
    assert "'09' not in code set department_type" in _refused(text)
    text = VALID + "    when: {field: site_code, values: [RAJ01]}\n"
    message = _refused(text)
    assert message.startswith(f"{SOURCE}, line 14:") and "site_code is a string" in message


def test_check_ids_are_unique_in_a_pack() -> None:
    check = VALID.split("checks:\n")[1]
    assert "check ids must be unique: acuity_recorded" in _refused(VALID + check)


def test_yaml_syntax_errors_are_refused_too() -> None:
    assert _refused(VALID + "  - id: [unclosed\n").startswith(f"{SOURCE}: not valid YAML")


def test_fields_are_checked_even_without_the_reading_context() -> None:
    """Validated from a dict (no file, so no line), an unknown field is still refused."""
    data: dict[str, Any] = {
        "dataset": "ed_attendance",
        "description": "d",
        "checks": [
            {
                "id": "a",
                "title": "t",
                "category": "completeness",
                "context": "verification",
                "severity": "info",
                "rule": {"kind": "not_null", "field": "no_such_field"},
                "notes": "n",
            }
        ],
    }
    with pytest.raises(ValueError, match="has no field 'no_such_field'"):
        CheckPack.model_validate(data)


def test_the_json_schema_lists_every_rule_kind() -> None:
    schema = check_pack_schema()
    rule = schema["$defs"]["CheckDefinition"]["properties"]["rule"]
    kinds = set(rule["discriminator"]["mapping"])
    members = get_args(get_args(Rule)[0])
    assert kinds == {m.model_fields["kind"].default for m in members}
    assert "unique" in kinds and schema["$defs"]["Unique"]["properties"]["fields"]
    assert schema["properties"]["checks"]["minItems"] == 1
