"""Compute a KPI series through the governance layer, add its SPC, and store it with lineage.

Each run is kept (never overwritten); `current_metric_runs` points at the latest, so a figure once
shown can be traced to the run, the definition (by hash) and the submissions it read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from carehub.errors import UserError
from carehub.governance.access import GovernedReader
from carehub.governance.actors import Actor
from carehub.governance.audit import AuditLog
from carehub.governance.policy import Level, Purpose
from carehub.metrics.compile import compile_metric
from carehub.metrics.registry import definition_sha256, get_metric
from carehub.metrics.spc import Direction, SpcOptions, SpcResult, xmr
from carehub.model.metrics import MetricDefinition
from carehub.model.periods import Period
from carehub.store.db import Database, now_utc
from carehub.store.engines import Engine
from carehub.store.tables import CurrentMetricRun, MetricPoint, MetricRun, MetricRunInput


@dataclass(frozen=True)
class RunSummary:
    metric_id: str
    run_id: int
    facets: int
    points: int
    submissions: int


def _finite(value: float) -> float | None:
    return None if value != value else value  # NaN limits (too few points) are stored as NULL


class MetricRunner:
    def __init__(
        self, database: Database, reader: GovernedReader, engine: Engine, audit: AuditLog
    ) -> None:
        self.database, self.reader, self.engine, self.audit = database, reader, engine, audit

    def run(self, actor: Actor, metric_id: str, today: date) -> RunSummary:
        definition = get_metric(metric_id)
        read = self.reader.read_standard(
            actor, Purpose.KPI_COMPUTATION, definition.dataset, Level.PSEUDONYMISED
        )
        if read.source is None:
            raise UserError(
                f"KPI {metric_id}: nothing has been published for dataset {definition.dataset} yet",
                hint=f"submit {definition.dataset} files first (carehub submit)",
            )
        with self.engine.session() as session:
            rows = session.rows(compile_metric(definition, read.source, self.engine))
        series = self._series(definition, rows)
        submission_ids = sorted({v.submission_id for v in read.versions})
        run_id = self._store(actor, definition, series, submission_ids, today)
        points = sum(len(result.points) for _, result in series.values())
        return RunSummary(metric_id, run_id, len(series), points, len(submission_ids))

    def _series(
        self, definition: MetricDefinition, rows: list[tuple[Any, ...]]
    ) -> dict[str, tuple[list[tuple[int, int]], SpcResult]]:
        grouped: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for facet, period, numerator, denominator in rows:
            if int(denominator or 0) > 0:
                grouped[str(facet)].append((str(period), int(numerator), int(denominator)))
        options = SpcOptions(
            improvement_direction=Direction(definition.improvement_direction),
            screen_outliers=definition.spc.screen_outliers,
            target=definition.target,
        )
        series = {}
        for facet, points in sorted(grouped.items()):
            dates = [Period.parse(p).start for p, _, _ in points]
            values = [n / d for _, n, d in points]
            series[facet] = ([(n, d) for _, n, d in points], xmr(dates, values, options))
        return series

    def _store(
        self,
        actor: Actor,
        definition: MetricDefinition,
        series: dict[str, tuple[list[tuple[int, int]], SpcResult]],
        submission_ids: list[int],
        today: date,
    ) -> int:
        freeze_days = definition.dataset_spec.freeze_after_days
        with self.database.session() as session:
            run = MetricRun(
                metric_id=definition.id,
                definition_sha256=definition_sha256(definition.id),
                computed_at=now_utc(),
                computed_by=actor.username,
                engine=self.engine.name,
            )
            session.add(run)
            session.flush()
            for facet, (counts, result) in series.items():
                for (numerator, denominator), point in zip(counts, result.points, strict=True):
                    period = Period.of(point.date)
                    session.add(
                        MetricPoint(
                            run_id=run.id,
                            facet=facet,
                            period=str(period),
                            numerator=numerator,
                            denominator=denominator,
                            value=point.value,
                            mean=_finite(point.mean),
                            lpl=_finite(point.lpl),
                            upl=_finite(point.upl),
                            nlpl=_finite(point.nlpl),
                            nupl=_finite(point.nupl),
                            special_cause_type=point.special_cause_type,
                            point_type=point.point_type,
                            period_status=period.status(freeze_days, today),
                        )
                    )
            session.add_all(MetricRunInput(run_id=run.id, submission_id=s) for s in submission_ids)
            pointer = session.get(CurrentMetricRun, definition.id)
            if pointer is None:
                session.add(CurrentMetricRun(metric_id=definition.id, run_id=run.id))
            else:
                pointer.run_id = run.id
            self.audit.record(
                session,
                actor,
                "metric.run",
                f"metric/{definition.id}",
                purpose=Purpose.KPI_COMPUTATION,
                detail={"run": run.id, "submissions": submission_ids, "facets": len(series)},
            )
            return run.id
