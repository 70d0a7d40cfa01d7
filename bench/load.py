"""``make load``: Beacon under gunicorn on PostgreSQL, driven by locust at a constant rate.

One run, on this machine only (every request goes to 127.0.0.1):

1. starts a private PostgreSQL cluster under ``var/load/`` (its own port, never the
   shared server), creates the database ``beacon_load``, migrates it and builds the demo
   community (skipped when it is already there; ``--fresh`` rebuilds it);
2. serves Beacon with gunicorn (``BEACON_ENV=production``, behind-a-proxy settings,
   ``--workers`` processes of ``--threads`` threads, at most ``--max-inflight`` requests
   in progress per process: ``beacon/core/overload.py``);
3. **target phase**: residents file ``--submit-rate`` reports a second through the API
   (``Idempotency-Key``, each from its own client address) while the public reads the
   crime map ``--map-rate`` times and the statistics ``--stats-rate`` times a second;
4. **capacity phase**: ``--clients`` residents file reports back to back (closed loop),
   which measures the most submissions a second Beacon sustains here;
5. **pgbench**: the same number of clients doing single-row INSERTs (one transaction
   each, ``synchronous_commit=on``) into a table of the same database, for the ratio of
   Beacon's submission rate to the raw insert rate;
6. **overload phase**: several times the capacity offered (residents and map readers)
   plus a few scripts filing from one address: every answer must be a success, a 503
   with ``Retry-After`` (load shedding) or a 429 with ``Retry-After`` (rate limit);
7. prints a table per phase (throughput, p50/p95/p99 latency per request type, statuses)
   and the verdicts, and writes everything to ``var/load/<time>-results.json`` (each
   phase's raw request records beside it).

Latencies are measured by the load generator from request start to last byte; the first
``--warmup`` seconds of each phase are left out. The generator shares the machine's two
cores with gunicorn and PostgreSQL (and with whatever else runs), so figures are from a
loaded machine, not a quiet one.

Usage::

    .venv/bin/python bench/load.py [--duration 60] [--fresh]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BIN, Cluster, Gunicorn, beacon, clean_env, get_status  # noqa: E402

VAR = ROOT / "var" / "load"
DATABASE = "beacon_load"
COMMUNITY = "demo"
TARGET_P99_MS = 300.0


@dataclass
class TypeResult:
    """One request type in one phase."""

    name: str
    total: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    ok: int = 0
    throughput: float = 0.0
    p50: float = math.nan
    p95: float = math.nan
    p99: float = math.nan
    refusals_without_retry_after: int = 0
    refusal_p50: float = math.nan
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "total": self.total,
            "ok": self.ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "throughput_per_s": round(self.throughput, 2),
            "p50_ms": round(self.p50, 1),
            "p95_ms": round(self.p95, 1),
            "p99_ms": round(self.p99, 1),
            "refusals_without_retry_after": self.refusals_without_retry_after,
            "refusal_p50_ms": round(self.refusal_p50, 1),
            "no_answer_errors": dict(self.errors),
        }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(rows: list[list[Any]], start: float, end: float) -> dict[str, TypeResult]:
    """Per request type: statuses, successful throughput and latency percentiles.

    Only requests that started in ``[start, end)`` count. Latency percentiles are of
    the successful requests (2xx); refusals are counted by status.
    """
    results: dict[str, TypeResult] = {}
    latencies: dict[str, list[float]] = {}
    refusals: dict[str, list[float]] = {}
    for name, started, latency, status, retry_after, error in rows:
        if not start <= started < end:
            continue
        result = results.setdefault(name, TypeResult(name))
        result.total += 1
        result.statuses[int(status)] += 1
        if not status:
            result.errors[error] += 1
        if 200 <= status < 300:
            result.ok += 1
            latencies.setdefault(name, []).append(float(latency))
        elif status in (429, 503):
            refusals.setdefault(name, []).append(float(latency))
            if not retry_after:
                result.refusals_without_retry_after += 1
    for name, result in results.items():
        values = latencies.get(name, [])
        result.throughput = result.ok / (end - start)
        result.p50 = percentile(values, 50)
        result.p95 = percentile(values, 95)
        result.p99 = percentile(values, 99)
        result.refusal_p50 = percentile(refusals.get(name, []), 50)
    return results


def warm_up(url: str) -> None:
    """Load every worker's imports and per-process caches before measuring."""
    paths = [
        f"/c/{COMMUNITY}/map/data.json?zoom=12",
        f"/api/v1/communities/{COMMUNITY}/crime/stats",
        f"/api/v1/communities/{COMMUNITY}/report-categories",
    ]
    for _round in range(6):  # connections land on any worker: several rounds reach all
        for path in paths:
            get_status(url + path, timeout=60)


def run_locust(
    host: str,
    seconds: int,
    record: Path,
    *,
    submitters: int = 0,
    map_readers: int = 0,
    stats_readers: int = 0,
    abusers: int = 0,
    pace: float = 1.0,
) -> tuple[list[list[Any]], float]:
    """Run one headless locust phase; returns its request records and when it started."""
    users = submitters + map_readers + stats_readers + abusers
    env = clean_env(
        BEACON_LOAD_COMMUNITY=COMMUNITY,
        BEACON_LOAD_SUBMITTERS=str(submitters),
        BEACON_LOAD_MAP_READERS=str(map_readers),
        BEACON_LOAD_STATS_READERS=str(stats_readers),
        BEACON_LOAD_ABUSERS=str(abusers),
        BEACON_LOAD_PACE=str(pace),
        BEACON_LOAD_RECORD=str(record),
    )
    started = time.time()
    result = subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--only-summary",
            "--users",
            str(users),
            "--spawn-rate",
            str(max(users, 1)),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "70",
            "--host",
            host,
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 240,
    )
    # Locust exits 1 when any request "failed", which refusals are in some phases.
    if result.returncode not in (0, 1) or not record.exists() or record.stat().st_size == 0:
        raise SystemExit(f"locust failed ({result.returncode}):\n{result.stderr[-3000:]}")
    rows = json.loads(record.read_text())["requests"]
    return rows, started


def pgbench_insert_rate(cluster: Cluster, clients: int, seconds: int) -> dict[str, Any]:
    """Single-row INSERTs, one per transaction, from ``clients`` connections."""
    import psycopg

    with psycopg.connect(cluster.url(DATABASE), autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_single_insert")
        connection.execute(
            "CREATE TABLE bench_single_insert (id bigserial PRIMARY KEY, body text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
    script = VAR / "single_insert.sql"
    script.write_text(
        "INSERT INTO bench_single_insert (body) VALUES ('a resident report of about sixty "
        "characters of text');\n"
    )
    output = cluster.pgbench(
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(seconds),
        "-f",
        str(script),
        DATABASE,
    )
    tps = math.nan
    latency = math.nan
    for line in output.splitlines():
        if line.startswith("tps = "):
            tps = float(line.split()[2])
        if line.startswith("latency average = "):
            latency = float(line.split()[3])
    with psycopg.connect(cluster.url(DATABASE), autocommit=True) as connection:
        connection.execute("DROP TABLE bench_single_insert")
    return {"clients": clients, "seconds": seconds, "tps": tps, "latency_avg_ms": latency}


def print_phase(title: str, results: dict[str, TypeResult], seconds: float) -> None:
    """One table: a row per request type."""
    print(f"\n{title} ({seconds:.0f} s measured)")
    header = (
        f"{'request':<28}{'ok/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'refused p50':>13}  statuses"
    )
    print(header)
    print("-" * len(header) + "-" * 24)
    for result in sorted(results.values(), key=lambda r: r.name):
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(result.statuses.items()))
        if result.errors:
            statuses += (
                " (no answer: " + ", ".join(f"{k} {v}" for k, v in result.errors.items()) + ")"
            )
        print(
            f"{result.name:<28}{result.throughput:>9.1f}{result.p50:>9.0f}{result.p95:>9.0f}"
            f"{result.p99:>9.0f}{result.refusal_p50:>13.0f}  {statuses}"
        )


def machine() -> dict[str, Any]:
    """The conditions of the run: cores, load, memory."""
    load1, load5, load15 = os.getloadavg()
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "load_average": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "memory": memory,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-port", type=int, default=55433, help="private cluster's port")
    parser.add_argument("--port", type=int, default=8765, help="gunicorn's port")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-inflight", type=int, default=4, help="per process")
    parser.add_argument(
        "--inflight-wait-ms",
        type=int,
        default=0,
        help="BEACON_INFLIGHT_WAIT_MS: how long a request past the cap waits for a slot",
    )
    parser.add_argument("--submit-rate", type=int, default=100, help="target phase")
    parser.add_argument("--map-rate", type=int, default=200, help="target phase")
    parser.add_argument("--stats-rate", type=int, default=10, help="target phase")
    parser.add_argument("--duration", type=int, default=60, help="seconds of the target phase")
    parser.add_argument("--capacity-duration", type=int, default=40)
    parser.add_argument("--overload-duration", type=int, default=40)
    parser.add_argument("--clients", type=int, default=6, help="capacity phase and pgbench")
    parser.add_argument("--overload-factor", type=float, default=4.0)
    parser.add_argument("--warmup", type=int, default=10, help="seconds left out per phase")
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument(
        "--redis-url",
        default="",
        help="BEACON_REDIS_URL for the server (rate limits and cached answers in Redis, "
        "e.g. redis://127.0.0.1:6379/9); default: the database cache table",
    )
    args = parser.parse_args()
    for name in ("duration", "capacity_duration", "overload_duration"):
        if getattr(args, name) <= args.warmup:
            parser.error(f"--{name.replace('_', '-')} must be longer than --warmup")

    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "static").mkdir(exist_ok=True)
    cluster = Cluster(VAR / "pg", args.pg_port, max_connections=100)
    cluster.claim_port()
    print(f"PostgreSQL: private cluster {cluster.datadir} on 127.0.0.1:{args.pg_port}")
    cluster.init()
    cluster.start()
    server: Gunicorn | None = None
    try:
        cluster.ensure_database(DATABASE, fresh=args.fresh)
        env = clean_env(
            DATABASE_URL=cluster.url(DATABASE),
            BEACON_ENV="production",
            BEACON_SECRET_KEY=secrets.token_urlsafe(64),
            BEACON_ALLOWED_HOSTS="127.0.0.1,localhost",
            BEACON_BEHIND_PROXY="true",
            BEACON_VAR_DIR=str(VAR),
            BEACON_LOG_LEVEL="WARNING",
            BEACON_MAX_INFLIGHT=str(args.max_inflight),
            BEACON_INFLIGHT_WAIT_MS=str(args.inflight_wait_ms),
            **({"BEACON_REDIS_URL": args.redis_url} if args.redis_url else {}),
            BEACON_DATA_DIR=os.environ.get("BEACON_DATA_DIR", str(ROOT.parent / "shared" / "data")),
        )
        print("Migrating and building the demo community (first run only: a few minutes)")
        beacon(env, "migrate", "--no-input", "-v0")
        beacon(env, "demo")
        server = Gunicorn(env, args.port, args.workers, args.threads, VAR / "gunicorn.log")
        server.start()
        server.wait_ready(f"/api/v1/communities/{COMMUNITY}")
        warm_up(server.url)
        conditions = machine()
        print(
            f"gunicorn: {args.workers} workers x {args.threads} threads, at most "
            f"{args.max_inflight} requests in progress per worker "
            f"(a request past it waits up to {args.inflight_wait_ms} ms); "
            f"cache in {'Redis' if args.redis_url else 'the database'}; "
            f"{conditions['cores']} cores, load average {conditions['load_average']}"
        )
        stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}"
        report: dict[str, Any] = {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": conditions,
            "cache": "redis" if args.redis_url else "database",
            "settings": vars(args),
            "phases": {},
        }

        def phase(key: str, title: str, seconds: int, **users: Any) -> dict[str, TypeResult]:
            print(f"\n== {title}: {seconds} s ...", flush=True)
            rows, started = run_locust(server.url, seconds, VAR / f"{stamp}-{key}.json", **users)
            begin, end = started + args.warmup, started + seconds
            results = summarise(rows, begin, end)
            print_phase(title, results, end - begin)
            report["phases"][key] = {
                "title": title,
                "users": users,
                "measured_seconds": end - begin,
                "types": {name: r.as_dict() for name, r in results.items()},
                "load_average_after": machine()["load_average"],
            }
            return results

        target = phase(
            "target",
            f"Target: {args.submit_rate} submissions/s + {args.map_rate} map reads/s + "
            f"{args.stats_rate} statistics reads/s",
            args.duration,
            submitters=args.submit_rate,
            map_readers=args.map_rate,
            stats_readers=args.stats_rate,
        )
        capacity = phase(
            "capacity",
            f"Capacity: {args.clients} residents filing back to back",
            args.capacity_duration,
            submitters=args.clients,
            pace=0,
        )
        print(f"\n== pgbench: {args.clients} clients, single-row INSERTs ...", flush=True)
        raw = pgbench_insert_rate(cluster, args.clients, args.capacity_duration - args.warmup)
        report["pgbench"] = raw
        submitted = capacity.get("submit report")
        beacon_rate = submitted.throughput if submitted else 0.0
        ratio = beacon_rate / raw["tps"] if raw["tps"] else math.nan
        report["ratio_beacon_to_pgbench"] = ratio
        print(
            f"pgbench single-row INSERT: {raw['tps']:.0f} transactions/s "
            f"(average {raw['latency_avg_ms']:.1f} ms); Beacon: {beacon_rate:.1f} "
            f"submissions/s = {ratio:.4f} of the raw insert rate (1/{1 / ratio:.0f})"
            if ratio
            else "pgbench gave no rate"
        )
        offered = max(args.clients * 4, int(beacon_rate * args.overload_factor))
        overload = phase(
            "overload",
            f"Overload: {offered} submissions/s + {offered} map reads/s offered, "
            "plus 5 scripts filing from one address",
            args.overload_duration,
            submitters=offered,
            map_readers=offered,
            abusers=5,
        )

        # Verdicts.
        target_submit = target.get("submit report")
        target_map = target.get("map data")
        errors_in_target = sum(
            v for r in target.values() for k, v in r.statuses.items() if not 200 <= k < 300
        )
        met = (
            target_submit is not None
            and target_map is not None
            and target_submit.throughput >= 0.95 * args.submit_rate
            and target_submit.p99 < TARGET_P99_MS
            and target_map.throughput >= 0.95 * args.map_rate
            and errors_in_target == 0
        )
        bad_overload = {
            name: {
                str(k): v for k, v in r.statuses.items() if not (200 <= k < 300 or k in (429, 503))
            }
            for name, r in overload.items()
        }
        bad_overload = {k: v for k, v in bad_overload.items() if v}
        missing = sum(r.refusals_without_retry_after for r in overload.values())
        refused = sum(r.statuses.get(503, 0) + r.statuses.get(429, 0) for r in overload.values())
        shed_ok = not bad_overload and missing == 0 and refused > 0
        report["verdicts"] = {
            "target_met": met,
            "overload_only_429_503_with_retry_after": shed_ok,
            "overload_bad_statuses": bad_overload,
        }
        print("\nVerdicts")
        print(
            f"  target (>= {args.submit_rate} submissions/s with p99 < {TARGET_P99_MS:.0f} ms "
            f"and no errors, while serving {args.map_rate} map reads/s): "
            f"{'MET' if met else 'NOT MET'}"
        )
        print(
            f"  overload: {refused} refusals, every one 429 or 503 with Retry-After and no "
            f"other error: {'YES' if shed_ok else 'NO ' + json.dumps(bad_overload)}"
            + (f" ({missing} without Retry-After)" if missing else "")
        )
        out = VAR / f"{stamp}-results.json"
        out.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nAll figures: {out.relative_to(ROOT)}")
        return 0 if shed_ok else 1
    finally:
        if server is not None:
            server.stop()
        cluster.stop("fast")


if __name__ == "__main__":
    sys.exit(main())
