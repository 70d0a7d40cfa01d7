"""Statistics of the community-trust index. Pure: no Django imports.

Method
------
1. **Respondent index.** Each Likert item is scored on its scale (1–5), items worded so
   that agreement means *less* trust or safety (fear of crime) are reverse-scored
   (``min + max - x``), and the respondent's index is the mean of their answered items
   rescaled to 0–100: ``100 (mean - min) / (max - min)``. A respondent who answered
   fewer than half of the items gets no index (too little to go on).
2. **Post-stratification weights.** When the survey collected demographics (age band ×
   gender, or any grouping) and the population's shares of those groups are known, a
   respondent in group *g* gets ``w = P(g) / S(g)``: the group's population share over
   its share of the sample. Population shares are renormalised over the groups present
   in the sample (a group nobody from answered cannot be represented by anyone).
   Respondents without a usable group keep weight 1, and the weights of those with one
   are scaled so that together they still count as many as they are; the weights are
   finally normalised to mean 1 (they sum to *n*).
3. **Estimate and interval.** The area's index is the weighted mean. Its uncertainty
   uses Kish's effective sample size ``n_eff = (Σw)² / Σw²`` (equal weights give
   ``n_eff = n``): the weighted variance ``s² = Σw(x - x̄)² / Σw`` is corrected by
   ``n_eff / (n_eff - 1)``, the standard error is ``sqrt(s² / n_eff)``, and the interval
   is ``x̄ ± t(1 - α/2, n_eff - 1) · SE``, clipped to the 0–100 scale.
4. **Suppression.** Any group with fewer than 5 responses is reported as "fewer than 5"
   and no figure is shown: small groups are both unreliable and identifying.
5. **Trend.** Consecutive waves are compared by the difference of their indices with a
   normal interval on ``sqrt(SE₁² + SE₂²)`` (independent samples).

References: Kish, L. (1965). *Survey Sampling*. Wiley. Lumley, T. (2010). *Complex
Surveys: A Guide to Analysis Using R*. Wiley, ch. 2 and 7.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from scipy import stats as _st

MIN_GROUP_SIZE = 5

__all__ = [
    "MIN_GROUP_SIZE",
    "Change",
    "Estimate",
    "change",
    "estimate",
    "estimate_groups",
    "kish_effective_n",
    "poststratification_weights",
    "respondent_index",
]


class StatsInputError(ValueError):
    """Input the statistics cannot use (the message says why)."""


def respondent_index(
    scores: Sequence[float | None],
    reverse: Sequence[bool],
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    min_share: float = 0.5,
) -> float | None:
    """One respondent's 0–100 index from their item scores (None = not answered).

    >>> respondent_index([5, 1, None], [False, True, False])
    100.0
    >>> respondent_index([3, None, None], [False, False, False]) is None
    True
    """
    if len(scores) != len(reverse):
        raise StatsInputError("scores and reverse flags differ in length")
    if scale_max <= scale_min:
        raise StatsInputError("the scale maximum must exceed its minimum")
    answered = []
    for score, flip in zip(scores, reverse, strict=True):
        if score is None:
            continue
        if not scale_min <= score <= scale_max:
            raise StatsInputError(f"score {score} is outside the scale {scale_min}–{scale_max}")
        answered.append(scale_min + scale_max - score if flip else score)
    if not answered or len(answered) < min_share * len(scores):
        return None
    mean = sum(answered) / len(answered)
    return 100.0 * (mean - scale_min) / (scale_max - scale_min)


def poststratification_weights(
    groups: Sequence[Hashable | None], population: Mapping[Hashable, float]
) -> list[float]:
    """Weights ``population share / sample share`` per respondent, normalised to mean 1.

    ``groups[i]`` is respondent *i*'s group (None if unknown); ``population`` maps groups
    to population counts or shares (any positive scale). See the module docstring.

    >>> poststratification_weights(["a", "a", "a", "b"], {"a": 50, "b": 50})
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    n = len(groups)
    if n == 0:
        return []
    if any(v < 0 for v in population.values()):
        raise StatsInputError("population counts cannot be negative")
    known = [g is not None and population.get(g, 0) > 0 for g in groups]
    n_known = sum(known)
    if n_known == 0:
        return [1.0] * n
    sample = Counter(g for g, k in zip(groups, known, strict=True) if k)
    total_pop = sum(population[g] for g in sample)
    raw = [
        (population[g] / total_pop) / (sample[g] / n_known) if k else 1.0
        for g, k in zip(groups, known, strict=True)
    ]
    # Known respondents keep their combined head count; unknown ones keep weight 1.
    known_sum = sum(w for w, k in zip(raw, known, strict=True) if k)
    scale = n_known / known_sum
    weights = [w * scale if k else w for w, k in zip(raw, known, strict=True)]
    mean = sum(weights) / n
    return [w / mean for w in weights]


def kish_effective_n(weights: Sequence[float]) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²``.

    >>> kish_effective_n([1, 1, 1, 1])
    4.0
    >>> round(kish_effective_n([1, 3]), 3)
    1.6
    """
    if any(w < 0 for w in weights):
        raise StatsInputError("weights cannot be negative")
    total = math.fsum(weights)
    squares = math.fsum(w * w for w in weights)
    return 0.0 if squares == 0 else total * total / squares


@dataclass(frozen=True)
class Estimate:
    """A (weighted) mean with its confidence interval, or a suppressed group.

    ``mean``, ``ci_low``, ``ci_high`` and ``se`` are None when the group is suppressed
    (fewer than ``MIN_GROUP_SIZE`` responses).
    """

    n: int
    n_eff: float
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    confidence: float
    suppressed: bool

    @property
    def label(self) -> str:
        """How the figure reads in a table."""
        if self.suppressed or self.mean is None:
            return f"fewer than {MIN_GROUP_SIZE}"
        return f"{self.mean:.1f} ({self.ci_low:.1f}–{self.ci_high:.1f})"


def estimate(
    values: Sequence[float],
    weights: Sequence[float] | None = None,
    *,
    confidence: float = 0.95,
    min_n: int = MIN_GROUP_SIZE,
    bounds: tuple[float, float] | None = (0.0, 100.0),
) -> Estimate:
    """Weighted mean with a t-interval on Kish's effective sample size.

    >>> e = estimate([50, 60, 70, 80, 90])
    >>> (e.mean, round(e.ci_low, 2), round(e.ci_high, 2))
    (70.0, 50.37, 89.63)
    >>> estimate([1, 2, 3]).label
    'fewer than 5'
    """
    if not 0 < confidence < 1:
        raise StatsInputError("confidence must be between 0 and 1")
    n = len(values)
    w = [1.0] * n if weights is None else [float(x) for x in weights]
    if len(w) != n:
        raise StatsInputError("values and weights differ in length")
    if n < max(min_n, 2):
        return Estimate(n, float(n), None, None, None, None, confidence, True)
    total = math.fsum(w)
    if total <= 0:
        raise StatsInputError("the weights sum to zero")
    mean = math.fsum(wi * xi for wi, xi in zip(w, values, strict=True)) / total
    n_eff = kish_effective_n(w)
    spread = math.fsum(wi * (xi - mean) ** 2 for wi, xi in zip(w, values, strict=True)) / total
    if n_eff > 1:
        variance = spread * n_eff / (n_eff - 1)
        se = math.sqrt(variance / n_eff)
        half = float(_st.t.ppf(0.5 + confidence / 2, n_eff - 1)) * se
    else:  # every weight on one respondent: no spread to measure
        se, half = math.inf, math.inf
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(n, n_eff, mean, low, high, se, confidence, False)


def estimate_groups(
    rows: Iterable[tuple[Hashable, float, float]],
    *,
    confidence: float = 0.95,
    min_n: int = MIN_GROUP_SIZE,
) -> dict[Hashable, Estimate]:
    """One :func:`estimate` per group from ``(group, value, weight)`` rows."""
    values: dict[Hashable, list[float]] = defaultdict(list)
    weights: dict[Hashable, list[float]] = defaultdict(list)
    for group, value, weight in rows:
        values[group].append(value)
        weights[group].append(weight)
    return {
        group: estimate(values[group], weights[group], confidence=confidence, min_n=min_n)
        for group in values
    }


@dataclass(frozen=True)
class Change:
    """The difference between two waves' indices (later minus earlier)."""

    difference: float
    ci_low: float
    ci_high: float
    significant: bool


def change(before: Estimate, after: Estimate, *, confidence: float = 0.95) -> Change | None:
    """Difference of two independent estimates with a normal interval; None if suppressed.

    >>> a = Estimate(100, 100.0, 60.0, 0, 0, 2.0, .95, False)
    >>> b = Estimate(100, 100.0, 54.0, 0, 0, 2.0, .95, False)
    >>> c = change(a, b)
    >>> (c.difference, round(c.ci_low, 2), c.significant)
    (-6.0, -11.54, True)
    """
    if before.mean is None or after.mean is None or before.se is None or after.se is None:
        return None
    diff = after.mean - before.mean
    se = math.sqrt(before.se**2 + after.se**2)
    z = float(_st.norm.ppf(0.5 + confidence / 2))
    low, high = diff - z * se, diff + z * se
    return Change(diff, low, high, significant=low > 0 or high < 0)
