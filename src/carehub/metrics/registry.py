"""The KPI catalogue: every YAML file in ``carehub/metrics/definitions``."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from carehub.errors import NotFound
from carehub.model.metrics import MetricDefinition
from carehub.model.yaml_loading import load_model

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _folder() -> Traversable:
    return resources.files("carehub.metrics") / "definitions"


@cache
def metric_ids() -> tuple[str, ...]:
    names = (p.name.removesuffix(".yaml") for p in _folder().iterdir() if p.name.endswith(".yaml"))
    return tuple(sorted(names))


def definition_text(metric_id: str) -> str:
    if not _ID.match(metric_id) or metric_id not in metric_ids():
        raise NotFound(
            f"there is no KPI called {metric_id!r}", hint=f"known KPIs: {', '.join(metric_ids())}"
        )
    return (_folder() / f"{metric_id}.yaml").read_text(encoding="utf-8")


@cache
def get_metric(metric_id: str) -> MetricDefinition:
    definition = load_model(
        MetricDefinition, definition_text(metric_id), f"metrics/definitions/{metric_id}.yaml"
    )
    if definition.id != metric_id:
        raise ValueError(f"metrics/definitions/{metric_id}.yaml declares id {definition.id}")
    return definition


def definition_sha256(metric_id: str) -> str:
    return hashlib.sha256(definition_text(metric_id).encode()).hexdigest()


def all_metrics() -> tuple[MetricDefinition, ...]:
    return tuple(get_metric(m) for m in metric_ids())
