"""Compile a check pack into SQL over a submission's rows (sqlglot expressions, portable subset;
anything dialect-sensitive is asked of the `Engine`).

Which query each kind of check runs:

- Row-level checks (``not_null``, ``in_code_set``, ``range``, ``pattern``, ``sequence``,
  ``not_above``, ``max_duration``, ``not_in_future``, ``valid_nhs_number_share``,
  ``default_value_share``): every one of a dataset in ONE aggregate query over the published
  rows, ``SELECT count(*) AS rows, sum(CASE WHEN <check i fails> THEN 1 ELSE 0 END) AS c_i, …``,
  and one more over the quarantined rows, counting those whose reasons include the quarantine
  reason the same rule gives (``MISSING_VALUE:field`` for ``not_null`` on a required field …).
- Failing rows: only when some row-level check had failing rows, one more query over the
  published rows returns the row number of each failing row and which checks it failed, at most
  ``MAX_CAPTURED_ROWS`` per check (a clean submission costs one scan).
- ``unique``: one grouped query per check, and the rows of the later copies only if there are
  any. ``reference``: one anti-join per check against its reference list. Volume, timeliness and
  the quarantined share come from the submission records, not from SQL (``evaluation.py``).

A failure names the row number, the field and a reason code, never a value. Names from YAML only
ever appear as quoted identifiers or string literals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlglot import exp

from carehub.model.check_formats import PATTERNS
from carehub.model.check_rules import (
    DefaultValueShare,
    InCodeSet,
    InSequence,
    MaxDuration,
    NotAbove,
    NotInFuture,
    NotNull,
    Pattern,
    Range,
    Reference,
    Unique,
    ValidNhsNumberShare,
)
from carehub.model.checks import CheckDefinition
from carehub.model.datasets import DatasetSpec, FieldType
from carehub.store.engines import Engine, HmacPads

SOURCE_ROW = "source_row"  # the row's line in the file (standardise/compile.py)
REASONS = "reasons"  # a quarantined row's reasons, CODE:field joined by ';'
PERSON_ID = "person_id"  # what the standard zone holds in place of the NHS number
ROWS = "rows"
CODE = "code"  # the column of a reference relation
# Enough row numbers for a sender to find and fix a problem; the count is always complete.
MAX_CAPTURED_ROWS = 1_000
MINUTES_PER_HOUR = 60


class CheckCannotRun(Exception):
    """A check cannot be compiled or run here (e.g. its reference list is missing). The message
    says why, without row values; the check is recorded as ``error``."""


@dataclass(frozen=True)
class CompileContext:
    """What the SQL of a run depends on besides the pack."""

    as_of: datetime  # when the file was received: later times are "in the future"
    pads: HmacPads | None = None  # the key the rows were pseudonymised under


@dataclass(frozen=True)
class RowCheck:
    """A row-level check compiled: the condition under which a row fails it."""

    check: CheckDefinition
    fails: exp.Expr  # includes ``applies``: a row the check does not apply to never fails
    column: str  # the field a failure is reported on
    reason: str  # the reason code of a failing row
    quarantine_reason: str | None  # CODE:field of quarantined rows that fail it too
    applies: exp.Expr | None = None  # the rows the check is about (``when``); None: all


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def column_of(spec: DatasetSpec, field: str) -> str:
    """The column of a field in the standard zone (an NHS number is there as person_id)."""
    return PERSON_ID if spec.field(field).type is FieldType.NHS_NUMBER else field


def _is_null(value: exp.Expr) -> exp.Expr:
    return exp.Is(this=value, expression=exp.Null())


def _not_null(value: exp.Expr) -> exp.Expr:
    return exp.Not(this=_is_null(value))


def _timestamp(value: datetime) -> exp.Expr:
    return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")


def _compact(value: exp.Expr) -> exp.Expr:
    """Upper case, without spaces: how postcodes are compared."""
    spaceless = exp.Replace(
        this=value, expression=exp.Literal.string(" "), replacement=exp.Literal.string("")
    )
    return exp.Upper(this=spaceless)


def _number(value: float) -> exp.Expr:
    return exp.Literal.number(int(value) if value == int(value) else value)


class _RowCompiler:
    def __init__(self, spec: DatasetSpec, engine: Engine, context: CompileContext) -> None:
        self.spec, self.engine, self.context = spec, engine, context

    def column(self, field: str) -> exp.Column:
        return _col(column_of(self.spec, field))

    def compile(self, check: CheckDefinition) -> RowCheck:
        rule = check.rule
        fails: exp.Expr
        if isinstance(rule, NotNull):
            required = self.spec.field(rule.field).required
            quarantined = f"MISSING_VALUE:{rule.field}" if required else None
            return RowCheck(
                check, _is_null(self.column(rule.field)), rule.field, "MISSING", quarantined
            )
        if isinstance(rule, InCodeSet):
            return self._in_code_set(check, rule)
        if isinstance(rule, Range):
            return self._range(check, rule)
        if isinstance(rule, Pattern):
            pattern = PATTERNS[rule.format]
            value: exp.Expr = self.column(rule.field)
            value = _compact(value) if pattern.compact else value
            fails = exp.Not(this=self.engine.full_match(value, pattern.regex))
            return RowCheck(check, fails, rule.field, "PATTERN_MISMATCH", None)
        if isinstance(rule, InSequence):
            return self._sequence(check, rule)
        if isinstance(rule, NotAbove):
            fails = exp.GT(this=self.column(rule.part), expression=self.column(rule.whole))
            same = (r for r in self.spec.count_rules if (r.part, r.whole) == rule.fields())
            count_rule = next(same, None)
            quarantined = f"{count_rule.reason}:{rule.part}" if count_rule else None
            return RowCheck(check, fails, rule.part, "ABOVE_WHOLE", quarantined)
        if isinstance(rule, MaxDuration):
            minutes = self.engine.minutes_between(self.column(rule.start), self.column(rule.end))
            limit = _number(rule.hours * MINUTES_PER_HOUR)
            fails = exp.GT(this=minutes, expression=limit)
            return RowCheck(check, fails, rule.end, "DURATION_TOO_LONG", None)
        if isinstance(rule, NotInFuture):
            fails = exp.GT(this=self.column(rule.field), expression=_timestamp(self.context.as_of))
            return RowCheck(check, fails, rule.field, "IN_FUTURE", None)
        if isinstance(rule, ValidNhsNumberShare):
            quarantined = f"NHS_NUMBER_INVALID:{rule.field}"
            fails = _is_null(self.column(rule.field))
            return RowCheck(check, fails, rule.field, "NO_VALID_NHS_NUMBER", quarantined)
        if isinstance(rule, DefaultValueShare):
            return self._default_values(check, rule)
        raise TypeError(f"{rule.kind} is not a row-level rule")

    def _in_code_set(self, check: CheckDefinition, rule: InCodeSet) -> RowCheck:
        code_set = self.spec.field(rule.field).code_set
        assert code_set is not None  # an in_code_set rule names a code field (model/checks.py)
        codes = [exp.Literal.string(c) for c in self.spec.code_sets[code_set].codes]
        value = self.column(rule.field)
        fails = exp.and_(_not_null(value), exp.Not(this=exp.In(this=value, expressions=codes)))
        return RowCheck(check, fails, rule.field, "NOT_IN_CODE_SET", f"UNKNOWN_CODE:{rule.field}")

    def _range(self, check: CheckDefinition, rule: Range) -> RowCheck:
        value, outside = self.column(rule.field), list[exp.Expr]()
        if rule.min is not None:
            outside.append(exp.LT(this=value, expression=_number(rule.min)))
        if rule.max is not None:
            outside.append(exp.GT(this=value.copy(), expression=_number(rule.max)))
        quarantined = f"OUT_OF_RANGE:{rule.field}"
        return RowCheck(check, exp.or_(*outside), rule.field, "OUT_OF_RANGE", quarantined)

    def _sequence(self, check: CheckDefinition, rule: InSequence) -> RowCheck:
        fails = exp.LT(this=self.column(rule.later), expression=self.column(rule.earlier))
        same = (r for r in self.spec.sequence_rules if (r.earlier, r.later) == rule.fields())
        dataset_rule = next(same, None)
        quarantined = f"{dataset_rule.reason}:{rule.later}" if dataset_rule else None
        return RowCheck(check, fails, rule.later, "OUT_OF_SEQUENCE", quarantined)

    def _default_values(self, check: CheckDefinition, rule: DefaultValueShare) -> RowCheck:
        field_type = self.spec.field(rule.field).type
        values: list[exp.Expr]
        if field_type is FieldType.NHS_NUMBER:
            pads = self.context.pads
            if pads is None:
                raise CheckCannotRun(
                    "placeholder NHS numbers are recognised by their pseudonyms, and the key "
                    "the rows were pseudonymised under is not available"
                )
            values = [self.engine.hmac_sha256(exp.Literal.string(v), pads) for v in rule.values]
        elif field_type is FieldType.INTEGER:
            values = [exp.Literal.number(int(v)) for v in rule.values]
        else:
            values = [exp.Literal.string(v) for v in rule.values]
        fails = exp.In(this=self.column(rule.field), expressions=values)
        return RowCheck(check, fails, rule.field, "DEFAULT_VALUE", None)


def compile_row_check(
    check: CheckDefinition, spec: DatasetSpec, engine: Engine, context: CompileContext
) -> RowCheck:
    """The failing condition of a row-level check; CheckCannotRun if it cannot be built. A
    check limited by ``when`` does not count quarantined rows (their codes are not kept)."""
    compiled = _RowCompiler(spec, engine, context).compile(check)
    if check.when is None:
        return compiled
    values = [exp.Literal.string(v) for v in check.when.values]
    applies = exp.In(this=_col(check.when.field), expressions=values)
    fails = exp.and_(applies.copy(), exp.Paren(this=compiled.fails))
    return replace(compiled, fails=fails, quarantine_reason=None, applies=applies)


def _flag(condition: exp.Expr) -> exp.Expr:
    """1 when the condition holds, else 0 (a NULL condition, a missing value, passes)."""
    return exp.Case(
        ifs=[exp.If(this=condition, true=exp.Literal.number(1))], default=exp.Literal.number(0)
    )


def _count_column(index: int) -> str:
    return f"c_{index}"


def _rows_column(index: int) -> str:
    return f"d_{index}"


def aggregate_query(checks: Sequence[RowCheck], source: exp.Expr) -> exp.Select:
    """``rows`` and, for each check in order, ``c_i``: its failing rows, and ``d_i``: the rows
    it applies to (``rows`` unless it has ``when``). One scan."""
    columns: list[exp.Expr] = [exp.Count(this=exp.Star()).as_(ROWS, quoted=True)]
    for i, check in enumerate(checks):
        columns.append(exp.Sum(this=_flag(check.fails.copy())).as_(_count_column(i), quoted=True))
        applies = (
            exp.Count(this=exp.Star())
            if check.applies is None
            else exp.Sum(this=_flag(check.applies.copy()))
        )
        columns.append(applies.as_(_rows_column(i), quoted=True))
    return exp.select(*columns).from_(source.copy())


def _has_reason(code: str) -> exp.Expr:
    """The quarantined row's reasons include ``code`` (a whole CODE:field, not a prefix)."""
    separator = exp.Literal.string(";")
    reasons = exp.DPipe(
        this=exp.DPipe(this=separator, expression=_col(REASONS)), expression=separator.copy()
    )
    position = exp.StrPosition(this=reasons, substr=exp.Literal.string(f";{code};"))
    return exp.GT(this=position, expression=exp.Literal.number(0))


def quarantine_query(checks: Sequence[RowCheck], source: exp.Expr) -> exp.Select:
    """Over the quarantined rows: ``rows``, ``c_i``, the rows quarantined for the reason check i
    also gives (0 for a check no quarantine reason matches), and ``d_i``, all of them."""
    columns: list[exp.Expr] = [exp.Count(this=exp.Star()).as_(ROWS, quoted=True)]
    for i, check in enumerate(checks):
        matched = _has_reason(check.quarantine_reason) if check.quarantine_reason else exp.false()
        columns.append(exp.Sum(this=_flag(matched)).as_(_count_column(i), quoted=True))
        columns.append(exp.Count(this=exp.Star()).as_(_rows_column(i), quoted=True))
    return exp.select(*columns).from_(source.copy())


def _capped_rows(flags: list[exp.Expr], source: exp.Expr, cap: int) -> exp.Select:
    """``source_row`` and ``f_i`` (1 when the row fails check i) of the rows failing some check,
    keeping at most ``cap`` rows per check: the first ones, in the file's order."""
    names = [f"f_{i}" for i in range(len(flags))]
    failing = exp.or_(*(exp.EQ(this=f.copy(), expression=exp.Literal.number(1)) for f in flags))
    inner = (
        exp.select(
            _col(SOURCE_ROW), *(f.as_(n, quoted=True) for f, n in zip(flags, names, strict=True))
        )
        .from_(source.copy())
        .where(failing)
    )
    order = exp.Order(expressions=[exp.Ordered(this=_col(SOURCE_ROW))])
    running = [
        exp.Window(
            this=exp.Sum(this=_col(n)),
            order=order.copy(),
            spec=exp.WindowSpec(
                kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"
            ),
        ).as_(f"n_{i}", quoted=True)
        for i, n in enumerate(names)
    ]
    numbered = exp.select(_col(SOURCE_ROW), *map(_col, names), *running).from_(
        inner.subquery("failing_rows")
    )
    within = [
        exp.and_(
            exp.EQ(this=_col(n), expression=exp.Literal.number(1)),
            exp.LTE(this=_col(f"n_{i}"), expression=exp.Literal.number(cap)),
        )
        for i, n in enumerate(names)
    ]
    return (  # a row kept for one check shows only the checks it is within the cap of
        exp.select(
            _col(SOURCE_ROW),
            *(_flag(w.copy()).as_(n, quoted=True) for w, n in zip(within, names, strict=True)),
        )
        .from_(numbered.subquery("numbered_rows"))
        .where(exp.or_(*within))
        .order_by(_col(SOURCE_ROW))
    )


def failing_rows_query(
    checks: Sequence[RowCheck], source: exp.Expr, cap: int = MAX_CAPTURED_ROWS
) -> exp.Select:
    """The failing published rows of ``checks``: ``source_row`` and a 0/1 ``f_i`` per check."""
    return _capped_rows([_flag(c.fails.copy()) for c in checks], source, cap)


def quarantine_failures_query(
    checks: Sequence[RowCheck], source: exp.Expr, cap: int = MAX_CAPTURED_ROWS
) -> exp.Select:
    """The quarantined rows that fail ``checks`` (each has a quarantine reason)."""
    flags = [_flag(_has_reason(c.quarantine_reason or "")) for c in checks]
    return _capped_rows(flags, source, cap)


def _keys(rule: Unique, spec: DatasetSpec) -> list[exp.Column]:
    return [_col(column_of(spec, f)) for f in rule.fields()]


def _complete(keys: list[exp.Column]) -> exp.Expr:
    return exp.and_(*(_not_null(k.copy()) for k in keys))


def duplicates_query(rule: Unique, spec: DatasetSpec, source: exp.Expr) -> exp.Select:
    """``rows`` and ``c_0``: the copies after the first of each repeated key (rows with a key
    field missing are not compared)."""
    keys = _keys(rule, spec)
    groups = (
        exp.select(exp.Count(this=exp.Star()).as_("copies", quoted=True))
        .from_(source.copy())
        .where(_complete(keys))
        .group_by(*(k.copy() for k in keys))
    )
    extra = exp.Sub(this=_col("copies"), expression=exp.Literal.number(1))
    total = exp.Coalesce(this=exp.Sum(this=extra), expressions=[exp.Literal.number(0)])
    rows = exp.select(exp.Count(this=exp.Star())).from_(source.copy()).subquery()
    return exp.select(rows.as_(ROWS, quoted=True), total.as_(_count_column(0), quoted=True)).from_(
        groups.subquery("key_groups")
    )


def duplicate_rows_query(
    rule: Unique, spec: DatasetSpec, source: exp.Expr, cap: int = MAX_CAPTURED_ROWS
) -> exp.Select:
    """The row numbers of the later copies, in the file's order, at most ``cap``."""
    keys = _keys(rule, spec)
    copy_number = exp.Window(
        this=exp.RowNumber(),
        partition_by=[k.copy() for k in keys],
        order=exp.Order(expressions=[exp.Ordered(this=_col(SOURCE_ROW))]),
    )
    numbered = (
        exp.select(_col(SOURCE_ROW), copy_number.as_("copy_number", quoted=True))
        .from_(source.copy())
        .where(_complete(keys))
    )
    return (
        exp.select(_col(SOURCE_ROW))
        .from_(numbered.subquery("numbered_rows"))
        .where(exp.GT(this=_col("copy_number"), expression=exp.Literal.number(1)))
        .order_by(_col(SOURCE_ROW))
        .limit(cap)
    )


def _unmatched(
    rule: Reference, spec: DatasetSpec, source: exp.Expr, reference: exp.Expr, compact: bool
) -> exp.Select:
    """Rows whose present value has no match in the reference relation (its ``code``)."""
    value: exp.Expr = exp.column(column_of(spec, rule.field), "r", quoted=True)
    code: exp.Expr = _col(CODE)
    if compact:
        value, code = _compact(value), _compact(code)
    codes = (
        exp.select(code.as_(CODE, quoted=True))
        .from_(reference.copy())
        .where(_not_null(_col(CODE)))
        .distinct()
    )
    match = exp.EQ(this=value.copy(), expression=exp.column(CODE, "l", quoted=True))
    unmatched = exp.and_(
        _not_null(exp.column(column_of(spec, rule.field), "r", quoted=True)),
        _is_null(exp.column(CODE, "l", quoted=True)),
    )
    return (
        exp.select(exp.column(SOURCE_ROW, "r", quoted=True).as_(SOURCE_ROW, quoted=True))
        .from_(exp.alias_(exp.Subquery(this=exp.select("*").from_(source.copy())), "r"))
        .join(codes.subquery("l"), on=match, join_type="LEFT")
        .where(unmatched)
    )


def reference_query(
    rule: Reference, spec: DatasetSpec, source: exp.Expr, reference: exp.Expr, compact: bool
) -> exp.Select:
    """``rows`` and ``c_0``: rows whose value is present and not in the reference list."""
    unmatched = _unmatched(rule, spec, source, reference, compact)
    rows = exp.select(exp.Count(this=exp.Star())).from_(source.copy()).subquery()
    return exp.select(
        rows.as_(ROWS, quoted=True), exp.Count(this=exp.Star()).as_(_count_column(0), quoted=True)
    ).from_(unmatched.subquery("unmatched_rows"))


def reference_rows_query(
    rule: Reference,
    spec: DatasetSpec,
    source: exp.Expr,
    reference: exp.Expr,
    compact: bool,
    cap: int = MAX_CAPTURED_ROWS,
) -> exp.Select:
    unmatched = _unmatched(rule, spec, source, reference, compact)
    return (
        exp.select(_col(SOURCE_ROW))
        .from_(unmatched.subquery("unmatched_rows"))
        .order_by(_col(SOURCE_ROW))
        .limit(cap)
    )
