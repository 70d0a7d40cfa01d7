"""Hot spot analysis: kernel density, Getis-Ord Gi*, local and global Moran's I.

Kernel density works on events in a projected metric plane and returns a regular
grid. Gi* and Moran's I work on any areal values with a spatial weights matrix; the
helpers here build both from events counted in H3 cells, but the statistics accept
any weights (a ``scipy.sparse`` matrix or neighbour lists), such as a libpysal
``W.sparse``.

GeoJSON output is in WGS84 lon/lat (RFC 7946), so the functions that write it take
the CRS of the event coordinates (see :class:`beacon.analytics.io.ReadReport`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import h3
import numpy as np
import numpy.typing as npt
from scipy import signal, sparse, stats

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.io import to_lonlat

__all__ = [
    "GiStarResult",
    "GlobalMoranResult",
    "H3Counts",
    "KDEResult",
    "LocalMoranResult",
    "as_weights",
    "benjamini_hochberg",
    "getis_ord_gi_star",
    "gi_star_geojson",
    "global_moran",
    "h3_counts",
    "h3_weights",
    "kde",
    "kde_geojson",
    "local_moran",
    "local_moran_geojson",
    "row_standardise",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Kernel = Literal["quartic", "gaussian"]
WeightsLike: TypeAlias = (
    sparse.sparray | sparse.spmatrix | Sequence[Sequence[int]] | Mapping[int, Sequence[int]]
)

#: Largest KDE grid built (float64 values: 8 bytes a cell).
MAX_GRID_CELLS = 16_000_000
# Gaussian kernels are cut at this many standard deviations (mass lost: 3e-4).
_GAUSS_CUT = 4.0
# Window cells × events above which KDE switches from exact per-event sums to FFT.
_EXACT_BUDGET = 40_000_000


# --------------------------------------------------------------------------- kernel density


@dataclass(frozen=True)
class KDEResult:
    """A kernel density surface on a square grid.

    Attributes
    ----------
    x0, y0 : float
        South-west corner of the grid (metres); cell ``(row, col)`` spans
        ``[x0 + col·cell_size, x0 + (col+1)·cell_size)`` and likewise in y.
    cell_size : float
        Cell side in metres.
    values : ndarray, shape (ny, nx)
        Density at the cell centres in events per square metre (row 0 is the south
        edge), so ``values.sum() * cell_size**2`` is about the number of events.
    kernel : str
    bandwidth : float
        Quartic radius, or Gaussian standard deviation, in metres.
    """

    x0: float
    y0: float
    cell_size: float
    values: FloatArray
    kernel: str
    bandwidth: float

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``."""
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def centres(self) -> tuple[FloatArray, FloatArray]:
        """Cell-centre coordinates as two 1-D arrays ``(xs, ys)``."""
        ny, nx = self.shape
        xs = self.x0 + (np.arange(nx, dtype=np.float64) + 0.5) * self.cell_size
        ys = self.y0 + (np.arange(ny, dtype=np.float64) + 0.5) * self.cell_size
        return xs.astype(np.float64), ys.astype(np.float64)

    def total(self) -> float:
        """Integral of the surface over the grid (about the number of events)."""
        return float(self.values.sum() * self.cell_size**2)


def _kernel_values(d2: FloatArray, kernel: Kernel, bandwidth: float) -> FloatArray:
    """Kernel at squared distances ``d2``; each kernel integrates to 1 over the plane."""
    if kernel == "quartic":
        u = 1.0 - d2 / (bandwidth * bandwidth)
        return np.where(u > 0, (3.0 / (math.pi * bandwidth**2)) * u * u, 0.0)
    return np.exp(-0.5 * d2 / (bandwidth * bandwidth)) / (2.0 * math.pi * bandwidth**2)


def kde(
    events: Events,
    bandwidth: float,
    cell_size: float,
    kernel: str = "quartic",
    bounds: tuple[float, float, float, float] | None = None,
    method: Literal["auto", "exact", "fft"] = "auto",
) -> KDEResult:
    """Kernel density estimate of event intensity on a metre grid.

    Parameters
    ----------
    events : Events
        Coordinates in metres.
    bandwidth : float
        Quartic kernel radius, or Gaussian kernel standard deviation, in metres.
    cell_size : float
        Grid cell side in metres.
    kernel : {"quartic", "gaussian"}
        Quartic: ``3/(πh²)·(1 − d²/h²)²`` for ``d < h``. Gaussian:
        ``exp(−d²/2h²)/(2πh²)`` (cut at 4h).
    bounds : (xmin, ymin, xmax, ymax), optional
        Area to cover; default: the events' extent plus the kernel's reach, so the
        surface holds (almost) all the kernel mass.
    method : {"auto", "exact", "fft"}
        ``exact`` adds each event's kernel over the window of cells it reaches
        (cost: events × window cells). ``fft`` bins events to cell centres and
        convolves with the kernel by FFT (cost independent of the number of events,
        positions rounded to the cell). ``auto`` uses ``exact`` when its cost is
        moderate.

    Returns
    -------
    KDEResult
        Values in events per square metre at cell centres.

    Examples
    --------
    >>> ev = Events.from_arrays(x=[0.0, 10.0, 500.0], y=[5.0, 5.0, 500.0], t=[0, 0, 0])
    >>> surf = kde(ev, bandwidth=100, cell_size=10)
    >>> round(surf.total(), 2)
    3.0
    >>> ny, nx = surf.shape
    >>> int(np.argmax(surf.values)) // nx, int(np.argmax(surf.values)) % nx
    (10, 10)
    """
    if kernel not in ("quartic", "gaussian"):
        raise AnalysisInputError(f"kernel must be 'quartic' or 'gaussian', got {kernel!r}")
    if not (math.isfinite(bandwidth) and bandwidth > 0):
        raise AnalysisInputError(f"bandwidth must be > 0 metres, got {bandwidth}")
    if not (math.isfinite(cell_size) and cell_size > 0):
        raise AnalysisInputError(f"cell size must be > 0 metres, got {cell_size}")
    if len(events) == 0:
        raise AnalysisInputError("no events to estimate a density from")
    x, y = events.x, events.y
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise AnalysisInputError("events have missing (NaN) coordinates")
    kern: Kernel = kernel  # type: ignore[assignment]
    reach = bandwidth if kern == "quartic" else _GAUSS_CUT * bandwidth
    if bounds is None:
        bounds = (
            float(x.min()) - reach,
            float(y.min()) - reach,
            float(x.max()) + reach,
            float(y.max()) + reach,
        )
    xmin, ymin, xmax, ymax = bounds
    # Snap the origin to the cell size so surfaces of the same area line up.
    x0 = math.floor(xmin / cell_size) * cell_size
    y0 = math.floor(ymin / cell_size) * cell_size
    nx = max(1, math.ceil((xmax - x0) / cell_size))
    ny = max(1, math.ceil((ymax - y0) / cell_size))
    if nx * ny > MAX_GRID_CELLS:
        raise AnalysisInputError(
            f"a {nx} x {ny} grid is too large ({nx * ny} cells > {MAX_GRID_CELLS}); "
            "use a larger cell size"
        )
    radius = math.ceil(reach / cell_size) + 1
    window = (2 * radius + 1) ** 2
    if method == "auto":
        method = "exact" if len(events) * window <= _EXACT_BUDGET else "fft"
    if method == "exact":
        values = _kde_exact(x, y, x0, y0, nx, ny, cell_size, kern, bandwidth, radius)
    elif method == "fft":
        values = _kde_fft(x, y, x0, y0, nx, ny, cell_size, kern, bandwidth, radius)
    else:
        raise AnalysisInputError(f"method must be 'auto', 'exact' or 'fft', got {method!r}")
    return KDEResult(
        x0=x0, y0=y0, cell_size=cell_size, values=values, kernel=kern, bandwidth=float(bandwidth)
    )


def _kde_exact(
    x: FloatArray,
    y: FloatArray,
    x0: float,
    y0: float,
    nx: int,
    ny: int,
    cell: float,
    kernel: Kernel,
    bandwidth: float,
    radius: int,
) -> FloatArray:
    off = np.arange(-radius, radius + 1)
    gx, gy = np.meshgrid(off, off)
    ox, oy = gx.ravel(), gy.ravel()
    flat = np.zeros(nx * ny, dtype=np.float64)
    chunk = max(1, 2_000_000 // len(ox))
    for lo in range(0, len(x), chunk):
        ex, ey = x[lo : lo + chunk], y[lo : lo + chunk]
        ix = np.floor((ex - x0) / cell).astype(np.int64)[:, None] + ox[None, :]
        iy = np.floor((ey - y0) / cell).astype(np.int64)[:, None] + oy[None, :]
        dx = x0 + (ix + 0.5) * cell - ex[:, None]
        dy = y0 + (iy + 0.5) * cell - ey[:, None]
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        k = _kernel_values(dx[inside] ** 2 + dy[inside] ** 2, kernel, bandwidth)
        flat += np.bincount(iy[inside] * nx + ix[inside], weights=k, minlength=nx * ny)
    return flat.reshape(ny, nx)


def _kde_fft(
    x: FloatArray,
    y: FloatArray,
    x0: float,
    y0: float,
    nx: int,
    ny: int,
    cell: float,
    kernel: Kernel,
    bandwidth: float,
    radius: int,
) -> FloatArray:
    ix = np.floor((x - x0) / cell).astype(np.int64)
    iy = np.floor((y - y0) / cell).astype(np.int64)
    inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    counts = np.bincount(iy[inside] * nx + ix[inside], minlength=nx * ny).reshape(ny, nx)
    off = np.arange(-radius, radius + 1) * cell
    d2 = off[None, :] ** 2 + off[:, None] ** 2
    kern = _kernel_values(d2, kernel, bandwidth)
    out = signal.fftconvolve(counts.astype(np.float64), kern, mode="same")
    # FFT round-off leaves tiny negative values where the density is zero.
    return np.asarray(np.clip(out, 0.0, None), dtype=np.float64)


# --------------------------------------------------------------------------- weights


def as_weights(w: WeightsLike, n: int | None = None) -> sparse.csr_array:
    """Spatial weights as a float64 CSR matrix.

    Parameters
    ----------
    w : scipy.sparse matrix/array, or neighbour lists
        Neighbour lists are a sequence (or a mapping from 0..n-1) of neighbour
        indices per unit; they become binary weights.
    n : int, optional
        Number of units (checked against ``w``).

    Examples
    --------
    >>> as_weights([[1], [0, 2], [1]]).toarray().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if sparse.issparse(w):
        mat = sparse.csr_array(w, dtype=np.float64)
    else:
        if isinstance(w, Mapping):
            size = len(w)
            rows_of = [list(w[i]) for i in range(size)]
        else:
            rows_of = [list(r) for r in w]
            size = len(rows_of)
        rows = np.repeat(np.arange(size), [len(r) for r in rows_of])
        cols = np.array([c for r in rows_of for c in r], dtype=np.int64)
        mat = sparse.csr_array(
            (np.ones(len(cols)), (rows, cols)), shape=(size, size), dtype=np.float64
        )
    if mat.shape[0] != mat.shape[1]:
        raise AnalysisInputError(f"weights must be square, got shape {mat.shape}")
    if n is not None and mat.shape[0] != n:
        raise AnalysisInputError(f"weights are for {mat.shape[0]} units, values for {n}")
    mat.sum_duplicates()
    return mat


def row_standardise(w: WeightsLike) -> sparse.csr_array:
    """Divide each row by its sum (rows without neighbours stay zero).

    Examples
    --------
    >>> row_standardise([[1, 2], [0], [0]]).toarray().tolist()
    [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    mat = as_weights(w)
    sums = np.asarray(mat.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sparse.csr_array(sparse.diags_array(scale) @ mat)


def h3_weights(cells: Sequence[str], k: int = 1, include_self: bool = False) -> sparse.csr_array:
    """Binary weights between H3 cells: neighbours within ``k`` grid steps.

    Cells outside ``cells`` are ignored, so units at the edge of the set have fewer
    neighbours.

    Examples
    --------
    >>> c = h3.latlng_to_cell(49.28, -123.12, 9)
    >>> ring = [c, *sorted(set(h3.grid_disk(c, 1)) - {c})]
    >>> w = h3_weights(ring, k=1)
    >>> int(w[[0]].sum()), int(w[[1]].sum())
    (6, 3)
    """
    if k < 1:
        raise AnalysisInputError(f"k must be >= 1, got {k}")
    index = {c: i for i, c in enumerate(cells)}
    rows: list[int] = []
    cols: list[int] = []
    for i, cell in enumerate(cells):
        for other in h3.grid_disk(cell, k):
            j = index.get(other)
            if j is not None and (include_self or j != i):
                rows.append(i)
                cols.append(j)
    n = len(cells)
    return sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n), dtype=np.float64)


@dataclass(frozen=True)
class H3Counts:
    """Event counts per H3 cell.

    Attributes
    ----------
    cells : list of str
        H3 cell ids (the study area: occupied cells and, by default, their k-rings).
    counts : ndarray of int
        Events per cell.
    resolution : int
    """

    cells: list[str]
    counts: IntArray
    resolution: int


def h3_counts(
    events: Events,
    crs: str | None,
    resolution: int,
    fill_k: int = 1,
    area_cells: Sequence[str] | None = None,
) -> H3Counts:
    """Count events per H3 cell.

    Parameters
    ----------
    events : Events
    crs : str
        CRS of the event coordinates (needed to get back to lat/lon).
    resolution : int
        H3 resolution (0-15).
    fill_k : int
        Add the cells within ``fill_k`` steps of an occupied cell as zero-count units
        (0: occupied cells only). A hot spot statistic needs the empty places too.
    area_cells : sequence of str, optional
        The study area's cells; when given, exactly these cells are the units and
        events outside them are ignored (``fill_k`` is not used).

    Examples
    --------
    >>> from beacon.analytics.io import project_lonlat
    >>> x, y, crs = project_lonlat([-123.12, -123.12], [49.28, 49.28])
    >>> hc = h3_counts(Events.from_arrays(x, y, [0, 1]), crs, resolution=9)
    >>> len(hc.cells), int(hc.counts.sum()), int(hc.counts.max())
    (7, 2, 2)
    """
    if crs is None:
        raise AnalysisInputError("H3 cells need the events' CRS (pass --crs, or read lat/lon)")
    if not 0 <= resolution <= 15:
        raise AnalysisInputError(f"H3 resolution must be 0-15, got {resolution}")
    if len(events) == 0:
        raise AnalysisInputError("no events to count")
    lon, lat = to_lonlat(events.x, events.y, crs)
    ids = [
        h3.latlng_to_cell(la, lo, resolution)
        for la, lo in zip(lat.tolist(), lon.tolist(), strict=True)
    ]
    if area_cells is not None:
        cells = list(dict.fromkeys(area_cells))
    else:
        occupied = sorted(set(ids))
        if fill_k > 0:
            cells = sorted({c for cell in occupied for c in h3.grid_disk(cell, fill_k)})
        else:
            cells = occupied
    index = {c: i for i, c in enumerate(cells)}
    hits = np.array([index.get(c, -1) for c in ids], dtype=np.int64)
    counts = np.bincount(hits[hits >= 0], minlength=len(cells)).astype(np.int64)
    return H3Counts(cells=cells, counts=counts, resolution=resolution)


# --------------------------------------------------------------------------- statistics


def benjamini_hochberg(p_values: npt.ArrayLike, alpha: float = 0.05) -> npt.NDArray[np.bool_]:
    """Benjamini–Hochberg step-up procedure: which tests are significant at FDR ``alpha``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.02, 0.03, 0.5], alpha=0.05).tolist()
    [True, True, True, False]
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5], alpha=0.05).tolist()
    [True, False, False, False]
    >>> benjamini_hochberg([0.02, 0.5], alpha=0.03).tolist()
    [False, False]
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    passes = ranked <= alpha * np.arange(1, m + 1) / m
    significant = np.zeros(m, dtype=bool)
    if passes.any():
        last = int(np.flatnonzero(passes)[-1])
        significant[order[: last + 1]] = True
    return significant


def _values(values: npt.ArrayLike, minimum: int = 3) -> FloatArray:
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size < minimum:
        raise AnalysisInputError(f"need at least {minimum} areal units, got {v.size}")
    if not np.isfinite(v).all():
        raise AnalysisInputError("values contain NaN or infinity")
    if np.ptp(v) == 0:
        raise AnalysisInputError(
            "all units have the same value; there is no variation to test (all events in "
            "one place, or too coarse a resolution?)"
        )
    return v


@dataclass(frozen=True)
class GiStarResult:
    """Getis-Ord Gi* per unit.

    Attributes
    ----------
    z : ndarray
        Gi* z-scores (positive: cluster of high values).
    p_value : ndarray
        Two-sided normal p-values.
    significant : ndarray of bool
        Benjamini–Hochberg significant at false discovery rate ``alpha``.
    alpha : float
    """

    z: FloatArray
    p_value: FloatArray
    significant: npt.NDArray[np.bool_]
    alpha: float

    def labels(self) -> list[str]:
        """``"hot"``, ``"cold"`` or ``"not significant"`` per unit."""
        return [
            ("hot" if z > 0 else "cold") if s else "not significant"
            for z, s in zip(self.z.tolist(), self.significant.tolist(), strict=True)
        ]


def getis_ord_gi_star(
    values: npt.ArrayLike, weights: WeightsLike, alpha: float = 0.05, include_self: bool = True
) -> GiStarResult:
    """Getis-Ord Gi* (Ord and Getis 1995) z-scores with FDR-controlled significance.

    For weights ``w_ij`` (self-weight ``w_ii = 1`` added when ``include_self`` and the
    diagonal is empty), ``W_i = Σ_j w_ij``, ``S1_i = Σ_j w_ij²``, mean ``x̄`` and
    population standard deviation ``s``::

        z_i = (Σ_j w_ij x_j − x̄ W_i) / (s · sqrt((n S1_i − W_i²) / (n − 1)))

    With binary weights this is the z-score of ``esda.G_Local(star=True,
    transform="B")``.

    Examples
    --------
    >>> r = getis_ord_gi_star([10, 9, 8, 1, 0, 1], [[1], [0, 2], [1, 3], [2, 4], [3, 5], [4]])
    >>> [round(v, 2) for v in r.z.tolist()]
    [1.75, 2.21, 0.62, -0.97, -2.21, -1.62]
    """
    x = _values(values)
    n = x.size
    w = as_weights(weights, n).tolil()
    if include_self:
        diag = w.diagonal()
        w.setdiag(np.where(diag == 0, 1.0, diag))
    wc = sparse.csr_array(w)
    wsum = np.asarray(wc.sum(axis=1)).ravel()
    s1 = np.asarray(wc.multiply(wc).sum(axis=1)).ravel()
    mean = x.mean()
    sd = x.std()
    num = wc @ x - mean * wsum
    den = sd * np.sqrt(np.maximum(n * s1 - wsum**2, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return GiStarResult(z=z, p_value=p, significant=benjamini_hochberg(p, alpha), alpha=alpha)


@dataclass(frozen=True)
class LocalMoranResult:
    """Local Moran's I (Anselin 1995) per unit.

    Attributes
    ----------
    I : ndarray
        Local statistic ``(n − 1) z_i Σ_j w_ij z_j / Σ_k z_k²`` with row-standardised
        weights and ``z = x − x̄`` (the scaling esda uses).
    lag : ndarray
        Spatial lag of the standardised values.
    quadrant : list of str
        ``HH``, ``LL``, ``HL`` (high surrounded by low) or ``LH`` per unit.
    p_value : ndarray
        Conditional-permutation pseudo p-values (folded, as in GeoDa/esda) or, with
        ``p_method="normal"``, two-sided p-values of the randomisation z-score.
    significant : ndarray of bool
        Benjamini–Hochberg significant at FDR ``alpha``.
    """

    I: FloatArray  # noqa: E741 -- the statistic's name
    lag: FloatArray
    quadrant: list[str]
    p_value: FloatArray
    significant: npt.NDArray[np.bool_]
    alpha: float

    def labels(self) -> list[str]:
        """The quadrant where significant, else ``"not significant"``."""
        return [
            q if s else "not significant"
            for q, s in zip(self.quadrant, self.significant.tolist(), strict=True)
        ]


def local_moran(
    values: npt.ArrayLike,
    weights: WeightsLike,
    permutations: int = 999,
    seed: int | np.random.Generator | None = None,
    alpha: float = 0.05,
    p_method: Literal["permutation", "normal"] = "permutation",
) -> LocalMoranResult:
    """Local Moran's I with row-standardised weights.

    Parameters
    ----------
    values : array_like
        One value per unit.
    weights : sparse matrix or neighbour lists
        Row-standardised here.
    permutations : int
        Conditional permutations per unit (``p_method="permutation"``).
    seed : int or Generator, optional
    alpha : float
        False discovery rate for the significance flags.
    p_method : {"permutation", "normal"}
        Pseudo p-values from conditional permutation, or the normal approximation
        under randomisation (Anselin 1995 moments).

    Examples
    --------
    >>> nb = [[1], [0, 2], [1, 3], [2, 4], [3, 5], [4]]
    >>> r = local_moran([10, 9, 8, 1, 0, 1], nb, permutations=99, seed=0)
    >>> r.quadrant
    ['HH', 'HH', 'HH', 'LL', 'LL', 'LL']
    >>> [round(v, 2) for v in r.I.tolist()]
    [1.01, 0.81, 0.02, 0.15, 0.87, 0.87]
    """
    x = _values(values)
    n = x.size
    w = row_standardise(as_weights(weights, n))
    z = x - x.mean()
    z = z / z.std()
    den = float((z * z).sum())
    lag = w @ z
    local = (n - 1) * z * lag / den
    quadrant = [
        ("H" if zi > 0 else "L") + ("H" if li > 0 else "L")
        for zi, li in zip(z.tolist(), lag.tolist(), strict=True)
    ]
    if p_method == "normal":
        p = _local_moran_normal_p(local, z, w)
    elif p_method == "permutation":
        if permutations < 1:
            raise AnalysisInputError("permutations must be >= 1")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        p = _local_moran_permutation_p(local, z, w, permutations, rng, den)
    else:
        raise AnalysisInputError(f"p_method must be 'permutation' or 'normal', got {p_method!r}")
    return LocalMoranResult(
        I=local,
        lag=lag,
        quadrant=quadrant,
        p_value=p,
        significant=benjamini_hochberg(p, alpha),
        alpha=alpha,
    )


def _local_moran_permutation_p(
    local: FloatArray,
    z: FloatArray,
    w: sparse.csr_array,
    permutations: int,
    rng: np.random.Generator,
    den: float,
) -> FloatArray:
    n = z.size
    counts = np.diff(w.indptr)
    kmax = int(counts.max()) if n else 0
    # One draw of neighbour sets per permutation, shared by all units (as esda does):
    # the first k_i entries of a permutation of the n - 1 other units.
    draws = (
        np.stack([rng.permutation(n - 1)[:kmax] for _ in range(permutations)])
        if kmax
        else (np.zeros((permutations, 0), dtype=np.int64))
    )
    p = np.ones(n, dtype=np.float64)
    for i in range(n):
        k = int(counts[i])
        if k == 0:
            continue
        wi = w.data[w.indptr[i] : w.indptr[i + 1]]
        idx = draws[:, :k]
        idx = idx + (idx >= i)  # skip unit i itself
        sim = (n - 1) * z[i] * (z[idx] @ wi) / den
        larger = int((sim >= local[i]).sum())
        larger = min(larger, permutations - larger)
        p[i] = (larger + 1.0) / (permutations + 1.0)
    return p


def _local_moran_normal_p(local: FloatArray, z: FloatArray, w: sparse.csr_array) -> FloatArray:
    n = z.size
    scale = (n - 1) / n  # esda's scaling relative to Anselin's I_i = z_i lag_i / m2
    wi = np.asarray(w.sum(axis=1)).ravel()
    wi2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    m2 = (z * z).sum() / n
    b2 = ((z**4).sum() / n) / (m2 * m2)
    expected = -wi / (n - 1)
    var = (
        wi2 * (n - b2) / (n - 1)
        + (wi * wi - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2))
        - wi * wi / (n - 1) ** 2
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = np.where(var > 0, (local / scale - expected) / np.sqrt(np.maximum(var, 1e-300)), 0.0)
    return np.asarray(2.0 * stats.norm.sf(np.abs(zs)), dtype=np.float64)


@dataclass(frozen=True)
class GlobalMoranResult:
    """Global Moran's I with its inference.

    Attributes
    ----------
    I : float
    expected : float
        ``−1/(n − 1)``.
    var_normal, var_randomisation : float
        Variance of I under normality and under randomisation.
    z_randomisation, p_randomisation : float
        z-score and two-sided p-value under randomisation.
    p_permutation : float or None
        Folded pseudo p-value from permutations (None when none were run).
    """

    I: float  # noqa: E741 -- the statistic's name
    expected: float
    var_normal: float
    var_randomisation: float
    z_randomisation: float
    p_randomisation: float
    p_permutation: float | None


def global_moran(
    values: npt.ArrayLike,
    weights: WeightsLike,
    permutations: int = 0,
    seed: int | np.random.Generator | None = None,
    standardise: bool = True,
) -> GlobalMoranResult:
    """Global Moran's I, ``I = (n/S0) Σ_ij w_ij z_i z_j / Σ_i z_i²``.

    Parameters
    ----------
    values : array_like
    weights : sparse matrix or neighbour lists
    permutations : int
        Random permutations for a pseudo p-value (0: none).
    seed : int or Generator, optional
    standardise : bool
        Row-standardise the weights first (the usual choice, and esda's default).

    Examples
    --------
    >>> nb = [[1], [0, 2], [1, 3], [2, 4], [3, 5], [4]]
    >>> r = global_moran([10, 9, 8, 1, 0, 1], nb)
    >>> round(r.I, 4), round(r.z_randomisation, 3)
    (0.7457, 2.068)
    """
    x = _values(values)
    n = x.size
    w = as_weights(weights, n)
    if standardise:
        w = row_standardise(w)
    z = x - x.mean()
    s0 = float(w.sum())
    if s0 == 0:
        raise AnalysisInputError("the weights have no neighbours at all")

    def stat(v: FloatArray) -> float:
        return float(n / s0 * (v @ (w @ v)) / (v @ v))

    moran_i = stat(z)
    wt = w + w.T
    s1 = float(0.5 * wt.multiply(wt).sum())
    s2 = float(((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2).sum())
    expected = -1.0 / (n - 1)
    var_norm = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n * n - 1) * s0 * s0) - expected**2
    b2 = n * (z**4).sum() / ((z * z).sum() ** 2)
    var_rand = (
        n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
        - b2 * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    ) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected**2
    z_rand = (moran_i - expected) / math.sqrt(var_rand) if var_rand > 0 else 0.0
    p_rand = float(2.0 * stats.norm.sf(abs(z_rand)))
    p_perm: float | None = None
    if permutations > 0:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        sims = np.array([stat(z[rng.permutation(n)]) for _ in range(permutations)])
        larger = int((sims >= moran_i).sum())
        larger = min(larger, permutations - larger)
        p_perm = (larger + 1.0) / (permutations + 1.0)
    return GlobalMoranResult(
        I=moran_i,
        expected=expected,
        var_normal=float(var_norm),
        var_randomisation=float(var_rand),
        z_randomisation=float(z_rand),
        p_randomisation=p_rand,
        p_permutation=p_perm,
    )


# --------------------------------------------------------------------------- GeoJSON


def _hexagon(cell: str) -> list[list[list[float]]]:
    ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return [ring]


def _collection(features: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **meta}


def _num(v: float) -> float | None:
    return None if not math.isfinite(v) else round(v, 6)


def gi_star_geojson(counts: H3Counts, result: GiStarResult) -> dict[str, Any]:
    """H3 hexagons with their count, Gi* z, p-value and hot/cold label.

    Examples
    --------
    >>> c = h3.latlng_to_cell(49.28, -123.12, 9)
    >>> cells = sorted(h3.grid_disk(c, 1))
    >>> hc = H3Counts(cells, np.array([5, 0, 1, 0, 2, 0, 0]), 9)
    >>> gj = gi_star_geojson(hc, getis_ord_gi_star(hc.counts, h3_weights(cells)))
    >>> gj["type"], len(gj["features"]), gj["features"][0]["geometry"]["type"]
    ('FeatureCollection', 7, 'Polygon')
    """
    labels = result.labels()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": _hexagon(cell)},
            "properties": {
                "h3": cell,
                "count": int(counts.counts[i]),
                "gi_z": _num(float(result.z[i])),
                "p_value": _num(float(result.p_value[i])),
                "significant": bool(result.significant[i]),
                "class": labels[i],
            },
        }
        for i, cell in enumerate(counts.cells)
    ]
    return _collection(
        features, method="gi*", h3_resolution=counts.resolution, fdr_alpha=result.alpha
    )


def local_moran_geojson(counts: H3Counts, result: LocalMoranResult) -> dict[str, Any]:
    """H3 hexagons with their count, local Moran's I, quadrant and p-value."""
    labels = result.labels()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": _hexagon(cell)},
            "properties": {
                "h3": cell,
                "count": int(counts.counts[i]),
                "local_i": _num(float(result.I[i])),
                "quadrant": result.quadrant[i],
                "p_value": _num(float(result.p_value[i])),
                "significant": bool(result.significant[i]),
                "class": labels[i],
            },
        }
        for i, cell in enumerate(counts.cells)
    ]
    return _collection(
        features, method="lisa", h3_resolution=counts.resolution, fdr_alpha=result.alpha
    )


def kde_geojson(
    surface: KDEResult,
    crs: str | None,
    threshold: float = 0.0,
    as_points: bool = False,
) -> dict[str, Any]:
    """Grid cells with density above ``threshold`` as lon/lat polygons (or points).

    Parameters
    ----------
    surface : KDEResult
    crs : str
        CRS of the surface's coordinates.
    threshold : float
        Keep cells whose density (events per km²) exceeds this.
    as_points : bool
        Write cell centres as points instead of squares.

    Examples
    --------
    >>> from beacon.analytics.io import project_lonlat
    >>> x, y, crs = project_lonlat([-123.12], [49.28])
    >>> s = kde(Events.from_arrays(x, y, [0]), bandwidth=100, cell_size=50)
    >>> gj = kde_geojson(s, crs, threshold=10)
    >>> len(gj["features"]), gj["features"][0]["geometry"]["type"]
    (8, 'Polygon')
    """
    if crs is None:
        raise AnalysisInputError("GeoJSON needs the events' CRS to get back to lat/lon (--crs)")
    per_km2 = surface.values * 1e6
    rows, cols = np.nonzero(per_km2 > threshold)
    c = surface.cell_size
    x_left = surface.x0 + cols * c
    y_low = surface.y0 + rows * c
    features: list[dict[str, Any]] = []
    if as_points:
        lon, lat = to_lonlat(x_left + c / 2, y_low + c / 2, crs)
        for k in range(len(rows)):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [round(float(lon[k]), 7), round(float(lat[k]), 7)],
                    },
                    "properties": {"density_per_km2": _num(float(per_km2[rows[k], cols[k]]))},
                }
            )
    else:
        corners_x = np.stack([x_left, x_left + c, x_left + c, x_left], axis=1)
        corners_y = np.stack([y_low, y_low, y_low + c, y_low + c], axis=1)
        lon, lat = to_lonlat(corners_x.ravel(), corners_y.ravel(), crs)
        lon = lon.reshape(-1, 4)
        lat = lat.reshape(-1, 4)
        for k in range(len(rows)):
            ring = [[round(float(lon[k, m]), 7), round(float(lat[k, m]), 7)] for m in range(4)]
            ring.append(ring[0])
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"density_per_km2": _num(float(per_km2[rows[k], cols[k]]))},
                }
            )
    return _collection(
        features,
        method="kde",
        kernel=surface.kernel,
        bandwidth_m=surface.bandwidth,
        cell_size_m=surface.cell_size,
        threshold_per_km2=threshold,
    )
