"""Part 2 of ``make crash`` (``bench/crash.py``): kill the outbox relay mid-batch.

A webhook receiver on 127.0.0.1 records every delivery while ``beacon deliver-outbox``
is killed with ``kill -9`` and started again; the checks compare what arrived with the
outbox and with the delivery contract written in ``beacon/notify/outbox.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.harness import BIN, ROOT, Cluster


class Receiver:
    """A webhook endpoint on 127.0.0.1 recording each delivery (id, body hash, time).

    ``kill_before_answer(n, pid)`` makes it ``kill -9`` process ``pid`` when delivery
    ``n`` has arrived, before answering it: the message is delivered, but the relay dies
    without hearing so and cannot mark it — the one window no sender can close.
    """

    def __init__(self, delay: float) -> None:
        self.deliveries: list[tuple[str, str, float]] = []
        self.lock = threading.Lock()
        self.kill_at: tuple[int, int] | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # A slow endpoint keeps a batch in flight long enough to be killed.
                time.sleep(delay)
                with outer.lock:
                    outer.deliveries.append(
                        (
                            self.headers.get("Beacon-Message-Id", ""),
                            hashlib.sha256(body).hexdigest(),
                            time.time(),
                        )
                    )
                    if outer.kill_at and len(outer.deliveries) >= outer.kill_at[0]:
                        os.kill(outer.kill_at[1], signal.SIGKILL)
                        outer.kill_at = None
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the relay was killed while waiting for this answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kill_before_answer(self, delivery: int, pid: int) -> None:
        """Arm the kill described above."""
        with self.lock:
            self.kill_at = (delivery, pid)

    def received(self) -> int:
        """Deliveries so far, repeats included."""
        with self.lock:
            return len(self.deliveries)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def part_outbox(
    args: argparse.Namespace,
    cluster: Cluster,
    env: dict[str, str],
    var: Path,
    queue: Callable[[int, str], None],
) -> bool:
    """Kill the outbox relay mid-batch; check every message arrives exactly once.

    ``queue(count, url)`` puts ``count`` webhook messages for ``url`` in the outbox of
    the database ``env`` points at.
    """
    import psycopg

    receiver = Receiver(args.receiver_delay)
    queue(args.messages, receiver.url)
    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    relay_env = {**env, "BEACON_OUTBOX_LEASE_SECONDS": "3", "BEACON_WEBHOOK_TIMEOUT": "5"}
    log = (var / "relay.log").open("a")

    def relay() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                str(BIN / "beacon"),
                "deliver-outbox",
                "--interval",
                "0.2",
                "--batch",
                str(args.batch),
            ],
            cwd=ROOT,
            env=relay_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def statuses() -> Counter[str]:
        with psycopg.connect(cluster.url(database)) as connection:
            return Counter(
                dict(
                    connection.execute(
                        "SELECT status, count(*) FROM notify_outboxmessage GROUP BY status"
                    ).fetchall()
                )
            )

    def sending() -> int:
        return statuses().get("sending", 0)

    kills = 0
    in_window = 0
    process = relay()
    try:
        step = args.messages // (args.kills + 1)
        for kill in range(1, args.kills + 1):
            deadline = time.monotonic() + 180
            while receiver.received() < step * kill:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the relay stopped delivering; see var/crash/relay.log")
                time.sleep(0.01)
            if kill % 2:
                # Anywhere in the middle of a claimed batch (some of it sent, some not).
                while not 2 <= sending() <= args.batch - 2:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise SystemExit("no batch in flight; see var/crash/relay.log")
                    time.sleep(0.005)
                process.kill()
                how = "mid-batch"
            else:
                receiver.kill_before_answer(receiver.received() + 1, process.pid)
                how = "after the receiver got a message, before the relay heard back"
                in_window += 1
            process.wait()
            kills += 1
            print(
                f"  kill -9 deliver-outbox #{kill} {how}, after {receiver.received()} "
                f"deliveries; outbox: {dict(statuses())}",
                flush=True,
            )
            process = relay()
        deadline = time.monotonic() + 180
        while statuses().get("delivered", 0) < args.messages:
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        receiver.close()

    with psycopg.connect(cluster.url(database)) as connection:
        rows = connection.execute(
            "SELECT message_id::text, status, attempts FROM notify_outboxmessage"
        ).fetchall()
    expected = {message_id for message_id, _s, _a in rows}
    received = Counter(message_id for message_id, _h, _t in receiver.deliveries)
    bodies: dict[str, set[str]] = {}
    for message_id, digest, _t in receiver.deliveries:
        bodies.setdefault(message_id, set()).add(digest)
    repeats = sum(received.values()) - len(received)
    final = Counter(status for _id, status, _a in rows)
    attempts = Counter(a for _id, _s, a in rows)
    print("\nNotifications: what the receiver saw")
    print(
        f"  messages queued: {args.messages}; relay killed with kill -9: {kills} times "
        f"({in_window} of them between a delivery and its acknowledgement)"
    )
    print(f"  deliveries received: {sum(received.values())}, distinct message ids: {len(received)}")
    print(f"  raw repeats (same Beacon-Message-Id again, dropped by the receiver): {repeats}")
    print(f"  outbox rows by status: {dict(final)}; by attempts: {dict(sorted(attempts.items()))}")
    checks = [
        (f"the relay was killed mid-batch {args.kills} times", kills == args.kills),
        (
            "every outbox message is marked delivered",
            final == Counter({"delivered": args.messages}),
        ),
        ("every message reached the receiver", set(received) == expected),
        ("the receiver got nothing that was not queued", set(received) <= expected),
        (
            "de-duplicated by Beacon-Message-Id, each message exactly once",
            len(received) == args.messages,
        ),
        (
            f"raw repeats at most one per kill ({repeats} for {kills} kills)",
            repeats <= kills,
        ),
        (
            f"the message in flight at each of the {in_window} kills inside the window was "
            "sent again and dropped as a repeat",
            repeats >= in_window,
        ),
        (
            "a repeat is the same message (same id, same body)",
            all(len(v) == 1 for v in bodies.values()),
        ),
    ]
    ok = True
    for label, passed in checks:
        ok &= passed
        print(f"  {'PASS' if passed else 'FAIL'}  {label}")
    (var / "outbox-result.json").write_text(
        json.dumps(
            {
                "messages": args.messages,
                "kills": kills,
                "kills_in_window": in_window,
                "deliveries": sum(received.values()),
                "distinct": len(received),
                "repeats": repeats,
                "checks": {label: passed for label, passed in checks},
            },
            indent=2,
        )
    )
    return ok
