"""Properties of drafted mappings: whatever a partner names its columns, the YAML reads back."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from carehub.model.datasets import get_dataset
from carehub.standardise.drafting import propose_mapping

ED = get_dataset("ed_attendance")


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    file: str = "sample.csv"
    more_rows: bool = False
    sheet: str | None = None
    header_row: int = 1
    ragged_rows: int = 0


NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=24)
CELLS = st.sampled_from(["M", "F", "1", "01", "9434765919", "01/04/2025 10:00", "", "x y"])


@settings(max_examples=150, deadline=None)
@given(
    columns=st.lists(NAMES, min_size=1, max_size=6, unique=True),
    data=st.data(),
)
def test_the_draft_yaml_always_reads_back_as_the_draft(
    columns: list[str], data: st.DataObject
) -> None:
    rows = data.draw(
        st.lists(st.tuples(*[CELLS] * len(columns)), min_size=0, max_size=8).map(tuple)
    )
    draft = propose_mapping(ED, "RAJ", Table(tuple(columns), rows))
    loaded = yaml.safe_load(draft.to_yaml())
    assert set(loaded) <= {"organisation", "dataset", "version", "description", "fields"}
    fields = loaded["fields"] or {}
    assert {name: spec["column"] for name, spec in fields.items()} == {
        f.name: f.column for f in draft.matched
    }
    for f in draft.matched:
        assert fields[f.name].get("values", {}) == (f.translations or {})
        assert fields[f.name].get("format") == f.format
