"""Killing the outbox worker mid-batch loses nothing and duplicates nothing.

The real ``deliver_outbox`` command runs as a subprocess against a SQLite file, sending
through a slow email backend that writes one file per email. The test kills it with
SIGKILL twice in the middle of batches, restarts it, and then checks every queued
message was delivered and, after de-duplicating by Message-ID as a receiver does, each
exactly once; raw repeats (a kill between "sent" and "marked") are at most one per kill.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COUNT = 30
KILLS = 2


def _environment(tmp: Path, mail: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "BEACON_ENV": "test",
            "DATABASE_URL": f"sqlite:///{tmp / 'crash.sqlite3'}",
            "BEACON_VAR_DIR": str(tmp),
            "BEACON_EMAIL_BACKEND": "beacon.notify.tests.slow_backend.SlowFileBackend",
            "SLOW_MAIL_DIR": str(mail),
            "SLOW_MAIL_DELAY": "0.1",
            "BEACON_OUTBOX_LEASE_SECONDS": "2",
            "BEACON_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _files(mail: Path) -> list[Path]:
    return [p for p in mail.iterdir() if p.suffix == ".eml"]


def _rows(database: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(database) as db:
        return list(db.execute("SELECT message_id, status, attempts FROM notify_outboxmessage"))


def _wait(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for the worker")


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_outbox", "--interval", "0.1", "--batch", "4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the crash test drives a SQLite file; the claim query is the same on PostgreSQL",
)
def test_killing_the_worker_mid_batch_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    env = _environment(tmp_path, mail)
    subprocess.run(
        [sys.executable, "-m", "beacon.notify.tests.crash_helper", str(COUNT)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    database = tmp_path / "crash.sqlite3"
    for kill in range(1, KILLS + 1):
        worker = _worker(env)
        _wait(lambda k=kill: len(_files(mail)) >= 6 * k, timeout=60)
        time.sleep(0.03)  # land somewhere inside a batch
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        statuses = Counter(status for _id, status, _n in _rows(database))
        assert statuses["delivered"] < COUNT, "the kill came too late to test anything"
    worker = _worker(env)
    try:
        _wait(
            lambda: all(status == "delivered" for _id, status, _n in _rows(database)),
            timeout=90,
        )
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    rows = _rows(database)
    assert len(rows) == COUNT
    expected = {str(uuid.UUID(message_id)) for message_id, _s, _n in rows}
    received = Counter(p.name.split("--")[0].split("@")[0] for p in _files(mail))
    assert set(received) == expected, "every message arrived, and nothing else"
    repeats = sum(received.values()) - COUNT
    assert repeats <= KILLS, f"{repeats} raw repeats for {KILLS} kills"
    # De-duplicated by Message-ID, as a receiver does: each message exactly once.
    assert len(received) == COUNT
