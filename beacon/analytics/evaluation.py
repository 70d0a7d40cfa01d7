"""Did it work? Before/after tests and displacement measures for place-based work.

* :func:`rate_ratio`: after/before rate ratio of a count with an exact Poisson test
  (conditional binomial) and a Clopper–Pearson-based exact confidence interval.
* :func:`ratio_of_ratios`: the same against a control area (the treated rate ratio
  divided by the control rate ratio) with an exact conditional confidence interval.
* :func:`wdq`: the Weighted Displacement Quotient (Bowers and Johnson 2003).
* :func:`wdd`: the Weighted Displacement Difference and its z-test (Wheeler and
  Ratcliffe 2018).

Counts are crimes in a period; "before" and "after" periods may differ in length
(``exposure``), but treated and control areas share the same periods.

References
----------
Bowers, K. J. and Johnson, S. D. (2003). Measuring the geographical displacement and
diffusion of benefit effects of crime prevention activity. Journal of Quantitative
Criminology 19(3), 275-301.

Wheeler, A. P. and Ratcliffe, J. H. (2018). A simple weighted displacement difference
test to evaluate place based crime interventions. Crime Science 7, 11.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats
from scipy.stats.contingency import odds_ratio

from beacon.analytics.events import AnalysisInputError

__all__ = [
    "RateRatio",
    "WDDResult",
    "WDQResult",
    "rate_ratio",
    "ratio_of_ratios",
    "wdd",
    "wdq",
]


def _count(value: float, name: str) -> int:
    if value < 0 or int(value) != value:
        raise AnalysisInputError(f"{name} must be a whole number >= 0, got {value}")
    return int(value)


def _alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise AnalysisInputError(f"alpha must be between 0 and 1, got {alpha}")
    return alpha


@dataclass(frozen=True)
class RateRatio:
    """A ratio of rates with its exact test.

    Attributes
    ----------
    ratio : float
        Point estimate (``inf`` when the denominator count is 0).
    ci_low, ci_high : float
        ``1 - alpha`` confidence interval.
    p_value : float
        Two-sided exact p-value for "no change" (ratio 1).
    percent_change : float
        ``100 (ratio - 1)``: negative is a fall.
    alpha : float
    method : str
    """

    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    percent_change: float
    alpha: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (infinities as None)."""
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }

    def summary(self) -> str:
        """One sentence for people."""
        level = round(100 * (1 - self.alpha))
        change = "fell" if self.ratio < 1 else "rose" if self.ratio > 1 else "did not change"
        return (
            f"rate {change}: ratio {self.ratio:.3f} ({self.percent_change:+.1f}%), "
            f"{level}% CI {self.ci_low:.3f} to {self.ci_high:.3f}, p = {self.p_value:.4g}"
        )


def rate_ratio(
    before: int,
    after: int,
    exposure_before: float = 1.0,
    exposure_after: float = 1.0,
    alpha: float = 0.05,
) -> RateRatio:
    """After/before rate ratio with an exact Poisson (conditional binomial) test.

    Given ``N = before + after``, the after count is binomial with
    ``π = R·e_a / (R·e_a + e_b)`` where ``R`` is the rate ratio and ``e`` the exposures
    (period lengths). The p-value is the exact two-sided binomial test of
    ``π0 = e_a / (e_a + e_b)``; the interval is the Clopper–Pearson interval for ``π``
    mapped to ``R = π/(1 − π) · e_b/e_a``.

    Parameters
    ----------
    before, after : int
        Counts in the two periods.
    exposure_before, exposure_after : float
        Period lengths (any unit; only their ratio matters).
    alpha : float
        1 - confidence level.

    Examples
    --------
    >>> r = rate_ratio(40, 20)
    >>> round(r.ratio, 3), round(r.ci_low, 3), round(r.ci_high, 3), round(r.p_value, 4)
    (0.5, 0.277, 0.876, 0.0135)
    >>> round(rate_ratio(30, 30, exposure_before=12, exposure_after=6).ratio, 3)
    2.0
    """
    b = _count(before, "before count")
    a = _count(after, "after count")
    _alpha(alpha)
    if not (exposure_before > 0 and exposure_after > 0):
        raise AnalysisInputError("exposures (period lengths) must be > 0")
    n = a + b
    if n == 0:
        raise AnalysisInputError("no events in either period; nothing to compare")
    scale = exposure_before / exposure_after
    ratio = (a / b) * scale if b > 0 else math.inf
    pi_low = 0.0 if a == 0 else float(stats.beta.ppf(alpha / 2, a, n - a + 1))
    pi_high = 1.0 if a == n else float(stats.beta.ppf(1 - alpha / 2, a + 1, n - a))
    ci_low = pi_low / (1 - pi_low) * scale
    ci_high = pi_high / (1 - pi_high) * scale if pi_high < 1 else math.inf
    p0 = exposure_after / (exposure_after + exposure_before)
    p_value = float(stats.binomtest(a, n, p0).pvalue)
    return RateRatio(
        ratio=ratio,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=min(1.0, p_value),
        percent_change=100.0 * (ratio - 1.0),
        alpha=alpha,
        method="exact conditional binomial, Clopper-Pearson interval",
    )


def ratio_of_ratios(
    treated: tuple[int, int],
    control: tuple[int, int],
    alpha: float = 0.05,
    ci_method: str = "exact",
) -> RateRatio:
    """Treated after/before ratio divided by the control's (difference in differences
    on the ratio scale).

    Parameters
    ----------
    treated, control : (before, after)
        Counts; both areas share the same periods, so period lengths cancel.
    alpha : float
    ci_method : {"exact", "log"}
        ``exact``: the conditional (Cornfield) interval of the 2×2 table's odds ratio
        and Fisher's exact p-value, valid for four independent Poisson counts.
        ``log``: ``exp(log RR ± z·sqrt(1/a + 1/b + 1/c + 1/d))`` with a normal p-value.

    Examples
    --------
    >>> r = ratio_of_ratios((207, 110), (308, 318))
    >>> round(r.ratio, 3), round(r.ci_low, 3), round(r.ci_high, 3)
    (0.515, 0.385, 0.687)
    >>> r = ratio_of_ratios((207, 110), (308, 318), ci_method="log")
    >>> round(r.ci_low, 3), round(r.ci_high, 3)
    (0.389, 0.681)
    """
    tb, ta = (_count(v, "treated count") for v in treated)
    cb, ca = (_count(v, "control count") for v in control)
    _alpha(alpha)
    if tb + ta == 0 or cb + ca == 0:
        raise AnalysisInputError("treated and control areas each need at least one event")
    denominator = tb * ca
    ratio = (ta * cb) / denominator if denominator > 0 else math.inf
    if ci_method == "exact":
        table = [[ta, tb], [ca, cb]]
        ci = odds_ratio(table, kind="conditional").confidence_interval(1 - alpha)
        low, high = float(ci.low), float(ci.high)
        p_value = float(stats.fisher_exact(table).pvalue)
        method = "conditional exact (Cornfield) interval, Fisher exact test"
    elif ci_method == "log":
        if min(ta, tb, ca, cb) == 0:
            raise AnalysisInputError("the log interval needs all four counts > 0; use 'exact'")
        se = math.sqrt(1 / ta + 1 / tb + 1 / ca + 1 / cb)
        zq = float(stats.norm.ppf(1 - alpha / 2))
        low, high = ratio * math.exp(-zq * se), ratio * math.exp(zq * se)
        p_value = float(2 * stats.norm.sf(abs(math.log(ratio)) / se))
        method = "log-normal interval, normal test"
    else:
        raise AnalysisInputError(f"ci_method must be 'exact' or 'log', got {ci_method!r}")
    return RateRatio(
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        p_value=min(1.0, p_value),
        percent_change=100.0 * (ratio - 1.0),
        alpha=alpha,
        method=method,
    )


@dataclass(frozen=True)
class WDQResult:
    """Weighted Displacement Quotient (Bowers and Johnson 2003).

    Attributes
    ----------
    success_measure : float
        ``R_a/C_a − R_b/C_b``; negative means the response area improved relative
        to the control.
    buffer_displacement_measure : float
        ``B_a/C_a − B_b/C_b``; positive suggests displacement into the buffer,
        negative a diffusion of benefits.
    wdq : float or None
        ``buffer_displacement_measure / success_measure`` (None when the success
        measure is 0).
    total_net_effect : float
        Crimes prevented in response area and buffer together, against the control
        area's trend: ``(R_b·C_a/C_b − R_a) + (B_b·C_a/C_b − B_a)``.
    interpretation : str
        Plain-words reading.
    """

    success_measure: float
    buffer_displacement_measure: float
    wdq: float | None
    total_net_effect: float
    interpretation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def wdq(response: tuple[int, int], buffer: tuple[int, int], control: tuple[int, int]) -> WDQResult:
    """Weighted Displacement Quotient of Bowers and Johnson (2003).

    Parameters
    ----------
    response, buffer, control : (before, after)
        Counts in the response (treated) area, the surrounding buffer and the
        control area, for the same before and after periods.

    Examples
    --------
    Response area 100 → 60, buffer 50 → 45, control 200 → 200:

    >>> r = wdq((100, 60), (50, 45), (200, 200))
    >>> r.success_measure, r.buffer_displacement_measure, r.wdq, r.total_net_effect
    (-0.2, -0.025, 0.125, 45.0)
    >>> r.interpretation.split(":")[0]
    'Diffusion of benefits'
    """
    rb, ra = (_count(v, "response count") for v in response)
    bb, ba = (_count(v, "buffer count") for v in buffer)
    cb, ca = (_count(v, "control count") for v in control)
    if cb == 0 or ca == 0:
        raise AnalysisInputError("the control area needs events in both periods for the WDQ")
    sm = ra / ca - rb / cb
    bdm = ba / ca - bb / cb
    trend = ca / cb
    tne = (rb * trend - ra) + (bb * trend - ba)
    quotient = bdm / sm if sm != 0 else None
    return WDQResult(
        success_measure=round(sm, 12),
        buffer_displacement_measure=round(bdm, 12),
        wdq=None if quotient is None else round(quotient, 12),
        total_net_effect=round(tne, 12),
        interpretation=_wdq_words(sm, quotient),
    )


def _wdq_words(sm: float, quotient: float | None) -> str:
    # Bowers and Johnson (2003), Table 1: the WDQ is read only when the response area
    # did better than the control (success measure < 0).
    if sm >= 0 or quotient is None:
        return (
            "No success to weigh: crime in the response area did not fall relative to the "
            "control area, so the WDQ is not meaningful"
        )
    if quotient > 1:
        return (
            "Diffusion of benefits greater than the direct effect: the buffer improved "
            "even more than the response area (relative to control)"
        )
    if quotient > 0:
        return (
            "Diffusion of benefits: the buffer improved too, by less than the response "
            "area; the net effect is larger than the direct effect"
        )
    if quotient == 0:
        return "No displacement and no diffusion: the buffer followed the control area"
    if quotient >= -1:
        return (
            "Displacement smaller than the direct effect: some crime moved into the "
            "buffer, but the scheme still prevented more than it displaced"
        )
    return (
        "Displacement greater than the direct effect: more crime moved into the buffer "
        "than the response area gained; the scheme was counter-productive"
    )


@dataclass(frozen=True)
class WDDResult:
    """Weighted Displacement Difference test (Wheeler and Ratcliffe 2018).

    Attributes
    ----------
    local : float
        ``ΔT − ΔC``: change in the treated area net of the control's change.
    displacement : float
        ``ΔD − ΔCD``: change in the displacement area net of its control's change.
    wdd : float
        ``local + displacement``; negative means crime prevented.
    variance : float
        Sum of all the counts (Poisson).
    se, z, p_value : float
        Standard error ``sqrt(variance)``, ``wdd / se`` and the two-sided p-value.
    ci_low, ci_high : float
        ``wdd ± z_{1−α/2}·se``.
    alpha : float
    """

    local: float
    displacement: float
    wdd: float
    variance: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def wdd(
    treated: tuple[int, int],
    control: tuple[int, int],
    displacement: tuple[int, int] = (0, 0),
    displacement_control: tuple[int, int] = (0, 0),
    alpha: float = 0.05,
) -> WDDResult:
    """Weighted Displacement Difference and its z-test.

    ``WDD = ΔT − ΔC + ΔD − ΔCD`` where each ``Δ`` is after minus before; under a
    Poisson model its variance is the sum of the eight counts.

    Parameters
    ----------
    treated, control : (before, after)
        Counts in the treated area and its control area.
    displacement, displacement_control : (before, after)
        Counts in the displacement (buffer) area and its control (default: none).
    alpha : float
        For the ``1 − alpha`` confidence interval.

    Examples
    --------
    The worked example of Wheeler and Ratcliffe (2018):

    >>> r = wdd(treated=(207, 110), control=(308, 318), displacement=(178, 157),
    ...         displacement_control=(150, 140))
    >>> r.wdd, r.variance, round(r.z, 2), round(r.ci_low), round(r.ci_high)
    (-118.0, 1568.0, -2.98, -196, -40)
    """
    _alpha(alpha)
    tb, ta = (_count(v, "treated count") for v in treated)
    cb, ca = (_count(v, "control count") for v in control)
    db, da = (_count(v, "displacement count") for v in displacement)
    eb, ea = (_count(v, "displacement control count") for v in displacement_control)
    local = float((ta - tb) - (ca - cb))
    disp = float((da - db) - (ea - eb))
    total = local + disp
    variance = float(tb + ta + cb + ca + db + da + eb + ea)
    if variance == 0:
        raise AnalysisInputError("all counts are zero; nothing to test")
    se = math.sqrt(variance)
    z = total / se
    zq = float(stats.norm.ppf(1 - alpha / 2))
    return WDDResult(
        local=local,
        displacement=disp,
        wdd=total,
        variance=variance,
        se=se,
        z=z,
        p_value=float(2 * stats.norm.sf(abs(z))),
        ci_low=total - zq * se,
        ci_high=total + zq * se,
        alpha=alpha,
    )
