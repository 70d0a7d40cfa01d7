"""The square grid the forecasting protocol scores and evaluates on.

Cells have side ``cell_size`` metres. The origin is snapped to a multiple of the
cell size below the smallest coordinate of *all* events in the file, so the same
file always gives the same cells whatever part of it a method sees. Cells are
numbered row-major: ``index = iy * nx + ix``, with ``ix`` growing east and ``iy``
growing north.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from beacon.analytics.events import AnalysisInputError, Events

#: Largest grid built; dense per-cell arrays of this many float64 take 80 MB.
MAX_CELLS = 10_000_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Grid:
    """A regular square grid over a projected plane.

    Attributes
    ----------
    x0, y0 : float
        South-west corner of cell 0, in metres.
    cell_size : float
        Side of a cell in metres.
    nx, ny : int
        Number of columns and rows.

    Examples
    --------
    >>> g = Grid(x0=0.0, y0=0.0, cell_size=100.0, nx=3, ny=2)
    >>> g.n_cells
    6
    >>> g.cell_of([50.0, 250.0], [50.0, 150.0]).tolist()
    [0, 5]
    """

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int

    def __post_init__(self) -> None:
        if not (self.cell_size > 0 and math.isfinite(self.cell_size)):
            raise AnalysisInputError(f"cell size must be a positive number, got {self.cell_size}")
        if self.nx < 1 or self.ny < 1:
            raise AnalysisInputError("a grid needs at least one row and one column")
        if self.nx * self.ny > MAX_CELLS:
            raise AnalysisInputError(
                f"a {self.nx} x {self.ny} grid has more than {MAX_CELLS:,} cells; "
                "use a larger cell size or a smaller area"
            )

    @classmethod
    def from_events(cls, events: Events, cell_size: float = 150.0) -> Grid:
        """Build the protocol grid covering every event.

        Parameters
        ----------
        events : Events
            All events in the file (not just the training part).
        cell_size : float, default 150
            Cell side in metres.

        Returns
        -------
        Grid
            Origin at ``(floor(min x / s) * s, floor(min y / s) * s)``.

        Examples
        --------
        >>> ev = Events.from_arrays([120.0, 460.0], [10.0, 310.0], [0.0, 1.0])
        >>> g = Grid.from_events(ev, cell_size=150.0)
        >>> (g.x0, g.y0, g.nx, g.ny)
        (0.0, 0.0, 4, 3)
        """
        if len(events) == 0:
            raise AnalysisInputError("cannot build a grid from no events")
        if not (cell_size > 0 and math.isfinite(cell_size)):
            raise AnalysisInputError(f"cell size must be a positive number, got {cell_size}")
        if not (np.all(np.isfinite(events.x)) and np.all(np.isfinite(events.y))):
            raise AnalysisInputError("event coordinates must be finite numbers")
        s = float(cell_size)
        x0 = math.floor(float(events.x.min()) / s) * s
        y0 = math.floor(float(events.y.min()) / s) * s
        nx = math.floor((float(events.x.max()) - x0) / s) + 1
        ny = math.floor((float(events.y.max()) - y0) / s) + 1
        return cls(x0=x0, y0=y0, cell_size=s, nx=nx, ny=ny)

    @property
    def n_cells(self) -> int:
        """Total number of cells, ``nx * ny``."""
        return self.nx * self.ny

    def column_row(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """Column and row of each point (may fall outside ``0..nx-1`` / ``0..ny-1``).

        Examples
        --------
        >>> g = Grid(0.0, 0.0, 100.0, 2, 2)
        >>> [a.tolist() for a in g.column_row([-1.0, 150.0], [0.0, 99.9])]
        [[-1, 1], [0, 0]]
        """
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        ix = np.floor((xa - self.x0) / self.cell_size).astype(np.int64)
        iy = np.floor((ya - self.y0) / self.cell_size).astype(np.int64)
        return ix, iy

    def cell_of(self, x: npt.ArrayLike, y: npt.ArrayLike) -> IntArray:
        """Cell index of each point; ``-1`` for points outside the grid.

        Examples
        --------
        >>> g = Grid(0.0, 0.0, 100.0, 2, 2)
        >>> g.cell_of([10.0, 110.0, 10.0, 500.0], [10.0, 10.0, 110.0, 10.0]).tolist()
        [0, 1, 2, -1]
        """
        ix, iy = self.column_row(x, y)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(inside, iy * self.nx + ix, -1).astype(np.int64)

    def cells(self, events: Events) -> IntArray:
        """Cell index of each event (``-1`` outside the grid).

        Examples
        --------
        >>> ev = Events.from_arrays([10.0, 160.0], [10.0, 10.0], [0.0, 0.0])
        >>> Grid.from_events(ev, 150.0).cells(ev).tolist()
        [0, 1]
        """
        return self.cell_of(events.x, events.y)

    def centres(self, cells: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Centre coordinates (x, y) of the given cell indices.

        Examples
        --------
        >>> g = Grid(0.0, 0.0, 100.0, 3, 2)
        >>> [a.tolist() for a in g.centres([0, 4])]
        [[50.0, 150.0], [50.0, 150.0]]
        """
        c = self._check_cells(cells)
        iy, ix = np.divmod(c, self.nx)
        return (
            self.x0 + (ix + 0.5) * self.cell_size,
            self.y0 + (iy + 0.5) * self.cell_size,
        )

    def counts(self, events: Events) -> IntArray:
        """Number of events in every cell (length ``n_cells``); outside points ignored.

        Examples
        --------
        >>> ev = Events.from_arrays([10.0, 20.0, 160.0], [10.0, 10.0, 10.0], [0, 0, 0])
        >>> Grid.from_events(ev, 150.0).counts(ev).tolist()
        [2, 1]
        """
        c = self.cells(events)
        return np.bincount(c[c >= 0], minlength=self.n_cells).astype(np.int64)

    def neighbours(self, cell: int, eight: bool = True) -> list[int]:
        """Cells sharing an edge (or, with ``eight``, also a corner) with ``cell``.

        Examples
        --------
        >>> Grid(0.0, 0.0, 1.0, 3, 3).neighbours(0, eight=False)
        [1, 3]
        >>> Grid(0.0, 0.0, 1.0, 3, 3).neighbours(0)
        [1, 3, 4]
        """
        iy, ix = divmod(int(cell), self.nx)
        steps = (
            [(0, -1), (-1, 0), (1, 0), (0, 1)]
            if not eight
            else [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]
        )
        out = []
        for dx, dy in steps:
            jx, jy = ix + dx, iy + dy
            if 0 <= jx < self.nx and 0 <= jy < self.ny:
                out.append(jy * self.nx + jx)
        return sorted(out)

    def _check_cells(self, cells: npt.ArrayLike) -> IntArray:
        c = np.asarray(cells, dtype=np.int64)
        if c.size and (c.min() < 0 or c.max() >= self.n_cells):
            raise AnalysisInputError(f"cell index out of range 0..{self.n_cells - 1}")
        return c
