"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from beacon.core.middleware import current_request_id
from beacon.core.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _canonical(event: AuditEvent) -> str:
    at = event.at.astimezone(UTC)
    return json.dumps(
        {
            "at": at.isoformat(timespec="microseconds"),
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "community_id": event.community_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "outcome": event.outcome,
            "request_id": event.request_id,
            "detail": event.detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    """The chain hash of ``event`` given the previous row's hash."""
    return hashlib.sha256((prev_hash + _canonical(event)).encode("ascii")).hexdigest()


def record_event(
    *,
    action: str,
    actor: Any = None,
    community_id: int | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one audit row; safe to call from any process at the same time.

    The chain head row is locked for the append, so concurrent writers queue up and
    every row links to exactly one predecessor.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if community_id is None:
            getter = getattr(obj, "get_community_id", None)
            community_id = getter() if getter else None
    label = actor_label if actor_label is not None else (getattr(actor, "email", "") or "")
    with transaction.atomic():
        # The migration creates the head; get_or_create covers a flushed database.
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=label,
            community_id=community_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            request_id=current_request_id(),
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(head.last_hash, event)
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the audit chain."""

    rows_checked: int
    first_broken_id: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the chain in id order and name the first row whose hash does not hold."""
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != prev:
            return ChainReport(checked, event.pk, "its previous-hash link does not match")
        if compute_hash(prev, event) != event.hash:
            return ChainReport(checked, event.pk, "its content does not match its hash")
        prev = event.hash
        last_id = event.pk
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != prev:
        return ChainReport(
            checked, last_id + 1, f"rows after id {last_id} were removed from the end"
        )
    return ChainReport(checked, None, "")
