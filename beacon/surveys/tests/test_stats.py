"""The trust statistics against hand-computed values, and their properties."""

from __future__ import annotations

import doctest
import math
import random
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.surveys import stats


def test_docstring_examples() -> None:
    result = doctest.testmod(stats)
    assert result.failed == 0 and result.attempted > 5


def test_respondent_index_reverse_and_rescale() -> None:
    # Scores 4 and 2 (reversed to 4) and 3: mean 11/3 on 1..5 -> (11/3 - 1) / 4 * 100.
    value = stats.respondent_index([4, 2, 3], [False, True, False])
    assert value == pytest.approx((11 / 3 - 1) / 4 * 100)
    assert stats.respondent_index([1, 1], [False, False]) == 0.0
    assert stats.respondent_index([None, None, 5], [False] * 3) is None  # 1 of 3 answered
    with pytest.raises(stats.StatsInputError, match="outside the scale"):
        stats.respondent_index([6], [False])


def test_weighted_estimate_by_hand() -> None:
    # Values 40, 60, 80 with weights 1, 1, 2 (mean weight 4/3).
    values, weights = [40.0, 60.0, 80.0], [1.0, 1.0, 2.0]
    est = stats.estimate(values, weights, min_n=3)
    mean = (40 + 60 + 160) / 4  # 65
    n_eff = 16 / 6  # (Σw)² / Σw² = 16 / 6
    spread = (1 * 25**2 + 1 * 5**2 + 2 * 15**2) / 4  # 275
    se = math.sqrt(spread * n_eff / (n_eff - 1) / n_eff)
    from scipy.stats import t

    half = t.ppf(0.975, n_eff - 1) * se
    assert est.mean == pytest.approx(mean)
    assert est.n_eff == pytest.approx(n_eff)
    assert est.se == pytest.approx(se)
    assert est.ci_low == pytest.approx(max(0, mean - half))
    assert est.ci_high == pytest.approx(min(100, mean + half))


def test_unweighted_matches_classic_t_interval() -> None:
    from scipy import stats as st_

    values = [55.0, 62.5, 70.0, 47.5, 81.25, 66.0, 59.0]
    est = stats.estimate(values)
    low, high = st_.t.interval(0.95, len(values) - 1, loc=st_.tmean(values), scale=st_.sem(values))
    assert (est.ci_low, est.ci_high) == (pytest.approx(low), pytest.approx(high))


def test_small_groups_are_suppressed() -> None:
    groups = stats.estimate_groups([("a", 50, 1)] * 4 + [("b", 60, 1)] * 5)
    assert groups["a"].suppressed and groups["a"].mean is None
    assert groups["a"].label == "fewer than 5"
    assert not groups["b"].suppressed and groups["b"].mean == 60


def test_poststratification_by_hand() -> None:
    # Sample: 3 women, 1 man, 1 unknown. Population 50/50.
    weights = stats.poststratification_weights(["w", "w", "w", "m", None], {"w": 500, "m": 500})
    # Known raw: w = .5/.75 = 2/3, m = .5/.25 = 2, summing to 4 = n_known; unknown 1.
    assert weights == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0, 1.0])
    # Groups missing from the sample do not count in the population shares.
    assert stats.poststratification_weights(["w", "m"], {"w": 1, "m": 1, "x": 98}) == [1.0, 1.0]
    assert stats.poststratification_weights([None, None], {"w": 1}) == [1.0, 1.0]


def test_change_between_waves() -> None:
    before = stats.estimate([60.0] * 5 + [70.0] * 5)
    after = stats.estimate([40.0] * 5 + [50.0] * 5)
    result = stats.change(before, after)
    assert result is not None and result.difference == pytest.approx(-20)
    assert result.significant
    assert stats.change(before, stats.estimate([1.0])) is None


values_st = st.lists(st.floats(0, 100, allow_nan=False), min_size=5, max_size=60)
groups_st = st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(groups=groups_st, pops=st.lists(st.integers(1, 10_000), min_size=3, max_size=3))
def test_weights_are_normalised(groups: list[str | None], pops: list[int]) -> None:
    weights = stats.poststratification_weights(groups, dict(zip("abc", pops, strict=True)))
    assert len(weights) == len(groups)
    assert all(w > 0 for w in weights)
    assert math.fsum(weights) == pytest.approx(len(groups))


@settings(max_examples=60, deadline=None)
@given(groups=groups_st, pops=st.lists(st.integers(1, 10_000), min_size=3, max_size=3))
def test_weighted_group_shares_match_population(groups: list[str | None], pops: list[int]) -> None:
    if None in groups:
        return
    population: dict[Hashable, float] = dict(zip("abc", map(float, pops), strict=True))
    weights = stats.poststratification_weights(groups, population)
    present = {g for g in groups if g is not None}
    total_pop = math.fsum(population[g] for g in present)
    for g in present:
        share = sum(w for w, x in zip(weights, groups, strict=True) if x == g) / len(groups)
        assert share == pytest.approx(population[g] / total_pop)


@settings(max_examples=80, deadline=None)
@given(values=values_st, data=st.data())
def test_interval_contains_mean(values: list[float], data: st.DataObject) -> None:
    weights = data.draw(st.lists(st.floats(0.1, 10), min_size=len(values), max_size=len(values)))
    est = stats.estimate(values, weights)
    assert est.mean is not None and est.ci_low is not None and est.ci_high is not None
    assert est.ci_low <= est.mean + 1e-9 and est.mean - 1e-9 <= est.ci_high
    assert est.ci_low >= 0 and est.ci_high <= 100
    assert 0 < est.n_eff <= len(values) + 1e-9


@settings(max_examples=60, deadline=None)
@given(values=values_st, seed=st.integers(0, 2**32 - 1))
def test_permutation_invariance(values: list[float], seed: int) -> None:
    weights = [1 + (i % 3) for i in range(len(values))]
    pairs = list(zip(values, weights, strict=True))
    random.Random(seed).shuffle(pairs)
    a = stats.estimate(values, weights)
    b = stats.estimate([v for v, _ in pairs], [w for _, w in pairs])
    assert a.mean == pytest.approx(b.mean)
    assert a.ci_low == pytest.approx(b.ci_low)
    assert a.ci_high == pytest.approx(b.ci_high)
    groups = [("g" if i % 2 else "h") for i in range(len(values))]
    wa = stats.poststratification_weights(groups, {"g": 3, "h": 7})
    order = list(range(len(values)))
    random.Random(seed).shuffle(order)
    wb = stats.poststratification_weights([groups[i] for i in order], {"g": 3, "h": 7})
    assert [wa[i] for i in order] == pytest.approx(wb)


@settings(max_examples=40, deadline=None)
@given(values=values_st)
def test_equal_weights_give_the_unweighted_answer(values: list[float]) -> None:
    plain = stats.estimate(values)
    doubled = stats.estimate(values, [2.0] * len(values))
    assert plain.mean == pytest.approx(doubled.mean)
    assert plain.ci_high == pytest.approx(doubled.ci_high)
    assert plain.n_eff == pytest.approx(len(values))
