"""Rate-limit counters: exact under concurrency, windows that end, nothing identifying."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from beacon.reports import ratelimit
from beacon.reports.models import RateCounter


@pytest.mark.django_db
def test_the_limit_refuses_the_attempt_past_it_with_the_seconds_to_wait() -> None:
    limits = (ratelimit.Limit("test-burst", 3, 600),)
    for _ in range(3):
        ratelimit.hit(limits, "source-a")
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit(limits, "source-a")
    window_end = (int(time.time() // 600) + 1) * 600
    assert 1 <= refused.value.retry_after <= window_end - time.time() + 1
    ratelimit.hit(limits, "source-b")  # another source has its own count
    row = RateCounter.objects.get(counter_key__startswith="test-burst:source-a:")
    assert row.hits == 4


@pytest.mark.django_db
def test_every_limit_counts_and_the_longest_wait_is_given() -> None:
    limits = (ratelimit.Limit("short", 1, 60), ratelimit.Limit("long", 1, 86400))
    ratelimit.hit(limits, "k")
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit(limits, "k")
    assert refused.value.retry_after > 60  # the daily window's reset, not the minute's


@pytest.mark.django_db
def test_ended_windows_are_purged_and_live_ones_kept() -> None:
    now = datetime.now(UTC)
    RateCounter.objects.create(counter_key="old", hits=3, expires_at=now - timedelta(hours=1))
    RateCounter.objects.create(counter_key="live", hits=1, expires_at=now + timedelta(minutes=5))
    assert ratelimit.purge_expired_counters(now) == 1
    assert list(RateCounter.objects.values_list("counter_key", flat=True)) == ["live"]


def test_the_upsert_names_the_models_table() -> None:
    assert f"INTO {RateCounter._meta.db_table} " in ratelimit._COUNT_HIT_SQL


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_are_each_counted() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race this guards against needs PostgreSQL")
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def attempt() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                ratelimit.count_hit("race:key:1", datetime.now(UTC) + timedelta(minutes=5))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    assert RateCounter.objects.get(counter_key="race:key:1").hits == threads * per_thread
