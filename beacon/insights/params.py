"""Parameters of each kind of analysis run: defaults, bounds and validation.

Every run stores its full parameter set (defaults filled in), so a stored result says
exactly how it was computed. Unknown or out-of-range parameters are refused with a
message naming the parameter and the allowed range.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from beacon.analytics.forecast import METHODS
from beacon.incidents import taxonomy
from beacon.insights.models import RunKind

#: Longest data window a run may read.
MAX_WINDOW_DAYS = 3 * 366


class RunParameterError(ValueError):
    """A run request Beacon cannot accept; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Spec:
    """One parameter: its default and what values it takes."""

    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    integer: bool = False


# Defaults: Gi* on H3 resolution-9 cells (~0.1 km²) with their first ring as neighbours;
# KDE with a 300 m quartic kernel on 100 m cells; Knox bands of 100 m × 7 days (5 × 4
# bands, as in the Near Repeat Calculator's usual set-up for burglary); a one-week
# forecast on the 150 m protocol grid with two patrol units of four cells per beat; trend
# alerts comparing the last 28 days with the area's own earlier year.
SPECS: dict[str, dict[str, Spec]] = {
    RunKind.GI: {
        "resolution": Spec(9, 7, 10, integer=True),
        "k": Spec(1, 1, 3, integer=True),
        "alpha": Spec(0.05, 0.0001, 0.2),
    },
    RunKind.KDE: {
        "bandwidth_m": Spec(300.0, 25.0, 5000.0),
        "cell_size_m": Spec(100.0, 10.0, 1000.0),
        "kernel": Spec("quartic", choices=("quartic", "gaussian")),
        "top_share": Spec(0.1, 0.01, 1.0),
    },
    RunKind.KNOX: {
        "space_bandwidth_m": Spec(100.0, 10.0, 2000.0),
        "space_bands": Spec(5, 1, 20, integer=True),
        "time_bandwidth_days": Spec(7, 1, 60, integer=True),
        "time_bands": Spec(4, 1, 20, integer=True),
        "permutations": Spec(99, 9, 9999, integer=True),
        "seed": Spec(1, 0, 2**31 - 1, integer=True),
        "alpha": Spec(0.05, 0.001, 0.2),
        "min_ratio": Spec(1.2, 1.0, 10.0),
    },
    RunKind.FORECAST: {
        "method": Spec("blend", choices=tuple(METHODS)),
        "cell_size_m": Spec(150.0, 50.0, 1000.0),
        "coverage": Spec(0.05, 0.005, 0.5),
        "units_per_beat": Spec(2, 0, 20, integer=True),
        "max_cells": Spec(4, 1, 50, integer=True),
        "backtest_weeks": Spec(4, 0, 26, integer=True),
    },
    RunKind.TREND: {
        "method": Spec("poisson", choices=("poisson", "cusum")),
        "current_days": Spec(28, 7, 91, integer=True),
        "alpha": Spec(0.05, 0.001, 0.2),
        "min_count": Spec(5, 1, 1000, integer=True),
        "min_ratio": Spec(1.25, 1.0, 10.0),
        "cusum_shift": Spec(1.5, 1.05, 5.0),
        "cusum_h": Spec(4.0, 0.5, 50.0),
    },
}

#: Default data window per kind, in days ending at the last day of data.
DEFAULT_WINDOW_DAYS: dict[str, int] = {
    RunKind.GI: 91,
    RunKind.KDE: 91,
    RunKind.KNOX: 365,
    RunKind.FORECAST: 365,
    RunKind.TREND: 392,
}


def _number(name: str, spec: Spec, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RunParameterError(name, _("expected a number, got %(value)r") % {"value": value})
    try:
        number = float(value)
    except ValueError:
        raise RunParameterError(
            name, _("expected a number, got %(value)r") % {"value": value}
        ) from None
    if not math.isfinite(number):
        raise RunParameterError(name, _("must be a finite number"))
    if spec.integer:
        if number != int(number):
            raise RunParameterError(
                name, _("must be a whole number, got %(value)s") % {"value": value}
            )
        number = int(number)
    assert spec.low is not None and spec.high is not None
    if not spec.low <= number <= spec.high:
        raise RunParameterError(
            name,
            _("must be between %(low)s and %(high)s, got %(value)s")
            % {"low": f"{spec.low:g}", "high": f"{spec.high:g}", "value": value},
        )
    return number


def clean_parameters(kind: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The full parameter set for ``kind``: ``given`` validated, defaults filled in."""
    if kind not in SPECS:
        raise RunParameterError(
            "kind",
            _("unknown kind %(kind)r; choose from %(kinds)s")
            % {"kind": kind, "kinds": ", ".join(SPECS)},
        )
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise RunParameterError("parameters", _("expected an object of named parameters"))
    specs = SPECS[kind]
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise RunParameterError(
            f"parameters.{unknown[0]}",
            _("unknown parameter for %(kind)s runs; known: %(known)s")
            % {"kind": kind, "known": ", ".join(specs)},
        )
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        value = given.get(name, spec.default)
        if spec.choices:
            if value not in spec.choices:
                raise RunParameterError(
                    f"parameters.{name}",
                    _("must be one of %(choices)s, got %(value)r")
                    % {"choices": ", ".join(map(str, spec.choices)), "value": value},
                )
            out[name] = value
        else:
            out[name] = _number(f"parameters.{name}", spec, value)
    return out


def clean_groups(groups: Any) -> list[str]:
    """Offence group codes, checked against the taxonomy, sorted and without repeats."""
    if groups is None:
        return []
    if not isinstance(groups, list | tuple) or not all(isinstance(g, str) for g in groups):
        raise RunParameterError("offence_groups", _("expected a list of offence group codes"))
    unknown = sorted(set(groups) - set(taxonomy.GROUPS))
    if unknown:
        raise RunParameterError(
            "offence_groups",
            _("unknown offence group %(group)r; choose from %(groups)s")
            % {"group": unknown[0], "groups": ", ".join(taxonomy.GROUPS)},
        )
    return sorted(set(groups))


def clean_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Check a data window (inclusive dates)."""
    if end < start:
        raise RunParameterError(
            "window_end",
            _("the window ends (%(end)s) before it starts (%(start)s)")
            % {"end": end, "start": start},
        )
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise RunParameterError(
            "window_start",
            _("the window is longer than %(days)s days") % {"days": MAX_WINDOW_DAYS},
        )
    return start, end
