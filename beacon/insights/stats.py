"""Small statistics the dashboards derive from library results (no Django here).

* :func:`near_repeat_window`: the near-repeat risk zone (distance and days) read off a
  Knox table.
* :func:`poisson_cusum`: the Poisson CUSUM of weekly counts (Lucas 1985) used by the
  trend alerts' ``cusum`` method.

Lucas, J. M. (1985). Counted data CUSUM's. Technometrics 27(2), 129-144.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from beacon.analytics.events import AnalysisInputError


def near_repeat_window(
    knox: Mapping[str, Any], alpha: float = 0.05, min_ratio: float = 1.2
) -> dict[str, Any] | None:
    """The space-time window of raised risk after an event, from a Knox table.

    ``knox`` is :meth:`beacon.analytics.nearrepeat.KnoxResult.to_dict`. A (space band,
    time band) cell is *raised* when its p-value is at most ``alpha`` and its Knox ratio
    at least ``min_ratio``; the "beyond" row and column never count. The zone is the set
    of raised cells joined (through shared edges) to a raised cell of the first time
    band in the "same location" or first distance band: risk that is raised close by
    and soon, and stays raised out to the zone's edge. Its reach is the outer edge of
    its farthest distance band and of its latest time band.

    Returns ``{"distance_m", "days", "cells": [[row, col], ...]}`` or None when nothing
    near and soon is raised (no near-repeat pattern).

    Examples
    --------
    >>> table = {
    ...     "space_edges_m": [0.0, 100.0, 200.0], "time_edges_days": [0.0, 7.0],
    ...     "p_value": [[0.01, 0.5], [0.01, 0.5], [0.01, 0.5], [0.5, 0.01]],
    ...     "knox_ratio": [[2.0, 1.0], [1.5, 1.0], [1.3, 1.0], [1.0, 1.0]],
    ... }
    >>> near_repeat_window(table)
    {'distance_m': 200.0, 'days': 7.0, 'cells': [[0, 0], [1, 0], [2, 0]]}
    """
    space = [float(v) for v in knox["space_edges_m"]]
    time = [float(v) for v in knox["time_edges_days"]]
    p = knox["p_value"]
    ratio = knox["knox_ratio"]
    rows, cols = len(space), len(time) - 1  # drop "beyond" (last row and last column)
    if len(p) != rows + 1 or any(len(r) != cols + 1 for r in p):
        raise AnalysisInputError("the Knox table's shape does not match its band edges")

    def raised(r: int, c: int) -> bool:
        pv, rv = p[r][c], ratio[r][c]
        return pv is not None and rv is not None and pv <= alpha and rv >= min_ratio

    todo = [(r, 0) for r in (0, 1) if r < rows and cols > 0 and raised(r, 0)]
    zone: set[tuple[int, int]] = set(todo)
    while todo:
        r, c = todo.pop()
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < rows and 0 <= nc < cols and (nr, nc) not in zone and raised(nr, nc):
                zone.add((nr, nc))
                todo.append((nr, nc))
    if not zone:
        return None
    return {
        # Row r (1..N) is [(r-1)b, rb): its outer edge is space_edges[r]; row 0 is 0 m.
        "distance_m": max(space[r] for r, _ in zone),
        "days": max(time[c + 1] for _, c in zone),
        "cells": [[r, c] for r, c in sorted(zone)],
    }


@dataclass(frozen=True)
class Cusum:
    """A Poisson CUSUM over a run of weekly counts.

    Attributes
    ----------
    baseline_rate : float
        In-control mean count per week, λ0.
    shifted_rate : float
        The out-of-control mean it is tuned to detect, λ1.
    k : float
        Reference value ``(λ1 − λ0) / (ln λ1 − ln λ0)``.
    h : float
        Decision interval: the CUSUM signals when it reaches ``h``.
    path : list of float
        ``S_t = max(0, S_{t−1} + x_t − k)``, from ``S_0 = 0``.
    signal_week : int or None
        First week (0-based) with ``S_t >= h``.
    """

    baseline_rate: float
    shifted_rate: float
    k: float
    h: float
    path: list[float]
    signal_week: int | None

    @property
    def signalled(self) -> bool:
        """Whether the CUSUM reached ``h``."""
        return self.signal_week is not None


def poisson_cusum(
    counts: Sequence[int], baseline_rate: float, shift: float = 1.5, h: float = 4.0
) -> Cusum:
    """Upper Poisson CUSUM of ``counts`` against ``baseline_rate`` per period.

    Examples
    --------
    >>> c = poisson_cusum([2, 6, 7, 8], baseline_rate=2.0, shift=2.0, h=4.0)
    >>> round(c.k, 3), [round(s, 2) for s in c.path], c.signal_week
    (2.885, [0.0, 3.11, 7.23, 12.34], 2)
    """
    if not (math.isfinite(baseline_rate) and baseline_rate > 0):
        raise AnalysisInputError(f"the baseline rate must be > 0, got {baseline_rate}")
    if not (math.isfinite(shift) and shift > 1):
        raise AnalysisInputError(f"the shift must be > 1, got {shift}")
    if not (math.isfinite(h) and h > 0):
        raise AnalysisInputError(f"the decision interval h must be > 0, got {h}")
    shifted = shift * baseline_rate
    k = (shifted - baseline_rate) / (math.log(shifted) - math.log(baseline_rate))
    s = 0.0
    path: list[float] = []
    signal: int | None = None
    for week, x in enumerate(counts):
        if x < 0 or int(x) != x:
            raise AnalysisInputError(f"week {week}: counts must be whole numbers >= 0, got {x}")
        s = max(0.0, s + x - k)
        path.append(s)
        if signal is None and s >= h:
            signal = week
    return Cusum(baseline_rate, shifted, k, h, path, signal)
