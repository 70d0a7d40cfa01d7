"""Evaluation: published worked examples and hand-worked values."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from beacon.analytics.evaluation import rate_ratio, ratio_of_ratios, wdd, wdq
from beacon.analytics.events import AnalysisInputError


def test_wdd_reproduces_wheeler_and_ratcliffe_2018_worked_example():
    # Treated 207 -> 110, control 308 -> 318, displacement 178 -> 157 and its control
    # 150 -> 140. The paper: WDD = -118, variance 1568, z = -2.98, 95% CI -196 to -40.
    r = wdd(
        treated=(207, 110),
        control=(308, 318),
        displacement=(178, 157),
        displacement_control=(150, 140),
    )
    assert r.local == -107 and r.displacement == -11 and r.wdd == -118
    assert r.variance == 1568 and r.se == pytest.approx(math.sqrt(1568))
    assert round(r.z, 2) == -2.98
    assert (round(r.ci_low), round(r.ci_high)) == (-196, -40)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(118 / math.sqrt(1568)))


def test_wdd_without_displacement_area():
    # Hand-worked: (10 - 20) - (20 - 20) = -10; variance 20 + 10 + 20 + 20 = 70.
    r = wdd(treated=(20, 10), control=(20, 20))
    assert (r.wdd, r.variance) == (-10, 70)
    assert r.z == pytest.approx(-10 / math.sqrt(70))


def test_rate_ratio_exact_interval_hand_worked():
    # 40 before, 20 after: given N = 60, after ~ Bin(60, pi), pi = R / (1 + R).
    # Clopper-Pearson: pi_low = Beta(0.025; 20, 41), pi_high = Beta(0.975; 21, 40).
    r = rate_ratio(40, 20)
    lo = stats.beta.ppf(0.025, 20, 41)
    hi = stats.beta.ppf(0.975, 21, 40)
    assert r.ratio == 0.5 and r.percent_change == -50
    assert r.ci_low == pytest.approx(lo / (1 - lo)) and r.ci_low == pytest.approx(0.2769, abs=1e-4)
    assert r.ci_high == pytest.approx(hi / (1 - hi)) and r.ci_high == pytest.approx(
        0.8757, abs=1e-4
    )
    # Exact two-sided binomial test of pi = 1/2.
    assert r.p_value == pytest.approx(0.013489, abs=1e-6)


def test_rate_ratio_with_unequal_periods_and_edge_counts():
    r = rate_ratio(30, 30, exposure_before=12, exposure_after=6)
    assert r.ratio == pytest.approx(2.0)
    assert r.p_value == pytest.approx(stats.binomtest(30, 60, 1 / 3).pvalue)
    zero_after = rate_ratio(10, 0)
    assert zero_after.ratio == 0 and zero_after.ci_low == 0
    # Clopper-Pearson upper bound with 0 successes: 1 - (alpha/2)^(1/n).
    pi_high = 1 - 0.025 ** (1 / 10)
    assert zero_after.ci_high == pytest.approx(pi_high / (1 - pi_high))
    zero_before = rate_ratio(0, 5)
    assert math.isinf(zero_before.ratio) and math.isinf(zero_before.ci_high)
    assert zero_before.to_dict()["ratio"] is None
    with pytest.raises(AnalysisInputError, match="no events"):
        rate_ratio(0, 0)
    with pytest.raises(AnalysisInputError, match="whole number"):
        rate_ratio(-1, 3)


def test_ratio_of_ratios():
    # Hand-worked: (110/207) / (318/308) = 0.51469...
    r = ratio_of_ratios(treated=(207, 110), control=(308, 318))
    assert r.ratio == pytest.approx((110 / 207) / (318 / 308))
    assert r.ci_low < r.ratio < r.ci_high < 1
    assert r.p_value == pytest.approx(stats.fisher_exact([[110, 207], [318, 308]]).pvalue)
    log = ratio_of_ratios((207, 110), (308, 318), ci_method="log")
    se = math.sqrt(1 / 110 + 1 / 207 + 1 / 318 + 1 / 308)
    assert log.ci_low == pytest.approx(log.ratio * math.exp(-1.959964 * se), rel=1e-6)
    assert log.ci_high == pytest.approx(log.ratio * math.exp(1.959964 * se), rel=1e-6)
    # Both areas changing alike: no effect.
    same = ratio_of_ratios((100, 80), (200, 160))
    assert same.ratio == pytest.approx(1.0) and same.p_value == pytest.approx(1.0)
    assert same.ci_low < 1 < same.ci_high


def test_wdq_hand_worked_and_interpretations():
    # Response 100 -> 60, buffer 50 -> 45, control 200 -> 200:
    # SM = 60/200 - 100/200 = -0.2; BDM = 45/200 - 50/200 = -0.025; WDQ = 0.125.
    r = wdq((100, 60), (50, 45), (200, 200))
    assert (r.success_measure, r.buffer_displacement_measure, r.wdq) == (-0.2, -0.025, 0.125)
    # Net effect against the control trend (x1): (100 - 60) + (50 - 45) = 45 prevented.
    assert r.total_net_effect == 45
    assert r.interpretation.startswith("Diffusion of benefits:")
    # Buffer rose by 10: BDM = +0.05 -> WDQ = -0.25, displacement smaller than the gain.
    r = wdq((100, 60), (50, 60), (200, 200))
    assert r.wdq == -0.25 and r.total_net_effect == 30
    assert r.interpretation.startswith("Displacement smaller than the direct effect")
    # Control doubled: SM = 60/400 - 100/200 = -0.35; BDM = 150/400 - 50/200 = 0.125.
    r = wdq((100, 60), (50, 150), (200, 400))
    assert r.wdq == pytest.approx(0.125 / -0.35)
    # Buffer rose by 60 against a gain of 40: counter-productive.
    r = wdq((100, 60), (50, 110), (200, 200))
    assert r.wdq == -1.5 and r.interpretation.startswith("Displacement greater")
    assert wdq((100, 60), (100, 50), (200, 200)).interpretation.startswith(
        "Diffusion of benefits greater"
    )
    assert wdq((100, 60), (50, 50), (200, 200)).interpretation.startswith("No displacement")
    no_success = wdq((100, 120), (50, 50), (200, 200))
    assert no_success.interpretation.startswith("No success")
    assert wdq((100, 100), (50, 50), (200, 200)).wdq is None
    with pytest.raises(AnalysisInputError, match="control area"):
        wdq((1, 2), (3, 4), (0, 5))
