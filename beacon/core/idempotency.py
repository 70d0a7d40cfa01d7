"""Idempotent submissions: a retry with the same ``Idempotency-Key`` returns the first
response and creates nothing."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from beacon.core.models import IdempotencyRecord

_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


class IdempotencyError(ValueError):
    """The key is malformed, or was used before with a different request."""


def fingerprint(payload: Any) -> str:
    """A stable hash of a request payload (JSON-serialisable)."""
    data = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def run_once(
    scope: str,
    key: str | None,
    payload: Any,
    operation: Callable[[], tuple[int, Any]],
) -> tuple[int, Any]:
    """Run ``operation`` (returning status and JSON body) at most once per key.

    Without a key the operation simply runs. The record is written in the same
    transaction as the operation's rows, so a crash leaves either both or neither.
    """
    if not key:
        return operation()
    if not _KEY.match(key):
        raise IdempotencyError(
            "Idempotency-Key must be 1 to 200 characters of letters, digits, '.', '_', ':' or '-'."
        )
    print_ = fingerprint(payload)
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is not None:
        return _replay(existing, print_)
    try:
        with transaction.atomic():
            status, body = operation()
            if status < 300:
                IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    request_fingerprint=print_,
                    status_code=status,
                    body=body,
                )
            return status, body
    except IntegrityError:
        # A concurrent request with the same key won the race; its rows are kept, ours
        # were rolled back with the failed insert.
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, print_)


def _replay(record: IdempotencyRecord, print_: str) -> tuple[int, Any]:
    if record.request_fingerprint != print_:
        raise IdempotencyError("This Idempotency-Key was already used for a different request.")
    return record.status_code, record.body
