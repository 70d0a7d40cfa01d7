"""Hot spots: KDE mass, Gi* and Moran's I against esda on Columbus, GeoJSON output."""

from __future__ import annotations

import warnings

import h3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.hotspots import (
    as_weights,
    benjamini_hochberg,
    getis_ord_gi_star,
    gi_star_geojson,
    global_moran,
    h3_counts,
    h3_weights,
    kde,
    kde_geojson,
    local_moran,
    local_moran_geojson,
    row_standardise,
)
from beacon.analytics.io import project_lonlat, to_lonlat


@pytest.fixture(scope="module")
def columbus():
    """Columbus CRIME with libpysal queen contiguity (shipped with libpysal, no download)."""
    libpysal = pytest.importorskip("libpysal")
    from libpysal import examples

    try:
        shp = examples.get_path("columbus.shp")
        dbf = examples.get_path("columbus.dbf")
    except Exception as exc:  # a libpysal that would download the example
        pytest.skip(f"libpysal's Columbus example is not available offline: {exc}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.Queen.from_shapefile(shp)
        crime = np.array(libpysal.io.open(dbf).by_col("CRIME"), dtype=float)
    return crime, w


def fresh_binary(w):
    # esda changes a libpysal W's transform in place; always hand over a binary copy.
    w.transform = "O"
    return sparse.csr_array(w.sparse.copy())


def test_global_moran_columbus_is_0_500189(columbus):
    esda = pytest.importorskip("esda")
    crime, w = columbus
    ours = global_moran(crime, fresh_binary(w))
    assert round(ours.I, 6) == 0.500189
    ref = esda.Moran(crime, w, transformation="r", permutations=0)
    assert abs(ours.I - ref.I) < 1e-12
    assert ours.expected == pytest.approx(ref.EI)
    assert ours.var_normal == pytest.approx(ref.VI_norm)
    assert ours.var_randomisation == pytest.approx(ref.VI_rand)
    assert ours.z_randomisation == pytest.approx(ref.z_rand)
    with_perm = global_moran(crime, fresh_binary(w), permutations=199, seed=0)
    assert with_perm.p_permutation == pytest.approx(1 / 200)


def test_gi_star_equals_esda_g_local_star(columbus):
    esda = pytest.importorskip("esda")
    crime, w = columbus
    ours = getis_ord_gi_star(crime, fresh_binary(w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(crime, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(ours.z, ref.Zs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.p_value, 2 * ref.p_norm, rtol=1e-10)


def test_local_moran_equals_esda_moran_local(columbus):
    esda = pytest.importorskip("esda")
    crime, w = columbus
    ours = local_moran(crime, fresh_binary(w), permutations=999, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local(crime, w, transformation="r", permutations=999, seed=7)
    np.testing.assert_allclose(ours.I, ref.Is, rtol=1e-10, atol=1e-12)
    names = np.array(["HH", "LH", "LL", "HL"])  # esda's q: 1 HH, 2 LH, 3 LL, 4 HL
    assert ours.quadrant == names[ref.q - 1].tolist()
    # Different random streams: pseudo p-values agree only within Monte Carlo error.
    assert np.abs(ours.p_value - ref.p_sim).max() < 0.1
    assert ours.I.sum() / len(crime) == pytest.approx(
        global_moran(crime, fresh_binary(w)).I * (len(crime) - 1) / len(crime)
    )


def test_weights_inputs_are_interchangeable():
    nb = [[1], [0, 2], [1]]
    as_lists = as_weights(nb)
    as_dict = as_weights({0: [1], 1: [0, 2], 2: [1]})
    as_matrix = as_weights(sparse.csr_matrix(as_lists.toarray()))
    for m in (as_dict, as_matrix):
        np.testing.assert_array_equal(m.toarray(), as_lists.toarray())
    np.testing.assert_allclose(row_standardise(nb).sum(axis=1), [1, 1, 1])
    with pytest.raises(AnalysisInputError, match="values for 4"):
        getis_ord_gi_star([1, 2, 3, 4], nb)


def test_constant_values_are_refused():
    with pytest.raises(AnalysisInputError, match="same value"):
        getis_ord_gi_star([2, 2, 2], [[1], [0, 2], [1]])
    with pytest.raises(AnalysisInputError, match="same value"):
        local_moran([0, 0, 0, 0], [[1], [0, 2], [1, 3], [2]])


def test_benjamini_hochberg_hand_worked():
    # Sorted p: .001 .008 .039 .041 .042 .06 .074 .205; thresholds i/8 * .05:
    # .00625 .0125 .01875 .025 .03125 .0375 .04375 .05 -> the first two pass.
    p = [0.039, 0.001, 0.041, 0.008, 0.205, 0.042, 0.06, 0.074]
    assert benjamini_hochberg(p, 0.05).tolist() == [False, True, False, True] + [False] * 4


def test_kde_single_event_peak_and_mass():
    events = Events.from_arrays([25.0], [25.0], [0.0])
    surface = kde(events, bandwidth=200, cell_size=50)
    # Event at a cell centre: the peak is the kernel's value at 0, 3 / (pi h^2).
    assert surface.values.max() == pytest.approx(3 / (np.pi * 200**2))
    assert surface.total() == pytest.approx(1.0, abs=0.01)
    g = kde(events, bandwidth=100, cell_size=25, kernel="gaussian")
    assert g.total() == pytest.approx(1.0, abs=0.01)


def test_kde_fft_matches_exact_for_events_at_cell_centres():
    rng = np.random.default_rng(4)
    x = (rng.integers(0, 80, 300) + 0.5) * 10
    y = (rng.integers(0, 60, 300) + 0.5) * 10
    events = Events.from_arrays(x, y, np.zeros(300))
    for kernel in ("quartic", "gaussian"):
        exact = kde(events, 120, 10, kernel=kernel, method="exact")
        fft = kde(events, 120, 10, kernel=kernel, method="fft")
        assert exact.shape == fft.shape
        np.testing.assert_allclose(
            fft.values, exact.values, atol=1e-12 * exact.values.max() + 1e-15
        )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    kernel=st.sampled_from(["quartic", "gaussian"]),
    method=st.sampled_from(["exact", "fft"]),
)
def test_kde_integrates_to_the_number_of_events(n, seed, kernel, method):
    rng = np.random.default_rng(seed)
    events = Events.from_arrays(rng.uniform(0, 2000, n), rng.uniform(0, 1500, n), np.zeros(n))
    surface = kde(events, bandwidth=150, cell_size=15, kernel=kernel, method=method)
    assert surface.total() == pytest.approx(n, rel=0.01)
    assert (surface.values >= 0).all()


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 40), seed=st.integers(0, 10_000))
def test_kde_and_gi_ignore_input_order(n, seed):
    rng = np.random.default_rng(seed)
    events = Events.from_arrays(rng.uniform(0, 900, n), rng.uniform(0, 900, n), np.zeros(n))
    order = rng.permutation(n)
    a = kde(events, 100, 20)
    b = kde(events.select(order), 100, 20)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-9, atol=1e-18)
    # Gi*: relabelling the units (values and weights together) relabels the results.
    values = rng.poisson(3, 12).astype(float)
    if np.ptp(values) == 0:
        values[0] += 1
    nb = [[(i - 1) % 12, (i + 1) % 12] for i in range(12)]
    perm = rng.permutation(12)
    inverse = np.argsort(perm)
    nb_perm = [[int(inverse[j]) for j in nb[perm[i]]] for i in range(12)]
    z = getis_ord_gi_star(values, nb).z
    z_perm = getis_ord_gi_star(values[perm], nb_perm).z
    np.testing.assert_allclose(z_perm, z[perm], atol=1e-12)
    p = local_moran(values, nb, permutations=19, seed=1).p_value
    assert ((p > 0) & (p <= 1)).all()


def vancouver_cluster(n_hot=40, n_background=60, seed=0):
    rng = np.random.default_rng(seed)
    lon = np.r_[rng.normal(-123.115, 0.0008, n_hot), rng.uniform(-123.2, -123.02, n_background)]
    lat = np.r_[rng.normal(49.282, 0.0005, n_hot), rng.uniform(49.2, 49.3, n_background)]
    x, y, crs = project_lonlat(lon, lat)
    return Events.from_arrays(x, y, np.zeros(len(x))), crs


def test_h3_gi_star_finds_the_cluster_and_writes_geojson():
    events, crs = vancouver_cluster()
    counts = h3_counts(events, crs, resolution=8, fill_k=1)
    assert counts.counts.sum() == len(events)
    weights = h3_weights(counts.cells, k=1)
    gi = getis_ord_gi_star(counts.counts, weights, alpha=0.05)
    hot_cell = h3.latlng_to_cell(49.282, -123.115, 8)
    assert gi.labels()[counts.cells.index(hot_cell)] == "hot"
    gj = gi_star_geojson(counts, gi)
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == len(counts.cells)
    feature = gj["features"][counts.cells.index(hot_cell)]
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    lng, lat = np.mean(ring[:-1], axis=0)
    assert (lat, lng) == pytest.approx(h3.cell_to_latlng(hot_cell), abs=1e-3)
    assert feature["properties"]["class"] == "hot" and feature["properties"]["count"] > 10

    lisa = local_moran(counts.counts, weights, permutations=199, seed=3)
    gj = local_moran_geojson(counts, lisa)
    assert {f["properties"]["quadrant"] for f in gj["features"]} <= {"HH", "LL", "HL", "LH"}


def test_h3_counts_with_a_given_study_area():
    events, crs = vancouver_cluster(n_background=0)
    centre = h3.latlng_to_cell(49.282, -123.115, 9)
    area = sorted(h3.grid_disk(centre, 1))
    counts = h3_counts(events, crs, 9, area_cells=area)
    assert counts.cells == area
    assert 0 < counts.counts.sum() <= len(events)
    with pytest.raises(AnalysisInputError, match="CRS"):
        h3_counts(events, None, 9)


def test_kde_geojson_cells_are_lonlat_squares():
    events, crs = vancouver_cluster()
    surface = kde(events, 300, 100)
    gj = kde_geojson(surface, crs, threshold=0.2 * surface.values.max() * 1e6)
    assert gj["features"]
    ring = gj["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    assert all(-123.3 < lon < -122.9 and 49.1 < lat < 49.4 for lon, lat in ring)
    densest = max(gj["features"], key=lambda f: f["properties"]["density_per_km2"])
    lon_c, lat_c = np.mean(densest["geometry"]["coordinates"][0][:-1], axis=0)
    assert (lon_c, lat_c) == pytest.approx((-123.115, 49.282), abs=0.003)
    points = kde_geojson(surface, crs, threshold=0.2 * surface.values.max() * 1e6, as_points=True)
    assert len(points["features"]) == len(gj["features"])
    with pytest.raises(AnalysisInputError, match="CRS"):
        kde_geojson(surface, None)
    lon, _ = to_lonlat([surface.x0], [surface.y0], crs)
    assert lon[0] < -123.1


def test_kde_rejects_bad_parameters():
    events = Events.from_arrays([0.0, 1.0], [0.0, 1.0], [0, 0])
    with pytest.raises(AnalysisInputError, match="bandwidth"):
        kde(events, 0, 10)
    with pytest.raises(AnalysisInputError, match="kernel"):
        kde(events, 10, 1, kernel="epanechnikov")
    with pytest.raises(AnalysisInputError, match="too large"):
        kde(Events.from_arrays([0.0, 1e6], [0.0, 1e6], [0, 0]), 100, 1)
    with pytest.raises(AnalysisInputError, match="no events"):
        kde(Events.from_arrays([], [], []), 100, 10)
