"""Benchmark: incident import throughput, import memory, and public request latency.

For each database (SQLite always; PostgreSQL when ``--postgres URL`` is given) the
script, in one run:

1. writes a synthetic VPD-format file of ``--rows`` incidents spread like the Vancouver
   2020 data (real rows resampled over five years, coordinates jittered within ±20 m);
2. bulk-loads the same file raw into an unindexed table (SQLite: ``executemany`` in
   one transaction; PostgreSQL: ``COPY``) as the baseline;
3. imports it with ``import_incidents`` (classification, projection, H3 cells,
   neighbourhood and beat look-up, upsert by content key) and reports rows/s, the ratio
   to the baseline and the peak resident memory of the importing process;
4. publishes the masked tables, then times public requests with the Django test client
   (map hexagons and masked points, the statistics page and API) and reports p50/p95.

Each database runs in its own process (settings are read at start-up).

Usage::

    .venv/bin/python bench/bench_incidents.py [--rows 1000000] [--requests 200]
        [--postgres postgresql://postgres@127.0.0.1:5432/beacon_bench]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VANCOUVER = Path("vancouver_2020") / "crimedata_csv_AllNeighbourhoods_2020.csv"
HEADER = [
    "TYPE",
    "YEAR",
    "MONTH",
    "DAY",
    "HOUR",
    "MINUTE",
    "HUNDRED_BLOCK",
    "NEIGHBOURHOOD",
    "X",
    "Y",
]


def data_dir() -> Path:
    default = ROOT.parent / "shared" / "data"
    return Path(os.environ.get("BEACON_DATA_DIR", default))


def write_synthetic(path: Path, rows: int, seed: int) -> str:
    """Resample the VPD 2020 rows over 2016-2020 with ±20 m jitter (streamed)."""
    source = data_dir() / VANCOUVER
    rng = random.Random(seed)
    if source.exists():
        with source.open(newline="", encoding="utf-8") as handle:
            pool = list(csv.DictReader(handle))
        what = f"VPD 2020 rows ({len(pool)}) resampled"
    else:  # a synthetic stand-in around downtown Vancouver
        pool = [
            {
                "TYPE": rng.choice(["Theft from Vehicle", "Mischief", "Other Theft"]),
                "HUNDRED_BLOCK": f"{rng.randint(1, 40)}XX MAIN ST",
                "NEIGHBOURHOOD": "",
                "X": str(491000 + rng.gauss(0, 2500)),
                "Y": str(5457000 + rng.gauss(0, 2500)),
            }
            for _ in range(5000)
        ]
        what = "synthetic rows (no data folder)"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for _ in range(rows):
            row = rng.choice(pool)
            x, y = float(row["X"] or 0), float(row["Y"] or 0)
            if x and y:
                x += rng.uniform(-20, 20)
                y += rng.uniform(-20, 20)
            hour, minute = rng.randrange(24), rng.randrange(60)
            writer.writerow(
                [
                    row["TYPE"],
                    rng.randint(2016, 2020),
                    rng.randint(1, 12),
                    rng.randint(1, 28),
                    hour,
                    minute,
                    row["HUNDRED_BLOCK"],
                    row["NEIGHBOURHOOD"],
                    f"{x:.2f}" if x else "0.0",
                    f"{y:.2f}" if y else "0.0",
                ]
            )
    return what


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def emit(stage: str, **figures: Any) -> None:
    """Report one stage's figures to the parent as a JSON line, at once."""
    print(json.dumps({"stage": stage, **figures}), flush=True)


def run_one(args: argparse.Namespace) -> None:
    """Runs inside the per-database process (DATABASE_URL already set)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from beacon.core import geo
    from beacon.core.demo import derive_vancouver_neighbourhoods
    from beacon.core.models import AreaKind, Community, Organization
    from beacon.core.services import save_area
    from beacon.incidents.importer import ImportOptions, import_incidents
    from beacon.incidents.privacy import publish_community

    call_command("migrate", verbosity=0)
    path = Path(args.file)

    # The community: Vancouver's neighbourhoods as areas, so look-ups are realistic.
    # A fresh community per run (the database is the bench's own; nothing is deleted).
    slug = f"bench-{int(time.time())}"
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    community = Community.objects.create(
        organization=org,
        name="Bench",
        slug=slug,
        timezone="America/Vancouver",
        centre_lat=49.26,
        centre_lon=-123.12,
    )
    source = data_dir() / VANCOUVER
    if source.exists():
        for name, shape in derive_vancouver_neighbourhoods(source).items():
            save_area(community, AreaKind.NEIGHBOURHOOD, name, geo.to_geojson(shape))

    # Baseline: the same rows, raw, into an unindexed table.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute(
            "CREATE TABLE bench_raw (" + ", ".join(f"c{i} TEXT" for i in range(10)) + ")"
        )
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, path.open("rb") as handle:
            raw_cursor: Any = cursor.cursor
            with raw_cursor.copy(
                "COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        connection.commit() if not connection.get_autocommit() else None
    else:
        # The DB-API connection itself: a stream of rows, nothing Django adds.
        connection.ensure_connection()
        raw: Any = connection.connection
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            raw.execute("BEGIN")
            insert = "INSERT INTO bench_raw VALUES (" + ", ".join(["?"] * 10) + ")"  # noqa: S608
            raw.executemany(insert, reader)
            raw.execute("COMMIT")
    raw_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    emit(
        "raw bulk load",
        seconds=round(raw_seconds, 2),
        rows_per_s=round(args.rows / raw_seconds),
    )

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    summary = import_incidents(
        community, path, ImportOptions(fmt="vancouver", batch_size=10_000), publish=False
    )
    import_seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    emit(
        "import",
        seconds=round(import_seconds, 2),
        rows_per_s=round(args.rows / import_seconds),
        share_of_raw=f"{raw_seconds / import_seconds:.0%}",
        imported=summary.imported,
        mapped=summary.mapped,
        rejected=summary.rejected,
        peak_rss_mb_before=round(rss_before / 1024),
        peak_rss_mb_after=round(rss_after / 1024),
    )
    started = time.perf_counter()
    again = import_incidents(
        community, path, ImportOptions(fmt="vancouver", batch_size=10_000), publish=False
    )
    reimport_seconds = time.perf_counter() - started
    emit("re-import", seconds=round(reimport_seconds, 2), unchanged=again.unchanged)
    started = time.perf_counter()
    published = publish_community(community)
    publish_seconds = time.perf_counter() - started
    emit(
        "publication",
        seconds=round(publish_seconds, 2),
        units=published.units,
        points=published.points,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    )
    setup_test_environment()
    client = Client()
    rng = random.Random(args.seed)
    latest = published.published_through
    year_ago = f"{latest.year - 1}-{latest.month:02d}"
    last = f"{latest.year}-{latest.month - 1:02d}" if latest.month > 1 else f"{latest.year - 1}-12"
    groups = ["", "&group=vehicle", "&group=theft&group=burglary"]

    def bbox() -> str:
        lat = rng.uniform(49.22, 49.30)
        lon = rng.uniform(-123.20, -123.03)
        return f"{lon - 0.012:.5f},{lat - 0.006:.5f},{lon + 0.012:.5f},{lat + 0.006:.5f}"

    requests: dict[str, Any] = {
        "map hexagons (zoom 11, 12 months)": lambda: (
            f"/c/{slug}/map/data.json?zoom=11{rng.choice(groups)}"
        ),
        "map hexagons (zoom 13, all months)": lambda: (
            f"/c/{slug}/map/data.json?zoom=13&from=2016-01&to={last}{rng.choice(groups)}"
        ),
        "map points (zoom 15, 12 months)": lambda: (
            f"/c/{slug}/map/data.json?zoom=15&bbox={bbox()}{rng.choice(groups)}"
        ),
        "stats page (12 months)": lambda: f"/c/{slug}/stats/?from={year_ago}&to={last}",
        "stats API (all months)": lambda: (
            f"/api/v1/communities/{slug}/crime/stats?from=2016-01&to={last}{rng.choice(groups)}"
        ),
    }
    for name, make_url in requests.items():
        client.get(make_url())  # warm caches and templates
        samples = []
        for _ in range(args.requests):
            url = make_url()
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        emit(
            f"request: {name}",
            p50_ms=round(p(samples, 0.5), 1),
            p95_ms=round(p(samples, 0.95), 1),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="PostgreSQL URL of a database the bench may fill.")
    parser.add_argument("--skip-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_one(args)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incidents.csv"
        started = time.perf_counter()
        what = write_synthetic(path, args.rows, args.seed)
        print(
            f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB ({what}), "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        targets = []
        if not args.skip_sqlite:
            targets.append(("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if args.postgres:
            targets.append(("postgresql", args.postgres))
        for name, url in targets:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "BEACON_ENV": "development",
                "BEACON_DEBUG": "false",
                "BEACON_LOG_LEVEL": "WARNING",
            }
            command = [
                sys.executable,
                __file__,
                "--child",
                "--file",
                str(path),
                "--rows",
                str(args.rows),
                "--requests",
                str(args.requests),
                "--seed",
                str(args.seed),
            ]
            print(f"\n== {name} ==", flush=True)
            child = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            assert child.stdout is not None and child.stderr is not None
            for line in child.stdout:
                if line.startswith("{"):
                    figures = json.loads(line)
                    stage = figures.pop("stage")
                    print(
                        f"{stage:45s} " + ", ".join(f"{k} {v}" for k, v in figures.items()),
                        flush=True,
                    )
            error = child.stderr.read()
            if child.wait() != 0:
                print(f"{name}: failed\n{error[-3000:]}")
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
