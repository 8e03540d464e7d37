"""The released view of a KPI: its latest series with SPC, counts after disclosure control, and
the provenance of every point (which submissions, provisional or final)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carehub.errors import NotFound
from carehub.governance.disclosure import DEFAULT_POLICY, DisclosurePolicy, release_count
from carehub.metrics.registry import get_metric
from carehub.model.metrics import MetricDefinition
from carehub.store.tables import (
    CurrentMetricRun,
    MetricPoint,
    MetricRun,
    MetricRunInput,
    Submission,
)


@dataclass(frozen=True)
class PointView:
    period: str
    value: float | None  # None when the denominator is too small to release
    numerator: int | None
    denominator: int | None
    mean: float | None
    lpl: float | None
    upl: float | None
    special_cause_type: str
    point_type: str
    period_status: str


@dataclass(frozen=True)
class SourceView:
    submission_id: int
    org_code: str
    period: str
    filename: str
    received_at: datetime
    state: str
    rows_published: int | None
    period_status: str


@dataclass(frozen=True)
class MetricView:
    definition: MetricDefinition
    run_id: int
    computed_at: datetime
    definition_sha256: str
    facets: dict[str, tuple[PointView, ...]]
    sources: tuple[SourceView, ...]

    @property
    def provisional_periods(self) -> tuple[str, ...]:
        periods = {
            p.period
            for pts in self.facets.values()
            for p in pts
            if p.period_status == "provisional"
        }
        return tuple(sorted(periods))


def _point(row: MetricPoint, policy: DisclosurePolicy) -> PointView:
    denominator = release_count(row.denominator, policy)
    return PointView(
        period=row.period,
        value=row.value if denominator else None,
        numerator=release_count(row.numerator, policy),
        denominator=denominator,
        mean=row.mean,
        lpl=row.lpl,
        upl=row.upl,
        special_cause_type=row.special_cause_type,
        point_type=row.point_type,
        period_status=row.period_status,
    )


def load_view(
    session: Session, metric_id: str, policy: DisclosurePolicy = DEFAULT_POLICY
) -> MetricView:
    definition = get_metric(metric_id)
    pointer = session.get(CurrentMetricRun, metric_id)
    if pointer is None:
        raise NotFound(
            f"KPI {metric_id} has not been computed yet", hint="run `carehub metrics run`"
        )
    run = session.get_one(MetricRun, pointer.run_id)
    facets: dict[str, list[PointView]] = defaultdict(list)
    query = (
        select(MetricPoint)
        .where(MetricPoint.run_id == run.id)
        .order_by(MetricPoint.facet, MetricPoint.period)
    )
    for row in session.scalars(query):
        facets[row.facet].append(_point(row, policy))
    statuses = {p.period: p.period_status for pts in facets.values() for p in pts}
    inputs = select(Submission).join(MetricRunInput, MetricRunInput.submission_id == Submission.id)
    inputs = inputs.where(MetricRunInput.run_id == run.id).order_by(
        Submission.period, Submission.org_code
    )
    sources = tuple(
        SourceView(
            s.id,
            s.org_code,
            s.period or "",  # a run reads published submissions, whose period is known
            s.filename,
            s.received_at,
            s.state,
            s.rows_published,
            statuses.get(s.period or "", "provisional"),
        )
        for s in session.scalars(inputs)
    )
    return MetricView(
        definition,
        run.id,
        run.computed_at,
        run.definition_sha256,
        {k: tuple(v) for k, v in facets.items()},
        sources,
    )
