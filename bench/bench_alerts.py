"""Benchmark: matching alert events to area subscriptions by H3 look-up vs scanning.

In one run, against a fresh SQLite file holding just the alert tables:

1. builds the Vancouver demo neighbourhoods and beats (from the VPD 2020 data when
   ``BEACON_DATA_DIR`` has it, else the synthetic layout) and ``--subscriptions``
   subscriptions spread over them: 70 % circles of 250, 500 or 1,000 m round addresses
   (rounded to 0.001°, the precision of Beacon's offline geocoder, so neighbours share
   covers), 25 % neighbourhoods or beats, 5 % drawn polygons; half of them follow the
   incident topic;
2. matches ``--events`` random points with Beacon's look-up (``covers.match_point_ids``:
   one indexed query per event, exact tests on edge cells only) and times it;
3. times the scan the look-up replaces — read every subscription of the community and
   test each — on ``--scan-sample`` of the same events (a full run would take hours) and
   scales it to all events;
4. times the strongest in-memory baseline too: every subscription's shape preloaded,
   circles tested with one vectorised numpy haversine per event and each distinct
   polygon once with prepared shapely geometries;
5. checks the three give the same subscriptions for the sampled events.

Usage::

    .venv/bin/python bench/bench_alerts.py [--subscriptions 100000] [--events 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["BEACON_VAR_DIR"] = str(folder)
    os.environ.setdefault("BEACON_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()
    from django.db import connection

    from beacon.core.models import Area, AreaCell, Community, Organization, User
    from beacon.notify.models import Cover, CoverCell, Subscription

    with connection.schema_editor() as editor:
        for model in (
            Organization,
            Community,
            User,
            Area,
            AreaCell,
            Cover,
            CoverCell,
            Subscription,
        ):
            editor.create_model(model)


def build(count: int, seed: int) -> tuple[Any, list[tuple[float, float]], float]:
    from django.conf import settings
    from django.db import transaction
    from shapely import geometry as sg
    from shapely.ops import unary_union
    from shapely.prepared import prep

    from beacon.core import demo, geo
    from beacon.core.models import Area, AreaCell, AreaKind, Community, Organization
    from beacon.notify import covers
    from beacon.notify.models import Cover, CoverCell, CoverKind, Subscription

    rng = random.Random(seed)
    source = Path(settings.BEACON_DATA_DIR) / demo.VANCOUVER_FILE
    started = time.perf_counter()
    shapes = (
        demo.derive_vancouver_neighbourhoods(source)
        if source.exists()
        else demo.synthetic_neighbourhoods()
    )
    boundary = unary_union(list(shapes.values()))
    organization = Organization.objects.create(name="Bench", slug="bench")
    community = Community.objects.create(
        organization=organization, name="Bench", slug="bench", boundary=geo.to_geojson(boundary)
    )
    areas = []
    groups = [(AreaKind.NEIGHBOURHOOD, {n: [n] for n in shapes}), (AreaKind.BEAT, demo.BEATS)]
    for kind, members in groups:
        for name, parts in members.items():
            shape = unary_union([shapes[p] for p in parts if p in shapes])
            if shape.is_empty:
                continue
            area = Area.objects.create(
                community=community, kind=kind, name=name, geometry=geo.to_geojson(shape)
            )
            area_cover = geo.h3_cover(shape)
            AreaCell.objects.bulk_create(
                [
                    AreaCell(area=area, community=community, kind=kind, cell=c, interior=i)
                    for cells, i in ((area_cover.interior, True), (area_cover.edge, False))
                    for c in cells
                ]
            )
            areas.append(area)
    area_covers: list[Cover] = [covers.cover_for_area(a) for a in areas]
    west, south, east, north = boundary.bounds
    inside = prep(boundary)

    def random_point() -> tuple[float, float]:
        while True:
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
            if inside.contains(sg.Point(lon, lat)):
                return lat, lon

    polygons = []
    for _ in range(500):
        lat, lon = random_point()
        half = rng.uniform(150, 400) / 111_000
        box = sg.box(lon - half * 1.5, lat - half, lon + half * 1.5, lat + half)
        polygons.append(covers.cover_for_polygon(community, box.intersection(boundary)))
    radius_covers: dict[tuple[float, float, int], Cover] = {}
    pending_cells: list[CoverCell] = []
    subscriptions = []
    groups_all = ["burglary", "theft", "vehicle", "bicycle", "robbery", "damage"]
    for index in range(count):
        roll = rng.random()
        if roll < 0.70:
            lat, lon = random_point()
            key = (round(lat, 3), round(lon, 3), rng.choice((250, 500, 1000)))
            found = radius_covers.get(key)
            if found is None:
                cover = Cover.objects.create(
                    community=community,
                    key=f"radius:{key}",
                    kind=CoverKind.RADIUS,
                    lat=key[0],
                    lon=key[1],
                    radius_m=key[2],
                )
                cells = covers.radius_cells(*key)
                pending_cells += [
                    CoverCell(cover=cover, community=community, cell=c, edge=e)
                    for group, e in ((cells.interior, False), (cells.edge, True))
                    for c in group
                ]
                radius_covers[key] = cover
            else:
                cover = found
        elif roll < 0.95:
            cover = rng.choice(area_covers)
        else:
            cover = rng.choice(polygons)
        topics = 1 if rng.random() < 0.5 else 4
        subscriptions.append(
            Subscription(
                community=community,
                cover=cover,
                topics=topics,
                offence_groups=rng.sample(groups_all, 2) if rng.random() < 0.5 else [],
                channel="email",
                target=f"person{index}@example.org",
            )
        )
        if len(pending_cells) > 50_000:
            with transaction.atomic():
                CoverCell.objects.bulk_create(pending_cells, batch_size=5000)
            pending_cells = []
    with transaction.atomic():
        CoverCell.objects.bulk_create(pending_cells, batch_size=5000)
        Subscription.objects.bulk_create(subscriptions, batch_size=5000)
    events = [random_point() for _ in range(args.events)]
    print(
        f"built {count:,} subscriptions on {Cover.objects.count():,} covers "
        f"({CoverCell.objects.count():,} cells) in {time.perf_counter() - started:.1f} s"
    )
    return community, events, time.perf_counter() - started


def scan(community_id: int, lat: float, lon: float, shapes: dict[int, Any]) -> list[int]:
    """The scan the look-up replaces: every subscription of the community, tested."""
    from shapely import geometry as sg

    from beacon.core import geo
    from beacon.notify.covers import distance_m
    from beacon.notify.models import Subscription

    found = []
    point = sg.Point(lon, lat)
    rows = Subscription.objects.filter(community_id=community_id, active=True).values_list(
        "pk", "topics", "cover_id", "cover__kind", "cover__lat", "cover__lon", "cover__radius_m"
    )
    for pk, topics, cover_id, kind, clat, clon, radius in rows.iterator(chunk_size=5000):
        if not topics & 1:
            continue
        if kind == "radius":
            assert clat is not None and clon is not None and radius is not None
            if distance_m(clat, clon, lat, lon) <= radius:
                found.append(pk)
            continue
        shape = shapes.get(cover_id)
        if shape is None:
            from beacon.notify.models import Cover

            geometry = Cover.objects.values_list("geometry", flat=True).get(pk=cover_id)
            shape = shapes[cover_id] = geo.parse_area_geometry(geometry)
        if shape.covers(point):
            found.append(pk)
    return found


class InMemory:
    """Every subscription preloaded: numpy haversine for circles, shapely for polygons."""

    def __init__(self, community_id: int) -> None:
        import numpy as np
        import shapely

        from beacon.core import geo
        from beacon.notify.models import Subscription

        rows = list(
            Subscription.objects.filter(community_id=community_id, topics=1).values_list(
                "pk",
                "cover_id",
                "cover__kind",
                "cover__lat",
                "cover__lon",
                "cover__radius_m",
                "cover__geometry",
            )
        )
        circles = [r for r in rows if r[2] == "radius"]
        self.circle_ids = np.array([r[0] for r in circles])
        self.lat = np.radians(np.array([r[3] for r in circles], dtype=float))
        self.lon = np.radians(np.array([r[4] for r in circles], dtype=float))
        self.radius = np.array([r[5] for r in circles], dtype=float)
        polygons: dict[int, list[int]] = {}
        geometries: dict[int, Any] = {}
        for pk, cover_id, kind, *_rest, geometry in rows:
            if kind != "radius":
                polygons.setdefault(cover_id, []).append(pk)
                geometries[cover_id] = geometry
        self.cover_ids = list(polygons)
        self.members = [np.array(polygons[c]) for c in self.cover_ids]
        self.shapes = np.array([geo.parse_area_geometry(geometries[c]) for c in self.cover_ids])
        shapely.prepare(self.shapes)
        self.np = np
        self.shapely = shapely

    def match(self, lat: float, lon: float) -> list[int]:
        np = self.np
        p1, l1 = np.radians(lat), np.radians(lon)
        a = (
            np.sin((self.lat - p1) / 2) ** 2
            + np.cos(p1) * np.cos(self.lat) * np.sin((self.lon - l1) / 2) ** 2
        )
        distance = 2 * 6_371_008.8 * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        found = list(self.circle_ids[distance <= self.radius])
        inside = self.shapely.contains_xy(self.shapes, lon, lat)
        for index in np.flatnonzero(inside):
            found.extend(self.members[index])
        return found


def main() -> None:
    global args
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--scan-sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup_django(Path(folder))
        from django.db import connection

        from beacon.notify import covers

        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
        community, events, _built = build(args.subscriptions, args.seed)
        cache = covers.ShapeCache()
        started = time.perf_counter()
        lookup_results = [
            covers.match_point_ids(community.pk, "incident", lat, lon, cache=cache)
            for lat, lon in events
        ]
        lookup = time.perf_counter() - started
        matched = sum(len(r) for r in lookup_results)
        print(
            f"H3 look-up: {len(events):,} events in {lookup:.2f} s "
            f"({lookup / len(events) * 1000:.2f} ms/event, {matched / len(events):.0f} "
            "subscriptions matched per event)"
        )
        sample = events[: args.scan_sample]
        shapes: dict[int, Any] = {}
        started = time.perf_counter()
        scan_results = [scan(community.pk, lat, lon, shapes) for lat, lon in sample]
        per_scan = (time.perf_counter() - started) / len(sample)
        print(
            f"Scan of all subscriptions: {per_scan * 1000:.0f} ms/event on {len(sample)} events, "
            f"{per_scan * len(events):.0f} s for {len(events):,} (scaled); "
            f"look-up is {per_scan * len(events) / lookup:.0f}x faster"
        )
        memory = InMemory(community.pk)
        started = time.perf_counter()
        memory_results = [memory.match(lat, lon) for lat, lon in events]
        in_memory = time.perf_counter() - started
        print(
            f"In-memory vectorised scan (all shapes preloaded): {in_memory:.2f} s "
            f"({in_memory / len(events) * 1000:.2f} ms/event); look-up / in-memory = "
            f"{lookup / in_memory:.2f}"
        )
        for index in range(len(sample)):
            a, b, c = (set(x[index]) for x in (lookup_results, scan_results, memory_results))
            assert a == b == c, f"event {index}: the methods disagree"
        print(f"all three agree on the {len(sample)} sampled events")


args: argparse.Namespace

if __name__ == "__main__":
    main()
