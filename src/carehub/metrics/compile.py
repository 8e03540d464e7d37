"""Compile a KPI definition into one aggregate query: numerator and denominator by facet and
month, with the organisation whose submission each row came from (for lineage)."""

from __future__ import annotations

from sqlglot import exp

from carehub.model.metrics import FieldIn, MetricDefinition, MinutesBetween
from carehub.store.engines import Engine

_OPS = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def condition_sql(condition: MinutesBetween | FieldIn, engine: Engine) -> exp.Expr:
    if isinstance(condition, MinutesBetween):
        minutes = engine.minutes_between(_col(condition.start), _col(condition.end))
        return _OPS[condition.op](this=minutes, expression=exp.Literal.number(condition.value))
    values = [exp.Literal.string(v) for v in condition.values]
    return exp.In(this=_col(condition.field), expressions=values)


def _all(conditions: list[exp.Expr]) -> exp.Expr:
    return exp.and_(*conditions) if conditions else exp.true()


def compile_metric(definition: MetricDefinition, source: exp.Expr, engine: Engine) -> exp.Select:
    """SELECT facet, period, numerator, denominator FROM source GROUP BY facet, period."""
    period_field = definition.dataset_spec.period_field
    assert period_field is not None  # MetricDefinition only accepts datasets with a period field
    denominator = _all([condition_sql(c, engine) for c in definition.denominator])
    numerator = exp.and_(
        denominator, _all([condition_sql(c, engine) for c in definition.numerator])
    )
    period = engine.month_of(_col(period_field))

    def count_if(condition: exp.Expr) -> exp.Expr:
        case = exp.Case(
            ifs=[exp.If(this=condition, true=exp.Literal.number(1))], default=exp.Literal.number(0)
        )
        return exp.Sum(this=case)

    return (
        exp.select(
            _col(definition.facet).as_("facet", quoted=True),
            period.as_("period", quoted=True),
            count_if(numerator).as_("numerator", quoted=True),
            count_if(denominator).as_("denominator", quoted=True),
        )
        .from_(source)
        .group_by(exp.Literal.number(1), exp.Literal.number(2))
        .order_by(exp.Literal.number(1), exp.Literal.number(2))
    )
