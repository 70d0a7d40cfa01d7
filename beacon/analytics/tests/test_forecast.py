"""Forecasters: exact small cases, the no-peeking rule, and the EM fit of ETAS."""

from __future__ import annotations

import math

import numpy as np
import pytest

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.forecast import (
    METHODS,
    Blend,
    DecayKDE,
    GridETAS,
    NaiveCounts,
    ProspectiveHotspot,
    RetrospectiveHotspot,
    kernel_sum,
    make_forecaster,
)
from beacon.analytics.grid import Grid


def _random_events(n=300, days=200.0, seed=0):
    rng = np.random.default_rng(seed)
    return Events.from_arrays(
        rng.uniform(0, 1500, n), rng.uniform(0, 1500, n), np.sort(rng.uniform(0, days, n))
    )


def test_kernel_sum_matches_a_brute_force_loop():
    rng = np.random.default_rng(4)
    g = Grid(0.0, 0.0, 50.0, 8, 6)
    x, y, w = rng.uniform(0, 400, 40), rng.uniform(0, 300, 40), rng.uniform(0, 2, 40)
    x[:5], y[:5] = 100.0, 100.0  # repeated places are merged first

    def kern(d):
        return (1 - (d / 120.0) ** 2) ** 2

    got = kernel_sum(g, x, y, w, 120.0, kern)
    cx, cy = g.centres(np.arange(g.n_cells))
    want = np.zeros(g.n_cells)
    for xi, yi, wi in zip(x, y, w, strict=True):
        d = np.hypot(cx - xi, cy - yi)
        want += np.where(d <= 120.0, wi * kern(d), 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_naive_counts_window():
    ev = Events.from_arrays([10.0, 10.0, 160.0], [10.0, 10.0, 10.0], [0.0, 5.0, 9.0])
    g = Grid.from_events(ev, 150.0)
    assert NaiveCounts(g).fit(ev, now=10.0).score([0, 1]).tolist() == [2.0, 1.0]
    assert NaiveCounts(g, window_days=6).fit(ev, now=10.0).score([0, 1]).tolist() == [1.0, 1.0]


def test_prospective_weights_by_band():
    # Event at the centre of cell 0; 150 m cells. Cell 1 centre is 150 m away: space band
    # floor(150/50) = 3 -> 1/4. Age 15 days: time band floor(15/7) = 2 -> 1/3.
    ev = Events.from_arrays([75.0], [75.0], [0.0])
    g = Grid(0.0, 0.0, 150.0, 4, 1)
    s = ProspectiveHotspot(g).fit(ev, now=15.0).score([0, 1, 2, 3])
    # cell 2: 300 m -> band 6 -> 1/7; cell 3: 450 m > 400 m -> 0
    np.testing.assert_allclose(s, [1 / 3, 1 / 12, 1 / 21, 0.0])
    # 8 weeks old events no longer count
    assert ProspectiveHotspot(g).fit(ev, now=56.0).score([0]).tolist() == [0.0]


def test_retrospective_window_and_kernel():
    ev = Events.from_arrays([75.0, 75.0], [75.0, 75.0], [0.0, 50.0])
    g = Grid(0.0, 0.0, 150.0, 3, 1)
    s = RetrospectiveHotspot(g, bandwidth=300.0, window_days=20.0).fit(ev, now=60.0)
    # only the t=50 event; cell 1 at 150 m: (1 - 0.25)^2 = 0.5625
    np.testing.assert_allclose(s.score([0, 1, 2]), [1.0, 0.5625, 0.0])


def test_kde_prefers_recent_events():
    ev = Events.from_arrays([75.0, 375.0], [75.0, 75.0], [0.0, 50.0])
    g = Grid(0.0, 0.0, 150.0, 3, 1)
    s = DecayKDE(g, bandwidth=50.0, decay_days=10.0).fit(ev, now=51.0).score([0, 2])
    assert s[1] > s[0] > 0
    assert s[0] / s[1] == pytest.approx(math.exp(-50 / 10), rel=1e-9)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_refuses_future_events_and_scores_all_cells(method):
    ev = _random_events()
    g = Grid.from_events(ev, 150.0)
    f = make_forecaster(method, g)
    with pytest.raises(AnalysisInputError):
        f.fit(ev, now=100.0)
    s = f.fit(ev.select(ev.t < 150), now=150.0).score(np.arange(g.n_cells))
    assert s.shape == (g.n_cells,) and np.all(np.isfinite(s)) and np.all(s >= 0)


def test_score_before_fit_is_an_error():
    with pytest.raises(AnalysisInputError):
        NaiveCounts(Grid(0.0, 0.0, 1.0, 1, 1)).score([0])
    with pytest.raises(AnalysisInputError):
        NaiveCounts().fit(_random_events())
    with pytest.raises(AnalysisInputError):
        make_forecaster("crystal-ball", Grid(0.0, 0.0, 1.0, 1, 1))


def _simulate_etas(mu, theta, omega, days, seed):
    """Per-cell Hawkes process by branching: background Poisson(mu_k), children Poisson(theta)."""
    rng = np.random.default_rng(seed)
    cells, times = [], []
    for k, m in enumerate(mu):
        gen = list(rng.uniform(0, days, rng.poisson(m * days)))
        every = list(gen)
        while gen:
            kids = []
            for t0 in gen:
                for _ in range(rng.poisson(theta)):
                    t = t0 + rng.exponential(1 / omega)
                    if t < days:
                        kids.append(t)
            every += kids
            gen = kids
        cells += [k] * len(every)
        times += every
    return np.array(cells), np.array(times)


def test_etas_recovers_simulated_parameters():
    rng = np.random.default_rng(11)
    mu = rng.gamma(0.6, 0.03, 300)
    cells, t = _simulate_etas(mu, theta=0.5, omega=0.3, days=1500.0, seed=12)
    g = Grid(0.0, 0.0, 100.0, 20, 15)
    ev = Events.from_arrays((cells % 20 + 0.5) * 100, (cells // 20 + 0.5) * 100, t)
    f = GridETAS(g, window_days=None).fit(ev, now=1500.0)
    assert f.theta == pytest.approx(0.5, abs=0.06)
    assert f.omega == pytest.approx(0.3, rel=0.2)
    score = f.score(np.arange(g.n_cells))
    assert np.corrcoef(score, mu)[0, 1] > 0.8


def test_etas_ignores_simultaneous_duplicates_as_parents():
    # Two events at the same time and place and nothing else: no triggering to learn.
    ev = Events.from_arrays([10.0, 10.0, 500.0], [10.0, 10.0, 10.0], [5.0, 5.0, 50.0])
    f = GridETAS(Grid.from_events(ev, 150.0), window_days=None).fit(ev, now=100.0)
    assert f.theta == pytest.approx(0.0, abs=1e-6)


def test_blend_weights_use_only_the_past():
    ev = _random_events(600, 300.0, seed=3)
    g = Grid.from_events(ev, 150.0)
    past = ev.select(ev.t < 200)
    b = Blend(g, validation_weeks=3).fit(past, now=200.0)
    assert sum(b.weights.values()) == pytest.approx(1.0)
    s1 = b.score(np.arange(g.n_cells))
    # the same object re-fitted (cache warm) and a fresh one agree
    s2 = Blend(g, validation_weeks=3).fit(past, now=200.0).score(np.arange(g.n_cells))
    s3 = b.fit(past, now=200.0).score(np.arange(g.n_cells))
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(s1, s3)


def test_blend_picks_the_component_that_predicts():
    # Crime keeps happening in cell 0 only; a component pointing elsewhere must get no weight.
    t = np.arange(0.0, 120.0, 0.5)
    ev = Events.from_arrays(np.full(len(t), 75.0), np.full(len(t), 75.0), t)
    ev = Events.from_arrays(np.r_[ev.x, 1275.0], np.r_[ev.y, 75.0], np.r_[ev.t, 0.0])
    g = Grid(0.0, 0.0, 150.0, 9, 1)

    class Wrong(NaiveCounts):
        def _risk(self, events, grid, now):
            r = np.zeros(grid.n_cells)
            r[8] = 1.0
            return r

    b = Blend(
        g,
        components={"right": NaiveCounts(), "wrong": Wrong()},
        validation_weeks=2,
        coverages=(0.5,),
    )
    b.fit(ev, now=120.0)
    # Every weighting that still ranks cell 0 first is equally good on the validation weeks.
    assert b.weights["right"] > b.weights["wrong"]
    s = b.score([0, 8])
    assert s[0] > s[1]
