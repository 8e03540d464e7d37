"""Compile a dataset spec and a feed mapping into the one-pass standardisation query.

The query reads the staged file (every column as text), casts each field, applies the code
translations, validates the NHS number with Modulus 11, checks date sequences, counts that are
part of another count and the period, recognises summary rows (totals), and returns one row per
input row, in the file's order, with the typed fields, ``person_id`` and ``reasons`` (empty when
the row passes). Its rows are materialised as the checked table, whose row number gives
``source_row``: numbering the rows of the file itself would make the engine read it on one
thread. Names from YAML or from the partner's file only ever appear as quoted identifiers or
string literals of sqlglot expressions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from carehub.model.datasets import DatasetSpec, FieldSpec, FieldType
from carehub.model.mappings import FeedMapping
from carehub.model.nhs_number import ACCEPTED_FORMAT_PATTERN, MODULUS_11_WEIGHTS
from carehub.model.periods import Period
from carehub.standardise.reasons import Reason
from carehub.store.engines import Engine, HmacPads

STAGED_TABLE = "staged"
SOURCE_ROW = "source_row"
REASONS = "reasons"
PERSON_ID = "person_id"
PADDING = " \t"  # trimmed from both ends of every value
# A value must look like a plain number before it is cast: engines also round "45.7" to 46, read
# "1.000" (a thousand in much of Europe) as 1, and accept "1_000" and "0x2D". A whole number may
# end in ".0", as pandas writes it.
INTEGER_PATTERN = r"[+-]?[0-9]+(\.0)?"
DECIMAL_PATTERN = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"


@dataclass(frozen=True)
class StandardiseQuery:
    """The checked rows (``query``) and the projections over the table they are materialised as
    (``source``): every row's reasons, and the published and quarantined splits."""

    query: exp.Select
    published_columns: tuple[str, ...]
    row_number: exp.Expr  # the engine's insertion-order row number of a table (0-based)

    def _source_row(self) -> exp.Expr:
        row = exp.Add(this=self.row_number.copy(), expression=exp.Literal.number(1))
        return row.as_(SOURCE_ROW, quoted=True)

    def reasons(self, source: str) -> exp.Select:
        """``source_row`` and ``reasons`` of every row, in the file's order."""
        columns = [self._source_row(), exp.column(REASONS, quoted=True)]
        table = exp.to_table(source, quoted=True)
        return exp.select(*columns).from_(table).order_by(_col(SOURCE_ROW))

    def published(self, source: str) -> exp.Select:
        columns = [exp.column(c, quoted=True) for c in self.published_columns]
        return (
            exp.select(self._source_row(), *columns)
            .from_(exp.to_table(source, quoted=True))
            .where(_passes())
        )

    def quarantined(self, source: str) -> exp.Select:
        return self.reasons(source).where(exp.not_(_passes()))


def _passes() -> exp.Expr:
    return exp.EQ(this=exp.column(REASONS, quoted=True), expression=exp.Literal.string(""))


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _reason(condition: exp.Expr, code: str, field: str) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.string(f"{code}:{field}"))])


class _Compiler:
    def __init__(self, spec: DatasetSpec, mapping: FeedMapping, engine: Engine) -> None:
        self.spec, self.mapping, self.engine = spec, mapping, engine

    def raw(self, field: FieldSpec) -> exp.Expr:
        """The trimmed text of the field's column, NULL when empty or not mapped."""
        mapped = self.mapping.fields.get(field.name)
        if mapped is None:
            return exp.Null()
        if mapped.value is not None:  # a constant the mapping supplies for every row
            return exp.Literal.string(mapped.value)
        assert mapped.column is not None  # a field mapping has a column or a value
        trimmed = exp.Trim(this=_col(mapped.column), expression=exp.Literal.string(PADDING))
        return exp.Nullif(this=trimmed, expression=exp.Literal.string(""))

    def typed(self, field: FieldSpec) -> exp.Expr:
        raw = _col(f"raw__{field.name}")
        if field.type is FieldType.TIMESTAMP:
            mapped = self.mapping.fields.get(field.name)
            return self.engine.try_timestamp(raw, mapped.format if mapped else None)
        if field.type is FieldType.INTEGER:
            return self._if_matches(raw, INTEGER_PATTERN, self.engine.try_integer(raw))
        if field.type is FieldType.DECIMAL:
            return self._if_matches(raw, DECIMAL_PATTERN, self.engine.try_decimal(raw))
        if field.type is FieldType.CODE:
            return self._translated_code(field, raw)
        if field.type is FieldType.NHS_NUMBER:
            separators = exp.Replace(
                this=exp.Replace(
                    this=raw, expression=exp.Literal.string(" "), replacement=exp.Literal.string("")
                ),
                expression=exp.Literal.string("-"),
                replacement=exp.Literal.string(""),
            )
            matches = self.engine.full_match(raw, ACCEPTED_FORMAT_PATTERN)
            return exp.Case(ifs=[exp.If(this=matches, true=separators)])
        return raw

    def _if_matches(self, raw: exp.Expr, pattern: str, value: exp.Expr) -> exp.Expr:
        return exp.Case(ifs=[exp.If(this=self.engine.full_match(raw, pattern), true=value)])

    def _translated_code(self, field: FieldSpec, raw: exp.Expr) -> exp.Expr:
        mapped = self.mapping.fields.get(field.name)
        translations = mapped.values if mapped else {}
        code: exp.Expr = raw
        if translations:
            ifs = [
                exp.If(
                    this=exp.EQ(this=raw, expression=exp.Literal.string(local)),
                    true=exp.Literal.string(model),
                )
                for local, model in sorted(translations.items())
            ]
            code = exp.Case(ifs=ifs, default=raw)
        assert field.code_set is not None  # guaranteed by FieldSpec validation
        allowed = [exp.Literal.string(c) for c in self.spec.code_sets[field.code_set].codes]
        return exp.Case(ifs=[exp.If(this=exp.In(this=code, expressions=allowed), true=code)])

    def modulus_11_valid(self, digits: exp.Expr) -> exp.Expr:
        """(11 - weighted sum mod 11) mod 11 is the check digit: 11 becomes 0, and 10, which no
        valid number has, matches no digit."""
        weighted: exp.Expr = exp.Literal.number(0)
        for position, weight in enumerate(MODULUS_11_WEIGHTS, start=1):
            term = exp.Mul(
                this=self.engine.digit_at(digits, position), expression=exp.Literal.number(weight)
            )
            weighted = exp.Add(this=weighted, expression=term)
        eleven = exp.Literal.number(11)
        check = exp.Sub(
            this=eleven,
            expression=exp.Mod(this=exp.Paren(this=weighted), expression=eleven.copy()),
        )
        expected = exp.Mod(this=exp.Paren(this=check), expression=eleven.copy())
        return exp.EQ(this=expected, expression=self.engine.digit_at(digits, 10))

    def field_reasons(self, field: FieldSpec) -> list[exp.Expr]:
        raw, typed = _col(f"raw__{field.name}"), _col(field.name)
        present, reasons = exp.Not(this=exp.Is(this=raw, expression=exp.Null())), []
        if field.required:
            reasons.append(
                _reason(exp.Is(this=raw, expression=exp.Null()), Reason.MISSING_VALUE, field.name)
            )
        bad_type = exp.and_(present, exp.Is(this=typed, expression=exp.Null()))
        code = {
            FieldType.TIMESTAMP: Reason.INVALID_TIMESTAMP,
            FieldType.INTEGER: Reason.NOT_AN_INTEGER,
            FieldType.DECIMAL: Reason.NOT_A_NUMBER,
            FieldType.CODE: Reason.UNKNOWN_CODE,
            FieldType.NHS_NUMBER: Reason.NHS_NUMBER_INVALID,
        }.get(field.type)
        if field.type is FieldType.NHS_NUMBER:
            bad_type = exp.or_(
                bad_type,
                exp.and_(
                    exp.Not(this=exp.Is(this=typed, expression=exp.Null())),
                    exp.Not(this=_col(_modulus_11(field))),
                ),
            )
        if code is not None:
            reasons.append(_reason(bad_type, code, field.name))
        reasons.extend(self._range_reasons(field, typed))
        return reasons

    def _range_reasons(self, field: FieldSpec, typed: exp.Expr) -> list[exp.Expr]:
        bounds: list[exp.Expr] = []
        if field.minimum is not None:
            bounds.append(exp.LT(this=typed, expression=exp.Literal.number(field.minimum)))
        if field.maximum is not None:
            bounds.append(exp.GT(this=typed, expression=exp.Literal.number(field.maximum)))
        return [_reason(exp.or_(*bounds), Reason.OUT_OF_RANGE, field.name)] if bounds else []

    def row_reasons(self, period: Period) -> list[exp.Expr]:
        reasons = []
        for rule in self.spec.sequence_rules:
            later_first = exp.LT(this=_col(rule.later), expression=_col(rule.earlier))
            reasons.append(_reason(later_first, rule.reason, rule.later))
        for count in self.spec.count_rules:
            part_above = exp.GT(this=_col(count.part), expression=_col(count.whole))
            reasons.append(_reason(part_above, count.reason, count.part))
        if self.spec.period_field is None:  # a snapshot: the period is the submission's
            return reasons
        start = exp.cast(exp.Literal.string(period.start_at().isoformat(sep=" ")), "TIMESTAMP")
        end = exp.cast(exp.Literal.string(period.end_at().isoformat(sep=" ")), "TIMESTAMP")
        when = _col(self.spec.period_field)
        outside = exp.or_(exp.LT(this=when, expression=start), exp.GTE(this=when, expression=end))
        reasons.append(_reason(outside, Reason.OUTSIDE_PERIOD, self.spec.period_field))
        return reasons

    def summary_row(self) -> exp.Expr | None:
        """The reason of a summary row (e.g. a total), which replaces every other reason: its
        cells are labels and sums, not data of the model."""
        if not self.spec.summary_rows:
            return None
        ifs = []
        for rule in self.spec.summary_rows:
            labels = [exp.Literal.string(label.upper()) for label in rule.labels]
            raw = exp.Upper(this=_col(f"raw__{rule.field}"))
            ifs.append(
                exp.If(
                    this=exp.In(this=raw, expressions=labels),
                    true=exp.Literal.string(f"{rule.reason}:{rule.field}"),
                )
            )
        return exp.Case(ifs=ifs)


def _modulus_11(field: FieldSpec) -> str:
    return f"{field.name}__modulus_11"


def _joined(engine: Engine, reasons: list[exp.Expr]) -> exp.Expr:
    """The row's reasons, joined only for rows that fail a rule: most rows pass, and testing the
    conditions is much cheaper than building a text from every one of them."""
    fails = exp.or_(*(r.args["ifs"][0].this for r in reasons))
    joined = engine.join_reasons(reasons)
    return exp.Case(ifs=[exp.If(this=fails, true=joined)], default=exp.Literal.string(""))


def compile_standardise(
    spec: DatasetSpec, mapping: FeedMapping, engine: Engine, period: Period, pads: HmacPads
) -> StandardiseQuery:
    """Build the one-pass query over the staged table."""
    compiler = _Compiler(spec, mapping, engine)
    raws = [compiler.raw(f).as_(f"raw__{f.name}", quoted=True) for f in spec.fields]
    step1 = exp.select(*raws).from_(exp.to_table(STAGED_TABLE, quoted=True))
    typed = [compiler.typed(f).as_(f.name, quoted=True) for f in spec.fields]
    raw_columns = [_col(f"raw__{f.name}") for f in spec.fields]
    step2 = exp.select(*raw_columns, *typed).from_(step1.subquery("raw_rows"))
    nhs = spec.nhs_number_field
    if nhs is not None:  # the Modulus 11 test, once per row for both the reason and person_id
        valid = compiler.modulus_11_valid(_col(nhs.name)).as_(_modulus_11(nhs), quoted=True)
        step2 = exp.select("*", valid).from_(step2.subquery("typed_rows"))
    reasons = [r for f in spec.fields for r in compiler.field_reasons(f)] + compiler.row_reasons(
        period
    )
    outputs: list[exp.Expr] = []
    published: list[str] = []
    for field in spec.fields:
        if field is nhs:
            valid = exp.and_(
                exp.Not(this=exp.Is(this=_col(field.name), expression=exp.Null())),
                _col(_modulus_11(field)),
            )
            person = exp.Case(
                ifs=[exp.If(this=valid, true=engine.hmac_sha256(_col(field.name), pads))]
            )
            outputs.append(person.as_(PERSON_ID, quoted=True))
            published.append(PERSON_ID)
        else:
            outputs.append(_col(field.name))
            published.append(field.name)
    joined = _joined(engine, reasons)
    summary = compiler.summary_row()
    if summary is not None:
        joined = exp.Coalesce(this=summary, expressions=[joined])
    outputs.append(joined.as_(REASONS, quoted=True))
    query = exp.select(*outputs).from_(step2.subquery("checked_rows"))
    return StandardiseQuery(
        query=query, published_columns=tuple(published), row_number=engine.row_number_column()
    )
