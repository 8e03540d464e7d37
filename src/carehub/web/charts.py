"""SPC charts as Vega-Lite specifications, rendered to SVG on the server (no browser JS)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import vl_convert

from carehub.platform import PointView

# Making Data Count colours: grey common cause, orange concern, blue improvement, purple neutral.
POINT_COLOURS = {
    "common_cause": "#7F7F7F",
    "special_cause_concern": "#ED8B00",
    "special_cause_improvement": "#005EB8",
    "special_cause_neutral_high": "#6B2C91",
    "special_cause_neutral_low": "#6B2C91",
}
POINT_LABELS = {
    "common_cause": "Common cause",
    "special_cause_concern": "Special cause: concern",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_neutral_high": "Special cause: neutral (high)",
    "special_cause_neutral_low": "Special cause: neutral (low)",
}
CHART_WIDTH, CHART_HEIGHT = 640, 260


def _rows(points: Sequence[PointView], target: float | None) -> list[dict[str, Any]]:
    return [
        {
            "period": f"{p.period}-01",
            "value": p.value,
            "mean": p.mean,
            "upl": p.upl,
            "lpl": p.lpl,
            "target": target,
            "kind": POINT_LABELS.get(p.point_type, p.point_type),
            "status": p.period_status,
        }
        for p in points
        if p.value is not None
    ]


def _rule(field: str, colour: str, dash: list[int]) -> dict[str, Any]:
    return {
        "mark": {
            "type": "line",
            "color": colour,
            "strokeDash": dash,
            "strokeWidth": 1.5,
            "interpolate": "step-after",
        },
        "encoding": {"y": {"field": field, "type": "quantitative"}},
    }


def _kinds(direction: str) -> list[str]:
    """The point types a KPI with this improvement direction can show."""
    neutral = direction == "neutral"
    return [k for k in POINT_LABELS if (k == "common_cause") or (("neutral" in k) == neutral)]


def spc_spec(
    title: str, points: Sequence[PointView], target: float | None, direction: str
) -> dict[str, Any]:
    kinds = _kinds(direction)
    layers: list[dict[str, Any]] = [
        _rule("upl", "#425563", [4, 3]),
        _rule("lpl", "#425563", [4, 3]),
        _rule("mean", "#231F20", []),
        {
            "mark": {"type": "line", "color": "#768692", "strokeWidth": 1.5},
            "encoding": {"y": {"field": "value", "type": "quantitative"}},
        },
        {
            "mark": {"type": "point", "filled": True, "size": 60, "opacity": 1},
            "encoding": {
                "y": {"field": "value", "type": "quantitative"},
                "color": {
                    "field": "kind",
                    "type": "nominal",
                    "title": "Variation",
                    "scale": {
                        "domain": [POINT_LABELS[k] for k in kinds],
                        "range": [POINT_COLOURS[k] for k in kinds],
                    },
                    "legend": {"labelLimit": 260},
                },
                "shape": {
                    "field": "status",
                    "type": "nominal",
                    "title": "Period",
                    "scale": {
                        "domain": ["final", "provisional"],
                        "range": ["circle", "triangle-up"],
                    },
                },
            },
        },
    ]
    if target is not None:
        layers.append(_rule("target", "#DA291C", [1, 2]))
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": title, "anchor": "start", "fontSize": 14},
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "data": {"values": _rows(points, target)},
        "encoding": {
            "x": {
                "field": "period",
                "type": "temporal",
                "title": "Month",
                "axis": {"format": "%b %Y", "labelAngle": -40},
            },
            "y": {
                "type": "quantitative",
                "title": "Within 4 hours",
                "axis": {"format": ".0%"},
                "scale": {"zero": False},
            },
        },
        "layer": layers,
        "config": {"font": "Arial", "view": {"stroke": None}},
    }


def render_svg(spec: dict[str, Any]) -> str:
    """The chart as an inline SVG, marked as an image whose text alternative is nearby."""
    svg: str = vl_convert.vegalite_to_svg(spec)
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
