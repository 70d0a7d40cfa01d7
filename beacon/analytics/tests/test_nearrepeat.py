"""Knox test: exact agreement with the Near Repeat Calculator and with the direct method."""

from __future__ import annotations

import html
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.io import read_events
from beacon.analytics.nearrepeat import knox, knox_direct

# The calculator's "Observed frequencies distribution" for chicago_be_month1.csv
# (spatial 100 m x 3 bands, temporal 7 days x 3 bands, Manhattan distance), from the
# verbose CSV it wrote next to the summary (chicago_be_month1_NRverbose_2019-09-23_143005.csv
# in the NearRepeat R package's inst/extdata). Rows: same location, 1 to 100, 101 to 200,
# 201 to 300, more than 300; columns: 0 to 7, 8 to 14, 15 to 21, more than 21 days.
CALCULATOR_OBSERVED = [
    [28, 5, 5, 2],
    [44, 13, 8, 4],
    [97, 56, 19, 16],
    [77, 67, 45, 20],
    [182194, 146149, 95237, 45879],
]
CALCULATOR_ITERATIONS = 19


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(os.environ.get("BEACON_DATA_DIR", default))


def chicago_folder() -> Path:
    folder = data_dir() / "nearrepeat_chicago_burglary_month1"
    if not folder.exists():
        pytest.skip(f"shared crime data not found at {folder} (set BEACON_DATA_DIR)")
    return folder


def calculator_ratios(summary: Path) -> np.ndarray:
    """The "Observed over mean expected frequencies" table of the calculator's summary."""
    text = re.sub(r"<[^>]+>", " ", summary.read_text(encoding="latin-1"))
    text = html.unescape(text)
    section = text.split("Observed over mean expected frequencies table")[1]
    section = section.split("Statistical significance table")[0]
    numbers = [float(v) for v in re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", section)]
    return np.array(numbers).reshape(5, 4)


@pytest.fixture(scope="module")
def chicago() -> Events:
    events, _ = read_events(chicago_folder() / "chicago_be_month1.csv", "nearrepeat")
    return events


@pytest.mark.data
def test_observed_counts_equal_the_calculator_exactly(chicago):
    result = knox(chicago, 100, 3, 7, 3, permutations=9, seed=0, distance="manhattan")
    assert result.observed.tolist() == CALCULATOR_OBSERVED
    assert result.observed.sum() == 970 * 969 // 2
    assert result.calculator_space_labels == [
        "Same location",
        "1 to 100",
        "101 to 200",
        "201 to 300",
        "More than 300",
    ]
    assert result.calculator_time_labels == ["0 to 7", "8 to 14", "15 to 21", "More than 21"]


@pytest.mark.data
def test_knox_ratios_agree_with_the_calculator_within_monte_carlo_error(chicago):
    published = calculator_ratios(chicago_folder() / "chicago_be_month1_NRsummary.htm")
    assert published[0, 0] == 1.65 and published[2, 1] == 0.94
    permutations = 999
    result = knox(chicago, 100, 3, 7, 3, permutations=permutations, seed=2019, distance="manhattan")
    # Both means of expected counts are Monte Carlo estimates: the calculator's from 19
    # runs, ours from 999. Ratio error from a mean-expected error dE is about O/E^2 dE;
    # allow four standard errors of the difference plus the table's rounding.
    sd = result.simulated.std(axis=0, ddof=1)
    se_expected = sd * math.sqrt(1 / CALCULATOR_ITERATIONS + 1 / permutations)
    tolerance = 4 * result.observed * se_expected / result.expected**2 + 0.005
    diff = np.abs(result.ratio - published)
    assert (diff <= tolerance).all(), np.round(np.c_[result.ratio, published, tolerance], 3)
    # The near-repeat signal the calculator reports is there: same place and < 100 m,
    # first week, significant at the best level 999 permutations allow.
    assert result.p_value[0, 0] == result.p_value[1, 0] == pytest.approx(1 / 1000)


def random_events(n: int, seed: int, extent: float = 600.0, span: int = 40) -> Events:
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, extent, n), 0)
    y = np.round(rng.uniform(0, extent, n), 0)
    # Some exact repeats at the same place.
    x[: n // 10] = x[n // 10 : 2 * (n // 10)]
    y[: n // 10] = y[n // 10 : 2 * (n // 10)]
    t = rng.integers(0, span, n) + rng.uniform(0, 0.99, n)
    return Events.from_arrays(x, y, t)


@pytest.mark.parametrize("distance", ["euclidean", "manhattan"])
def test_fast_method_equals_direct_method(distance):
    events = random_events(300, seed=3)
    fast = knox(events, 50, 3, 5, 3, permutations=30, seed=11, distance=distance)
    direct = knox_direct(events, 50, 3, 5, 3, permutations=30, seed=11, distance=distance)
    np.testing.assert_array_equal(fast.observed, direct.observed)
    np.testing.assert_array_equal(fast.simulated, direct.simulated)
    np.testing.assert_array_equal(fast.p_value, direct.p_value)
    total = 300 * 299 // 2
    assert (fast.simulated.sum(axis=(1, 2)) == total).all()


def test_band_edges_follow_the_calculator():
    # Steenbeek's pathological example: one pair 100 m and 3 days apart. With 200 m and
    # 3-day bands the calculator counts it under "1 to 200" and "4 to 6" days.
    events = Events.from_arrays([0, 0], [0, 100], [0, 3])
    r = knox(events, 200, 2, 3, 2, permutations=5, seed=0)
    assert r.observed[1, 1] == 1 and r.observed.sum() == 1
    assert (r.calculator_space_labels[1], r.calculator_time_labels[1]) == ("1 to 200", "4 to 6")
    # With 100 m bands it is in "101 to 200": distance 100 starts the second band.
    r = knox(events, 100, 2, 3, 2, permutations=5, seed=0)
    assert r.observed[2, 1] == 1
    assert r.space_labels[2] == "[100, 200) m"


def test_same_location_is_distance_zero_and_days_are_calendar_days():
    events = Events.from_arrays([0, 0, 0.5], [0, 0, 0], [10.1, 10.9, 11.0])
    r = knox(events, 100, 1, 1, 1, permutations=5, seed=0)
    # (0,1): same place, same day. (0,2) and (1,2): 0.5 m, next calendar day.
    assert r.observed.tolist() == [[1, 0], [0, 2], [0, 0]]


def test_seeded_results_repeat():
    events = random_events(200, seed=5)
    a = knox(events, 50, 2, 7, 2, permutations=50, seed=123)
    b = knox(events, 50, 2, 7, 2, permutations=50, seed=np.random.default_rng(123))
    np.testing.assert_array_equal(a.simulated, b.simulated)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (Events.from_arrays([], [], []), "at least two events"),
        (Events.from_arrays([1.0], [2.0], [3.0]), "at least two events"),
        (Events.from_arrays([5, 5, 5], [1, 1, 1], [1, 2, 3]), "one place"),
        (Events.from_arrays([1, 2, 3], [1, 2, 3], [7.1, 7.5, 7.9]), "one day"),
    ],
)
def test_bad_input_is_refused(events, message):
    with pytest.raises(AnalysisInputError, match=message):
        knox(events, 100, 3, 7, 3, permutations=9)


def test_bad_parameters_are_refused():
    events = random_events(20, seed=1)
    with pytest.raises(AnalysisInputError, match="whole number of days"):
        knox(events, 100, 3, 1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(AnalysisInputError, match="space bandwidth"):
        knox(events, 0, 3, 7, 3)
    with pytest.raises(AnalysisInputError, match="distance"):
        knox(events, 100, 3, 7, 3, distance="chebyshev")


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 60),
    order_seed=st.integers(0, 10_000),
)
def test_input_order_does_not_change_the_observed_table(seed, n, order_seed):
    events = random_events(n, seed=seed, extent=300, span=30)
    if np.ptp(np.floor(events.t)) == 0:
        return
    order = np.random.default_rng(order_seed).permutation(n)
    shuffled = events.select(order)
    a = knox(events, 40, 3, 4, 3, permutations=19, seed=1)
    b = knox(shuffled, 40, 3, 4, 3, permutations=19, seed=1)
    np.testing.assert_array_equal(a.observed, b.observed)
    assert a.observed.sum() == n * (n - 1) // 2
    for r in (a, b):
        assert ((r.p_value > 0) & (r.p_value <= 1)).all()
        assert r.p_value.min() >= 1 / 20


def test_to_dict_is_json_ready():
    import json

    r = knox(random_events(50, seed=2), 50, 2, 7, 2, permutations=9, seed=0)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["observed"] == r.observed.tolist()
    assert len(d["knox_ratio"]) == 4 and len(d["p_value"][0]) == 3
