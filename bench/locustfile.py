"""Locust users for ``bench/load.py``: residents filing reports, the public reading the map.

``bench/load.py`` (``make load``) runs this file once per phase with the environment
below; it can also be pointed at any Beacon by hand::

    BEACON_LOAD_SUBMITTERS=100 BEACON_LOAD_MAP_READERS=200 .venv/bin/locust \\
        -f bench/locustfile.py --headless -u 300 -r 100 -t 60s --host http://127.0.0.1:8000

Environment (all optional):

``BEACON_LOAD_COMMUNITY``
    community slug (``demo``).
``BEACON_LOAD_SUBMITTERS``, ``BEACON_LOAD_MAP_READERS``, ``BEACON_LOAD_STATS_READERS``,
``BEACON_LOAD_ABUSERS``
    how many users of each kind (locust's ``-u`` must be their sum).
``BEACON_LOAD_PACE``
    seconds between the starts of one user's requests (1.0), so N users offer N/pace
    requests a second whatever the latency, until responses take longer than the pace.
    ``0`` makes every user closed-loop: the next request as soon as the last is answered
    (or, after a 429 or 503, once its ``Retry-After`` has passed).
``BEACON_LOAD_RECORD``
    a JSON file written at the end with every request: type, start (Unix seconds),
    latency (ms), HTTP status (0 when no HTTP answer came), whether a 429/503 carried
    ``Retry-After``, and for status 0 the client's error. ``bench/load.py`` computes
    throughput and percentiles from it.

Residents' submissions each come from their own client address, passed in
``X-Forwarded-For`` as the reverse proxy in front of Beacon does, drawn from
198.18.0.0/15 (the range RFC 2544 reserves for benchmarks; nothing is sent there), so
the per-source rate limit sees many residents. Abusers all share one address and meet
that limit (429). Every submission carries a fresh ``Idempotency-Key``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid
from typing import Any

from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.env import Environment

COMMUNITY = os.environ.get("BEACON_LOAD_COMMUNITY", "demo")
SUBMITTERS = int(os.environ.get("BEACON_LOAD_SUBMITTERS", "0"))
MAP_READERS = int(os.environ.get("BEACON_LOAD_MAP_READERS", "0"))
STATS_READERS = int(os.environ.get("BEACON_LOAD_STATS_READERS", "0"))
ABUSERS = int(os.environ.get("BEACON_LOAD_ABUSERS", "0"))
PACE = float(os.environ.get("BEACON_LOAD_PACE", "1.0"))
RECORD = os.environ.get("BEACON_LOAD_RECORD", "")
# Beacon sits behind a TLS-terminating proxy in production; say so as the proxy would.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
SUBMIT = "submit report"
ABUSE = "submit report (one source)"
MAP = "map data"
STATS = "statistics"

_lock = threading.Lock()
_requests: list[tuple[str, float, float, int, bool, str]] = []
_addresses = itertools.count(random.randrange(1 << 17))
_points: list[tuple[float, float]] = []
_categories: list[str] = []
_views: list[tuple[int, float, float]] = []


def _wait_time() -> Any:
    return constant(0) if PACE <= 0 else constant_throughput(1.0 / PACE)


def _next_address() -> str:
    """A client address in 198.18.0.0/15, a different one for each submission."""
    n = next(_addresses) % (1 << 17)
    return f"198.{18 + (n >> 16)}.{(n >> 8) & 0xFF}.{n & 0xFF}"


@events.request.add_listener
def _on_request(
    name: str, response_time: float, response: Any = None, exception: Any = None, **_kw: Any
) -> None:
    status = 0 if response is None else int(getattr(response, "status_code", 0) or 0)
    headers = getattr(response, "headers", None) or {}
    retry_after = bool(headers.get("Retry-After")) if status in (429, 503) else False
    # No HTTP answer at all (refused, reset, timed out): keep what the client saw.
    error = "" if status else type(exception).__name__ if exception else "no response"
    ended = time.time()
    with _lock:
        _requests.append(
            (name, ended - response_time / 1000, response_time, status, retry_after, error)
        )


@events.test_start.add_listener
def _prepare(environment: Environment, **_kwargs: Any) -> None:
    """Read what a resident's app reads first: the categories and the neighbourhoods."""
    import requests
    from shapely.geometry import Point, shape

    host = environment.host or "http://127.0.0.1:8000"
    base = f"{host}/api/v1/communities/{COMMUNITY}"
    categories = requests.get(f"{base}/report-categories", headers=PROXY_HEADERS, timeout=60)
    categories.raise_for_status()
    # Categories with required questions need answers; a quick report picks the others.
    _categories[:] = [
        c["code"] for c in categories.json() if not any(q["required"] for q in c["questions"])
    ]
    areas = requests.get(
        f"{base}/areas", params={"kind": "neighbourhood"}, headers=PROXY_HEADERS, timeout=60
    )
    areas.raise_for_status()
    shapes = [shape(f["geometry"]) for f in areas.json()["features"]]
    if not _categories or not shapes:
        raise RuntimeError(f"community {COMMUNITY!r} has no simple categories or no areas")
    rng = random.Random(7)
    while len(_points) < 2000:
        area = rng.choice(shapes)
        west, south, east, north = area.bounds
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if area.contains(Point(lon, lat)):
            _points.append((round(lat, 6), round(lon, 6)))
    # Map views as the public map asks for them: a zoom level round a visible centre.
    _views[:] = [(zoom, lat, lon) for zoom in (11, 12, 13, 14, 15) for lat, lon in _points[:40]]


@events.test_stop.add_listener
def _write_record(environment: Environment, **_kwargs: Any) -> None:
    if not RECORD:
        return
    with _lock:
        rows = list(_requests)
    with open(RECORD, "w", encoding="utf-8") as handle:
        json.dump({"requests": rows}, handle)


class _Base(FastHttpUser):
    abstract = True
    wait_time = _wait_time()
    # A slow answer is a measurement, not a client failure; the phase has a time limit.
    network_timeout = 60.0
    connection_timeout = 60.0
    pause = 0.0

    def obey_retry_after(self) -> None:
        """Wait as a refusal asked, if one did."""
        if self.pause:
            time.sleep(self.pause)
            self.pause = 0.0

    def _finish(self, response: Any, ok: int) -> None:
        # Locust's own failure count is not used; bench/load.py reads the statuses.
        if PACE <= 0 and response.status_code in (429, 503):
            # A closed-loop client is a well-behaved one: it waits as it was told to
            # (after the request is recorded, so the wait is not counted as latency).
            self.pause = min(float(response.headers.get("Retry-After") or 1), 10.0)
        if response.status_code == ok:
            response.success()
        elif response.status_code == 0 and getattr(response, "error", None):
            response.failure(response.error)  # keeps the connection error's own type
        else:
            response.failure(f"HTTP {response.status_code}")

    def _submit(self, name: str, address: str) -> None:
        lat, lon = random.choice(_points)
        headers = {**PROXY_HEADERS, "Idempotency-Key": uuid.uuid4().hex, "X-Forwarded-For": address}
        body = {
            "category": random.choice(_categories),
            "description": "Load test: a car alarm going off for an hour near the corner.",
            "lat": lat,
            "lon": lon,
        }
        with self.client.post(
            f"/api/v1/communities/{COMMUNITY}/reports",
            json=body,
            headers=headers,
            name=name,
            catch_response=True,
        ) as response:
            self._finish(response, 201)
        self.obey_retry_after()


class Resident(_Base):
    """Files a quick report from a phone: a pin, a category and a sentence."""

    fixed_count = SUBMITTERS

    @task
    def submit(self) -> None:
        self._submit(SUBMIT, _next_address())


class Abuser(_Base):
    """Files report after report from one address, as a script would."""

    fixed_count = ABUSERS

    @task
    def submit(self) -> None:
        self._submit(ABUSE, "198.18.0.1")


class MapReader(_Base):
    """Looks at the public crime map: one data request per pan or zoom."""

    fixed_count = MAP_READERS

    @task
    def read_map(self) -> None:
        zoom, lat, lon = random.choice(_views)
        half_width = 0.35 / (2 ** (zoom - 11))
        half_height = half_width * 0.6
        bbox = ",".join(
            f"{v:.5f}"
            for v in (lon - half_width, lat - half_height, lon + half_width, lat + half_height)
        )
        with self.client.get(
            f"/c/{COMMUNITY}/map/data.json?zoom={zoom}&bbox={bbox}",
            headers=PROXY_HEADERS,
            name=MAP,
            catch_response=True,
        ) as response:
            self._finish(response, 200)
        self.obey_retry_after()


class StatsReader(_Base):
    """Opens the public statistics (the API behind the statistics page)."""

    fixed_count = STATS_READERS

    @task
    def read_stats(self) -> None:
        with self.client.get(
            f"/api/v1/communities/{COMMUNITY}/crime/stats",
            headers=PROXY_HEADERS,
            name=STATS,
            catch_response=True,
        ) as response:
            self._finish(response, 200)
        self.obey_retry_after()
