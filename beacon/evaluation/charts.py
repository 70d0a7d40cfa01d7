"""Charts of the dashboard and the PDF, drawn with matplotlib as SVG data URIs.

``matplotlib.figure.Figure`` is used directly (not pyplot) so drawing is safe in any
web or worker thread.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from beacon.evaluation.indicators import Indicator

matplotlib.rcParams["svg.hashsalt"] = "beacon"  # the same chart gives the same SVG
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: selectable and small

INK, ACCENT, MUTED = "#1b1b1b", "#1f5fa8", "#9aa5b1"


def _data_uri(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def incidents_chart(indicator: Indicator, before_label: str, after_label: str) -> str | None:
    """Incidents by offence group in the two periods (grouped bars)."""
    if not indicator.available or not indicator.rows:
        return None
    rows = sorted(indicator.rows, key=lambda r: -(r[1] + r[2]))[:10]
    labels = [str(r[0]) for r in rows]
    figure = Figure(figsize=(7, 0.35 * len(rows) + 1.2))
    axes = figure.subplots()
    positions = range(len(rows))
    axes.barh(
        [p + 0.2 for p in positions],
        [r[1] for r in rows],
        height=0.4,
        color=MUTED,
        label=before_label,
    )
    axes.barh(
        [p - 0.2 for p in positions],
        [r[2] for r in rows],
        height=0.4,
        color=ACCENT,
        label=after_label,
    )
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.set_xlabel("incidents")
    axes.legend(frameon=False, loc="lower right")
    _tidy(axes)
    return _data_uri(figure)


def trust_chart(area_estimates: list[tuple[str, Any]]) -> str | None:
    """Each area's trust index with its 95% confidence interval (suppressed areas left out)."""
    shown = [(name, e) for name, e in area_estimates if not e.suppressed and e.mean is not None]
    if not shown:
        return None
    shown.sort(key=lambda item: item[1].mean)
    figure = Figure(figsize=(7, 0.3 * len(shown) + 1.2))
    axes = figure.subplots()
    means = [e.mean for _n, e in shown]
    lows = [e.mean - e.ci_low for _n, e in shown]
    highs = [e.ci_high - e.mean for _n, e in shown]
    axes.errorbar(
        means, range(len(shown)), xerr=[lows, highs], fmt="o", color=ACCENT, ecolor=MUTED, capsize=3
    )
    axes.set_yticks(list(range(len(shown))), [n for n, _e in shown])
    axes.set_xlim(0, 100)
    axes.set_xlabel("trust index (0–100), 95% CI")
    _tidy(axes)
    return _data_uri(figure)


def _tidy(axes: Any) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=INK, labelsize=8)
