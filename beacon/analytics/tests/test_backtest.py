"""The evaluation protocol: hand-worked PAI/PEI, and properties that must always hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.analytics.backtest import coverage_cells, evaluate_week, run_backtest, select_top
from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.forecast import Forecaster, NaiveCounts
from beacon.analytics.grid import FloatArray, Grid


def _events(cells_t, size=100.0, nx=4):
    """Events at the centres of the given cells (cell index, time) on a grid of ``nx`` columns."""
    c = np.array([ct[0] for ct in cells_t])
    t = np.array([ct[1] for ct in cells_t], dtype=float)
    return Events.from_arrays((c % nx + 0.5) * size, (c // nx + 0.5) * size, t)


class Fixed(Forecaster):
    """Scores fixed in advance (for hand-worked cases)."""

    name = "fixed"

    def __init__(self, grid=None, scores=None):
        super().__init__(grid)
        self.fixed = dict(scores or {})

    def _risk(self, events, grid, now) -> FloatArray:
        r = np.zeros(grid.n_cells)
        for k, v in self.fixed.items():
            if k < grid.n_cells:
                r[k] = v
        return r


class Oracle(Forecaster):
    """Cheats: knows every event and scores each cell by its count in the coming week."""

    name = "oracle"

    def __init__(self, grid, everything):
        super().__init__(grid)
        self.everything = everything

    def _risk(self, events, grid, now) -> FloatArray:
        ev = self.everything
        week = ev.select((ev.t >= now) & (ev.t < now + 7))
        return grid.counts(week).astype(float)


def test_hand_worked_pai_and_pei():
    # Grid 4x1 of 100 m: cells 0..3. History (t < 7): one event in each of cells 0, 1, 2,
    # so the study area is {0, 1, 2}, A = 3 (cell 3 is never in it).
    # Week 0 = [7, 14): cell 1 x3, cell 2 x1, cell 3 x2 (outside the study area).
    # Scores: cell 0 = 9, cell 1 = 5, cell 2 = 5 (tie with cell 1), cell 3 = 100.
    # Coverage 0.34: n_c = round(1.02) = 1 -> cell 0 (cell 3 is not a study cell).
    #   hits = 0, N = 3 + 1 = 4, n* = 3 (cell 1). HR = 0, PAI = 0, PEI = 0.
    # Coverage 0.67: n_c = round(2.01) = 2 -> cells 0 and 1 (tie 1 vs 2 -> lower index 1).
    #   hits = 3, N = 4, n* = 3 + 1 = 4. HR = 3/4, PAI = 0.75 / (2/3) = 1.125, PEI = 3/4.
    # Week 1 = [14, 21): cell 2 x2.
    #   0.34: pick cell 0 -> hits 0, N 2, n* 2.   0.67: cells 0, 1 -> hits 0, N 2, n* 2.
    # Totals 0.34: hits 0, N 6, n* 5 -> PAI 0, PEI 0.
    # Totals 0.67: hits 3, N 6, n* 6 -> HR 0.5, PAI 0.5 / (2/3) = 0.75, PEI 3/6 = 0.5.
    ev = _events(
        [
            (0, 1),
            (1, 2),
            (2, 3),
            (1, 8),
            (1, 9),
            (1, 10),
            (2, 11),
            (3, 12),
            (3, 13),
            (2, 15),
            (2, 16),
        ]
    )
    scores = {0: 9.0, 1: 5.0, 2: 5.0, 3: 100.0}
    r = run_backtest(ev, {"f": lambda g: Fixed(g, scores)}, 7.0, 2, 100.0, [0.34, 0.67])
    assert r.study_cells == 3
    low, high = r.methods["f"].figures
    assert (low.n_cells, low.hits, low.events, low.best) == (1, 0, 6, 5)
    assert (low.pai, low.pei) == (0.0, 0.0)
    assert (high.n_cells, high.hits, high.events, high.best) == (2, 3, 6, 6)
    assert high.hit_rate == pytest.approx(0.5)
    assert high.pai == pytest.approx(0.75)
    assert high.pei == pytest.approx(0.5)


def test_hand_worked_second_case_with_naive_counts():
    # 4x1 grid. History: cell 0 x3 (t=0,1,2), cell 3 x1 (t=3): A = 2 (cells 0, 3).
    # Week [7, 14): cell 0 x1, cell 3 x3.  Naive scores: cell 0 = 3, cell 3 = 1.
    # Coverage 0.5: n_c = round(1.0) = 1 -> cell 0: hits 1, N 4, n* 3.
    # HR = 1/4, PAI = 0.25 / (1/2) = 0.5, PEI = 1/3.
    ev = _events([(0, 0), (0, 1), (0, 2), (3, 3), (0, 8), (3, 9), (3, 10), (3, 11)])
    f = run_backtest(ev, ["naive"], 7.0, 1, 100.0, [0.5]).methods["naive"].at(0.5)
    assert (f.hits, f.events, f.best) == (1, 4, 3)
    assert f.pai == pytest.approx(0.5)
    assert f.pei == pytest.approx(1 / 3)


def test_python_rounding_halves_to_even():
    # 0.05 * 50 = 2.5 -> 2 ; 0.05 * 70 = 3.5 -> 4
    assert coverage_cells(0.05, 50) == 2
    assert coverage_cells(0.05, 70) == 4


def test_ties_go_to_the_lower_cell():
    assert select_top([1.0, 1.0, 1.0], [5, 2, 9], 2).tolist() == [2, 5]
    # evaluate_week: all scores equal -> the lowest study cell is chosen
    assert evaluate_week([0.0, 0.0], [4, 3], [4, 4, 3], [0.5]) == [(1, 3, 2, 1)]


def test_zero_events_give_nan_not_an_error():
    ev = _events([(0, 0), (1, 30)])
    f = run_backtest(ev, ["naive"], 7.0, 1, 100.0, [0.5]).methods["naive"].at(0.5)
    assert f.events == 0 and math.isnan(f.hit_rate) and math.isnan(f.pei)


def test_bad_set_ups_are_refused():
    ev = _events([(0, 10)])
    with pytest.raises(AnalysisInputError, match="study area"):
        run_backtest(ev, ["naive"], 5.0, 1)
    with pytest.raises(AnalysisInputError, match="unknown method"):
        run_backtest(ev, ["nope"], 20.0, 1)
    with pytest.raises(AnalysisInputError):
        run_backtest(ev, ["naive"], 20.0, 0)
    with pytest.raises(AnalysisInputError):
        run_backtest(ev, ["naive"], 20.0, 1, coverages=[1.5])


def test_methods_only_see_the_past():
    seen = []

    class Spy(NaiveCounts):
        def _risk(self, events, grid, now):
            seen.append((now, float(events.t.max())))
            return super()._risk(events, grid, now)

    ev = _events([(0, 0), (1, 6.9), (1, 7.0), (2, 13.99), (3, 14.0), (0, 20)])
    run_backtest(ev, {"spy": lambda g: Spy(g)}, 7.0, 2, 100.0, [0.5])
    assert seen == [(7.0, 6.9), (14.0, 13.99)]


cell_time = st.tuples(st.integers(0, 15), st.floats(0, 34.99, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(cell_time, min_size=1, max_size=60),
    st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4),
)
def test_perfect_forecast_has_pei_one_and_the_best_pai(events, coverages):
    ev = _events([(0, 0.0), *events])
    r = run_backtest(ev, {"oracle": lambda g: Oracle(g, ev)}, 7.0, 4, 100.0, coverages).methods[
        "oracle"
    ]
    for f in r.figures:
        if f.best > 0:
            assert f.pei == pytest.approx(1.0)
            assert f.hits == f.best
            # Best possible PAI: every hit that any selection of n_c cells could make.
            assert f.pai == pytest.approx((f.best / f.events) / (f.n_cells / r_study(ev)))


def r_study(ev):
    g = Grid.from_events(ev, 100.0)
    return len(np.unique(g.cells(ev.select(ev.t < 7.0))))


@settings(max_examples=40, deadline=None)
@given(st.lists(cell_time, min_size=2, max_size=50), st.randoms(use_true_random=False))
def test_event_order_changes_nothing(events, rnd):
    ev = _events([(0, 0.0), *events])
    perm = list(range(len(ev)))
    rnd.shuffle(perm)
    shuffled = Events.from_arrays(ev.x[perm], ev.y[perm], ev.t[perm])
    methods = ["naive", "prospective", "kde", "etas"]
    a = run_backtest(ev, methods, 7.0, 3, 100.0).to_dict()["methods"]
    b = run_backtest(shuffled, methods, 7.0, 3, 100.0).to_dict()["methods"]
    for m in methods:
        assert a[m]["figures"] == b[m]["figures"]
        assert a[m]["weekly"] == b[m]["weekly"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(cell_time, min_size=1, max_size=60),
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=16, max_size=16),
)
def test_pai_is_non_negative_and_pei_within_zero_one(events, scores):
    ev = _events([(0, 0.0), *events])
    fixed = dict(enumerate(scores))
    r = run_backtest(ev, {"f": lambda g: Fixed(g, fixed)}, 7.0, 4, 100.0).methods["f"]
    for f in r.figures:
        assert math.isnan(f.pai) or f.pai >= 0
        assert math.isnan(f.pei) or 0 <= f.pei <= 1
        assert f.hits <= f.best <= f.events
