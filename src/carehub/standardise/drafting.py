"""Draft a feed mapping from a sample of a partner's file.

For every field of the dataset, score every column on its name (``draft_names``) and on what its
sample values look like (``draft_values``), then give each field the best column, best scores
first, each column to one field at most. Timestamp fields get the format that reads their sample;
code fields get the obvious translations of local codes, and the values left for the steward to
translate ("unmapped values"). Pure: the caller reads the sample (acquire) and decides what to do
with the draft.

Only the values of code fields are ever listed, and never one that looks like an NHS number, a
date, a postcode or free text: the draft is shown to the steward who sent the sample, but it may
be saved or pasted anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from carehub.errors import DataContractError
from carehub.model.datasets import DatasetSpec, FieldSpec, FieldType
from carehub.standardise.draft_output import render_report, render_yaml
from carehub.standardise.draft_scores import MOSTLY, Candidate, percent, score
from carehub.standardise.draft_values import (
    CodeBook,
    CodeFit,
    ColumnValues,
    code_fit,
    looks_like_a_value,
)

HIGH, MEDIUM = 0.8, 0.55  # confidence bands of a proposal's score
LISTED_VALUES = 30  # unmapped values listed per field, commonest first
CLOSE_CALL = 0.05  # a runner-up within this of the proposal is worth a look


class SampleTable(Protocol):
    """The header and first rows of a file (acquire's ``Sample`` fits)."""

    @property
    def file(self) -> str: ...

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> tuple[tuple[str, ...], ...]: ...

    @property
    def more_rows(self) -> bool: ...

    @property
    def sheet(self) -> str | None: ...

    @property
    def header_row(self) -> int: ...

    @property
    def ragged_rows(self) -> int: ...


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


@dataclass(frozen=True)
class UnmappedValue:
    value: str
    rows: int


@dataclass(frozen=True)
class FieldDraft:
    """The proposal for one field: its column (None when no column fits), why, and for
    timestamps the format, for codes the translations and the values left to translate."""

    name: str
    type: FieldType
    required: bool
    column: str | None
    score: float
    confidence: Confidence
    evidence: tuple[str, ...] = ()
    format: str | None = None  # None: ISO 8601
    notes: tuple[str, ...] = ()  # worth checking
    problem: str | None = None  # must be put right before the mapping can be used
    translations: dict[str, str] | None = None
    unmapped: tuple[UnmappedValue, ...] = ()
    unmapped_hidden: int = 0  # distinct values not in the code set that are not listed
    alternatives: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A proposed feed mapping and what the steward must check or fill in."""

    organisation: str
    dataset: str
    source: str
    sample_rows: int
    more_rows: bool
    sheet: str | None
    header_row: int
    fields: tuple[FieldDraft, ...]
    code_sets: dict[str, dict[str, str]]  # field -> its codes and labels, for the comments
    unused_columns: tuple[str, ...]
    problems: tuple[str, ...]  # a mapping cannot be installed, or a file not submitted, as is
    warnings: tuple[str, ...]  # worth checking

    def field(self, name: str) -> FieldDraft:
        return next(f for f in self.fields if f.name == name)

    @property
    def matched(self) -> tuple[FieldDraft, ...]:
        return tuple(f for f in self.fields if f.column is not None)

    def to_yaml(self) -> str:
        """The draft as feed mapping YAML, with comments; it loads once the gaps are filled."""
        return render_yaml(self)

    def report(self) -> list[str]:
        """Lines for the steward: each field's match, confidence and evidence, then problems."""
        return render_report(self)


def _confidence(score: float) -> Confidence:
    if score >= HIGH:
        return Confidence.HIGH
    return Confidence.MEDIUM if score >= MEDIUM else Confidence.LOW


def _assign(spec: DatasetSpec, candidates: dict[str, list[Candidate]]) -> dict[str, Candidate]:
    """Best scores first; each field and each column used once."""
    order = {f.name: i for i, f in enumerate(spec.fields)}
    ranked = sorted(
        ((name, c) for name, found in candidates.items() for c in found),
        key=lambda nc: (-nc[1].score, order[nc[0]]),
    )
    chosen: dict[str, Candidate] = {}
    used: set[str] = set()
    for name, candidate in ranked:
        if name not in chosen and candidate.column not in used:
            chosen[name] = candidate
            used.add(candidate.column)
    return chosen


def _listed(values: ColumnValues, fit: CodeFit) -> tuple[tuple[UnmappedValue, ...], int, int]:
    """The unmapped values that may be shown (commonest first, at most LISTED_VALUES), how many
    more there are, and how many of those are withheld because they do not look like codes."""
    if values.counts and not values.looks_like_codes:
        return (), len(fit.unmapped), len(fit.unmapped)
    safe = [UnmappedValue(v, n) for v, n in fit.unmapped if values.may_be_listed(v)]
    return (
        tuple(safe[:LISTED_VALUES]),
        len(fit.unmapped) - len(safe[:LISTED_VALUES]),
        (len(fit.unmapped) - len(safe)),
    )


def _code(draft: FieldDraft, code_set: str, book: CodeBook, values: ColumnValues) -> FieldDraft:
    fit = code_fit(values, book)
    unmapped, hidden, withheld = _listed(values, fit)
    notes = list(draft.notes)
    if not values.looks_like_codes:
        notes.append(
            f"{len(values.counts):,} distinct values are too many for codes of {code_set}: "
            "is this the right column?"
        )
    elif withheld:
        notes.append(
            f"{withheld} values that look like NHS numbers, dates, postcodes or free text are "
            "not listed: is this the right column?"
        )
    return replace(
        draft,
        translations=fit.translations,
        unmapped=unmapped,
        unmapped_hidden=hidden,
        notes=tuple(notes),
    )


def _field_draft(
    field: FieldSpec,
    books: dict[str, CodeBook],
    chosen: Candidate | None,
    others: Sequence[Candidate],
    values: dict[str, ColumnValues],
    used: set[str],
) -> FieldDraft:
    alternatives = tuple(c for c in others if chosen is None or c.column != chosen.column)[:2]
    if chosen is None:
        return FieldDraft(
            field.name,
            field.type,
            field.required,
            None,
            0.0,
            Confidence.NONE,
            alternatives=alternatives,
        )
    column = values[chosen.column]
    notes = [
        f"close call: column {c.column!r} scores nearly as well and is not used"
        for c in alternatives[:1]
        if c.column not in used and chosen.score - c.score <= CLOSE_CALL
    ]
    if field.type is FieldType.NHS_NUMBER and column.filled and column.modulus_11 < MOSTLY:
        notes.append(
            f"only {percent(column.modulus_11)} of the values pass Modulus 11: rows with an "
            "invalid NHS number would be quarantined"
        )
    draft = FieldDraft(
        field.name,
        field.type,
        field.required,
        chosen.column,
        chosen.score,
        _confidence(chosen.score),
        chosen.evidence,
        notes=tuple(notes),
        alternatives=alternatives,
    )
    if field.type is FieldType.TIMESTAMP:
        return _timestamp(draft, column)
    if field.code_set is not None:
        return _code(draft, field.code_set, books[field.code_set], column)
    return draft


def _timestamp(draft: FieldDraft, values: ColumnValues) -> FieldDraft:
    guess, notes = values.timestamp, list(draft.notes)
    if values.filled and guess.share == 0:
        problem = f"no known date format reads column {draft.column!r}: give its format"
        return replace(draft, notes=tuple(notes), problem=problem)
    if guess.ambiguous_with:
        notes.append(
            f"the sample cannot tell day-first from month-first dates: proposed {guess.format} "
            f"(the UK order), check it is not {guess.ambiguous_with}"
        )
    elif guess.format and guess.format.startswith("%m"):
        notes.append(f"month-first (US order) dates: {guess.format}")
    if 0 < guess.share < 1:
        notes.append(
            f"{percent(1 - guess.share)} of the sample values do not read with this format"
        )
    return replace(draft, format=guess.format, notes=tuple(notes))


def _header_problems(sample: SampleTable) -> list[str]:
    problems = []
    columns = sample.columns
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append(
            f"the header repeats column(s) {', '.join(map(repr, repeated))}: a submission would "
            "be refused"
        )
    if sample.ragged_rows:
        problems.append(
            f"{sample.ragged_rows} sample rows have more or fewer fields than the header: a "
            "submission would be refused"
        )
    if not sample.rows:
        problems.append("the file has a header but no data rows: there are no values to check")
    return problems


def _findings(draft_fields: list[FieldDraft]) -> tuple[list[str], list[str]]:
    problems, warnings = [], []
    for f in draft_fields:
        if f.column is None and f.required:
            problems.append(
                f"{f.name} (required): no column matches; map a column or give a constant value"
            )
        if f.column is not None and f.confidence is Confidence.LOW:
            warnings.append(f"{f.name}: column {f.column!r} is a weak match; check it")
        if f.unmapped or f.unmapped_hidden:
            count = len(f.unmapped) + f.unmapped_hidden
            warnings.append(f"{f.name}: {count} distinct sample values need a translation")
        if f.problem is not None:
            problems.append(f"{f.name}: {f.problem}")
        warnings.extend(f"{f.name}: {n}" for n in f.notes)
    return problems, warnings


def propose_mapping(spec: DatasetSpec, organisation: str, sample: SampleTable) -> Draft:
    """Propose a feed mapping of ``sample`` to ``spec`` for ``organisation``."""
    if any(looks_like_a_value(c) for c in sample.columns):
        raise DataContractError(
            f"{sample.file}: line 1 holds values (an NHS number, a date or a postcode), not "
            "column names, so no draft is made and nothing of it is shown",
            hint="export the file with its header row, or set header_row for a workbook",
        )
    values = {
        column: ColumnValues([row[i] for row in sample.rows])
        for i, column in enumerate(sample.columns)
        if column.strip()
    }
    books = {name: CodeBook(code_set.codes) for name, code_set in spec.code_sets.items()}
    candidates: dict[str, list[Candidate]] = {}
    for field in spec.fields:
        found = [score(field, books, column, v) for column, v in values.items()]
        candidates[field.name] = sorted((c for c in found if c is not None), key=lambda c: -c.score)
    chosen = _assign(spec, candidates)
    used = {c.column for c in chosen.values()}
    fields = [
        _field_draft(f, books, chosen.get(f.name), candidates[f.name], values, used)
        for f in spec.fields
    ]
    problems, warnings = _findings(fields)
    return Draft(
        organisation=organisation,
        dataset=spec.name,
        source=sample.file,
        sample_rows=len(sample.rows),
        more_rows=sample.more_rows,
        sheet=sample.sheet,
        header_row=sample.header_row,
        fields=tuple(fields),
        code_sets={f.name: spec.code_sets[f.code_set].codes for f in spec.fields if f.code_set},
        unused_columns=tuple(c for c in sample.columns if c not in used),
        problems=tuple(_header_problems(sample) + problems),
        warnings=tuple(warnings),
    )
