"""What a column's sample values say about the field it may hold.

Values are counted once per distinct value, so that 10,000 sample rows cost what their distinct
values cost. Timestamp formats are the strftime-style formats the engines' ``try_strptime`` reads
(a test checks that DuckDB reads every candidate as Python does); ISO 8601 needs no format.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from carehub.model.nhs_number import ACCEPTED_FORMAT_PATTERN, is_valid

# Date formats common in NHS extracts, day-first (the UK order) before month-first.
DAY_FIRST_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
OTHER_FORMATS = (
    "%Y%m%d%H%M",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y %I:%M %p",
)


def month_first(day_first: str) -> str:
    """The US twin of a day-first format: %m and %d swapped."""
    return day_first.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


CANDIDATE_FORMATS = (
    *DAY_FIRST_FORMATS,
    *OTHER_FORMATS,
    *(month_first(f) for f in DAY_FIRST_FORMATS),
)
ISO_PATTERN = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)
# Anything shaped like a date, whatever follows (time, fractions, a zone): never listed.
DATE_LIKE_PATTERN = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:\b.*)?")
DIGITS_ONLY_WIDTHS = {"%Y%m%d%H%M%S": 14, "%Y%m%d%H%M": 12, "%Y%m%d": 8}
PROBE_VALUES = 20  # distinct values tried before a format is read against all of them
NHS_NUMBER_FORMAT = re.compile(ACCEPTED_FORMAT_PATTERN)
POSTCODE_PATTERN = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}", re.IGNORECASE)
INTEGER_PATTERN = re.compile(r"[+-]?\d+")
CODE_MAX_DISTINCT = 60  # more distinct values than this and a column is not a code list
CODE_MAX_LENGTH = 60  # a longer value is free text, never listed


@dataclass(frozen=True)
class FormatGuess:
    """The format that reads the most values (None: ISO 8601), its share of the values, and the
    month-first twin that reads them all as well when the sample cannot tell the two apart."""

    format: str | None
    share: float
    ambiguous_with: str | None = None


def _is_iso(value: str) -> bool:
    match = ISO_PATTERN.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _reads(value: str, fmt: str) -> bool:
    width = DIGITS_ONLY_WIDTHS.get(fmt)
    if width is not None and (len(value) != width or not value.isdigit()):
        return False  # strptime would read 10-digit NHS numbers as %Y%m%d%H%M%S
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def normalise_label(text: str) -> str:
    """Case, spaces, underscores, hyphens and full stops do not matter when comparing a local
    code with a model code or its label."""
    return " ".join(re.split(r"[\s_.\-]+", text.casefold())).strip()


class ColumnValues:
    """The distinct non-empty (trimmed) values of one column of the sample, with their counts."""

    def __init__(self, values: list[str]) -> None:
        self.counts = Counter(v.strip() for v in values if v.strip())
        self.filled = sum(self.counts.values())

    def share(self, test: Callable[[str], object]) -> float:
        """The share of non-empty values for which ``test(value)`` is true."""
        if not self.filled:
            return 0.0
        return sum(n for v, n in self.counts.items() if test(v)) / self.filled

    @cached_property
    def nhs_number_format(self) -> float:
        return self.share(lambda v: NHS_NUMBER_FORMAT.fullmatch(v) is not None)

    @cached_property
    def modulus_11(self) -> float:
        return self.share(is_valid)

    @cached_property
    def timestamp(self) -> FormatGuess:
        return guess_format(self.counts)

    def integers(self, minimum: int | None, maximum: int | None) -> float:
        def fits(value: str) -> bool:
            if not INTEGER_PATTERN.fullmatch(value):
                return False
            number = int(value)
            return (minimum is None or number >= minimum) and (maximum is None or number <= maximum)

        return self.share(fits)

    def decimals(self, minimum: int | None, maximum: int | None) -> float:
        def fits(value: str) -> bool:
            try:
                number = float(value)
            except ValueError:
                return False
            in_range = (minimum is None or number >= minimum) and (
                maximum is None or number <= maximum
            )
            return math.isfinite(number) and in_range

        return self.share(fits)

    @property
    def looks_like_codes(self) -> bool:
        return 0 < len(self.counts) <= CODE_MAX_DISTINCT

    def may_be_listed(self, value: str) -> bool:
        """Whether a value may be shown to the steward as a local code: never anything that looks
        like an NHS number, a date, a postcode or free text."""
        return not (
            len(value) > CODE_MAX_LENGTH
            or NHS_NUMBER_FORMAT.fullmatch(value)
            or POSTCODE_PATTERN.fullmatch(value.strip())
            or DATE_LIKE_PATTERN.fullmatch(value.strip())
            or _is_iso(value)
            or any(_reads(value, f) for f in CANDIDATE_FORMATS)
        )


def looks_like_a_value(name: str) -> bool:
    """A column name that looks like an NHS number, a date or a postcode: the file's first line
    is data, not a header, and must not be shown."""
    text = name.strip()
    return bool(
        NHS_NUMBER_FORMAT.fullmatch(text)
        or POSTCODE_PATTERN.fullmatch(text)
        or DATE_LIKE_PATTERN.fullmatch(text)
        or _is_iso(text)
    )


def guess_format(counts: Counter[str]) -> FormatGuess:
    """The candidate format that reads the largest share of the values; ISO 8601 first, then
    day-first before month-first on a tie."""
    total = sum(counts.values())
    if not total:
        return FormatGuess(None, 0.0)
    probe = [v for v, _ in counts.most_common(PROBE_VALUES)]
    shares: dict[str | None, float] = {}
    for fmt in (None, *CANDIDATE_FORMATS):
        read = _is_iso if fmt is None else (lambda v, f=fmt: _reads(v, f))
        if not any(read(v) for v in probe):
            continue
        shares[fmt] = sum(n for v, n in counts.items() if read(v)) / total
    if not shares:
        return FormatGuess(None, 0.0)
    best = max(shares, key=lambda f: shares[f])  # the first of equals: the preferred order
    twin = month_first(best) if best in DAY_FIRST_FORMATS else None
    if twin is not None and shares.get(twin) == shares[best]:
        return FormatGuess(best, shares[best], ambiguous_with=twin)
    return FormatGuess(best, shares[best])


class CodeBook:
    """A code set, with what a local value obviously means: the same code or label but for
    case, spaces and separators, or the same number but for leading zeros."""

    def __init__(self, codes: dict[str, str]) -> None:
        self.codes = codes
        spellings: dict[str, set[str]] = {}
        for code, label in codes.items():
            for spelling in (normalise_label(code), normalise_label(label)):
                spellings.setdefault(spelling, set()).add(code)
            if code.isdigit():
                spellings.setdefault(f"#{int(code)}", set()).add(code)
        self._spellings = spellings

    def obvious(self, value: str) -> str | None:
        """The one code a local value obviously means, or None when it is not obvious."""
        found = set(self._spellings.get(normalise_label(value), set()))
        if value.isdigit():
            found |= self._spellings.get(f"#{int(value)}", set())
        return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class CodeFit:
    """How a column's values fit a code set: the share that are codes or obvious translations,
    the obvious translations, and the values left for the steward (commonest first)."""

    share: float
    translations: dict[str, str]
    unmapped: tuple[tuple[str, int], ...]


def code_fit(values: ColumnValues, book: CodeBook) -> CodeFit:
    translations: dict[str, str] = {}
    unmapped: list[tuple[str, int]] = []
    fitting = 0
    for value, count in values.counts.items():
        if value in book.codes:
            fitting += count
        elif (code := book.obvious(value)) is not None:
            translations[value] = code
            fitting += count
        else:
            unmapped.append((value, count))
    unmapped.sort(key=lambda vc: (-vc[1], vc[0]))
    share = fitting / values.filled if values.filled else 0.0
    return CodeFit(share, dict(sorted(translations.items())), tuple(unmapped))
