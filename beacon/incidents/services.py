"""Domain operations on incidents: staff edits, uploads handed to the worker, publication.

Pages, the API, the CLI and the worker call these; none of them writes incidents
directly. Bulk imports live in :mod:`beacon.incidents.importer`.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from h3.api import basic_int as h3i

from beacon.core.audit import record_event
from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import Community
from beacon.incidents import taxonomy
from beacon.incidents.importer import (
    SITE_RESOLUTION,
    FormatError,
    ImportAbortedError,
    ImportOptions,
    import_incidents,
)
from beacon.incidents.models import Incident, IncidentImport, LocationStatus

EDITABLE_FIELDS = (
    "offence",
    "status",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "block_address",
    "lat",
    "lon",
    "neighbourhood",
    "beat",
    "sensitive",
    "outcome",
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "pk"):
        return str(value.pk)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def update_incident(incident: Incident, changes: dict[str, Any], *, actor: Any) -> list[str]:
    """Apply a staff edit, keep derived fields consistent, audit it, republish.

    Returns the names of the fields that changed (nothing is written when none did).
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    before = {name: getattr(incident, name) for name in changes}
    changed = [name for name, value in changes.items() if before[name] != value]
    if not changed:
        return []
    for name in changed:
        setattr(incident, name, changes[name])
    if (incident.lat is None) != (incident.lon is None):
        raise ValueError("give both latitude and longitude, or neither")
    offence = taxonomy.OFFENCES[incident.offence]
    incident.offence_group = offence.group
    if offence.group in taxonomy.SENSITIVE_GROUPS:
        incident.sensitive = True  # a sensitive offence cannot be made public by hand
    if incident.lat is not None and incident.lon is not None:
        incident.cell = h3i.latlng_to_cell(incident.lat, incident.lon, SITE_RESOLUTION)
        incident.location_status = LocationStatus.MAPPED
    else:
        incident.cell = None
        if incident.location_status == LocationStatus.MAPPED:
            incident.location_status = LocationStatus.MISSING
    local = incident.occurred_from.astimezone(zoneinfo.ZoneInfo(incident.community.timezone))
    incident.local_month = dt.date(local.year, local.month, 1)
    time_known = incident.occurred_to is None
    incident.local_weekday = local.weekday() if time_known else None
    incident.local_hour = local.hour if time_known else None
    incident.updated_at = timezone.now()
    with transaction.atomic():
        incident.save()
        record_event(
            actor=actor,
            action="update",
            obj=incident,
            detail={
                "changed": {
                    name: [_text(before[name]), _text(getattr(incident, name))] for name in changed
                }
            },
        )
        request_publication(incident.community)
    return changed


def request_publication(community: Community) -> None:
    """Rebuild the public tables after the current transaction commits (worker)."""
    from beacon.incidents.tasks import publish_incidents

    enqueue_on_commit(publish_incidents, community.pk)


def upload_dir() -> Path:
    """Where uploaded incident files wait for the worker (deleted once imported)."""
    path = Path(settings.MEDIA_ROOT) / "incident-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_upload_import(
    community: Community,
    upload: UploadedFile,
    options: ImportOptions,
    *,
    actor: Any,
) -> IncidentImport:
    """Store an uploaded file and queue its import; the worker does the work."""
    target = upload_dir() / f"{uuid.uuid4().hex}.csv"
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    with transaction.atomic():
        record = IncidentImport.objects.create(
            community=community,
            created_by=actor if getattr(actor, "pk", None) else None,
            fmt=options.fmt,
            source=options.source,
            options=options.as_dict(),
            original_name=(upload.name or "upload.csv")[:255],
            stored_path=str(target),
            total_bytes=target.stat().st_size,
        )
        from beacon.incidents.tasks import run_incident_import

        enqueue_on_commit(run_incident_import, record.pk)
    return record


def run_stored_import(import_id: int) -> IncidentImport | None:
    """Run a queued import (the worker's job); idempotent: finished imports are skipped."""
    record = (
        IncidentImport.objects.select_related("community", "created_by")
        .filter(pk=import_id)
        .first()
    )
    if record is None or record.finished or record.status == IncidentImport.Status.RUNNING:
        return record
    path = Path(record.stored_path)
    try:
        known = set(ImportOptions.__dataclass_fields__)
        options = ImportOptions(**{k: v for k, v in record.options.items() if k in known})
        import_incidents(record.community, path, options, actor=record.created_by, record=record)
    except (ImportAbortedError, FormatError):
        pass  # the record holds the outcome and the reasons
    finally:
        path.unlink(missing_ok=True)
    record.refresh_from_db()
    return record
