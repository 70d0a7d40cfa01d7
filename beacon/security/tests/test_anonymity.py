"""Anonymity of tipsters: what a tipster's connection says about them is kept nowhere.

Tips are filed and followed up through the page and the JSON API with sentinel values
in everything a connection carries besides the tip itself: the client address (directly
and in ``X-Forwarded-For``), the user agent, ``Referer``, ``Accept-Language``, custom
headers (one of them ``X-Request-ID``, which Beacon puts in its logs and audit rows when
a trusted proxy sets it) and a cookie. Error paths are taken too: a validation error, a
wrong passphrase, and a forced server error whose report Django mails to the admins.

Then every place a trace could stay is searched for the sentinels: every column of every
table of the database (sessions and cache entries decoded), the log output of every
logger at DEBUG (SQL with its parameters included), the mail and the notification outbox,
and the error reports.
"""

from __future__ import annotations

import base64
import json
import logging
import pickle
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from beacon.core.testing import BeaconTestCase
from beacon.reports import tips
from beacon.reports.models import Report
from beacon.reports.testing import make_categories

SENTINELS = {
    "address": "203.0.113.77",
    "forwarded": "198.51.100.23",
    "agent": "SentinelBrowser/7.3",
    "referer": "sentinel-referer-path",
    "language": "zz-sentinel",
    "custom": "SentinelCustomHeader",
    "request-id": "SentinelRequestId0042",
    "cookie": "SentinelCookieValue",
}
HEADERS = {
    "REMOTE_ADDR": SENTINELS["address"],
    "HTTP_X_FORWARDED_FOR": f"{SENTINELS['forwarded']}, {SENTINELS['address']}",
    "HTTP_X_REAL_IP": SENTINELS["forwarded"],
    "HTTP_USER_AGENT": f"Mozilla/5.0 (X11) {SENTINELS['agent']}",
    "HTTP_REFERER": f"https://news.example/{SENTINELS['referer']}",
    "HTTP_ACCEPT_LANGUAGE": f"{SENTINELS['language']}, en;q=0.5",
    "HTTP_X_SENTINEL_PROBE": SENTINELS["custom"],
    "HTTP_X_REQUEST_ID": SENTINELS["request-id"],
}
BASE = "/api/v1/communities/north"


class Capture(logging.Handler):
    """Every log record, formatted with its arguments, extras and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRIBUTES}
        self.lines.append(f"{self.format(record)} {extras!r}")


_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@contextmanager
def every_logger_at_debug() -> Iterator[Capture]:
    """Route every logger to a capturing handler at DEBUG, SQL included."""
    capture = Capture()
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)]
    levels = [(lg, lg.level, lg.disabled) for lg in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    root.addHandler(capture)
    # Loggers that do not pass records up to the root get the handler themselves.
    sealed = [lg for lg in loggers[1:] if not lg.propagate]
    for logger in sealed:
        logger.addHandler(capture)
    debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True  # django.db.backends logs each query's parameters
    try:
        yield capture
    finally:
        connection.force_debug_cursor = debug_cursor
        root.removeHandler(capture)
        for logger in sealed:
            logger.removeHandler(capture)
        for logger, level, disabled in levels:
            logger.setLevel(level)
            logger.disabled = disabled


def _decoded(value: str) -> str:
    """``value`` plus what Django's signed/base64 encodings of it hold."""
    found = [value]
    body = value.split(":", 1)[0]  # signed values: payload before the signature
    compressed = body.startswith(".")
    body = body.lstrip(".")
    for decoder in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            raw = decoder(body + "=" * (-len(body) % 4))
        except ValueError:
            continue
        if compressed:
            with suppress(zlib.error):
                raw = zlib.decompress(raw)
        found.append(raw.decode("latin-1"))
        # Not every decoded value is a pickle; the text above is what the others hold.
        with suppress(Exception):
            found.append(repr(pickle.loads(raw)))  # noqa: S301 (our own cache rows)
    return "\n".join(found)


def database_dump() -> Iterator[tuple[str, str]]:
    """(table.column, text) for every text, JSON and binary value in every table."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {name}")  # noqa: S608 (names from introspection)
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, (bytes, memoryview)):
                        text = bytes(value).decode("latin-1")
                    elif isinstance(value, (dict, list)):
                        text = json.dumps(value)
                    elif isinstance(value, str):
                        text = _decoded(value)
                    else:
                        continue
                    yield f"{table}.{column}", text
    for session in SessionStore.get_model_class().objects.all():
        yield "django_session (decoded)", repr(SessionStore().decode(session.session_data))


def find_sentinels(text: str) -> list[str]:
    lowered = text.lower()
    return [name for name, value in SENTINELS.items() if value.lower() in lowered]


def tip_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "drugs",
        "description": "Dealing from a grey van behind the rink most evenings.",
        "lat": 49.27,
        "lon": -123.13,
        "answers": {"vehicle": "grey van"},
    }
    data.update(overrides)
    return data


@override_settings(ADMINS=[("Operations", "ops@example.org")])
class AnonymityTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_categories(cls.community)

    def setUp(self) -> None:
        super().setUp()
        cache.clear()  # rate-limit counters from other tests
        self.tipster = Client(raise_request_exception=False, **HEADERS)  # type: ignore[arg-type]
        self.tipster.cookies["tracker"] = SENTINELS["cookie"]

    def api(self, path: str, data: dict[str, Any], **extra: Any) -> Any:
        return self.tipster.post(
            f"{BASE}{path}", json.dumps(data), content_type="application/json", **extra
        )

    def test_tips_leave_no_trace_of_the_tipster(self) -> None:
        with every_logger_at_debug() as logs:
            self._file_and_follow_up()
        traces: list[str] = []
        for where, text in database_dump():
            traces += [f"database {where}: {s}" for s in find_sentinels(text)]
        for line in logs.lines:
            traces += [f"log: {s} in {line[:300]}" for s in find_sentinels(line)]
        for message in mail.outbox:
            text = "\n".join(
                [str(message.subject), str(message.body), repr(message.extra_headers)]
                + [str(part[0]) for part in getattr(message, "alternatives", [])]
            )
            traces += [f"mail {message.subject!r}: {s}" for s in find_sentinels(text)]
        # The first few places per sentinel are enough to find each leak.
        shown: dict[str, list[str]] = {}
        for trace in traces:
            shown.setdefault(trace.rsplit(": ", 1)[-1].split(" in ")[0], []).append(trace)
        summary = [t[:400] for found in shown.values() for t in found[:3]]
        assert not traces, f"the tipster's connection left {len(traces)} traces:\n" + "\n".join(
            summary
        )

    def _file_and_follow_up(self) -> None:
        assert Report.objects.count() == 0
        # The page: a validation error, then a tip that is filed.
        page = f"/c/{self.community.slug}/report"
        bad = self.tipster.post(page, {"category": "drugs", "description": "", "lat": "40.7"})
        assert bad.status_code == 400, bad.status_code
        filed = self.tipster.post(
            page,
            {
                "category": "drugs",
                "description": "Someone is selling from the back of the laundromat.",
                "lat": "49.27",
                "lon": "-123.13",
                "q-drugs-vehicle": "none",
            },
        )
        assert filed.status_code == 200, filed.content[:500]
        html = filed.content.decode()
        code = re.search(r'id="tip-code">([^<]+)<', html)
        phrase = re.search(r'id="passphrase">([^<]+)<', html)
        assert code and phrase, "the filed page shows the tip code and passphrase"
        # The API: a validation error, then a tip with an idempotency key.
        assert self.api("/reports", tip_payload(lat=40.7, lon=-74.0)).status_code == 400
        answer = self.api("/reports", tip_payload(), HTTP_IDEMPOTENCY_KEY="tip-key-1")
        assert answer.status_code == 201, answer.content
        api_tip = answer.json()
        assert Report.objects.count() == 2
        # Follow-ups by tip code and passphrase: wrong passphrases first, then replies.
        tip_page = f"/c/{self.community.slug}/tip"
        wrong = self.tipster.post(tip_page, {"code": code[1], "passphrase": "WRONG-WRONG-WRONG"})
        assert wrong.status_code == 400
        replied = self.tipster.post(
            tip_page,
            {
                "code": code[1],
                "passphrase": phrase[1],
                "action": "reply",
                "body": "It was there again tonight.",
            },
        )
        assert replied.status_code == 200, replied.content[:500]
        creds = {"code": api_tip["tip_code"], "passphrase": "WRONG-WRONG-WRONG"}
        assert self.api("/tips/open", creds).status_code == 404
        creds["passphrase"] = api_tip["passphrase"]
        assert self.api("/tips/reply", {**creds, "body": "Two men now."}).status_code == 200
        # A server error in the middle of a follow-up: Django reports it to the admins.
        with mock.patch.object(tips, "find_tip", side_effect=RuntimeError("forced failure")):
            failed = self.tipster.post(tip_page, {"code": code[1], "passphrase": phrase[1]})
        assert failed.status_code == 500
        assert any("forced failure" in m.body for m in mail.outbox), "an error report was sent"


def test_the_sentinels_would_be_found() -> None:
    """The search is real: each sentinel is found where it is written, in each form."""
    for value in SENTINELS.values():
        assert find_sentinels(f"xx{value.upper()}yy")
        signed = base64.urlsafe_b64encode(zlib.compress(value.encode())).decode()
        assert find_sentinels(_decoded(f".{signed}:sig"))
        pickled = base64.b64encode(pickle.dumps({"v": value})).decode()
        assert find_sentinels(_decoded(pickled))
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
