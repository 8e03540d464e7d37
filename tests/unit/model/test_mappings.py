from __future__ import annotations

from pathlib import Path

import pytest

from carehub.errors import UserError
from carehub.model.mappings import FeedMapping
from carehub.model.yaml_loading import load_model

BASE = "organisation: RAJ\ndataset: ed_attendance\nversion: 1\nfields:\n"
REQUIRED = "  attendance_id: A\n  site_code: S\n  arrival_at: T1\n  departed_at: T2\n"


def test_a_field_can_be_a_constant() -> None:
    text = BASE + REQUIRED + "  department_type:\n    value: '03'\n"
    mapping = load_model(FeedMapping, text, "m.yaml")
    assert mapping.fields["department_type"].value == "03"


@pytest.mark.parametrize("spec", ["{column: D, value: '03'}", "{values: {'1': '01'}}"])
def test_a_field_needs_a_column_or_a_value_not_both(spec: str) -> None:
    with pytest.raises(
        UserError, match=r"m\.yaml, line 9: fields\.department_type.*column or a constant"
    ):
        load_model(FeedMapping, BASE + REQUIRED + f"  department_type: {spec}\n", "m.yaml")


def test_missing_required_fields_are_named() -> None:
    with pytest.raises(UserError, match="required fields not mapped: departed_at"):
        load_model(
            FeedMapping,
            BASE + REQUIRED.replace("  departed_at: T2\n", "") + "  department_type: D\n",
            "m.yaml",
        )


EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples" / "mappings").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_mapping_is_valid_and_named_after_what_it_maps(path: Path) -> None:
    mapping = load_model(FeedMapping, path.read_text(encoding="utf-8"), str(path))
    assert path.stem == f"{mapping.organisation}_{mapping.dataset}"


def test_there_are_example_mappings() -> None:
    assert len(EXAMPLES) >= 1
