"""The world every feed is drawn from: the footprint, the residents, the periods and the planted
signals, with one independent random stream per feed, so that adding or changing one feed never
changes the bytes of another."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from carehub.model.periods import Period
from carehub.synth.footprint import Footprint
from carehub.synth.population import Resident


@dataclass(frozen=True)
class Signal:
    """A planted change in a KPI of one unit (a site, a provider), from ``start`` on."""

    kpi: str
    unit: str
    kind: str  # "step" or "trend"
    start: str  # yyyy-mm
    size: float  # step: change in level; trend: change per month
    months: int = 0  # trend length

    def effect(self, period: Period) -> float:
        start = Period.parse(self.start)
        elapsed = (period.year - start.year) * 12 + period.month - start.month
        if elapsed < 0:
            return 0.0
        return self.size if self.kind == "step" else self.size * min(elapsed + 1, self.months)


@dataclass(frozen=True)
class Defect:
    """A planted problem. ``stage`` says where carehub should find it: ``quarantine`` (a row
    rule), ``file`` (a whole-file check), or ``quality`` (a data quality check, not a row rule)."""

    file: str
    row: int  # data row, 1-based (0 for a whole-file defect)
    column: str
    kind: str
    stage: str = "quarantine"


@dataclass(frozen=True)
class Feed:
    org_code: str
    dataset: str
    period: str
    path: str  # relative to the output folder
    format: str = "csv"
    sent_on: str = ""  # the date the partner sends it (ISO); late files are recorded as defects


@dataclass
class World:
    seed: int
    out: Path
    periods: list[Period]
    footprint: Footprint
    residents: list[Resident]
    signals: tuple[Signal, ...]
    feeds: list[Feed] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)

    @staticmethod
    def stream_for(seed: int, name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    def stream(self, name: str) -> random.Random:
        """An independent, reproducible random stream for one feed or model."""
        return self.stream_for(self.seed, name)

    def signal_effect(self, kpi: str, unit: str, period: Period) -> float:
        return sum(s.effect(period) for s in self.signals if s.kpi == kpi and s.unit == unit)

    def area_of(self, resident: Resident) -> str:
        return self._areas[resident.lsoa]

    @property
    def _areas(self) -> dict[str, str]:
        cached: dict[str, str] | None = self.__dict__.get("_area_cache")
        if cached is None:
            cached = {lsoa.code: lsoa.name.rsplit(" ", 1)[0] for lsoa in self.footprint.lsoas}
            self.__dict__["_area_cache"] = cached
        return cached
