"""The computation behind each kind of run: the analytics library on a community's
incidents, results shaped for storage (JSON) and for the dashboards.

Each ``compute_*`` function takes an :class:`~beacon.insights.data.IncidentFrame`, the
run's offence groups, window and (cleaned) parameters, and returns the ``results``
dictionary. They call the library's public functions directly, so a stored result is
what the library returns on the same incidents.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from beacon.analytics import backtest, forecast, hotspots, nearrepeat, patrol
from beacon.analytics.evaluation import rate_ratio
from beacon.analytics.events import AnalysisInputError
from beacon.analytics.grid import Grid
from beacon.analytics.io import to_lonlat
from beacon.insights.data import IncidentFrame, day_number
from beacon.insights.stats import near_repeat_window, poisson_cusum

#: Fewest incidents each kind of run needs to say anything.
MIN_EVENTS = {"gi": 10, "kde": 3, "knox": 20, "forecast": 20}


@dataclass(frozen=True)
class Context:
    """What a computation needs besides the incidents: the community's places."""

    # H3 cells (hex strings) of the community at a resolution, or None.
    study_cells: Callable[[int], list[str] | None] = lambda resolution: None
    # Beat id of each (lat, lon) point, or None.
    beats_for: Callable[[Sequence[float], Sequence[float]], list[int | None]] = lambda lats, lons: (
        [None] * len(lats)
    )
    area_names: dict[int, str] = field(default_factory=dict)


def _need(kind: str, n: int) -> None:
    if n < MIN_EVENTS[kind]:
        raise AnalysisInputError(
            f"only {n} mapped incidents match the offence groups and dates; "
            f"a {kind} run needs at least {MIN_EVENTS[kind]}"
        )


# --------------------------------------------------------------------------- hot spots


def compute_gi(
    frame: IncidentFrame,
    groups: Sequence[str],
    start: dt.date,
    end: dt.date,
    params: dict[str, Any],
    context: Context,
) -> dict[str, Any]:
    """Getis-Ord Gi* on H3 cell counts, FDR-controlled (Benjamini-Hochberg)."""
    events = frame.events(groups, start, end)
    _need("gi", len(events))
    resolution = int(params["resolution"])
    area = context.study_cells(resolution)
    counts = hotspots.h3_counts(events, frame.crs, resolution, fill_k=1, area_cells=area)
    weights = hotspots.h3_weights(counts.cells, k=int(params["k"]))
    result = hotspots.getis_ord_gi_star(counts.counts, weights, alpha=float(params["alpha"]))
    geojson = hotspots.gi_star_geojson(counts, result)
    cells = []
    for i, cell in enumerate(counts.cells):
        z = float(result.z[i])
        significant = bool(result.significant[i])
        cells.append(
            {
                "cell": cell,
                "count": int(counts.counts[i]),
                "z": z,
                "p": float(result.p_value[i]),
                "significant": significant,
                "class": ("hot" if z > 0 else "cold") if significant else "ns",
            }
        )
    # The dashboard colours by our short class names; keep the library's label too.
    for feature, row in zip(geojson["features"], cells, strict=True):
        feature["properties"]["class"] = row["class"]
    hot = sum(1 for c in cells if c["class"] == "hot")
    cold = sum(1 for c in cells if c["class"] == "cold")
    return {
        "n_events": len(events),
        "n_cells": len(cells),
        "in_area": int(counts.counts.sum()),
        "hot": hot,
        "cold": cold,
        "study_area": "community" if area is not None else "occupied cells and neighbours",
        "cells": cells,
        "geojson": geojson,
    }


def compute_kde(
    frame: IncidentFrame,
    groups: Sequence[str],
    start: dt.date,
    end: dt.date,
    params: dict[str, Any],
    context: Context,
) -> dict[str, Any]:
    """Kernel density surface; the densest ``top_share`` of its cells as polygons."""
    events = frame.events(groups, start, end)
    _need("kde", len(events))
    surface = hotspots.kde(
        events,
        bandwidth=float(params["bandwidth_m"]),
        cell_size=float(params["cell_size_m"]),
        kernel=str(params["kernel"]),
    )
    per_km2 = surface.values * 1e6
    positive = np.sort(per_km2[per_km2 > 0])
    if len(positive) == 0:
        raise AnalysisInputError("the density surface is zero everywhere")
    # The threshold keeps the densest top_share of the cells with any density.
    keep = max(1, round(float(params["top_share"]) * len(positive)))
    threshold = float(positive[len(positive) - keep]) if keep < len(positive) else 0.0
    # kde_geojson keeps cells strictly above the threshold: step just below it.
    threshold = float(np.nextafter(threshold, 0.0)) if threshold > 0 else 0.0
    geojson = hotspots.kde_geojson(surface, frame.crs, threshold=threshold)
    ny, nx = surface.shape
    return {
        "n_events": len(events),
        "grid": {"x0": surface.x0, "y0": surface.y0, "cell_size_m": surface.cell_size},
        "shape": [ny, nx],
        "crs": frame.crs,
        "total": surface.total(),
        "max_per_km2": float(per_km2.max()),
        "threshold_per_km2": threshold,
        "cells_shown": len(geojson["features"]),
        "geojson": geojson,
    }


# --------------------------------------------------------------------------- near repeat


def compute_knox(
    frame: IncidentFrame,
    groups: Sequence[str],
    start: dt.date,
    end: dt.date,
    params: dict[str, Any],
    context: Context,
) -> dict[str, Any]:
    """Knox test (Near Repeat Calculator conventions) and the risk window it implies."""
    events = frame.events(groups, start, end)
    _need("knox", len(events))
    result = nearrepeat.knox(
        events,
        space_bandwidth=float(params["space_bandwidth_m"]),
        space_bands=int(params["space_bands"]),
        time_bandwidth=int(params["time_bandwidth_days"]),
        time_bands=int(params["time_bands"]),
        permutations=int(params["permutations"]),
        seed=int(params["seed"]),
    )
    table = result.to_dict()
    zone = near_repeat_window(table, float(params["alpha"]), float(params["min_ratio"]))
    return {**table, "zone": zone}


# --------------------------------------------------------------------------- forecast


def _cell_polygon(grid: Grid, cell: int, crs: str) -> list[list[list[float]]]:
    ix, iy = cell % grid.nx, cell // grid.nx
    x0, y0, s = grid.x0 + ix * grid.cell_size, grid.y0 + iy * grid.cell_size, grid.cell_size
    lon, lat = to_lonlat([x0, x0 + s, x0 + s, x0], [y0, y0, y0 + s, y0 + s], crs)
    ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]
    ring.append(ring[0])
    return [ring]


def compute_forecast(
    frame: IncidentFrame,
    groups: Sequence[str],
    start: dt.date,
    end: dt.date,
    params: dict[str, Any],
    context: Context,
) -> dict[str, Any]:
    """Next week's forecast after ``end``, the top cells, a patrol plan per beat, and a
    backtest of the method over the window's last weeks."""
    events = frame.events(groups, start, end)
    _need("forecast", len(events))
    method = str(params["method"])
    now = day_number(end + dt.timedelta(days=1))
    grid = Grid.from_events(events, float(params["cell_size_m"]))
    fitted = forecast.make_forecaster(method, grid).fit(events, now=now)
    study = np.unique(grid.cells(events))
    scores = fitted.score(study)
    n_top = backtest.coverage_cells(float(params["coverage"]), len(study))
    top = backtest.select_top(scores, study, n_top)
    score_of = {int(c): float(s) for c, s in zip(study, scores, strict=True)}
    cx, cy = grid.centres(study)
    lon, lat = to_lonlat(cx, cy, frame.crs)
    beat_list = context.beats_for(lat.tolist(), lon.tolist())
    beat_of = {int(c): b for c, b in zip(study, beat_list, strict=True) if b is not None}

    features = []
    for rank, cell in enumerate(top.tolist(), 1):
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": _cell_polygon(grid, cell, frame.crs),
                },
                "properties": {
                    "rank": rank,
                    "cell": cell,
                    "score": score_of[cell],
                    "beat": beat_of.get(cell),
                },
            }
        )

    plans: list[dict[str, Any]] = []
    units = int(params["units_per_beat"])
    for beat_id in sorted(set(beat_of.values())):
        cells = [c for c, b in beat_of.items() if b == beat_id]
        plan = patrol.plan_patrols(
            grid,
            cells,
            [score_of[c] for c in cells],
            {c: beat_id for c in cells},
            units=units,
            max_cells=int(params["max_cells"]),
        )
        plans.append(
            {
                "beat": beat_id,
                "beat_name": context.area_names.get(beat_id, ""),
                "total": plan.total,
                "covered": plan.expected_covered,
                "bound": plan.bound,
                "share_of_bound": plan.share_of_bound,
                "units": [
                    {
                        "unit": u.unit + 1,
                        "cells": list(u.cells),
                        "expected": u.expected,
                        "contiguous": u.contiguous,
                        "geometry": {
                            "type": "MultiPolygon",
                            "coordinates": [_cell_polygon(grid, c, frame.crs) for c in u.cells],
                        },
                    }
                    for u in plan.units
                ],
            }
        )
    plans.sort(key=lambda p: -float(p["total"]))

    evaluation: dict[str, Any] | None = None
    weeks = int(params["backtest_weeks"])
    history_days = float(events.t.max() - events.t.min())
    if weeks and history_days > 7 * (weeks + 1):
        # How the method did over the window's last weeks, against plain past counts.
        methods = [method] if method == "naive" else [method, "naive"]
        coverages = sorted({*backtest.DEFAULT_COVERAGES, float(params["coverage"])})
        bt = backtest.run_backtest(
            events,
            methods,
            start=now - 7.0 * weeks,
            weeks=weeks,
            cell_size=grid.cell_size,
            coverages=coverages,
        )
        evaluation = {
            "weeks": weeks,
            "start": (end + dt.timedelta(days=1 - 7 * weeks)).isoformat(),
            "study_cells": bt.study_cells,
            "methods": {
                name: [
                    {
                        "coverage": f.coverage,
                        "n_cells": f.n_cells,
                        "hits": f.hits,
                        "events": f.events,
                        "hit_rate": _finite(f.hit_rate),
                        "pai": _finite(f.pai),
                        "pei": _finite(f.pei),
                    }
                    for f in r.figures
                ]
                for name, r in bt.methods.items()
            },
        }
    return {
        "n_events": len(events),
        "method": method,
        "method_params": _jsonable(fitted.params()),
        "forecast_start": (end + dt.timedelta(days=1)).isoformat(),
        "forecast_end": (end + dt.timedelta(days=7)).isoformat(),
        "grid": {
            "x0": grid.x0,
            "y0": grid.y0,
            "cell_size_m": grid.cell_size,
            "nx": grid.nx,
            "ny": grid.ny,
        },
        "crs": frame.crs,
        "study_cells": len(study),
        "top_cells": n_top,
        "geojson": {"type": "FeatureCollection", "features": features},
        "plans": plans,
        "backtest": evaluation,
    }


def _finite(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- trends


def compute_trend(
    frame: IncidentFrame,
    groups: Sequence[str],
    start: dt.date,
    end: dt.date,
    params: dict[str, Any],
    context: Context,
) -> dict[str, Any]:
    """Offence groups rising beyond expectation in a neighbourhood or beat.

    Each (area, offence group) compares its count in the last ``current_days`` days of
    the window with its own history before them. ``poisson``: the exact conditional
    Poisson test of the two rates (:func:`beacon.analytics.evaluation.rate_ratio`), with
    Benjamini-Hochberg control of the false discovery rate over every series tested;
    ``cusum``: a Poisson CUSUM of the weekly counts of the current period against the
    history's weekly rate. Series with fewer than ``min_count`` current incidents are
    not tested.
    """
    current_days = int(params["current_days"])
    current_start = end - dt.timedelta(days=current_days - 1)
    # History starts at the window start, or at the community's first data if later.
    history_start = max(start, frame.first_day or start)
    history_days = (current_start - history_start).days
    if history_days < 28:
        raise AnalysisInputError(
            f"only {max(history_days, 0)} days of history before the current period; "
            "a trend test needs at least 28 (widen the window)"
        )
    mask = frame.mask(groups, history_start, end)
    days = frame.days[mask]
    group_codes = frame.groups[mask]
    current = days >= day_number(current_start)
    week_index = np.floor((days - day_number(current_start)) / 7.0).astype(np.int64)
    n_weeks = -(-current_days // 7)
    series: list[dict[str, Any]] = []
    for kind, area_ids in (
        ("neighbourhood", frame.neighbourhood_ids[mask]),
        ("beat", frame.beat_ids[mask]),
    ):
        before: Counter[tuple[int, str]] = Counter()
        after: Counter[tuple[int, str]] = Counter()
        weekly: dict[tuple[int, str], list[int]] = {}
        for area, group, is_current, week in zip(
            area_ids.tolist(),
            group_codes.tolist(),
            current.tolist(),
            week_index.tolist(),
            strict=True,
        ):
            if area < 0:
                continue
            key = (area, group)
            if is_current:
                after[key] += 1
                weekly.setdefault(key, [0] * n_weeks)[min(week, n_weeks - 1)] += 1
            else:
                before[key] += 1
        for key in sorted(set(before) | set(after)):
            series.append(
                {
                    "area_kind": kind,
                    "area": key[0],
                    "area_name": context.area_names.get(key[0], ""),
                    "offence_group": key[1],
                    "observed": after[key],
                    "history": before[key],
                    "weekly": weekly.get(key, [0] * n_weeks),
                }
            )
    method = str(params["method"])
    tested = [s for s in series if s["observed"] >= int(params["min_count"])]
    alerts: list[dict[str, Any]] = []

    def test(s: dict[str, Any]) -> dict[str, Any]:
        rr = rate_ratio(
            s["history"],
            s["observed"],
            exposure_before=history_days,
            exposure_after=current_days,
            alpha=float(params["alpha"]),
        )
        return {
            **s,
            "expected": s["history"] * current_days / history_days,
            "ratio": _finite(rr.ratio),
            "ci_low": _finite(rr.ci_low),
            "ci_high": _finite(rr.ci_high),
            "p_value": rr.p_value,
        }

    if method == "poisson":
        tested = [test(s) for s in tested]
        significant = hotspots.benjamini_hochberg(
            [s["p_value"] for s in tested], float(params["alpha"])
        )
        for s, flag in zip(tested, significant.tolist(), strict=True):
            ratio = s["ratio"]
            rising = ratio is None or ratio >= float(params["min_ratio"])
            if flag and rising:
                alerts.append({**s, "method": "poisson"})
    else:
        for s in tested:
            # No history: half an incident over the history stands in for the rate, so
            # the CUSUM can still be computed (and anything recurring signals).
            weekly_rate = max(s["history"], 0.5) * 7.0 / history_days
            cusum = poisson_cusum(
                s["weekly"], weekly_rate, float(params["cusum_shift"]), float(params["cusum_h"])
            )
            if cusum.signalled:
                # The rate test's figures too, so both methods show the same columns.
                alerts.append(
                    {
                        **test(s),
                        "method": "cusum",
                        "cusum": {
                            "baseline_rate": cusum.baseline_rate,
                            "shifted_rate": cusum.shifted_rate,
                            "k": cusum.k,
                            "h": cusum.h,
                            "path": cusum.path,
                            "signal_week": cusum.signal_week,
                        },
                    }
                )
    alerts.sort(key=lambda a: (a["p_value"], -a["observed"]))
    return {
        "method": method,
        "current_start": current_start.isoformat(),
        "current_end": end.isoformat(),
        "current_days": current_days,
        "history_start": history_start.isoformat(),
        "history_days": history_days,
        "series": len(series),
        "tested": len(tested),
        "alerts": alerts,
    }


COMPUTE: dict[str, Callable[..., dict[str, Any]]] = {
    "gi": compute_gi,
    "kde": compute_kde,
    "knox": compute_knox,
    "forecast": compute_forecast,
    "trend": compute_trend,
}
