"""Benchmark: fast Knox test against the direct all-pairs method.

Runs the Knox test with 999 permutations on 12,000 events and times it, then times
the direct method (every pair recomputed in every permutation) on a few permutations
and scales its per-permutation time to 999, and prints the speed-up.

Events: Vancouver 2020 break-and-enter locations and times (read from the shared data
folder, ``BEACON_DATA_DIR``) resampled with replacement to 12,000 and jittered by
±25 m and ±3 days, so the spatial spread is that of real city burglary. Without the
data folder, a synthetic city (clustered hot spots over a 12 km × 10 km area, one year)
is used instead.

Usage::

    .venv/bin/python bench/bench_knox.py [--events 12000] [--permutations 999]
        [--direct-permutations 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beacon.analytics.events import Events
from beacon.analytics.io import read_events
from beacon.analytics.nearrepeat import knox, knox_direct

SPACE_BANDWIDTH, SPACE_BANDS, TIME_BANDWIDTH, TIME_BANDS = 100.0, 3, 7, 3


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return Path(os.environ.get("BEACON_DATA_DIR", default))


def make_events(n: int, rng: np.random.Generator) -> tuple[Events, str]:
    path = data_dir() / "vancouver_2020" / "crimedata_csv_AllNeighbourhoods_2020.csv"
    if path.exists():
        source, _report = read_events(path, "vancouver", category="Break and Enter")
        pick = rng.integers(0, len(source), n)
        x = source.x[pick] + rng.uniform(-25, 25, n)
        y = source.y[pick] + rng.uniform(-25, 25, n)
        t = np.floor(source.t[pick]) + rng.integers(-3, 4, n)
        what = f"Vancouver 2020 break-ins ({len(source)}) resampled to {n} with jitter"
        return Events.from_arrays(x, y, t), what
    centres = rng.uniform([0, 0], [12_000, 10_000], size=(60, 2))
    which = rng.integers(0, len(centres), n)
    spread = rng.uniform(150, 900, len(centres))[which]
    xy = centres[which] + rng.normal(0, 1, (n, 2)) * spread[:, None]
    t = rng.integers(0, 366, n).astype(float)
    return Events.from_arrays(xy[:, 0], xy[:, 1], t), f"synthetic clustered city, {n} events"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=12_000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--direct-permutations", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    events, what = make_events(args.events, rng)
    print(f"events: {what}")
    print(
        f"bands: {SPACE_BANDS} x {SPACE_BANDWIDTH:g} m, {TIME_BANDS} x {TIME_BANDWIDTH} days, "
        "euclidean"
    )

    start = time.perf_counter()
    fast = knox(
        events,
        SPACE_BANDWIDTH,
        SPACE_BANDS,
        TIME_BANDWIDTH,
        TIME_BANDS,
        permutations=args.permutations,
        seed=args.seed,
    )
    fast_s = time.perf_counter() - start
    print(f"fast:   {args.permutations} permutations in {fast_s:.2f} s")

    # The direct method costs one all-pairs pass for the observed table plus one per
    # permutation; time it on a few permutations and scale to the full run.
    k = args.direct_permutations
    start = time.perf_counter()
    direct = knox_direct(
        events,
        SPACE_BANDWIDTH,
        SPACE_BANDS,
        TIME_BANDWIDTH,
        TIME_BANDS,
        permutations=k,
        seed=args.seed,
    )
    direct_s = time.perf_counter() - start
    per_pass = direct_s / (k + 1)
    direct_full = per_pass * (args.permutations + 1)
    print(
        f"direct: {k} permutations (+ observed) in {direct_s:.2f} s = {per_pass:.2f} s per pass;"
        f" scaled to {args.permutations} permutations: {direct_full:.0f} s"
    )
    if not (direct.observed == fast.observed).all():
        print("ERROR: direct and fast observed tables differ", file=sys.stderr)
        return 1
    print(f"speed-up: {direct_full / fast_s:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
