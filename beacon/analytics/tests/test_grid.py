"""The protocol grid: origin, numbering, centres and counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.grid import Grid


def test_origin_is_snapped_below_the_minimum():
    ev = Events.from_arrays([-10.0, 305.0], [151.0, 449.0], [0.0, 1.0])
    g = Grid.from_events(ev, 150.0)
    # floor(-10/150)*150 = -150; floor(151/150)*150 = 150
    assert (g.x0, g.y0) == (-150.0, 150.0)
    # x: (305 - -150)/150 = 3.03 -> 4 columns; y: (449-150)/150 = 1.99 -> 2 rows
    assert (g.nx, g.ny) == (4, 2)


def test_row_major_numbering_and_centres():
    g = Grid(0.0, 0.0, 10.0, 4, 3)
    assert g.cell_of([5.0], [25.0]).tolist() == [2 * 4 + 0]
    assert g.cell_of([35.0], [15.0]).tolist() == [1 * 4 + 3]
    cx, cy = g.centres([7])
    assert (cx[0], cy[0]) == (35.0, 15.0)


def test_points_outside_get_minus_one_and_counts_ignore_them():
    g = Grid(0.0, 0.0, 10.0, 2, 2)
    ev = Events.from_arrays([1.0, 1.0, 25.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert g.cells(ev).tolist() == [0, 0, -1]
    assert g.counts(ev).tolist() == [2, 0, 0, 0]


def test_bad_grids_are_refused():
    ev = Events.from_arrays([0.0], [0.0], [0.0])
    with pytest.raises(AnalysisInputError):
        Grid.from_events(ev, 0.0)
    with pytest.raises(AnalysisInputError):
        Grid.from_events(Events.from_arrays([], [], []), 150.0)
    with pytest.raises(AnalysisInputError):
        Grid.from_events(Events.from_arrays([0.0, 1e9], [0.0, 1e9], [0.0, 0.0]), 1.0)
    with pytest.raises(AnalysisInputError):
        Grid(0.0, 0.0, 1.0, 2, 2).centres([4])


def test_neighbours_at_an_edge():
    g = Grid(0.0, 0.0, 1.0, 3, 3)
    assert g.neighbours(4, eight=False) == [1, 3, 5, 7]
    assert g.neighbours(4) == [0, 1, 2, 3, 5, 6, 7, 8]
    assert g.neighbours(8) == [4, 5, 7]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2e4, 2e4), st.floats(-2e4, 2e4)), min_size=1, max_size=50),
    st.sampled_from([37.5, 150.0, 1000.0]),
)
def test_every_event_falls_in_its_grid_cell(points, size):
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    ev = Events.from_arrays(x, y, np.zeros(len(x)))
    g = Grid.from_events(ev, size)
    cells = g.cells(ev)
    assert np.all(cells >= 0)
    cx, cy = g.centres(cells)
    assert np.all(np.abs(cx - x) <= size / 2 + 1e-6)
    assert np.all(np.abs(cy - y) <= size / 2 + 1e-6)
    assert g.counts(ev).sum() == len(x)
