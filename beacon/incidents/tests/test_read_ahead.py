"""The importer's read-ahead thread (PostgreSQL): order, errors and stopping early."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from beacon.incidents.importer import _read_ahead


def test_items_arrive_in_order() -> None:
    assert list(_read_ahead(iter(range(50)), depth=2)) == list(range(50))


def test_an_error_in_the_thread_is_raised_in_the_caller_after_earlier_items() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3 is not utf-8 text")

    received = []
    with pytest.raises(ValueError, match="line 3"):
        for item in _read_ahead(items(), depth=2):
            received.append(item)
    assert received == [1, 2]


def test_closing_early_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    ahead = _read_ahead(items(), depth=2)
    assert next(ahead) == 1
    ahead.close()
    assert closed.is_set()
    assert not any(t.name == "incident-import-reader" for t in threading.enumerate())
