"""The printable assessment report: figures, verdict, charts and a map, as PDF.

Charts are drawn with matplotlib through the evaluation app's helpers (SVG data URIs,
so WeasyPrint never fetches anything); the map, with its thousands of points, is a PNG
data URI. The PDF reuses the evaluation report's stylesheet with a few additions.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from shapely import geometry as sg
from shapely.geometry.base import BaseGeometry

from beacon.core.services import community_boundary
from beacon.evaluation.charts import ACCENT, INK, MUTED, _data_uri, _tidy
from beacon.evaluation.report import CSS_FILE as EVALUATION_CSS
from beacon.incidents import taxonomy
from beacon.problems import counting
from beacon.problems.assessment import ZONES, Zones, zones_of
from beacon.problems.models import Assessment, Problem

CSS_FILE = Path(__file__).resolve().parent / "static" / "problems" / "report.css"
ZONE_COLOURS = {
    "target": ACCENT,
    "buffer": "#d98a00",
    "control": "#2e6b1f",
    "control_buffer": "#8fbf7f",
}


def zone_labels() -> dict[str, str]:
    """The zones' names in the reader's language."""
    return {
        "target": _("Problem area"),
        "buffer": _("Buffer"),
        "control": _("Control area"),
        "control_buffer": _("Control buffer"),
    }


@dataclass
class ReportData:
    """Everything the assessment page and PDF show."""

    problem: Problem
    assessment: Assessment
    rows: list[dict[str, Any]]
    charts: dict[str, str]
    offences: str
    generated_at: Any


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months = []
    month = dt.date(start.year, start.month, 1)
    while month < end:
        months.append(month)
        month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return months


def zone_points(
    assessment: Assessment, zones: Zones
) -> dict[str, list[tuple[float, float, dt.date, dt.date]]]:
    """Incidents in each zone over both periods: (lat, lon, local date, month)."""
    problem = assessment.problem
    offences = counting.Filter(tuple(assessment.offence_groups), tuple(assessment.offences or ()))
    result: dict[str, list[tuple[float, float, dt.date, dt.date]]] = {}
    for name in ZONES:
        rows = counting.incidents_in(
            problem.community,
            zones.get(name),
            offences,
            start=assessment.before_start,
            end=assessment.after_end,
            fields=("pk", "lat", "lon", "occurred_from", "local_month"),
        )
        tz = ZoneInfo(problem.community.timezone)
        result[name] = [(r[1], r[2], r[3].astimezone(tz).date(), r[4]) for r in rows]
    return result


def trend_chart(assessment: Assessment, points: dict[str, list[Any]]) -> str:
    """Monthly incidents per zone over both periods, the response start marked."""
    # matplotlib plots dates, though its stubs only speak of numbers.
    months: Any = _months(assessment.before_start, assessment.after_end)
    start: Any = assessment.after_start
    labels = zone_labels()
    figure = Figure(figsize=(7, 2.8))
    axes = figure.subplots()
    for name in ("target", "buffer", "control"):
        per_month = Counter(p[3] for p in points[name])
        axes.plot(
            months,
            [per_month.get(m, 0) for m in months],
            marker="o",
            markersize=3,
            color=ZONE_COLOURS[name],
            label=labels[name],
        )
    axes.axvline(start, color=INK, linestyle="--", linewidth=1)
    axes.annotate(
        _("response starts"),
        (start, 1),
        xycoords=("data", "axes fraction"),
        xytext=(3, -10),
        textcoords="offset points",
        fontsize=7,
        color=INK,
    )
    axes.set_ylabel(_("incidents per month"))
    axes.legend(frameon=False, fontsize=7, loc="upper left")
    figure.autofmt_xdate()
    _tidy(axes)
    return _data_uri(figure)


def counts_chart(assessment: Assessment) -> str:
    """Before and after counts per zone (grouped bars)."""
    labels = zone_labels()
    names = list(ZONES)
    figure = Figure(figsize=(7, 2.4))
    axes = figure.subplots()
    positions = range(len(names))
    before = [assessment.counts[n][0] for n in names]
    after = [assessment.counts[n][1] for n in names]
    axes.bar([p - 0.2 for p in positions], before, width=0.4, color=MUTED, label=_("before"))
    axes.bar([p + 0.2 for p in positions], after, width=0.4, color=ACCENT, label=_("after"))
    axes.set_xticks(list(positions), [labels[n] for n in names])
    axes.set_ylabel(_("incidents"))
    axes.legend(frameon=False, fontsize=7)
    _tidy(axes)
    return _data_uri(figure)


def _draw(axes: Any, shape: BaseGeometry, **style: Any) -> None:
    polygons = getattr(shape, "geoms", [shape])
    for polygon in polygons:
        if not isinstance(polygon, sg.Polygon) or polygon.is_empty:
            continue
        xs, ys = polygon.exterior.xy
        axes.fill(list(xs), list(ys), **style)
        for hole in polygon.interiors:
            hx, hy = hole.xy
            axes.fill(
                list(hx),
                list(hy),
                facecolor="white",
                edgecolor=style.get("edgecolor", INK),
                linewidth=0.5,
            )


def _png_uri(figure: Figure, dpi: int = 150) -> str:
    """A PNG data URI: the map holds thousands of points, which as SVG would make the
    page and the PDF slow to draw."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def map_image(assessment: Assessment, zones: Zones, points: dict[str, list[Any]]) -> str:
    """The zones and their incidents (before grey, after blue), in an equal-distance view."""
    figure = Figure(figsize=(7, 5.2))
    axes = figure.subplots()
    labels = zone_labels()
    everything = sg.GeometryCollection(
        [
            z
            for z in (zones.target, zones.buffer, zones.control, zones.control_buffer)
            if not z.is_empty
        ]
    )
    west, south, east, north = everything.bounds
    pad_x, pad_y = (east - west) * 0.08 or 0.005, (north - south) * 0.08 or 0.005
    boundary = community_boundary(assessment.problem.community)
    if boundary is not None:
        _draw(axes, boundary, facecolor="#f6f6f6", edgecolor="#bbbbbb", linewidth=0.6)
    for name in ("control_buffer", "control", "buffer", "target"):
        shape = zones.get(name)
        _draw(
            axes,
            shape,
            facecolor=ZONE_COLOURS[name],
            edgecolor=ZONE_COLOURS[name],
            alpha=0.25 if name != "target" else 0.35,
            linewidth=1.0,
        )
    every = [p for name in ZONES for p in points[name]]
    for after, colour in ((False, "#555555"), (True, ACCENT)):
        chosen = [p for p in every if (p[2] >= assessment.after_start) == after]
        if chosen:
            axes.plot(
                [p[1] for p in chosen],
                [p[0] for p in chosen],
                ".",
                markersize=2.2,
                color=colour,
                alpha=0.8,
            )
    handles = [Patch(facecolor=ZONE_COLOURS[n], alpha=0.4, label=labels[n]) for n in ZONES]
    handles += [
        Patch(facecolor="#555555", label=_("incident before")),
        Patch(facecolor=ACCENT, label=_("incident after")),
    ]
    axes.legend(
        handles=handles, frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0)
    )
    axes.set_xlim(west - pad_x, east + pad_x)
    axes.set_ylim(south - pad_y, north + pad_y)
    # Degrees of longitude shrink with latitude: this keeps metres square on the page.
    axes.set_aspect(1 / math.cos(math.radians((south + north) / 2)))
    axes.set_xticks([])
    axes.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)
    return _png_uri(figure)


def figure_rows(assessment: Assessment) -> list[dict[str, Any]]:
    """The zones' counts with their change, for the table."""
    labels = zone_labels()
    rows = []
    for name in ZONES:
        before, after = assessment.counts[name]
        rows.append(
            {
                "zone": name,
                "label": labels[name],
                "before": before,
                "after": after,
                "change": after - before,
            }
        )
    return rows


def offences_label(problem: Problem | Assessment) -> str:
    """The offences or offence groups in words."""
    codes = list(problem.offences or [])
    if codes:
        return ", ".join(taxonomy.OFFENCES[c].label for c in codes if c in taxonomy.OFFENCES)
    return ", ".join(
        taxonomy.GROUPS[g].label for g in problem.offence_groups if g in taxonomy.GROUPS
    )


def build(assessment: Assessment, *, with_charts: bool = True) -> ReportData:
    """The assessment's table, charts and map."""
    charts: dict[str, str] = {}
    if with_charts:
        zones = zones_of(assessment)
        points = zone_points(assessment, zones)
        charts = {
            "map": map_image(assessment, zones, points),
            "trend": trend_chart(assessment, points),
            "counts": counts_chart(assessment),
        }
    return ReportData(
        problem=assessment.problem,
        assessment=assessment,
        rows=figure_rows(assessment),
        charts=charts,
        offences=offences_label(assessment),
        generated_at=timezone.now(),
    )


def report_html(data: ReportData) -> str:
    """The HTML the PDF is made from."""
    problem = data.problem
    return render_to_string(
        "problems/assessment_report.html",
        {
            "r": data,
            "a": data.assessment,
            "problem": problem,
            "community": problem.community,
            "results": data.assessment.results,
            "tasks": problem.tasks.select_related("owner_user", "owner_partner", "owner_group"),
            "questions": problem.questions.all(),
        },
    )


def report_pdf(data: ReportData) -> bytes:
    """The assessment report as PDF bytes."""
    from weasyprint import CSS, HTML

    return bytes(
        HTML(string=report_html(data)).write_pdf(
            stylesheets=[CSS(filename=str(EVALUATION_CSS)), CSS(filename=str(CSS_FILE))]
        )
    )


def report_filename(assessment: Assessment) -> str:
    """``problem-<id>-assessment-<id>.pdf``."""
    return f"problem-{assessment.problem_id}-assessment-{assessment.pk}.pdf"
