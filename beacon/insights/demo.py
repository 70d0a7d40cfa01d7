"""Demo analyses of the Vancouver 2020 incidents: stored runs for every dashboard.

Runs are requested as the analyst demo user and computed at once (no worker needed),
on one shared read of the incidents. To keep the whole demo within its time budget the
Knox tests use 19 permutations (the smallest number that can reach p = 0.05) over the
last half year, and the forecast uses the plain past-counts method, which on this data
is as good as any (see docs/forecasting.md); the schedule runs the full settings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beacon.core.models import Community, User
from beacon.insights import data, services
from beacon.insights.models import RunKind, RunStatus
from beacon.insights.params import DEFAULT_WINDOW_DAYS
from beacon.insights.zones import refresh_risk_zones

DEMO_ANALYST = "analyst@demo.beacon"

# (kind, offence groups, parameters, window length in days or None for the default)
DEMO_RUNS: list[tuple[str, list[str], dict[str, Any], int | None]] = [
    (RunKind.GI, [], {}, None),
    (RunKind.KDE, [], {}, None),
    (RunKind.GI, ["vehicle"], {}, None),
    (RunKind.KDE, ["vehicle"], {}, None),
    (RunKind.GI, ["burglary"], {}, None),
    (RunKind.KDE, ["burglary"], {}, None),
    (RunKind.KNOX, ["burglary"], {"permutations": 19}, 182),
    (RunKind.KNOX, ["vehicle"], {"permutations": 19}, 182),
    (
        RunKind.FORECAST,
        ["bicycle", "burglary", "vehicle"],
        {"method": "naive", "backtest_weeks": 4},
        None,
    ),
    (RunKind.TREND, [], {"method": "poisson"}, None),
    (RunKind.TREND, [], {"method": "cusum"}, None),
]


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """Compute the demo runs and the near-repeat zones as of the last day of data."""
    tick = time.perf_counter()
    end = services.data_end(community)
    if data.last_incident_day(community) is None:
        progress("No incidents: the analysis dashboards stay empty.")
        return
    analyst = User.objects.filter(email=DEMO_ANALYST).first()
    longest = max(days or DEFAULT_WINDOW_DAYS[kind] for kind, _g, _p, days in DEMO_RUNS)
    frame = data.load_frame(community, end - dt.timedelta(days=longest - 1), end)
    context = services.context_for(community)
    progress(f"Computing {len(DEMO_RUNS)} analysis runs on {len(frame)} incidents")
    failed = []
    for kind, groups, parameters, days in DEMO_RUNS:
        start = end - dt.timedelta(days=days - 1) if days else None
        run, _created = services.request_run(
            community,
            kind,
            offence_groups=groups,
            window_start=start,
            window_end=end,
            parameters=parameters,
            actor=analyst,
            enqueue=False,
        )
        done = services.execute_run(run.pk, frame=frame, context=context)
        if done is not None and done.status == RunStatus.FAILED:
            failed.append(f"{kind} {groups}: {done.error}")
    for message in failed:
        progress(f"  analysis failed: {message}")
    zones = refresh_risk_zones(community, end)
    progress(
        f"Analysis runs and {zones.created} near-repeat risk zones as of {end} "
        f"in {time.perf_counter() - tick:.1f} s"
    )
