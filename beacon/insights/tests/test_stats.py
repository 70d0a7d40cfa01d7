"""The zone read off a Knox table, and the Poisson CUSUM."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.nearrepeat import knox
from beacon.insights.stats import near_repeat_window, poisson_cusum


def table(p: Any, ratio: Any, b: float = 100.0, w: float = 7.0) -> dict[str, Any]:
    rows, cols = len(p), len(p[0])
    return {
        "space_edges_m": [b * k for k in range(rows - 1)],
        "time_edges_days": [w * k for k in range(cols)],
        "p_value": p,
        "knox_ratio": ratio,
    }


def test_zone_is_the_raised_cells_joined_to_the_origin() -> None:
    # Rows: same place, (0,100), [100,200), [200,300), beyond. Columns: [0,7), [7,14), beyond.
    p = [
        [0.01, 0.01, 0.9],
        [0.01, 0.5, 0.9],
        [0.01, 0.5, 0.9],
        [0.5, 0.01, 0.9],  # raised but not joined to the zone: ignored
        [0.01, 0.01, 0.01],  # beyond: never counts
    ]
    ratio = [[2.0, 1.5, 1.0], [1.4, 1.0, 1.0], [1.3, 1.0, 1.0], [1.0, 1.6, 1.0], [2, 2, 2]]
    zone = near_repeat_window(table(p, ratio))
    assert zone == {
        "distance_m": 200.0,
        "days": 14.0,
        "cells": [[0, 0], [0, 1], [1, 0], [2, 0]],
    }


def test_small_ratio_or_no_significance_means_no_zone() -> None:
    p = [[0.01, 0.01], [0.01, 0.01], [0.5, 0.5]]
    weak = [[1.1, 1.1], [1.1, 1.1], [1.0, 1.0]]
    assert near_repeat_window(table(p, weak), min_ratio=1.2) is None
    assert (
        near_repeat_window(table([[0.2, 0.2], [0.2, 0.2], [1, 1]], [[3, 3], [3, 3], [1, 1]]))
        is None
    )


def test_same_location_only_gives_a_zero_radius() -> None:
    p = [[0.01, 0.5], [0.5, 0.5], [0.5, 0.5]]
    ratio = [[3.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    assert near_repeat_window(table(p, ratio)) == {
        "distance_m": 0.0,
        "days": 7.0,
        "cells": [[0, 0]],
    }


def test_missing_ratio_is_never_raised() -> None:
    p = [[0.01, 0.5], [0.01, 0.5], [0.5, 0.5]]
    ratio = [[None, 1.0], [2.0, 1.0], [1.0, 1.0]]
    zone = near_repeat_window(table(p, ratio))
    assert zone is not None and zone["cells"] == [[1, 0]]


def test_shape_mismatch_is_an_error() -> None:
    bad = table([[0.01, 0.5], [0.01, 0.5], [0.5, 0.5]], [[2, 1], [2, 1], [1, 1]])
    bad["space_edges_m"] = [0.0]
    with pytest.raises(AnalysisInputError, match="shape"):
        near_repeat_window(bad)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.data(),
    st.floats(0.01, 0.2),
    st.floats(1.0, 2.0),
)
def test_zone_cells_are_raised_and_connected(
    n_space: int, n_time: int, data: st.DataObject, alpha: float, min_ratio: float
) -> None:
    rows, cols = n_space + 2, n_time + 1
    cell = st.tuples(st.floats(0.001, 1.0), st.floats(0.0, 4.0))
    grid = data.draw(
        st.lists(st.lists(cell, min_size=cols, max_size=cols), min_size=rows, max_size=rows)
    )
    p = [[c[0] for c in row] for row in grid]
    ratio = [[c[1] for c in row] for row in grid]
    zone = near_repeat_window(table(p, ratio), alpha, min_ratio)
    seeds = [(r, 0) for r in (0, 1) if p[r][0] <= alpha and ratio[r][0] >= min_ratio]
    if zone is None:
        assert not seeds
        return
    cells = {tuple(c) for c in zone["cells"]}
    assert cells, "a zone has cells"
    for r, c in cells:
        assert r < rows - 1 and c < cols - 1, "never the beyond row or column"
        assert p[r][c] <= alpha and ratio[r][c] >= min_ratio
    # Every zone cell is reachable from a seed through zone cells.
    reached = set(seeds) & cells
    todo = list(reached)
    while todo:
        r, c = todo.pop()
        for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if nxt in cells and nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    assert reached == cells
    assert zone["distance_m"] == max(100.0 * r for r, _ in cells)
    assert zone["days"] == max(7.0 * (c + 1) for _, c in cells)


def test_zone_from_a_real_knox_result() -> None:
    # Pairs of events 40 m and 2 days apart, scattered over 3 km and 200 days.
    rng = np.random.default_rng(3)
    n = 80
    x = rng.uniform(0, 3000, n)
    y = rng.uniform(0, 3000, n)
    t = rng.uniform(0, 200, n)
    x = np.r_[x, x + 40]
    y = np.r_[y, y]
    t = np.r_[t, t + 2]
    result = knox(Events.from_arrays(x, y, t), 100, 4, 7, 3, permutations=99, seed=1)
    zone = near_repeat_window(result.to_dict())
    assert zone is not None
    assert zone["distance_m"] == 100.0 and zone["days"] == 7.0


def test_cusum_matches_the_recursion() -> None:
    c = poisson_cusum([1, 0, 5, 6, 2], baseline_rate=1.0, shift=2.0, h=3.0)
    k = 1.0 / math.log(2.0)
    expected, s = [], 0.0
    for x in [1, 0, 5, 6, 2]:
        s = max(0.0, s + x - k)
        expected.append(s)
    assert c.k == pytest.approx(k)
    assert c.path == pytest.approx(expected)
    assert c.signal_week == 2 and c.signalled


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 30), max_size=20),
    st.floats(0.05, 20.0),
    st.floats(1.1, 4.0),
    st.floats(0.5, 20.0),
)
def test_cusum_properties(counts: list[int], rate: float, shift: float, h: float) -> None:
    c = poisson_cusum(counts, rate, shift, h)
    assert rate < c.k < shift * rate  # the reference value lies between the two rates
    previous = 0.0
    for week, (x, s) in enumerate(zip(counts, c.path, strict=True)):
        assert s >= 0.0
        assert s == pytest.approx(max(0.0, previous + x - c.k))
        if c.signal_week is None or week < c.signal_week:
            assert s < h
        previous = s
    if c.signal_week is not None:
        assert c.path[c.signal_week] >= h


def test_cusum_rejects_bad_input() -> None:
    with pytest.raises(AnalysisInputError, match="baseline"):
        poisson_cusum([1], 0.0)
    with pytest.raises(AnalysisInputError, match="shift"):
        poisson_cusum([1], 1.0, shift=1.0)
    with pytest.raises(AnalysisInputError, match="week 1"):
        poisson_cusum([1, -2], 1.0)
