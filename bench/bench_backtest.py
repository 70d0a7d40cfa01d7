"""Backtest every forecasting method on 150,000 synthetic events over 26 test weeks.

Locations are resampled from the Vancouver 2020 open data (jittered by 25 m) when
the shared data folder is present, otherwise drawn around synthetic hotspots. Times
follow a self-exciting process: background events spread over 78 weeks, each
event having on average 0.3 near-repeat follow-ups within about 100 m and an
exponential delay of mean 7 days. The first 52 weeks are history, the last 26 the
test weeks.

Prints each method's wall time (fit + score over the 26 weekly re-fits), the
total, and each method's time as a multiple of the naive-counts baseline
measured in the same run.

Run: ``.venv/bin/python bench/bench_backtest.py [--events N] [--weeks K]``
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from beacon.analytics.backtest import run_backtest
from beacon.analytics.events import Events
from beacon.analytics.forecast import METHODS

DATA = Path(os.environ.get("BEACON_DATA_DIR", Path(__file__).resolve().parents[2] / "shared/data"))
VANCOUVER = DATA / "vancouver_2020" / "crimedata_csv_AllNeighbourhoods_2020.csv"


def vancouver_locations() -> np.ndarray | None:
    """X/Y of every located VPD 2020 incident (a small local reader for the benchmark)."""
    if not VANCOUVER.is_file():
        return None
    pts = []
    with VANCOUVER.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            x, y = float(row["X"] or 0), float(row["Y"] or 0)
            if x or y:
                pts.append((x, y))
    return np.array(pts)


def synthetic(n: int, weeks: int, rng: np.random.Generator) -> tuple[Events, str]:
    days = 7.0 * weeks
    base = vancouver_locations()
    source = "Vancouver 2020 locations, resampled"
    if base is None:
        source = "synthetic hotspots (data folder absent)"
        centres = rng.uniform(0, 12_000, (60, 2))
        pick = rng.integers(0, 60, 20_000)
        base = centres[pick] + rng.normal(0, 250, (20_000, 2))
    branching = 0.3
    n_background = int(n * (1 - branching) * 1.05)
    xs = [base[rng.integers(0, len(base), n_background)] + rng.normal(0, 25, (n_background, 2))]
    ts = [rng.uniform(0, days, n_background)]
    parents_xy, parents_t = xs[0], ts[0]
    while len(parents_t):
        kids = rng.poisson(branching, len(parents_t))
        idx = np.repeat(np.arange(len(parents_t)), kids)
        t = parents_t[idx] + rng.exponential(7.0, len(idx))
        xy = parents_xy[idx] + rng.normal(0, 70, (len(idx), 2))
        keep = t < days
        parents_xy, parents_t = xy[keep], t[keep]
        xs.append(parents_xy)
        ts.append(parents_t)
    xy = np.vstack(xs)
    t = np.concatenate(ts)
    if len(t) > n:
        chosen = rng.choice(len(t), n, replace=False)
        xy, t = xy[chosen], t[chosen]
    epoch_day = 18_262.0  # 2020-01-01
    return Events.from_arrays(xy[:, 0], xy[:, 1], epoch_day + t), source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--history-weeks", type=int, default=52)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    events, source = synthetic(args.events, args.history_weeks + args.weeks, rng)
    start = float(np.floor(events.t.min())) + 7.0 * args.history_weeks
    methods = args.methods.split(",")
    if "naive" not in methods:
        methods.insert(0, "naive")
    print(f"{len(events):,} events ({source}), {args.weeks} test weeks, 150 m cells")
    tick = time.perf_counter()
    result = run_backtest(events, methods, start, args.weeks)
    wall = time.perf_counter() - tick
    base = result.methods["naive"].seconds
    print(f"grid {result.grid.nx} x {result.grid.ny}, study area {result.study_cells} cells")
    print(f"{'method':<15}{'seconds':>10}{'x naive':>10}{'PAI 5%':>9}{'PEI 5%':>9}")
    for name, r in result.methods.items():
        f = r.at(0.05)
        print(f"{name:<15}{r.seconds:>10.2f}{r.seconds / base:>10.1f}{f.pai:>9.2f}{f.pei:>9.3f}")
    total = sum(r.seconds for r in result.methods.values())
    print(f"{'total':<15}{total:>10.2f}   (whole run incl. evaluation {wall:.1f} s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB")
    slow = [n for n, r in result.methods.items() if r.seconds > 300]
    if slow:
        print(f"over the 5-minute budget: {', '.join(slow)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
