"""Near-repeat analysis: the Knox test as Ratcliffe's Near Repeat Calculator runs it.

Every pair of events is put in a (spatial band, temporal band) cell. The observed
table is compared with tables from Monte Carlo permutations in which event times are
shuffled among the events (locations fixed), which keeps both marginal distributions
and breaks any space-time link.

Band conventions (matching the calculator's computations, not its labels)
------------------------------------------------------------------------
Spatial, for bandwidth ``b`` and ``N`` bands (``N + 2`` rows):

* row 0, "same location": distance exactly 0;
* row 1: ``0 < d < b``;
* row ``k`` (2..N): ``(k-1)·b <= d < k·b``;
* row ``N + 1``, "beyond": ``d >= N·b``.

Temporal, for bandwidth ``w`` whole days and ``M`` bands (``M + 1`` columns): column
``k`` holds ``k·w <= Δt < (k+1)·w`` and column ``M`` ("beyond") ``Δt >= M·w``, where
``Δt`` is the difference in calendar days.

The calculator labels these "Same location", "1 to 100", "101 to 200", ... and
"0 to 7", "8 to 14", ... but computes them as the half-open intervals above
(the label "a to b" means ``[a-1, b)``); this module reproduces its counts exactly and
labels the bands honestly, giving the calculator's labels alongside.

Speed
-----
:func:`knox` finds the pairs closer than the outermost spatial band once, with a k-d
tree. Shuffling times does not change the multiset of all pairwise time differences,
so the per-time-band totals over *all* pairs are the same in every permutation; they
are counted once from the sorted times. Each permutation then only recomputes the time
differences of the close pairs, and the "beyond" spatial row is the column total minus
the close rows. Memory is linear in the number of events plus close pairs (no n×n
matrix). :func:`knox_direct` is the plain all-pairs method, kept as the reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from beacon.analytics.events import AnalysisInputError, Events

__all__ = ["KnoxResult", "knox", "knox_direct"]

Distance = Literal["euclidean", "manhattan"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Rows of the all-pairs loop in knox_direct per block: bounds memory at ~block × n.
_DIRECT_BLOCK = 256
# Close pairs processed per slice in a permutation: bounds temporaries.
_PAIR_SLICE = 2_000_000


@dataclass(frozen=True)
class KnoxResult:
    """Result of a Knox test.

    Attributes
    ----------
    space_edges : ndarray
        ``[0, b, 2b, ..., N·b]`` metres; see the module docstring for the rows.
    time_edges : ndarray
        ``[0, w, 2w, ..., M·w]`` days.
    space_labels, time_labels : list of str
        Interval labels of the rows and columns.
    calculator_space_labels, calculator_time_labels : list of str
        The Near Repeat Calculator's labels for the same rows and columns.
    observed : ndarray of int, shape (N + 2, M + 1)
        Observed pair counts.
    expected : ndarray of float
        Mean count over the permutations.
    ratio : ndarray of float
        Knox ratio, observed / mean expected (NaN where the expected count is 0).
    p_value : ndarray of float
        ``(1 + #{simulated >= observed}) / (permutations + 1)``.
    permutations : int
    distance : str
    n_events : int
    simulated : ndarray of int, shape (permutations, N + 2, M + 1)
        Every permutation's table (for verbose output and diagnostics).
    """

    space_edges: FloatArray
    time_edges: FloatArray
    space_labels: list[str]
    time_labels: list[str]
    calculator_space_labels: list[str]
    calculator_time_labels: list[str]
    observed: IntArray
    expected: FloatArray
    ratio: FloatArray
    p_value: FloatArray
    permutations: int
    distance: str
    n_events: int
    simulated: IntArray = field(repr=False)

    @property
    def total_pairs(self) -> int:
        """Number of event pairs, ``n(n-1)/2``."""
        return self.n_events * (self.n_events - 1) // 2

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the per-permutation tables)."""

        def clean(a: npt.NDArray[Any]) -> list[list[float | int | None]]:
            out: list[list[float | int | None]] = []
            for row in a.tolist():
                out.append(
                    [None if isinstance(v, float) and not math.isfinite(v) else v for v in row]
                )
            return out

        return {
            "n_events": self.n_events,
            "total_pairs": self.total_pairs,
            "distance": self.distance,
            "permutations": self.permutations,
            "space_edges_m": self.space_edges.tolist(),
            "time_edges_days": self.time_edges.tolist(),
            "space_labels": self.space_labels,
            "time_labels": self.time_labels,
            "calculator_space_labels": self.calculator_space_labels,
            "calculator_time_labels": self.calculator_time_labels,
            "observed": clean(self.observed),
            "expected": clean(self.expected),
            "knox_ratio": clean(self.ratio),
            "p_value": clean(self.p_value),
        }


def _fmt(v: float) -> str:
    return f"{v:g}"


def _labels(
    space_bandwidth: float, space_bands: int, time_bandwidth: int, time_bands: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    b, w = space_bandwidth, time_bandwidth
    space = ["0 m (same location)", f"(0, {_fmt(b)}) m"]
    space += [f"[{_fmt(k * b)}, {_fmt((k + 1) * b)}) m" for k in range(1, space_bands)]
    space.append(f">= {_fmt(space_bands * b)} m")
    time = [f"[{_fmt(k * w)}, {_fmt((k + 1) * w)}) days" for k in range(time_bands)]
    time.append(f">= {_fmt(time_bands * w)} days")
    calc_space = ["Same location", f"1 to {_fmt(b)}"]
    calc_space += [f"{_fmt(k * b + 1)} to {_fmt((k + 1) * b)}" for k in range(1, space_bands)]
    calc_space.append(f"More than {_fmt(space_bands * b)}")
    calc_time = [f"0 to {_fmt(w)}"]
    calc_time += [f"{_fmt(k * w + 1)} to {_fmt((k + 1) * w)}" for k in range(1, time_bands)]
    calc_time.append(f"More than {_fmt(time_bands * w)}")
    return space, time, calc_space, calc_time


@dataclass(frozen=True)
class _Setup:
    x: FloatArray
    y: FloatArray
    days: IntArray
    bandwidth: float
    n_space: int
    width: int
    n_time: int
    distance: Distance
    permutations: int
    rng: np.random.Generator


def _setup(
    events: Events,
    space_bandwidth: float,
    space_bands: int,
    time_bandwidth: int,
    time_bands: int,
    permutations: int,
    seed: int | np.random.Generator | None,
    distance: str,
) -> _Setup:
    n = len(events)
    if n < 2:
        raise AnalysisInputError(f"the Knox test needs at least two events, got {n}")
    if not (math.isfinite(space_bandwidth) and space_bandwidth > 0):
        raise AnalysisInputError(f"space bandwidth must be > 0 metres, got {space_bandwidth}")
    if int(time_bandwidth) != time_bandwidth or time_bandwidth < 1:
        raise AnalysisInputError(
            f"time bandwidth must be a whole number of days >= 1, got {time_bandwidth}"
        )
    if int(space_bands) != space_bands or space_bands < 1:
        raise AnalysisInputError(f"number of spatial bands must be >= 1, got {space_bands}")
    if int(time_bands) != time_bands or time_bands < 1:
        raise AnalysisInputError(f"number of temporal bands must be >= 1, got {time_bands}")
    if int(permutations) != permutations or permutations < 1:
        raise AnalysisInputError(f"permutations must be >= 1, got {permutations}")
    if distance not in ("euclidean", "manhattan"):
        raise AnalysisInputError(f"distance must be 'euclidean' or 'manhattan', got {distance!r}")
    x = np.asarray(events.x, dtype=np.float64)
    y = np.asarray(events.y, dtype=np.float64)
    t = np.asarray(events.t, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(t).all()):
        raise AnalysisInputError("events have missing (NaN) coordinates or times")
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        raise AnalysisInputError("all events are at one place; the Knox test needs spread in space")
    # The calculator works in calendar days: two events on the same date are 0 days apart.
    days = np.floor(t).astype(np.int64)
    if np.ptp(days) == 0:
        raise AnalysisInputError("all events are on one day; the Knox test needs spread in time")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return _Setup(
        x=x,
        y=y,
        days=days,
        bandwidth=float(space_bandwidth),
        n_space=int(space_bands),
        width=int(time_bandwidth),
        n_time=int(time_bands),
        distance=distance,  # type: ignore[arg-type]
        permutations=int(permutations),
        rng=rng,
    )


def _space_band(d: FloatArray, bandwidth: float, n_space: int) -> IntArray:
    """Row index per distance: 0 for d == 0, then bands of ``bandwidth``, then beyond."""
    band = np.minimum(np.floor(d / bandwidth).astype(np.int64) + 1, n_space + 1)
    band[d == 0] = 0
    return band


def _pair_distance(
    x: FloatArray,
    y: FloatArray,
    i: npt.NDArray[np.integer[Any]],
    j: npt.NDArray[np.integer[Any]],
    distance: Distance,
) -> FloatArray:
    dx = x[i] - x[j]
    dy = y[i] - y[j]
    if distance == "manhattan":
        return np.abs(dx) + np.abs(dy)
    return np.sqrt(dx * dx + dy * dy)


def _finish(s: _Setup, observed: IntArray, simulated: IntArray) -> KnoxResult:
    expected = simulated.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1.0), np.nan)
    exceed = (simulated >= observed[None, :, :]).sum(axis=0)
    p_value = (1.0 + exceed) / (s.permutations + 1.0)
    sl, tl, csl, ctl = _labels(s.bandwidth, s.n_space, s.width, s.n_time)
    return KnoxResult(
        space_edges=np.arange(s.n_space + 1, dtype=np.float64) * s.bandwidth,
        time_edges=np.arange(s.n_time + 1, dtype=np.float64) * s.width,
        space_labels=sl,
        time_labels=tl,
        calculator_space_labels=csl,
        calculator_time_labels=ctl,
        observed=observed,
        expected=expected,
        ratio=ratio,
        p_value=p_value,
        permutations=s.permutations,
        distance=s.distance,
        n_events=len(s.x),
        simulated=simulated,
    )


def _time_band_totals(days: IntArray, width: int, n_time: int) -> IntArray:
    """Pairs per temporal band over all ``n(n-1)/2`` pairs, from sorted times.

    For sorted times ``ts``, the pairs ``i < j`` with ``ts[j] - ts[i] < e`` number
    ``sum_i searchsorted(ts, ts[i] + e) - i - 1``.
    """
    ts = np.sort(days)
    n = len(ts)
    idx = np.arange(n)
    below = [0]
    for k in range(1, n_time + 1):
        hi = np.searchsorted(ts, ts + k * width, side="left")
        below.append(int((hi - idx - 1).sum()))
    total = n * (n - 1) // 2
    cum = np.array([*below, total], dtype=np.int64)
    return np.diff(cum)


def knox(
    events: Events,
    space_bandwidth: float,
    space_bands: int,
    time_bandwidth: int,
    time_bands: int,
    permutations: int = 999,
    seed: int | np.random.Generator | None = None,
    distance: str = "euclidean",
) -> KnoxResult:
    """Knox test for near repeats, as the Near Repeat Calculator computes it (fast).

    Parameters
    ----------
    events : Events
        Coordinates in metres; times in days (only the calendar day is used).
    space_bandwidth : float
        Width of a spatial band in metres.
    space_bands : int
        Number of spatial bands (a "same location" band and a "beyond" band are added).
    time_bandwidth : int
        Width of a temporal band in whole days.
    time_bands : int
        Number of temporal bands (a "beyond" band is added).
    permutations : int
        Monte Carlo permutations of the event times.
    seed : int or numpy.random.Generator, optional
        Seed or generator; the same seed gives the same result, and the same result as
        :func:`knox_direct`.
    distance : {"euclidean", "manhattan"}

    Returns
    -------
    KnoxResult

    Raises
    ------
    AnalysisInputError
        Fewer than two events, all events at one place or on one day, bad parameters.

    Examples
    --------
    >>> ev = Events.from_arrays(x=[0, 0, 50, 1000], y=[0, 0, 0, 1000], t=[0, 1, 2, 40])
    >>> r = knox(ev, 100, 2, 7, 2, permutations=99, seed=1)
    >>> r.observed.tolist()
    [[1, 0, 0], [2, 0, 0], [0, 0, 0], [0, 0, 3]]
    >>> int(r.observed.sum()) == r.total_pairs
    True
    """
    s = _setup(
        events,
        space_bandwidth,
        space_bands,
        time_bandwidth,
        time_bands,
        permutations,
        seed,
        distance,
    )
    n = len(s.x)
    cols = s.n_time + 1
    reach = s.n_space * s.bandwidth
    tree = cKDTree(np.column_stack([s.x, s.y]))
    # A hair of slack so the tree never drops a pair that the exact formula keeps.
    pairs = tree.query_pairs(
        r=reach * (1 + 1e-9) + 1e-9,
        p=1 if s.distance == "manhattan" else 2,
        output_type="ndarray",
    )
    # intp indices: numpy would otherwise convert them on every gather.
    i = pairs[:, 0].astype(np.intp)
    j = pairs[:, 1].astype(np.intp)
    del pairs
    d = _pair_distance(s.x, s.y, i, j, s.distance)
    close = d < reach
    i, j = i[close], j[close]
    rows = _space_band(d[close], s.bandwidth, s.n_space)
    del d, close

    # Signed day differences lie in [-span, span]; each close pair's key is
    # row * width + (difference + span), so one bincount over the keys gives the
    # (row, signed difference) histogram, and a 0/1 matrix folds the differences
    # into temporal bands. Per permutation that is two gathers, a subtraction, an
    # addition and a bincount over the close pairs: no division, no abs, no lookup.
    days = s.days - s.days.min()
    span = int(days.max())
    width = 2 * span + 1
    offset = rows * width + span
    del rows
    fold = np.zeros((width, cols), dtype=np.int64)
    fold[np.arange(width), np.minimum(np.abs(np.arange(width) - span) // s.width, s.n_time)] = 1
    column_totals = _time_band_totals(days, s.width, s.n_time)
    n_keys = (s.n_space + 1) * width

    def table(times: IntArray) -> IntArray:
        hist = np.zeros(n_keys, dtype=np.int64)
        for lo in range(0, len(i), _PAIR_SLICE):
            hi = lo + _PAIR_SLICE
            key = times[i[lo:hi]] - times[j[lo:hi]]
            key += offset[lo:hi]
            hist += np.bincount(key, minlength=n_keys)
        out = np.empty((s.n_space + 2, cols), dtype=np.int64)
        out[:-1] = hist.reshape(s.n_space + 1, width) @ fold
        out[-1] = column_totals - out[:-1].sum(axis=0)
        return out

    observed = table(days)
    simulated = np.empty((s.permutations, s.n_space + 2, cols), dtype=np.int64)
    for r in range(s.permutations):
        simulated[r] = table(days[s.rng.permutation(n)])
    return _finish(s, observed, simulated)


def knox_direct(
    events: Events,
    space_bandwidth: float,
    space_bands: int,
    time_bandwidth: int,
    time_bands: int,
    permutations: int = 999,
    seed: int | np.random.Generator | None = None,
    distance: str = "euclidean",
) -> KnoxResult:
    """Knox test by the direct method: every pair recomputed in every permutation.

    The reference for :func:`knox` (same arguments, same permutations for the same
    seed, hence identical results). Memory stays bounded by working in blocks of rows,
    but time grows with ``n² × permutations``: use it on small data or few permutations.

    Examples
    --------
    >>> ev = Events.from_arrays(x=[0, 0, 50, 1000], y=[0, 0, 0, 1000], t=[0, 1, 2, 40])
    >>> a = knox_direct(ev, 100, 2, 7, 2, permutations=99, seed=1)
    >>> b = knox(ev, 100, 2, 7, 2, permutations=99, seed=1)
    >>> bool((a.simulated == b.simulated).all())
    True
    """
    s = _setup(
        events,
        space_bandwidth,
        space_bands,
        time_bandwidth,
        time_bands,
        permutations,
        seed,
        distance,
    )
    n = len(s.x)
    cols = s.n_time + 1
    cells = (s.n_space + 2) * cols

    def table(days: IntArray) -> IntArray:
        counts = np.zeros(cells, dtype=np.int64)
        for lo in range(0, n - 1, _DIRECT_BLOCK):
            hi = min(lo + _DIRECT_BLOCK, n - 1)
            # Rows lo..hi-1 against columns lo+1..n-1, keeping j > i (upper triangle).
            dx = s.x[lo:hi, None] - s.x[None, lo + 1 :]
            dy = s.y[lo:hi, None] - s.y[None, lo + 1 :]
            manhattan = s.distance == "manhattan"
            d = np.abs(dx) + np.abs(dy) if manhattan else np.sqrt(dx * dx + dy * dy)
            dt = np.abs(days[lo:hi, None] - days[None, lo + 1 :])
            upper = np.arange(lo + 1, n)[None, :] > np.arange(lo, hi)[:, None]
            srow = _space_band(d[upper], s.bandwidth, s.n_space)
            tcol = np.minimum(dt[upper] // s.width, s.n_time)
            counts += np.bincount(srow * cols + tcol, minlength=cells)
        return counts.reshape(s.n_space + 2, cols)

    observed = table(s.days)
    simulated = np.empty((s.permutations, s.n_space + 2, cols), dtype=np.int64)
    for r in range(s.permutations):
        simulated[r] = table(s.days[s.rng.permutation(n)])
    return _finish(s, observed, simulated)


def format_table(result: KnoxResult, values: Sequence[Sequence[float]], digits: int = 2) -> str:
    """Plain-text table of ``values`` with the result's row and column labels.

    Examples
    --------
    >>> ev = Events.from_arrays(x=[0, 0, 50, 1000], y=[0, 0, 0, 1000], t=[0, 1, 2, 40])
    >>> r = knox(ev, 100, 1, 7, 1, permutations=9, seed=1)
    >>> print(format_table(r, r.observed, digits=0))
                         [0, 7) days  >= 7 days
    0 m (same location)            1          0
    (0, 100) m                     2          0
    >= 100 m                       0          3
    """
    head = max(len(s) for s in result.space_labels)
    widths = [max(len(c), 8) for c in result.time_labels]
    lines = [
        " " * head + "".join(f"  {c:>{w}}" for c, w in zip(result.time_labels, widths, strict=True))
    ]
    for label, row in zip(result.space_labels, values, strict=True):
        cells = "".join(f"  {float(v):>{w}.{digits}f}" for v, w in zip(row, widths, strict=True))
        lines.append(f"{label:<{head}}{cells}")
    return "\n".join(lines)
