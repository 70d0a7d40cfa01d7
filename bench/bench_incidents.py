"""Benchmark: incident import throughput, import memory, and public request latency.

For each database (SQLite always; PostgreSQL when ``--postgres URL`` is given) the
script, in one run:

1. writes a synthetic VPD-format file of ``--rows`` incidents spread like the Vancouver
   2020 data (real rows resampled over five years, coordinates jittered within ±20 m);
2. bulk-loads the same file raw into an unindexed table (SQLite: ``executemany`` in
   one transaction; PostgreSQL: ``COPY``) as the baseline, once before and once after
   the import, so load from other processes on the machine hits both sides alike;
3. imports it with ``import_incidents`` (classification, projection, H3 cells,
   neighbourhood and beat look-up, upsert by content key) and reports rows/s, the
   throughput as a share of the baseline (against the mean of the two raw loads, and
   the range against either) and the peak resident memory of the importing process;
   then, as a floor, has the database alone insert the same finished incident rows
   into the indexed, constrained incident table (``INSERT ... SELECT`` from the
   imported rows into a second community: no Python, no parsing), and imports the file
   again (every row unchanged);
4. publishes the masked tables, then times public requests with the Django test client
   (map hexagons and masked points, the statistics page and API) and reports p50/p95
   (skipped with ``--import-only``).

Each database runs in its own process (settings are read at start-up). Communities
left in the database by earlier runs are removed first, so every run starts from the
same table sizes. On PostgreSQL the tables are vacuumed (untimed) after each bulk
delete and after publication, as autovacuum would do in service, so dead rows of
earlier steps do not slow later ones.

Usage::

    .venv/bin/python bench/bench_incidents.py [--rows 1000000] [--requests 200]
        [--postgres postgresql://postgres@127.0.0.1:5432/beacon_bench] [--import-only]
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


def remove_earlier_runs(org: Any) -> None:
    """Delete the communities of earlier runs (this database is the bench's own)."""
    from django.db import connection

    from beacon.core.models import Community
    from beacon.incidents.models import Incident

    old = list(Community.objects.filter(organization=org).values_list("pk", flat=True))
    if not old:
        return
    # Incidents first, in one statement: the ORM's cascade would load every row.
    table = connection.ops.quote_name(Incident._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE community_id IN ({', '.join(['%s'] * len(old))})",  # noqa: S608
            old,
        )
    Community.objects.filter(pk__in=old).delete()


def settle() -> None:
    """On PostgreSQL, vacuum and analyse the incident tables (not timed)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    from beacon.incidents.models import Incident, PublicRollup, PublicUnit, SiteCellCount

    tables = [m._meta.db_table for m in (Incident, PublicUnit, PublicRollup, SiteCellCount)]
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) " + ", ".join(connection.ops.quote_name(t) for t in tables)
        )


def database_floor(org: Any, community: Any) -> float:
    """Seconds for the database alone to insert the imported incident rows again.

    The same rows, already in their final form, go into the same indexed and
    constrained table under a second community, in one transaction: what every
    importer pays for index and constraint upkeep, whatever it does in Python. The copy
    is deleted afterwards (not timed).
    """
    from django.db import connection, transaction

    from beacon.core.models import Community
    from beacon.incidents.bulkwrite import INSERT_COLUMNS
    from beacon.incidents.models import Incident

    floor = Community.objects.create(
        organization=org,
        name="Bench floor",
        slug=f"{community.slug}-floor",
        timezone=community.timezone,
    )
    quote = connection.ops.quote_name
    table = quote(Incident._meta.db_table)
    columns = ", ".join(quote(c) for c in INSERT_COLUMNS)
    selected = ", ".join("%s" if c == "community_id" else quote(c) for c in INSERT_COLUMNS)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {selected} FROM {table} "  # noqa: S608
            "WHERE community_id = %s",
            [floor.pk, community.pk],
        )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE community_id = %s", [floor.pk])  # noqa: S608
    floor.delete()
    return seconds


def raw_bulk_load(path: Path) -> float:
    """Seconds to load the file's rows as they are into an unindexed table of text."""
    from django.db import connection

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
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    return seconds


def run_one(args: argparse.Namespace) -> None:
    """Runs inside the per-database process (DATABASE_URL already set)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from beacon.core import geo
    from beacon.core.demo import derive_vancouver_neighbourhoods
    from beacon.core.models import AreaKind, Community, Organization
    from beacon.core.services import save_area
    from beacon.incidents.importer import ImportOptions, import_incidents
    from beacon.incidents.models import Incident
    from beacon.incidents.privacy import publish_community

    call_command("migrate", verbosity=0)
    path = Path(args.file)
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    remove_earlier_runs(org)
    settle()

    # The community: Vancouver's neighbourhoods as areas, so look-ups are realistic.
    slug = f"bench-{int(time.time())}"
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
    # A first small import loads the importer's modules and warms the connection, so
    # the timed import measures throughput, not start-up.
    warm = path.with_name("warm-up.csv")
    with path.open(encoding="utf-8") as full, warm.open("w", encoding="utf-8") as head:
        head.writelines(line for _, line in zip(range(101), full, strict=False))
    import_incidents(community, warm, ImportOptions(fmt="vancouver", source="warm-up"))
    Incident.objects.filter(community=community, source="warm-up").delete()

    raw_before = raw_bulk_load(path)
    emit("raw bulk load", seconds=round(raw_before, 2), rows_per_s=round(args.rows / raw_before))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    summary = import_incidents(
        community, path, ImportOptions(fmt="vancouver", batch_size=10_000), publish=False
    )
    import_seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    raw_after = raw_bulk_load(path)
    emit(
        "raw bulk load again", seconds=round(raw_after, 2), rows_per_s=round(args.rows / raw_after)
    )
    raw_mean = (raw_before + raw_after) / 2
    emit(
        "import",
        seconds=round(import_seconds, 2),
        rows_per_s=round(args.rows / import_seconds),
        share_of_raw=f"{raw_mean / import_seconds:.0%}",
        range=f"{min(raw_before, raw_after) / import_seconds:.0%}-"
        f"{max(raw_before, raw_after) / import_seconds:.0%}",
        imported=summary.imported,
        mapped=summary.mapped,
        rejected=summary.rejected,
        peak_rss_mb_before=round(rss_before / 1024),
        peak_rss_mb_after=round(rss_after / 1024),
    )
    floor_seconds = database_floor(org, community)
    settle()
    emit(
        "database floor (INSERT ... SELECT)",
        seconds=round(floor_seconds, 2),
        rows_per_s=round(args.rows / floor_seconds),
        share_of_raw=f"{raw_mean / floor_seconds:.0%}",
        import_share_of_floor=f"{floor_seconds / import_seconds:.0%}",
    )
    started = time.perf_counter()
    again = import_incidents(
        community, path, ImportOptions(fmt="vancouver", batch_size=10_000), publish=False
    )
    reimport_seconds = time.perf_counter() - started
    emit("re-import", seconds=round(reimport_seconds, 2), unchanged=again.unchanged)
    if args.import_only:
        return
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
    settle()
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
    parser.add_argument(
        "--import-only", action="store_true", help="Stop after the import (no requests)."
    )
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
                *(["--import-only"] if args.import_only else []),
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
