"""The event table every analysis in this package works on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


class AnalysisInputError(ValueError):
    """Raised for input an analysis cannot run on; the message says what and where."""


@dataclass(frozen=True)
class Events:
    """Point events in a projected metric plane.

    Attributes
    ----------
    x, y : float64 arrays
        Projected coordinates in metres (any metric CRS; the CRS is the caller's).
    t : float64 array
        Event time in days since the Unix epoch (UTC), fractional days allowed.
    category : array of str
        Offence category per event (may be empty strings).
    ids : array of str
        Stable identifier per event (row id, or line number when the file has none).
    """

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    t: npt.NDArray[np.float64]
    category: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))
    ids: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))

    def __post_init__(self) -> None:
        n = len(self.x)
        if len(self.y) != n or len(self.t) != n:
            raise AnalysisInputError("x, y and t must have the same length")
        if len(self.category) == 0 and n:
            object.__setattr__(self, "category", np.full(n, "", dtype=str))
        if len(self.ids) == 0 and n:
            object.__setattr__(self, "ids", np.array([str(i) for i in range(n)], dtype=str))

    def __len__(self) -> int:
        return len(self.x)

    def select(self, mask: npt.NDArray[np.bool_]) -> Events:
        """Return the events where ``mask`` is true."""
        return Events(
            x=self.x[mask],
            y=self.y[mask],
            t=self.t[mask],
            category=self.category[mask],
            ids=self.ids[mask],
        )

    @classmethod
    def from_arrays(
        cls,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        t: npt.ArrayLike,
        category: npt.ArrayLike | None = None,
        ids: npt.ArrayLike | None = None,
    ) -> Events:
        """Build events from any array-likes, converting to the canonical dtypes."""
        return cls(
            x=np.asarray(x, dtype=np.float64),
            y=np.asarray(y, dtype=np.float64),
            t=np.asarray(t, dtype=np.float64),
            category=np.asarray([] if category is None else category, dtype=str),
            ids=np.asarray([] if ids is None else ids, dtype=str),
        )
