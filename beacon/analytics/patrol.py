"""Patrol plans: which cells each unit should cover, given a forecast.

Each unit patrols at most ``max_cells`` cells, all in one beat, and no cell is
given to two units. The plan maximises the forecast risk covered.

Two planners:

* ``contiguous=True`` (default): units are placed one after another; each starts
  from the highest-risk free cell with a beat and grows through neighbouring
  (4- or 8-) cells of the same beat, always adding the highest-risk neighbour.
  When no neighbour is left it jumps to the best free cell of the beat (the unit
  is then flagged non-contiguous).
* ``contiguous=False``: the exact optimum without contiguity. A beat given m
  units covers its m * max_cells best cells; the gain of each extra unit in a
  beat never grows, so taking the ``units`` largest gains over all beats is
  optimal. This optimum is also reported as the bound of the contiguous plan.

Cells with zero or negative risk are never chosen.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from beacon.analytics.events import AnalysisInputError
from beacon.analytics.grid import Grid


@dataclass(frozen=True)
class UnitPlan:
    """One unit's assignment.

    Attributes
    ----------
    unit : int
        0-based unit number.
    beat : hashable
        The beat all its cells belong to.
    cells : tuple of int
        Cell indices, in the order they were added.
    expected : float
        Sum of the forecast scores of the cells.
    contiguous : bool
        Whether the cells form one connected patch.
    """

    unit: int
    beat: Hashable
    cells: tuple[int, ...]
    expected: float
    contiguous: bool


@dataclass
class PatrolPlan:
    """A plan and how good it is.

    Attributes
    ----------
    units : list of UnitPlan
    expected_covered : float
        Risk covered by the plan.
    bound : float
        Risk covered by the best plan without contiguity (an upper bound).
    total : float
        Positive risk over all cells with a beat.
    """

    units: list[UnitPlan] = field(default_factory=list)
    expected_covered: float = 0.0
    bound: float = 0.0
    total: float = 0.0

    @property
    def share_of_bound(self) -> float:
        """``expected_covered / bound`` (1.0 when the bound is 0)."""
        return self.expected_covered / self.bound if self.bound > 0 else 1.0


def _inputs(
    cells: npt.ArrayLike, scores: npt.ArrayLike, beats: Mapping[int, Hashable], units: int, cap: int
) -> dict[int, float]:
    c = np.asarray(cells, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if c.shape != s.shape:
        raise AnalysisInputError("cells and scores must have the same length")
    if len(np.unique(c)) != len(c):
        raise AnalysisInputError("each cell may appear once")
    if not np.all(np.isfinite(s)):
        raise AnalysisInputError("scores must be finite numbers")
    if units < 0 or cap < 1:
        raise AnalysisInputError("units must be >= 0 and max_cells >= 1")
    return {int(k): float(v) for k, v in zip(c, s, strict=True) if v > 0 and int(k) in beats}


def _best_first(cells: list[int], risk: Mapping[int, float]) -> list[int]:
    return sorted(cells, key=lambda k: (-risk[k], k))


def optimal_plan(
    cells: npt.ArrayLike,
    scores: npt.ArrayLike,
    beats: Mapping[int, Hashable],
    units: int,
    max_cells: int,
) -> PatrolPlan:
    """Best plan with every unit inside one beat, ignoring contiguity.

    Examples
    --------
    >>> p = optimal_plan([0, 1, 2, 3], [5.0, 4.0, 3.0, 1.0], {0: "A", 1: "A", 2: "B", 3: "B"},
    ...                  units=2, max_cells=1)
    >>> [(u.beat, u.cells) for u in p.units], p.expected_covered
    ([('A', (0,)), ('A', (1,))], 9.0)
    """
    risk = _inputs(cells, scores, beats, units, max_cells)
    by_beat: dict[Hashable, list[int]] = {}
    for k in risk:
        by_beat.setdefault(beats[k], []).append(k)
    chunks: list[tuple[float, int, Hashable, tuple[int, ...]]] = []
    for order, (beat, members) in enumerate(sorted(by_beat.items(), key=lambda kv: str(kv[0]))):
        ranked = _best_first(members, risk)
        for i in range(0, len(ranked), max_cells):
            part = tuple(ranked[i : i + max_cells])
            chunks.append((sum(risk[k] for k in part), order, beat, part))
    top = heapq.nlargest(units, chunks, key=lambda ch: (ch[0], -ch[1], -ch[3][0]))
    plan = PatrolPlan(total=sum(risk.values()))
    for u, (value, _, beat, part) in enumerate(top):
        plan.units.append(UnitPlan(u, beat, part, value, False))
    plan.expected_covered = sum(u.expected for u in plan.units)
    plan.bound = plan.expected_covered
    return plan


def plan_patrols(
    grid: Grid,
    cells: npt.ArrayLike,
    scores: npt.ArrayLike,
    beats: Mapping[int, Hashable],
    units: int,
    max_cells: int,
    eight: bool = True,
    contiguous: bool = True,
) -> PatrolPlan:
    """Choose patrol cells for ``units`` units of at most ``max_cells`` cells each.

    Parameters
    ----------
    grid : Grid
        The grid the cell indices refer to (for neighbours).
    cells, scores : array_like
        Cell indices and their forecast scores (expected crime).
    beats : mapping of cell -> beat id
        Cells without a beat are not patrolled.
    units : int
        Number of patrol units.
    max_cells : int
        Most cells one unit covers.
    eight : bool, default True
        Neighbours share an edge or a corner (False: an edge only).
    contiguous : bool, default True
        Grow connected patches (see the module doc); False returns the optimum
        without contiguity.

    Returns
    -------
    PatrolPlan
        Units with their cells, the risk covered and the non-contiguous bound.

    Examples
    --------
    >>> g = Grid(0.0, 0.0, 100.0, 3, 1)
    >>> p = plan_patrols(g, [0, 1, 2], [5.0, 1.0, 4.0], {0: "A", 1: "A", 2: "A"},
    ...                  units=1, max_cells=2)
    >>> p.units[0].cells, p.expected_covered, p.bound
    ((0, 1), 6.0, 9.0)
    """
    bound_plan = optimal_plan(cells, scores, beats, units, max_cells)
    if not contiguous:
        return bound_plan
    risk = _inputs(cells, scores, beats, units, max_cells)
    free = set(risk)
    plan = PatrolPlan(bound=bound_plan.bound, total=bound_plan.total)
    for u in range(units):
        if not free:
            break
        seed = _best_first(list(free), risk)[0]
        beat = beats[seed]
        in_beat = {k for k in free if beats[k] == beat}
        patch = [seed]
        in_beat.discard(seed)
        frontier: set[int] = set()
        connected = True
        while len(patch) < max_cells and in_beat:
            frontier |= {n for n in grid.neighbours(patch[-1], eight) if n in in_beat}
            pool = frontier if frontier else in_beat
            if not frontier:
                connected = False
            nxt = _best_first(list(pool), risk)[0]
            patch.append(nxt)
            in_beat.discard(nxt)
            frontier.discard(nxt)
        free.difference_update(patch)
        plan.units.append(UnitPlan(u, beat, tuple(patch), sum(risk[k] for k in patch), connected))
    plan.expected_covered = sum(u.expected for u in plan.units)
    return plan


def is_connected(grid: Grid, cells: tuple[int, ...] | list[int], eight: bool = True) -> bool:
    """Whether ``cells`` form one connected patch under 4- or 8-neighbourhood.

    Examples
    --------
    >>> g = Grid(0.0, 0.0, 1.0, 3, 3)
    >>> is_connected(g, [0, 4]), is_connected(g, [0, 4], eight=False)
    (True, False)
    """
    if not cells:
        return True
    todo = set(cells)
    stack = [cells[0]]
    todo.discard(cells[0])
    while stack:
        k = stack.pop()
        for n in grid.neighbours(k, eight):
            if n in todo:
                todo.discard(n)
                stack.append(n)
    return not todo
