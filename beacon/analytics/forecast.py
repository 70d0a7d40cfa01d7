"""Crime forecasters on the protocol grid.

Every forecaster has the same two-step life: ``fit(events, now=...)`` with the
events seen so far (all strictly before the forecast period that starts at
``now``), then ``score(cells)`` giving a risk value per requested cell; a higher
value means more crime expected in the period. Only the order of the values
matters to the evaluation (:mod:`beacon.analytics.backtest`), so scores are not
normalised unless a method says so.

Methods (parameters in brackets are the defaults):

``naive``
    Count of all past events per cell.
``naive-recent``
    Count of past events in the last [28] days per cell.
``retrospective``
    Retrospective hotspot map: quartic kernel ``(1 - (d/h)^2)^2`` of bandwidth
    h [300 m] from each event to each cell centre, events of the last [56] days,
    all weighted equally.
``prospective``
    Prospective hotspot map (Bowers, Johnson & Pease 2004): an event at
    distance d from a cell centre and age a days adds
    ``1/(1 + floor(d / 50 m)) * 1/(1 + floor(a / 7 d))`` when d <= [400 m] and
    a < [56 d] (8 weeks). The 50 m space band is the cell width and the week the
    time band of the original study.
``kde``
    Gaussian kernel density, bandwidth [150 m] (cut at 3 bandwidths), each
    event weighted ``exp(-a / tau)`` with tau [60 d]; events older than
    ``tau * ln 1000`` are dropped since they weigh under 0.1 %.
``etas``
    Grid self-exciting point process of Mohler et al. (2015, JASA 110:1399): in
    cell k the intensity is ``mu_k + sum theta * omega * exp(-omega (t - t_i))``
    over earlier events i of the cell, fitted by expectation-maximisation over
    the last [365] days. The score is the expected count in the next [7] days.
``blend``
    Three risk surfaces, each scaled to sum to 1: long-term (``naive``), recent
    (``kde`` with tau = 120 d) and near-repeat (``prospective``), mixed with
    weights picked on the [6] weeks just before ``now`` (so only data before the
    forecast period) to maximise the mean PEI at coverages 1, 5, 10 and 20 %, on
    a simplex grid of step [0.1]. The components were chosen on data before the
    test periods reported in ``docs/forecasting.md``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.grid import FloatArray, Grid, IntArray

#: Cap on (event, cell) pairs held at once by the kernel sums: about 64 MB of floats.
_PAIR_BUDGET = 2_000_000

Kernel = Callable[[FloatArray], FloatArray]


def _canonical(events: Events) -> Events:
    """Events sorted by (t, x, y) so results do not depend on input order."""
    order = np.lexsort((events.y, events.x, events.t))
    if np.all(order[1:] > order[:-1]):
        return events
    return Events(
        x=events.x[order],
        y=events.y[order],
        t=events.t[order],
        category=events.category[order] if len(events.category) else events.category,
        ids=events.ids[order] if len(events.ids) else events.ids,
    )


class Forecaster(ABC):
    """Base class: holds the grid and a dense per-cell risk array after ``fit``.

    Subclasses implement :meth:`_risk`. ``fit`` may be called again with more data
    (the backtest re-fits every week); each call must give the same result as a
    fresh object would, so any state kept between calls is a cache only.
    """

    name: ClassVar[str] = "forecaster"

    def __init__(self, grid: Grid | None = None) -> None:
        self.grid = grid
        self.now: float | None = None
        self._risk_array: FloatArray | None = None

    def fit(self, events: Events, grid: Grid | None = None, now: float | None = None) -> Self:
        """Fit to the events seen so far.

        Parameters
        ----------
        events : Events
            Past events; every time must be <= ``now``.
        grid : Grid, optional
            Grid to score on; needed here unless given at construction.
        now : float, optional
            Start of the forecast period in days since the epoch; defaults to the
            latest event time.

        Returns
        -------
        Forecaster
            ``self``, fitted.

        Examples
        --------
        >>> ev = Events.from_arrays([10.0, 20.0, 160.0], [10.0, 10.0, 10.0], [1.0, 2.0, 3.0])
        >>> f = NaiveCounts().fit(ev, grid=Grid.from_events(ev, 150.0), now=4.0)
        >>> f.score([0, 1]).tolist()
        [2.0, 1.0]
        """
        if grid is not None:
            self.grid = grid
        if self.grid is None:
            raise AnalysisInputError(f"{self.name}: no grid given to the constructor or to fit()")
        if len(events) and not np.all(np.isfinite(events.t)):
            raise AnalysisInputError(f"{self.name}: event times must be finite")
        if now is None:
            now = float(events.t.max()) if len(events) else 0.0
        if not math.isfinite(now):
            raise AnalysisInputError(f"{self.name}: forecast time must be finite")
        if len(events) and float(events.t.max()) > now:
            raise AnalysisInputError(
                f"{self.name}: fit() was given events after the forecast time {now}"
            )
        self.now = float(now)
        risk = self._risk(_canonical(events), self.grid, self.now)
        self._risk_array = np.asarray(risk, dtype=np.float64)
        return self

    def score(self, cells: npt.ArrayLike) -> FloatArray:
        """Risk of each given cell index (higher = more crime expected).

        Examples
        --------
        >>> ev = Events.from_arrays([10.0, 160.0, 170.0], [10.0, 10.0, 10.0], [1.0, 2.0, 3.0])
        >>> NaiveCounts().fit(ev, grid=Grid.from_events(ev, 150.0)).score([1, 0]).tolist()
        [2.0, 1.0]
        """
        if self._risk_array is None or self.grid is None:
            raise AnalysisInputError(f"{self.name}: call fit() before score()")
        c = self.grid._check_cells(cells)
        return self._risk_array[c].copy()

    def params(self) -> dict[str, Any]:
        """Parameters of the method, for reports."""
        return {}

    @abstractmethod
    def _risk(self, events: Events, grid: Grid, now: float) -> FloatArray:
        """Dense risk over all ``grid.n_cells`` from time-sorted past events."""


def _recent(events: Events, now: float, window_days: float | None) -> Events:
    if window_days is None:
        return events
    return events.select(events.t >= now - window_days)


def kernel_sum(
    grid: Grid,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    weights: npt.ArrayLike,
    radius: float,
    kernel: Kernel,
) -> FloatArray:
    """Sum of ``weight * kernel(distance to cell centre)`` from every point to every cell.

    Points at the same place are merged first, and point-cell pairs are built in
    chunks of bounded size, so memory stays flat whatever the number of points.

    Parameters
    ----------
    grid : Grid
    x, y, weights : array_like
        Point coordinates (metres) and weights.
    radius : float
        Distance beyond which ``kernel`` is zero.
    kernel : callable
        Vectorised function of distance; values beyond ``radius`` are ignored.

    Returns
    -------
    ndarray
        Length ``grid.n_cells``.

    Examples
    --------
    >>> g = Grid(0.0, 0.0, 100.0, 3, 1)
    >>> kernel_sum(g, [50.0], [50.0], [1.0], 150.0, lambda d: 1.0 - d / 150.0).round(3).tolist()
    [1.0, 0.333, 0.0]
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    wa = np.asarray(weights, dtype=np.float64)
    out = np.zeros(grid.n_cells, dtype=np.float64)
    if xa.size == 0:
        return out
    # Open data often puts many events on one hundred-block point: merging them
    # makes the pair count scale with distinct places, not events.
    pts, inverse = np.unique(np.column_stack([xa, ya]), axis=0, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=wa, minlength=len(pts))
    keep = w != 0
    px, py, w = pts[keep, 0], pts[keep, 1], w[keep]
    s = grid.cell_size
    r = math.ceil(radius / s) + 1
    mx, my = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    ox, oy = mx.ravel(), my.ravel()
    # A point anywhere in its cell is at least (|offset| - 0.5) cells from the
    # centre of the offset cell: skip offsets that can never be within radius.
    near = (
        np.hypot(np.maximum(np.abs(ox) - 0.5, 0.0), np.maximum(np.abs(oy) - 0.5, 0.0)) * s <= radius
    )
    ox, oy = ox[near], oy[near]
    ix, iy = grid.column_row(px, py)
    step = max(1, _PAIR_BUDGET // len(ox))
    for lo in range(0, len(px), step):
        hi = lo + step
        tx = ix[lo:hi, None] + ox[None, :]
        ty = iy[lo:hi, None] + oy[None, :]
        d = np.hypot(
            grid.x0 + (tx + 0.5) * s - px[lo:hi, None],
            grid.y0 + (ty + 0.5) * s - py[lo:hi, None],
        )
        ok = (tx >= 0) & (tx < grid.nx) & (ty >= 0) & (ty < grid.ny) & (d <= radius)
        k = kernel(d[ok]) * np.broadcast_to(w[lo:hi, None], d.shape)[ok]
        out += np.bincount((ty * grid.nx + tx)[ok], weights=k, minlength=grid.n_cells)
    return out


class NaiveCounts(Forecaster):
    """Past event count per cell, over all history or the last ``window_days``.

    Examples
    --------
    >>> ev = Events.from_arrays([10.0, 20.0, 160.0], [10.0, 10.0, 10.0], [1.0, 9.0, 9.5])
    >>> g = Grid.from_events(ev, 150.0)
    >>> NaiveCounts(window_days=2).fit(ev, grid=g, now=10.0).score([0, 1]).tolist()
    [1.0, 1.0]
    """

    name = "naive"

    def __init__(self, grid: Grid | None = None, window_days: float | None = None) -> None:
        super().__init__(grid)
        if window_days is not None and window_days <= 0:
            raise AnalysisInputError("window_days must be positive")
        self.window_days = window_days

    def params(self) -> dict[str, Any]:
        """Parameters of the method, for reports."""
        return {"window_days": self.window_days}

    def _risk(self, events: Events, grid: Grid, now: float) -> FloatArray:
        return grid.counts(_recent(events, now, self.window_days)).astype(np.float64)


class RetrospectiveHotspot(Forecaster):
    """Quartic-kernel hotspot map of recent events, all weighted equally.

    Examples
    --------
    >>> ev = Events.from_arrays([75.0, 75.0], [75.0, 75.0], [1.0, 2.0])
    >>> g = Grid(0.0, 0.0, 150.0, 3, 1)
    >>> RetrospectiveHotspot(bandwidth=300.0).fit(ev, grid=g).score([0, 1, 2]).round(4).tolist()
    [2.0, 1.125, 0.0]
    """

    name = "retrospective"

    def __init__(
        self, grid: Grid | None = None, bandwidth: float = 300.0, window_days: float | None = 56.0
    ) -> None:
        super().__init__(grid)
        if bandwidth <= 0:
            raise AnalysisInputError("bandwidth must be positive")
        self.bandwidth = bandwidth
        self.window_days = window_days

    def params(self) -> dict[str, Any]:
        """Parameters of the method, for reports."""
        return {"bandwidth_m": self.bandwidth, "window_days": self.window_days}

    def _risk(self, events: Events, grid: Grid, now: float) -> FloatArray:
        ev = _recent(events, now, self.window_days)
        h = self.bandwidth
        return kernel_sum(
            grid, ev.x, ev.y, np.ones(len(ev)), h, lambda d: (1.0 - (d / h) ** 2) ** 2
        )


class ProspectiveHotspot(Forecaster):
    """Prospective hotspot map of Bowers, Johnson & Pease (2004).

    An event at distance d from a cell centre and age a adds
    ``1 / (1 + floor(d / space_band)) * 1 / (1 + floor(a / time_band))`` when
    ``d <= bandwidth`` and ``a < window_days``.

    Examples
    --------
    >>> ev = Events.from_arrays([75.0], [75.0], [0.0])
    >>> g = Grid(0.0, 0.0, 150.0, 3, 1)
    >>> ProspectiveHotspot().fit(ev, grid=g, now=8.0).score([0, 1, 2]).round(4).tolist()
    [0.5, 0.125, 0.0714]
    """

    name = "prospective"

    def __init__(
        self,
        grid: Grid | None = None,
        bandwidth: float = 400.0,
        space_band: float = 50.0,
        window_days: float = 56.0,
        time_band: float = 7.0,
    ) -> None:
        super().__init__(grid)
        if min(bandwidth, space_band, window_days, time_band) <= 0:
            raise AnalysisInputError("prospective hotspot bandwidths and bands must be positive")
        self.bandwidth = bandwidth
        self.space_band = space_band
        self.window_days = window_days
        self.time_band = time_band

    def params(self) -> dict[str, Any]:
        """Parameters of the method, for reports."""
        return {
            "bandwidth_m": self.bandwidth,
            "space_band_m": self.space_band,
            "window_days": self.window_days,
            "time_band_days": self.time_band,
        }

    def _risk(self, events: Events, grid: Grid, now: float) -> FloatArray:
        age = now - events.t
        keep = age < self.window_days
        w = 1.0 / (1.0 + np.floor(age[keep] / self.time_band))
        band = self.space_band
        return kernel_sum(
            grid,
            events.x[keep],
            events.y[keep],
            w,
            self.bandwidth,
            lambda d: 1.0 / (1.0 + np.floor(d / band)),
        )


class DecayKDE(Forecaster):
    """Gaussian kernel density with exponential time decay.

    Examples
    --------
    >>> ev = Events.from_arrays([75.0, 375.0], [75.0, 75.0], [0.0, 60.0])
    >>> g = Grid(0.0, 0.0, 150.0, 3, 1)
    >>> s = DecayKDE(bandwidth=100.0, decay_days=30.0).fit(ev, grid=g, now=60.0).score([0, 2])
    >>> bool(s[1] > s[0])
    True
    """

    name = "kde"

    def __init__(
        self,
        grid: Grid | None = None,
        bandwidth: float = 150.0,
        decay_days: float | None = 60.0,
        window_days: float | None = None,
    ) -> None:
        super().__init__(grid)
        if bandwidth <= 0 or (decay_days is not None and decay_days <= 0):
            raise AnalysisInputError("bandwidth and decay must be positive")
        self.bandwidth = bandwidth
        self.decay_days = decay_days
        self.window_days = window_days

    def params(self) -> dict[str, Any]:
        """Parameters of the method, for reports."""
        return {
            "bandwidth_m": self.bandwidth,
            "decay_days": self.decay_days,
            "window_days": self.window_days,
        }

    def _risk(self, events: Events, grid: Grid, now: float) -> FloatArray:
        window = self.window_days
        if self.decay_days is not None:
            horizon = self.decay_days * math.log(1000.0)
            window = horizon if window is None else min(window, horizon)
        ev = _recent(events, now, window)
        w = np.ones(len(ev)) if self.decay_days is None else np.exp(-(now - ev.t) / self.decay_days)
        h = self.bandwidth
        return kernel_sum(grid, ev.x, ev.y, w, 3.0 * h, lambda d: np.exp(-0.5 * (d / h) ** 2))


class GridETAS(Forecaster):
    """Grid-based self-exciting point process (Mohler et al. 2015) fitted by EM.

    In cell k, ``lambda_k(t) = mu_k + sum_{t_i < t} theta * omega * exp(-omega (t - t_i))``.
    Events at the same time in the same cell are not each other's parents.
    After fitting, ``mu`` (per active cell, per day), ``theta`` and ``omega`` (per
    day) are available as attributes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0, 300, 200))
    >>> ev = Events.from_arrays(rng.uniform(0, 600, 200), rng.uniform(0, 300, 200), t)
    >>> f = GridETAS().fit(ev, grid=Grid.from_events(ev, 150.0), now=300.0)
    >>> bool(0.0 <= f.theta < 1.0), f.score([0]).shape
    (True, (1,))
    """

    name = "etas"

    def __init__(
        self,
        grid: Grid | None = None,
        window_days: float | None = 365.0,
        horizon_days: float = 7.0,
        max_iter: int = 200,
        tol: float = 1e-6,
    ) -> None:
        super().__init__(grid)
        if horizon_days <= 0 or max_iter < 1:
            raise AnalysisInputError("horizon_days and max_iter must be positive")
        self.window_days = window_days
        self.horizon_days = horizon_days
        self.max_iter = max_iter
        self.tol = tol
        self.theta = 0.0
        self.omega = 0.0
        self.mu: FloatArray = np.zeros(0)
        self.iterations = 0

    def params(self) -> dict[str, Any]:
        """Parameters of the method, and the fitted theta and omega."""
        return {
            "window_days": self.window_days,
            "horizon_days": self.horizon_days,
            "theta": self.theta,
            "omega_per_day": self.omega,
        }

    def _risk(self, events: Events, grid: Grid, now: float) -> FloatArray:
        risk = np.zeros(grid.n_cells)
        ev = _recent(events, now, self.window_days)
        cells = grid.cells(ev)
        inside = cells >= 0
        cells, t = cells[inside], ev.t[inside]
        if len(t) == 0:
            return risk
        start = now - self.window_days if self.window_days is not None else float(t.min())
        span_t = now - start
        if span_t <= 0:
            # All events at one instant: nothing to learn beyond counts.
            risk += np.bincount(cells, minlength=grid.n_cells)
            return risk
        # Groups of events sharing (cell, time), sorted by cell then time.
        key = np.column_stack([cells.astype(np.float64), t])
        groups, mult = np.unique(key, axis=0, return_counts=True)
        gcell = groups[:, 0].astype(np.int64)
        gt = groups[:, 1]
        m = mult.astype(np.float64)
        first = np.r_[True, gcell[1:] != gcell[:-1]]
        seg = np.cumsum(first) - 1
        seg_cells = gcell[first]
        tau = gt - gt[first][seg]
        n_seg = len(seg_cells)
        counts = np.bincount(seg, weights=m, minlength=n_seg)
        n_total = float(m.sum())
        age_end = now - gt

        theta, omega = 0.5, 1.0 / 7.0
        mu: FloatArray = np.asarray(0.5 * counts / span_t, dtype=np.float64)
        self.iterations = 0
        last = -math.inf
        for it in range(1, self.max_iter + 1):
            a, b = _decay_sums(tau, seg, first, m, omega)
            trig = theta * omega * a
            lam = mu[seg] + trig
            p_bg = mu[seg] / lam
            p_tr = trig / lam
            s_trig = float((m * p_tr).sum())
            s_lag = float((m * theta * omega * b / lam).sum())
            new_mu: FloatArray = np.bincount(seg, weights=m * p_bg, minlength=n_seg) / span_t
            new_omega = s_trig / s_lag if s_lag > 0 else omega
            new_omega = float(np.clip(new_omega, 1e-3, 1e2))
            expected_children = float((m * -np.expm1(-new_omega * age_end)).sum())
            new_theta = s_trig / expected_children if expected_children > 0 else 0.0
            new_theta = float(np.clip(new_theta, 0.0, 0.999))
            # Log-likelihood at the current parameters: EM stops once it no longer
            # gains more than ``tol`` per event (parameters then move by far less
            # than the ranking of cells could notice).
            loglik = float(
                (m * np.log(lam)).sum()
                - mu.sum() * span_t
                - theta * (m * -np.expm1(-omega * age_end)).sum()
            )
            change = abs(loglik - last) / max(n_total, 1.0)
            last = loglik
            theta, omega, mu = new_theta, new_omega, new_mu
            self.iterations = it
            if change < self.tol:
                break
        self.theta, self.omega, self.mu = theta, omega, mu
        h = self.horizon_days
        excite = np.bincount(seg, weights=m * np.exp(-omega * age_end), minlength=n_seg)
        risk[seg_cells] = mu * h + theta * -math.expm1(-omega * h) * excite
        return risk


def _decay_sums(
    tau: FloatArray, seg: IntArray, first: npt.NDArray[np.bool_], m: FloatArray, omega: float
) -> tuple[FloatArray, FloatArray]:
    """Per group i: ``A_i = sum_j m_j exp(-omega (tau_i - tau_j))`` and
    ``B_i = sum_j m_j (tau_i - tau_j) exp(-omega (tau_i - tau_j))`` over earlier
    groups j of the same segment.

    A running log-sum-exp does it in O(n). Each segment's exponents are lifted by
    a multiple of a gap so large that earlier segments add under exp(-50) to the
    sums: one ``logaddexp.accumulate`` then serves all segments at once.
    """
    span = float(tau.max()) if tau.size else 0.0
    gap = omega * span + math.log(max(float(m.sum()), 1.0)) + 50.0
    e = omega * tau + gap * seg
    log_m = np.log(m)
    with np.errstate(divide="ignore"):
        log_tau = np.log(tau)
    run = np.logaddexp.accumulate(e + log_m)
    run_tau = np.logaddexp.accumulate(e + log_m + log_tau)
    prev = np.r_[-np.inf, run[:-1]]
    prev_tau = np.r_[-np.inf, run_tau[:-1]]
    a = np.where(first, 0.0, np.exp(prev - e))
    d = np.where(first, 0.0, np.exp(prev_tau - e))
    b = np.maximum(tau * a - d, 0.0)
    return a, b


class Blend(Forecaster):
    """Mix of normalised risk surfaces with weights chosen on the weeks before ``now``.

    For each of the ``validation_weeks`` weeks before ``now`` every component is
    fitted on the events before that week and the weights (on a simplex grid of
    ``step``) that maximise the mean hit rate over ``coverages``, with the
    backtest's rules (study area = cells with earlier events, ties to the lower
    cell), are kept; the objective is the mean PEI over ``coverages``, so a small
    coverage counts as much as a large one. Component surfaces are cached per (data, time), so a
    weekly re-fit costs one new fit per component.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> ev = Events.from_arrays(rng.uniform(0, 900, 400), rng.uniform(0, 900, 400),
    ...                         np.sort(rng.uniform(0, 120, 400)))
    >>> b = Blend(validation_weeks=2).fit(ev, grid=Grid.from_events(ev, 150.0), now=120.0)
    >>> round(sum(b.weights.values()), 6)
    1.0
    """

    name = "blend"

    def __init__(
        self,
        grid: Grid | None = None,
        components: Mapping[str, Forecaster] | None = None,
        validation_weeks: int = 6,
        step: float = 0.1,
        coverages: Sequence[float] = (0.01, 0.05, 0.1, 0.2),
    ) -> None:
        super().__init__(grid)
        if validation_weeks < 1:
            raise AnalysisInputError("validation_weeks must be at least 1")
        if not 0 < step <= 1:
            raise AnalysisInputError("step must be in (0, 1]")
        self.components: dict[str, Forecaster] = dict(
            components
            if components is not None
            else {
                "long-term": NaiveCounts(),
                "recent": DecayKDE(bandwidth=150.0, decay_days=120.0),
                "near-repeat": ProspectiveHotspot(),
            }
        )
        if not self.components:
            raise AnalysisInputError("a blend needs at least one component")
        self.validation_weeks = validation_weeks
        self.step = step
        self.coverages = tuple(coverages)
        self.weights: dict[str, float] = {}
        self._cache: dict[tuple[str, float, bytes], FloatArray] = {}
        self._val_cache: dict[tuple[float, bytes], tuple[FloatArray, FloatArray]] = {}
        self._val_used: set[tuple[float, bytes]] = set()

    def params(self) -> dict[str, Any]:
        """Components, validation set-up and the weights chosen at the last fit."""
        return {
            "components": {k: {"method": f.name, **f.params()} for k, f in self.components.items()},
            "validation_weeks": self.validation_weeks,
            "step": self.step,
            "weights": self.weights,
        }

    def _surfaces(
        self, events: Events, grid: Grid, now: float, used: set[tuple[str, float, bytes]]
    ) -> FloatArray:
        """Normalised surface of every component, shape (components, cells)."""
        fp = _fingerprint(events, len(events))
        rows = []
        for name, comp in self.components.items():
            key = (name, now, fp)
            used.add(key)
            if key not in self._cache:
                self._cache[key] = comp.fit(events, grid=grid, now=now)._risk_array  # type: ignore[assignment]
            r = self._cache[key]
            total = float(r.sum())
            rows.append(r / total if total > 0 else r)
        return np.vstack(rows)

    def _weight_grid(self) -> FloatArray:
        k = len(self.components)
        n = round(1.0 / self.step)
        combos = [c for c in itertools.product(range(n + 1), repeat=k) if sum(c) == n]
        return np.asarray(combos, dtype=np.float64) / n

    def _validate(
        self,
        events: Events,
        grid: Grid,
        start: float,
        weights: FloatArray,
        used: set[tuple[str, float, bytes]],
    ) -> tuple[FloatArray, FloatArray] | None:
        """Hits per (weighting, coverage) and n* per coverage for the week from ``start``."""
        n_before = int(np.searchsorted(events.t, start, side="left"))
        n_end = int(np.searchsorted(events.t, start + 7.0, side="left"))
        if n_before == 0:
            return None
        key = (start, _fingerprint(events, n_end))
        if key in self._val_cache:
            self._val_used.add(key)
            return self._val_cache[key]
        cells_all = grid.cells(events.select(np.arange(len(events)) < n_end))
        past = cells_all[:n_before]
        study = np.unique(past[past >= 0])
        wc = cells_all[n_before:n_end]
        wc = wc[np.isin(wc, study)]
        hits = np.zeros((len(weights), len(self.coverages)))
        best = np.zeros(len(self.coverages))
        if len(wc):
            counts = np.bincount(np.searchsorted(study, wc), minlength=len(study))
            prefix = events.select(np.arange(len(events)) < n_before)
            surf = self._surfaces(prefix, grid, start, used)[:, study]
            blended = weights @ surf
            # Stable sort of -score over ascending cells: ties go to the lower cell.
            order = np.argsort(-blended, axis=1, kind="stable")
            cum = np.cumsum(counts[order], axis=1)
            top = np.cumsum(np.sort(counts)[::-1])
            for i, c in enumerate(self.coverages):
                n_c = round(c * len(study))
                if n_c > 0:
                    hits[:, i] = cum[:, n_c - 1]
                    best[i] = top[n_c - 1]
        self._val_cache[key] = (hits, best)
        self._val_used.add(key)
        return hits, best

    def _risk(self, events: Events, grid: Grid, now: float) -> FloatArray:
        used: set[tuple[str, float, bytes]] = set()
        self._val_used = set()
        names = list(self.components)
        weights = self._weight_grid()
        hits = np.zeros((len(weights), len(self.coverages)))
        best = np.zeros(len(self.coverages))
        for v in range(1, self.validation_weeks + 1):
            week = self._validate(events, grid, now - 7.0 * v, weights, used)
            if week is None:
                break
            hits += week[0]
            best += week[1]
        # Mean PEI over the coverages: each coverage counts alike, whatever its hit rate.
        used_cov = best > 0
        if used_cov.any():
            gain = (hits[:, used_cov] / best[used_cov]).mean(axis=1)
            pick = int(np.argmax(gain))
        else:
            pick = _uniform_index(weights)
        self.weights = {n: float(w) for n, w in zip(names, weights[pick], strict=True)}
        surf = self._surfaces(events, grid, now, used)
        self._cache = {k: v for k, v in self._cache.items() if k in used}
        self._val_cache = {k: v for k, v in self._val_cache.items() if k in self._val_used}
        return weights[pick] @ surf


def _fingerprint(events: Events, n: int) -> bytes:
    """Digest of the first ``n`` events' coordinates and times."""
    digest = hashlib.blake2b(digest_size=16)
    for arr in (events.x[:n], events.y[:n], events.t[:n]):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.digest()


def _uniform_index(weights: FloatArray) -> int:
    """Row of the weight grid closest to equal weights (used when nothing can be learnt)."""
    target = np.full(weights.shape[1], 1.0 / weights.shape[1])
    return int(np.argmin(np.abs(weights - target).sum(axis=1)))


#: The methods the backtest and the CLI know, by name; each builds a fresh forecaster.
METHODS: dict[str, Callable[[Grid], Forecaster]] = {
    "naive": lambda g: NaiveCounts(g),
    "naive-recent": lambda g: NaiveCounts(g, window_days=28.0),
    "retrospective": lambda g: RetrospectiveHotspot(g),
    "prospective": lambda g: ProspectiveHotspot(g),
    "kde": lambda g: DecayKDE(g),
    "etas": lambda g: GridETAS(g),
    "blend": lambda g: Blend(g),
}


def make_forecaster(method: str, grid: Grid) -> Forecaster:
    """Build the named forecaster on ``grid``.

    Examples
    --------
    >>> make_forecaster("prospective", Grid(0.0, 0.0, 150.0, 2, 2)).name
    'prospective'
    """
    try:
        return METHODS[method](grid)
    except KeyError:
        raise AnalysisInputError(
            f"unknown method {method!r}; choose from {', '.join(METHODS)}"
        ) from None
