"""``make crash``: acknowledged reports and queued notifications survive crashes.

Everything runs on this machine against a PRIVATE PostgreSQL cluster under
``var/crash/`` (port 55432 by default; the shared server is never stopped or touched).

Part 1, reports. gunicorn serves Beacon; client threads file reports through the API,
each with its own ``Idempotency-Key``, retrying the same request (same key, same body)
on a connection error, a timeout or any 5xx until it is acknowledged (201). During the
load the script

* ``kill -9``s every gunicorn worker (the master forks new ones),
* ``kill -9``s the master and the workers together, then starts gunicorn again,
* stops PostgreSQL in immediate mode (``pg_ctl stop -m immediate``: no checkpoint, so
  the restart replays the write-ahead log, as after a crash), then starts it again,
* does both at once.

Then it compares what the clients were told with the database: every acknowledged report
is present exactly once with the id the client was given, no unacknowledged attempt
left more than one report, the idempotency record of each acknowledged key answers with
that id, and the audit hash chain still verifies.

Part 2, notifications. A webhook receiver on 127.0.0.1 records every delivery. The
outbox holds ``--messages`` webhook messages; ``beacon deliver-outbox`` (the relay) is
killed with ``kill -9`` ``--kills`` times and started again: alternately at a random
point inside a claimed batch, and at the worst moment — the receiver has a message but
the relay dies before it hears back, so it cannot mark it delivered. At the end every
message must be marked delivered and have reached the receiver, and after
de-duplicating by ``Beacon-Message-Id`` each exactly once; the raw repeats the receiver
dropped are counted against what the outbox contract (``beacon/notify/outbox.py``)
allows: at most the one message in flight per kill.

Prints a PASS/FAIL line per check and exits non-zero on any FAIL.

Usage::

    .venv/bin/python bench/crash.py [--clients 6] [--messages 300] [--kills 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.crash_outbox import part_outbox  # noqa: E402
from bench.harness import (  # noqa: E402
    BIN,
    PROXY_HEADERS,
    Cluster,
    Gunicorn,
    beacon,
    clean_env,
)

VAR = ROOT / "var" / "crash"
DATABASE = "beacon_crash"
TEMPLATE = "beacon_crash_template"
COMMUNITY = "crash"
CATEGORY = "noise"
MARK = "crash-test"


# --------------------------------------------------------------------------- seeding


def seed(messages: int, receiver: str) -> None:
    """Run inside Django (``crash.py --populate N``): a community with one category, or
    ``messages`` webhook messages for ``receiver`` in the outbox."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()
    from beacon.core.models import Community, Organization
    from beacon.notify.models import OutboxMessage
    from beacon.reports import services
    from beacon.reports.models import Privacy

    if not messages:
        organization = Organization.objects.create(name="Crash test", slug="crash-test")
        community = Community.objects.create(
            organization=organization,
            name="Crash test",
            slug=COMMUNITY,
            centre_lat=49.27,
            centre_lon=-123.12,
        )
        services.save_category(
            community, CATEGORY, name="Noise", privacy=Privacy.PUBLIC, response_hours=48
        )
        return
    community = Community.objects.get(slug=COMMUNITY)
    # The relay under test only reads the outbox; rows as a published event writes them.
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            community=community,
            channel="webhook",
            target=receiver,
            dedupe_key=f"crash-{i}",
            subject=f"Alert {i}",
            body="Something happened near you.",
            payload={"n": i},
        )
        for i in range(messages)
    )


def prepare(cluster: Cluster) -> dict[str, str]:
    """A fresh database (copied from a migrated template) with the community seeded."""
    cluster.ensure_database(TEMPLATE)
    env = clean_env(
        DATABASE_URL=cluster.url(TEMPLATE),
        BEACON_ENV="production",
        BEACON_SECRET_KEY=secrets.token_urlsafe(64),
        BEACON_ALLOWED_HOSTS="127.0.0.1,localhost",
        BEACON_BEHIND_PROXY="true",
        BEACON_VAR_DIR=str(VAR),
        BEACON_LOG_LEVEL="ERROR",
        BEACON_WEBHOOK_ALLOW_PRIVATE="true",
    )
    print("Migrating the template database (fast when it is up to date)", flush=True)
    beacon(env, "migrate", "--no-input", "-v0")
    import psycopg

    with psycopg.connect(cluster.url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{TEMPLATE}"')
    env["DATABASE_URL"] = cluster.url(DATABASE)
    _seed(env, 0, "")
    return env


def _seed(env: dict[str, str], messages: int, receiver: str) -> None:
    subprocess.run(
        [str(BIN / "python"), __file__, "--populate", str(messages), "--receiver", receiver],
        cwd=ROOT,
        env=env,
        check=True,
    )


# --------------------------------------------------------------------------- part 1


@dataclass
class Attempted:
    """One submission as the client saw it."""

    key: str
    address: str
    body: dict[str, Any]
    attempts: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    report_id: int | None = None
    last_attempt_at: float = 0.0


class Residents:
    """Client threads filing reports with idempotency keys and retrying until acknowledged."""

    def __init__(self, url: str, clients: int, rng: random.Random) -> None:
        self.url = f"{url}/api/v1/communities/{COMMUNITY}/reports"
        self.clients = clients
        self.rng = rng
        self.stop_new = threading.Event()
        self.give_up_at = float("inf")
        self.lock = threading.Lock()
        self.attempted: list[Attempted] = []
        self.anomalies: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        self._addresses = iter(range(1, 1 << 17))

    def start(self) -> None:
        """Start the client threads."""
        for thread in self.threads:
            thread.start()

    def finish(self, grace: float) -> None:
        """File nothing new; let pending submissions retry for up to ``grace`` seconds."""
        self.stop_new.set()
        self.give_up_at = time.time() + grace
        for thread in self.threads:
            thread.join(timeout=grace + 30)

    def acknowledged(self) -> list[Attempted]:
        """Submissions the server acknowledged."""
        return [a for a in self.attempted if a.report_id is not None]

    def _new(self) -> Attempted:
        with self.lock:
            n = next(self._addresses)
        key = uuid.uuid4().hex
        submission = Attempted(
            key=key,
            address=f"198.18.{n >> 8}.{n & 0xFF}",
            body={
                "category": CATEGORY,
                "description": f"{MARK} {key}",
                "lat": round(49.2 + self.rng.random() * 0.1, 6),
                "lon": round(-123.2 + self.rng.random() * 0.1, 6),
            },
        )
        with self.lock:
            self.attempted.append(submission)
        return submission

    def _run(self) -> None:
        import requests

        session = requests.Session()
        while not self.stop_new.is_set():
            submission = self._new()
            delay = 0.2
            while submission.report_id is None and time.time() < self.give_up_at:
                submission.attempts += 1
                submission.last_attempt_at = time.time()
                headers = {
                    **PROXY_HEADERS,
                    "Idempotency-Key": submission.key,
                    "X-Forwarded-For": submission.address,
                }
                try:
                    response = session.post(
                        self.url, json=submission.body, headers=headers, timeout=30
                    )
                except requests.RequestException as exc:
                    submission.failures[type(exc).__name__] += 1
                    session.close()
                    session = requests.Session()
                else:
                    if response.status_code == 201:
                        submission.report_id = int(response.json()["id"])
                        break
                    submission.failures[f"HTTP {response.status_code}"] += 1
                    if response.status_code < 500 and response.status_code != 429:
                        with self.lock:
                            self.anomalies.append(
                                f"{submission.key}: HTTP {response.status_code} "
                                f"{response.text[:200]}"
                            )
                        break
                    if response.status_code in (429, 503):
                        delay = float(response.headers.get("Retry-After") or delay)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


def count(residents: Residents) -> int:
    """Acknowledged so far."""
    return len(residents.acknowledged())


def part_reports(args: argparse.Namespace, cluster: Cluster, env: dict[str, str]) -> bool:
    """Crash the web tier and the database under load; check every acknowledged report."""
    server = Gunicorn(env, args.port, args.workers, args.threads, VAR / "gunicorn.log")
    server.start()
    probe = f"/api/v1/communities/{COMMUNITY}"
    server.wait_ready(probe)
    residents = Residents(server.url, args.clients, random.Random(args.seed))
    events: list[str] = []

    def note(text: str) -> None:
        line = (
            f"t={time.monotonic() - began:5.1f}s  {text} (acknowledged so far: {count(residents)})"
        )
        events.append(line)
        print("  " + line, flush=True)

    step = args.step
    began = time.monotonic()
    residents.start()
    try:
        time.sleep(step)
        note(f"kill -9 gunicorn workers {server.kill_workers()}")
        time.sleep(step)
        note(f"kill -9 gunicorn master and workers {server.kill_all()}")
        time.sleep(1)
        server.start()
        server.wait_ready(probe)
        note("gunicorn started again")
        time.sleep(step)
        cluster.stop("immediate")
        note("PostgreSQL stopped with -m immediate")
        time.sleep(2)
        cluster.start()
        note("PostgreSQL started again (crash recovery)")
        time.sleep(step)
        killed = server.kill_all()
        cluster.stop("immediate")
        note(f"kill -9 gunicorn {killed} and PostgreSQL stopped with -m immediate, together")
        time.sleep(2)
        cluster.start()
        server.start()
        server.wait_ready(probe)
        note("PostgreSQL and gunicorn started again")
        time.sleep(step)
        note("no new submissions; pending ones retry until acknowledged")
        residents.finish(grace=90)
        note("clients done")
    finally:
        residents.stop_new.set()
        server.stop()

    return verify_reports(cluster, env, residents, events)


def verify_reports(
    cluster: Cluster, env: dict[str, str], residents: Residents, events: list[str]
) -> bool:
    """Compare the clients' acknowledgements with the database."""
    import psycopg

    with psycopg.connect(cluster.url(DATABASE)) as connection:
        rows = connection.execute(
            "SELECT r.id, r.description, r.created_at FROM reports_report r "
            "JOIN core_community c ON c.id = r.community_id WHERE c.slug = %s",
            (COMMUNITY,),
        ).fetchall()
        records = connection.execute(
            "SELECT key, body FROM core_idempotencyrecord WHERE scope LIKE 'reports:%%'"
        ).fetchall()
    by_key: dict[str, list[tuple[int, float]]] = {}
    strays = 0
    for report_id, description, created_at in rows:
        if not description.startswith(f"{MARK} "):
            strays += 1
            continue
        by_key.setdefault(description.split(" ", 1)[1], []).append(
            (int(report_id), created_at.timestamp())
        )
    record_ids = {key: int(body["id"]) for key, body in records}
    acknowledged = residents.acknowledged()
    attempted_keys = {a.key for a in residents.attempted}
    missing = [a.key for a in acknowledged if a.key not in by_key]
    duplicated = [k for k, found in by_key.items() if len(found) > 1]
    wrong_id = [
        a.key
        for a in acknowledged
        if a.key in by_key and [i for i, _ in by_key[a.key]] != [a.report_id]
    ]
    wrong_record = [a.key for a in acknowledged if record_ids.get(a.key) != a.report_id]
    unknown = [k for k in by_key if k not in attempted_keys]
    unacknowledged = [a for a in residents.attempted if a.report_id is None]
    retried = [a for a in acknowledged if a.attempts > 1]
    # A retry answered from the idempotency record: the report was committed by an
    # earlier attempt whose answer was lost in the crash.
    replayed = [
        a for a in retried if a.key in by_key and by_key[a.key][0][1] < a.last_attempt_at - 0.05
    ]
    failures: Counter[str] = Counter()
    for a in residents.attempted:
        failures.update(a.failures)
    audit = subprocess.run(
        [str(BIN / "beacon"), "audit", "verify"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    print("\nReports: what the clients saw")
    print(f"  submissions started: {len(residents.attempted)}")
    print(f"  acknowledged (201): {len(acknowledged)}")
    print(f"  acknowledged after retrying: {len(retried)}")
    print(f"    of which the retry was answered from the idempotency record: {len(replayed)}")
    print(f"  never acknowledged (clients stopped retrying): {len(unacknowledged)}")
    print(f"  failed attempts by kind: {dict(sorted(failures.items()))}")
    checks = [
        ("some reports were acknowledged", len(acknowledged) > 0),
        ("some acknowledged reports needed a retry (the crashes hit requests)", len(retried) > 0),
        (f"every acknowledged report is in the database ({len(missing)} missing)", not missing),
        (
            f"no submission was stored twice ({len(duplicated)} keys with several reports)",
            not duplicated,
        ),
        (
            f"each acknowledged report has the id its client was given ({len(wrong_id)} differ)",
            not wrong_id,
        ),
        (
            "each acknowledged key's idempotency record answers with that id "
            f"({len(wrong_record)} differ)",
            not wrong_record,
        ),
        (f"no report that no client submitted ({len(unknown) + strays} found)", not unknown),
        ("no client got an unexpected 4xx", not residents.anomalies),
        ("the audit hash chain verifies after the crashes", audit.returncode == 0),
    ]
    if residents.anomalies:
        print("  unexpected answers:", *residents.anomalies[:5], sep="\n    ")
    if audit.returncode != 0:
        print("  audit verify:", audit.stdout[-500:], audit.stderr[-500:])
    ok = True
    for label, passed in checks:
        ok &= passed
        print(f"  {'PASS' if passed else 'FAIL'}  {label}")
    (VAR / "reports-result.json").write_text(
        json.dumps(
            {
                "events": events,
                "started": len(residents.attempted),
                "acknowledged": len(acknowledged),
                "retried": len(retried),
                "replayed": len(replayed),
                "unacknowledged": len(unacknowledged),
                "failures": dict(failures),
                "checks": {label: passed for label, passed in checks},
            },
            indent=2,
        )
    )
    return ok


# --------------------------------------------------------------------------- part 2


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-port", type=int, default=55432, help="private cluster's port")
    parser.add_argument("--port", type=int, default=8766, help="gunicorn's port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=6, help="client threads filing reports")
    parser.add_argument("--step", type=float, default=12.0, help="seconds between crashes")
    parser.add_argument("--messages", type=int, default=300, help="webhook messages queued")
    parser.add_argument("--kills", type=int, default=4, help="times the relay is killed")
    parser.add_argument("--batch", type=int, default=10, help="messages the relay claims at once")
    parser.add_argument("--receiver-delay", type=float, default=0.02, help="seconds per webhook")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only", choices=("reports", "notifications"), help="run one part (both by default)"
    )
    # Internal: the seeding step, run in a Django process of its own.
    parser.add_argument("--populate", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--receiver", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.populate is not None:
        seed(args.populate, args.receiver)
        return 0
    if args.batch < 5:
        parser.error("--batch must be at least 5, so a kill can land inside a batch")
    if args.messages < 2 * args.batch * (args.kills + 1):
        parser.error("--messages must be at least two batches per kill, plus two")

    VAR.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(VAR / "pg", args.pg_port)
    cluster.claim_port()
    print(f"PostgreSQL: private cluster {cluster.datadir} on 127.0.0.1:{args.pg_port}")
    cluster.init()
    cluster.start()
    try:
        env = prepare(cluster)
        results: dict[str, bool] = {}
        if args.only in (None, "reports"):
            print("\nPart 1: kill the web tier and the database while residents file reports")
            results["reports"] = part_reports(args, cluster, env)
        if args.only in (None, "notifications"):
            print("\nPart 2: kill the notification relay mid-batch")
            results["notifications"] = part_outbox(
                args, cluster, env, VAR, lambda count, url: _seed(env, count, url)
            )
    finally:
        cluster.stop("fast")
    print(
        "\nSUMMARY  "
        + "   ".join(f"{part}: {'PASS' if ok else 'FAIL'}" for part, ok in results.items())
    )
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
