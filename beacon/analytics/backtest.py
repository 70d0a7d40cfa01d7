"""Rolling-origin evaluation of forecasters: hit rate, PAI and PEI.

The protocol, exactly:

* The grid is :meth:`Grid.from_events` over *all* events given.
* Test week k (k = 0..K-1) covers ``[T0 + 7k, T0 + 7(k+1))`` days.
* The study area is the set of cells holding at least one event before T0; its
  size is A.
* For week k each method is fitted on the events before the week starts only,
  with ``now`` = the week's start (a fresh fit every week), then scores the
  study cells.
* For coverage c, the ``n_c = round(c * A)`` top-scoring study cells are chosen,
  ties going to the lower cell index. ``round`` is Python's built-in, which
  rounds halves to the even integer (``round(2.5) == 2``).
* hits = the week's events in chosen cells; N = the week's events in the study
  area; n* = the sum of the ``n_c`` largest study-cell counts of the week.
* Over all weeks: hit rate = sum(hits) / sum(N); PAI = hit rate / (n_c / A);
  PEI = sum(hits) / sum(n*). A ratio with a zero denominator is reported as NaN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.forecast import METHODS, Forecaster, _canonical
from beacon.analytics.grid import FloatArray, Grid, IntArray

DEFAULT_COVERAGES: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2)

Factory = Callable[[Grid], Forecaster]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CoverageFigures:
    """Totals and ratios over all test weeks at one coverage.

    Attributes
    ----------
    coverage : float
        Requested share of the study area.
    n_cells : int
        ``n_c = round(coverage * A)`` cells chosen each week.
    hits, events, best : int
        Sums over weeks of hits, N and n*.
    hit_rate, pai, pei : float
        ``hits / events``, ``hit_rate / (n_cells / A)``, ``hits / best`` (NaN when
        undefined).
    """

    coverage: float
    n_cells: int
    hits: int
    events: int
    best: int
    hit_rate: float
    pai: float
    pei: float


@dataclass
class MethodResult:
    """One method's backtest: figures per coverage, weekly detail and wall time."""

    method: str
    params: dict[str, Any]
    figures: list[CoverageFigures]
    weekly: list[dict[str, Any]]
    seconds: float

    def at(self, coverage: float) -> CoverageFigures:
        """Figures at ``coverage`` (exact match of a requested coverage)."""
        for f in self.figures:
            if math.isclose(f.coverage, coverage):
                return f
        raise KeyError(coverage)


@dataclass
class BacktestResult:
    """The whole backtest: set-up and one :class:`MethodResult` per method."""

    start: float
    weeks: int
    cell_size: float
    grid: Grid
    study_cells: int
    coverages: tuple[float, ...]
    methods: dict[str, MethodResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes None)."""
        return _jsonable(
            {
                "protocol": {
                    "start_days_since_epoch": self.start,
                    "weeks": self.weeks,
                    "cell_size_m": self.cell_size,
                    "grid": asdict(self.grid),
                    "study_cells": self.study_cells,
                    "coverages": list(self.coverages),
                    "rounding": "Python round(): halves to even",
                },
                "methods": {
                    name: {
                        "params": r.params,
                        "seconds": r.seconds,
                        "figures": [asdict(f) for f in r.figures],
                        "weekly": r.weekly,
                    }
                    for name, r in self.methods.items()
                },
            }
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def coverage_cells(coverage: float, study_size: int) -> int:
    """Number of cells ``round(coverage * study_size)`` (Python rounding, halves to even).

    Examples
    --------
    >>> coverage_cells(0.05, 50), coverage_cells(0.05, 30), coverage_cells(0.05, 70)
    (2, 2, 4)
    """
    return round(coverage * study_size)


def select_top(scores: npt.ArrayLike, cells: npt.ArrayLike, n: int) -> IntArray:
    """The ``n`` cells with the highest scores, ties to the lower cell index.

    Examples
    --------
    >>> select_top([1.0, 3.0, 3.0, 2.0], [7, 9, 4, 1], 2).tolist()
    [4, 9]
    """
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(cells, dtype=np.int64)
    order = np.lexsort((c, -s))
    return c[order[:n]]


def evaluate_week(
    scores: npt.ArrayLike,
    study: npt.ArrayLike,
    week_cells: npt.ArrayLike,
    coverages: Sequence[float],
) -> list[tuple[int, int, int, int]]:
    """Hits, N, n* and n_c for one week, per coverage.

    Parameters
    ----------
    scores : array_like
        Score of each study cell, aligned with ``study``.
    study : array_like of int
        Study-area cell indices (distinct).
    week_cells : array_like of int
        Cell index of each event of the week (any cells; those outside the study
        area are not counted).
    coverages : sequence of float

    Returns
    -------
    list of (hits, N, n_star, n_c)

    Examples
    --------
    >>> evaluate_week([5.0, 1.0, 3.0], [10, 11, 12], [11, 11, 12, 99], [0.34])
    [(0, 3, 2, 1)]
    """
    s = np.asarray(scores, dtype=np.float64)
    st = np.asarray(study, dtype=np.int64)
    if s.shape != st.shape:
        raise AnalysisInputError("one score per study cell is needed")
    if not np.all(np.isfinite(s)):
        raise AnalysisInputError("forecast scores must be finite numbers")
    order_study = np.argsort(st, kind="stable")
    st_sorted = st[order_study]
    wc = np.asarray(week_cells, dtype=np.int64)
    pos = np.searchsorted(st_sorted, wc)
    pos = np.clip(pos, 0, max(len(st_sorted) - 1, 0))
    inside = (st_sorted[pos] == wc) if len(st_sorted) else np.zeros(len(wc), dtype=bool)
    counts_sorted = np.bincount(pos[inside], minlength=len(st_sorted))
    counts = np.empty_like(counts_sorted)
    counts[order_study] = counts_sorted
    total = int(counts.sum())
    rank = np.lexsort((st, -s))
    cum_hits = np.r_[0, np.cumsum(counts[rank])]
    cum_best = np.r_[0, np.cumsum(np.sort(counts)[::-1])]
    out = []
    for c in coverages:
        n_c = coverage_cells(c, len(st))
        out.append((int(cum_hits[n_c]), total, int(cum_best[n_c]), n_c))
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def run_backtest(
    events: Events,
    methods: Mapping[str, Factory] | Sequence[str],
    start: float,
    weeks: int,
    cell_size: float = 150.0,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest forecasters under the weekly protocol described in the module doc.

    Parameters
    ----------
    events : Events
        All events of the file (training and test).
    methods : mapping of name -> factory(grid), or sequence of names from ``METHODS``
    start : float
        T0 in days since the epoch.
    weeks : int
        Number of test weeks K.
    cell_size : float, default 150
    coverages : sequence of float, default (0.01, 0.05, 0.1, 0.2)
    progress : callable(method, week, weeks), optional
        Called after each week of each method.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> ev = Events.from_arrays([10, 10, 200, 10, 200], [10, 10, 10, 10, 10], [0, 1, 2, 7, 8])
    >>> r = run_backtest(ev, ["naive"], start=7.0, weeks=1, coverages=[0.5])
    >>> f = r.methods["naive"].at(0.5)
    >>> (f.hits, f.events, f.best, f.hit_rate, f.pai, f.pei)
    (1, 2, 1, 0.5, 1.0, 1.0)
    """
    if weeks < 1:
        raise AnalysisInputError("the backtest needs at least one week")
    if not math.isfinite(start):
        raise AnalysisInputError("the start time must be finite")
    covs = tuple(float(c) for c in coverages)
    if not covs or any(not 0 < c <= 1 for c in covs):
        raise AnalysisInputError("coverages must be in (0, 1]")
    if len(events) == 0:
        raise AnalysisInputError("no events to backtest")
    if not np.all(np.isfinite(events.t)):
        raise AnalysisInputError("event times must be finite")
    factories: dict[str, Factory]
    if isinstance(methods, Mapping):
        factories = dict(methods)
    else:
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise AnalysisInputError(
                f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}"
            )
        factories = {m: METHODS[m] for m in methods}
    if not factories:
        raise AnalysisInputError("no methods to backtest")

    ev = _canonical(events)
    grid = Grid.from_events(ev, cell_size)
    cells = grid.cells(ev)
    before = ev.t < start
    study = np.unique(cells[before])
    if len(study) == 0:
        raise AnalysisInputError("no events before the start: the study area is empty")
    result = BacktestResult(
        start=float(start),
        weeks=weeks,
        cell_size=float(cell_size),
        grid=grid,
        study_cells=len(study),
        coverages=covs,
    )
    bounds = [start + 7.0 * k for k in range(weeks + 1)]
    cut = np.searchsorted(ev.t, bounds, side="left")
    for name, factory in factories.items():
        forecaster = factory(grid)
        totals = np.zeros((len(covs), 3), dtype=np.int64)
        weekly: list[dict[str, Any]] = []
        seconds = 0.0
        for k in range(weeks):
            history = ev.select(np.arange(len(ev)) < cut[k])
            tick = time.perf_counter()
            forecaster.fit(history, grid=grid, now=bounds[k])
            scores: FloatArray = forecaster.score(study)
            seconds += time.perf_counter() - tick
            rows = evaluate_week(scores, study, cells[cut[k] : cut[k + 1]], covs)
            for i, (hits, n, best, _) in enumerate(rows):
                totals[i] += (hits, n, best)
            weekly.append(
                {
                    "week": k,
                    "start": bounds[k],
                    "events": rows[0][1],
                    "hits": [r[0] for r in rows],
                    "best": [r[2] for r in rows],
                }
            )
            if progress is not None:
                progress(name, k + 1, weeks)
        figures = []
        for i, c in enumerate(covs):
            hits, n, best = (int(v) for v in totals[i])
            n_c = coverage_cells(c, len(study))
            hr = _ratio(hits, n)
            figures.append(
                CoverageFigures(
                    coverage=c,
                    n_cells=n_c,
                    hits=hits,
                    events=n,
                    best=best,
                    hit_rate=hr,
                    pai=_ratio(hr, n_c / len(study)),
                    pei=_ratio(hits, best),
                )
            )
        result.methods[name] = MethodResult(
            method=name,
            params=forecaster.params(),
            figures=figures,
            weekly=weekly,
            seconds=seconds,
        )
    return result
