"""How well one column fits one field: its name's evidence weighed by what its values look like.

A name alone can only go so far: the score keeps NAME_ALONE of the name's evidence when the
values cannot be the field's kind of data (words, where a date is wanted), and all of it when
they fit. Values that only that kind of data has (NHS numbers passing Modulus 11, codes of the
field's code set) add VALUE_BONUS, and can match a column whatever it is called.
"""

from __future__ import annotations

from dataclasses import dataclass

from carehub.model.datasets import FieldSpec, FieldType
from carehub.standardise.draft_names import name_match
from carehub.standardise.draft_values import CodeBook, ColumnValues, code_fit

MIN_SCORE = 0.45  # below this a column is not proposed at all
NEUTRAL_FIT = 0.6  # how well an empty sample column fits: no evidence either way
NAME_ALONE = 0.5  # the share of a name's score kept when the values do not fit the field at all
VALUE_BONUS = 0.3  # values that only the field's kind of data has (Modulus 11, the code set)
NHS_NUMBER_SHAPE = 0.45  # a column of values written as NHS numbers, whatever it is called
NHS_NUMBER_VALID = 0.15  # ... more when they pass Modulus 11
NOT_CODES = 0.2  # how well a column of many more distinct values than codes fits a code field
CODES_BY_VALUES = 0.45  # a column of the field's codes, whatever it is called
LOCAL_CODES_PER_CODE = 2  # a partner's local codes for a code set: at most about twice as many
FEW_VALUES = 12  # ... or a dozen, for the smallest code sets
MOSTLY = 0.9


@dataclass(frozen=True)
class Candidate:
    column: str
    score: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class _Fit:
    plausibility: float | None  # 0-1: the values could be this kind of field; None: no values
    bonus: float  # values only this field's kind of data has
    by_values: float  # a score from the values alone, whatever the name
    evidence: str


def _fit(field: FieldSpec, books: dict[str, CodeBook], values: ColumnValues) -> _Fit:
    if not values.filled:
        return _Fit(None, 0.0, 0.0, "no values in the sample to check")
    if field.type is FieldType.NHS_NUMBER:
        shaped, valid = values.nhs_number_format, values.modulus_11
        by_values = NHS_NUMBER_SHAPE + NHS_NUMBER_VALID * valid if shaped >= MOSTLY else 0.0
        text = (
            f"{percent(shaped)} of the values are written as NHS numbers, "
            f"{percent(valid)} pass Modulus 11"
        )
        return _Fit(shaped, VALUE_BONUS * valid, by_values, text)
    if field.type is FieldType.TIMESTAMP:
        guess = values.timestamp
        text = f"{percent(guess.share)} of the values read as dates with "
        return _Fit(guess.share, 0.0, 0.0, text + (guess.format or "ISO 8601"))
    if field.type is FieldType.INTEGER:
        share = values.integers(field.minimum, field.maximum)
        return _Fit(share, 0.0, 0.0, f"{percent(share)} of the values are whole numbers in range")
    if field.type is FieldType.DECIMAL:
        share = values.decimals(field.minimum, field.maximum)
        return _Fit(share, 0.0, 0.0, f"{percent(share)} of the values are numbers in range")
    if field.type is FieldType.CODE:
        assert field.code_set is not None  # guaranteed by FieldSpec validation
        if not values.looks_like_codes:
            text = f"{len(values.counts):,} distinct values: too many for a code list"
            return _Fit(NOT_CODES, 0.0, 0.0, text)
        book = books[field.code_set]
        fit = code_fit(values, book)
        distinct = len(values.counts)
        by_values = CODES_BY_VALUES if fit.share >= MOSTLY and distinct > 1 else 0.0
        # A partner's local codes are about as many as the model's; a count or a measure is not.
        local_codes = distinct <= max(LOCAL_CODES_PER_CODE * len(book.codes), FEW_VALUES)
        plausible = 1.0 if fit.share >= MOSTLY or local_codes else NOT_CODES
        text = (
            f"{percent(fit.share)} of the values are codes of {field.code_set} or obvious spellings"
        )
        return _Fit(plausible, VALUE_BONUS * fit.share, by_values, text)
    return _Fit(1.0, 0.0, 0.0, "")


def percent(share: float) -> str:
    """A share as a percentage that is 0% or 100% only when it is exactly that."""
    text = f"{share:.0%}"
    if 0 < share < 1 and text in ("0%", "100%"):
        text = f"{share:.1%}" if 0.001 <= share <= 0.999 else ("<0.1%" if share < 0.5 else ">99.9%")
    return text


def score(
    field: FieldSpec, books: dict[str, CodeBook], column: str, values: ColumnValues
) -> Candidate | None:
    """The column as a candidate for the field, with its evidence; None below MIN_SCORE."""
    name = name_match(column, field)
    fit = _fit(field, books, values)
    plausibility = NEUTRAL_FIT if fit.plausibility is None else fit.plausibility
    if name.score > 0:
        weight = NAME_ALONE + (1 - NAME_ALONE) * plausibility
        total = min(1.0, name.score * weight + fit.bonus)
    else:
        total = fit.by_values
    if total < MIN_SCORE:
        return None
    evidence = [f"{name.evidence} ({name.score:.2f})"] if name.score > 0 else []
    return Candidate(
        column, round(total, 3), (*evidence, *([fit.evidence] if fit.evidence else []))
    )
