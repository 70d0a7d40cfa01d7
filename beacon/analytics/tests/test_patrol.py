"""Patrol plans: the non-contiguous optimum against brute force, constraints always hold."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.analytics.events import AnalysisInputError
from beacon.analytics.grid import Grid
from beacon.analytics.patrol import is_connected, optimal_plan, plan_patrols


def _brute_force(scores, beats, units, cap, grid=None, contiguous=False):
    """Best value over every assignment of cells to units (or to nobody)."""
    cells = [k for k in range(len(scores)) if scores[k] > 0]
    best = 0.0
    for assign in itertools.product(range(units + 1), repeat=len(cells)):
        ok = True
        value = 0.0
        for u in range(1, units + 1):
            mine = [c for c, a in zip(cells, assign, strict=True) if a == u]
            if len(mine) > cap or len({beats[c] for c in mine}) > 1:
                ok = False
                break
            if contiguous and mine and not is_connected(grid, mine):
                ok = False
                break
            value += sum(scores[c] for c in mine)
        if ok:
            best = max(best, value)
    return best


def _check(plan, grid, scores, beats, units, cap):
    seen: set[int] = set()
    assert len(plan.units) <= units
    for u in plan.units:
        assert 1 <= len(u.cells) <= cap
        assert {beats[c] for c in u.cells} == {u.beat}
        assert not seen & set(u.cells)
        seen |= set(u.cells)
        assert all(scores[c] > 0 for c in u.cells)
        assert u.expected == pytest.approx(sum(scores[c] for c in u.cells))
        if u.contiguous:
            assert is_connected(grid, list(u.cells))
    assert plan.expected_covered == pytest.approx(sum(u.expected for u in plan.units))
    assert plan.expected_covered <= plan.bound + 1e-9


small_case = st.tuples(
    st.lists(st.integers(0, 9), min_size=6, max_size=6),
    st.lists(st.sampled_from("AB"), min_size=6, max_size=6),
    st.integers(1, 2),
    st.integers(1, 3),
)


@settings(max_examples=60, deadline=None)
@given(small_case)
def test_bound_is_the_brute_force_optimum_and_plans_respect_the_rules(case):
    raw, beat_list, units, cap = case
    grid = Grid(0.0, 0.0, 1.0, 3, 2)
    scores = [float(v) for v in raw]
    beats = dict(enumerate(beat_list))
    cells = np.arange(6)
    opt = optimal_plan(cells, scores, beats, units, cap)
    assert opt.expected_covered == pytest.approx(_brute_force(scores, beats, units, cap))
    _check(opt, grid, scores, beats, units, cap)
    for eight in (True, False):
        plan = plan_patrols(grid, cells, scores, beats, units, cap, eight=eight)
        _check(plan, grid, scores, beats, units, cap)
        assert plan.bound == pytest.approx(opt.expected_covered)


def test_greedy_grows_a_connected_patch_in_one_beat():
    # 4x1 strip: A A B B with scores 9 1 8 7. One unit of 2 cells: seed 0 (A), grows to 1.
    grid = Grid(0.0, 0.0, 1.0, 4, 1)
    beats = {0: "A", 1: "A", 2: "B", 3: "B"}
    plan = plan_patrols(grid, [0, 1, 2, 3], [9.0, 1.0, 8.0, 7.0], beats, 1, 2)
    assert plan.units[0].cells == (0, 1) and plan.units[0].contiguous
    # The bound puts the unit in beat B (8 + 7 = 15 > 10).
    assert plan.bound == 15.0 and plan.expected_covered == 10.0
    assert plan.share_of_bound == pytest.approx(10 / 15)


def test_greedy_matches_the_contiguous_brute_force_on_a_simple_case():
    grid = Grid(0.0, 0.0, 1.0, 3, 2)
    scores = [5.0, 4.0, 0.0, 3.0, 2.0, 1.0]
    beats = dict.fromkeys(range(6), "A")
    plan = plan_patrols(grid, np.arange(6), scores, beats, 1, 3, eight=False)
    assert plan.expected_covered == _brute_force(scores, beats, 1, 3, grid, contiguous=True)


def test_jumps_are_flagged_non_contiguous():
    grid = Grid(0.0, 0.0, 1.0, 5, 1)
    beats = dict.fromkeys(range(5), "A")
    plan = plan_patrols(grid, np.arange(5), [5.0, 0.0, 0.0, 0.0, 4.0], beats, 1, 2)
    assert plan.units[0].cells == (0, 4) and not plan.units[0].contiguous


def test_cells_without_a_beat_or_risk_are_not_patrolled():
    grid = Grid(0.0, 0.0, 1.0, 3, 1)
    plan = plan_patrols(grid, [0, 1, 2], [5.0, 0.0, 3.0], {1: "A", 2: "A"}, 2, 2)
    assert [u.cells for u in plan.units] == [(2,)]


def test_bad_input():
    grid = Grid(0.0, 0.0, 1.0, 3, 1)
    with pytest.raises(AnalysisInputError):
        plan_patrols(grid, [0, 0], [1.0, 2.0], {0: "A"}, 1, 1)
    with pytest.raises(AnalysisInputError):
        plan_patrols(grid, [0], [1.0], {0: "A"}, 1, 0)
    with pytest.raises(AnalysisInputError):
        plan_patrols(grid, [0], [float("nan")], {0: "A"}, 1, 1)
