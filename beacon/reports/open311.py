"""Open311 GeoReport v2: partner keys, the documents the endpoints return, and rendering.

Shapes follow the specification (wiki.open311.org/GeoReport_v2): every response is a
list of objects, rendered as XML (``<services><service>…``) or JSON by the Spark
convention. ``servicerequestupdates`` follows mySociety's Open311 adapter, which
FixMyStreet reads. The public sees only public-class reports at their masked locations;
descriptions but never addresses, contact details or photos.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from beacon.core.audit import record_event
from beacon.core.models import Community, User
from beacon.reports.models import (
    Category,
    Open311Key,
    Privacy,
    Report,
    ReportUpdate,
    Status,
    Visibility,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
KEY_PREFIX = "b311_"

OPEN311_STATUS = {
    Status.NEW: "open",
    Status.ACKNOWLEDGED: "open",
    Status.IN_PROGRESS: "open",
    Status.REFERRED: "open",
    Status.RESOLVED: "closed",
    Status.CLOSED: "closed",
}
# mySociety's extended update statuses (lower case, as its adapter serves them).
UPDATE_STATUS = {
    Status.NEW: "open",
    Status.ACKNOWLEDGED: "investigating",
    Status.IN_PROGRESS: "in_progress",
    Status.REFERRED: "internal_referral",
    Status.RESOLVED: "fixed",
    Status.CLOSED: "closed",
}


class Open311Error(Exception):
    """An error answered in the Open311 format with the given HTTP status."""

    def __init__(self, status: int, description: str | list[str]) -> None:
        self.status = status
        self.descriptions = [description] if isinstance(description, str) else description
        super().__init__("; ".join(self.descriptions))


# --- keys -------------------------------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(
    community: Community, name: str, *, actor: User | None = None
) -> tuple[Open311Key, str]:
    """A new partner key; the raw key is returned once and only its digest is stored.

    Keys are 256 random bits, so a fast digest is enough: there is nothing to brute-force
    that a slow hash would protect.
    """
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = Open311Key.objects.create(
        community=community, name=name.strip(), prefix=raw[:12], key_hash=_digest(raw)
    )
    record_event(actor=actor, action="create", obj=key, detail={"name": key.name})
    return key, raw


def key_for(raw: str) -> Open311Key | None:
    """The live key ``raw`` stands for, if any."""
    if not raw or not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    return (
        Open311Key.objects.filter(key_hash=_digest(raw), revoked_at__isnull=True)
        .select_related("community")
        .first()
    )


# --- jurisdictions and parameters -------------------------------------------------------


def jurisdiction(value: str | None, *, key: Open311Key | None = None) -> Community:
    """The community named by ``jurisdiction_id`` (its slug)."""
    if value:
        community = Community.objects.filter(slug=value).first()
        if community is None:
            raise Open311Error(404, f"jurisdiction_id {value!r} was not found.")
        return community
    if key is not None:
        return key.community
    communities = list(Community.objects.order_by("pk")[:2])
    if len(communities) == 1:
        return communities[0]
    raise Open311Error(
        400, "jurisdiction_id was not provided; this endpoint serves several jurisdictions."
    )


def parse_w3(value: str, name: str) -> datetime:
    """A W3C date-time with its time zone, or a 400 error naming the parameter."""
    try:
        moment = parse_datetime(value.replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Open311Error(
            400, f"{name} must be a W3C date-time with a time zone, e.g. 2010-01-01T00:00:00Z."
        )
    return moment


def date_range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The requested window: by default the last 90 days; never longer than 90 days."""
    now = timezone.now()
    end_at = parse_w3(end, "end_date") if end else None
    start_at = parse_w3(start, "start_date") if start else None
    if end_at is None:
        end_at = start_at + timedelta(days=DEFAULT_DAYS) if start_at else now
    if start_at is None:
        start_at = end_at - timedelta(days=DEFAULT_DAYS)
    if start_at > end_at:
        raise Open311Error(400, "start_date is after end_date.")
    if end_at - start_at > timedelta(days=DEFAULT_DAYS):
        raise Open311Error(400, "start_date and end_date may not span more than 90 days.")
    return start_at, end_at


def paging(page: str | None, page_size: str | None) -> tuple[int, int]:
    """The page (1-based) and page size extension parameters."""
    try:
        number = int(page) if page else 1
        size = int(page_size) if page_size else MAX_RESULTS
    except ValueError:
        raise Open311Error(400, "page and page_size must be whole numbers.") from None
    if number < 1 or not 1 <= size <= MAX_RESULTS:
        raise Open311Error(400, f"page must be at least 1 and page_size from 1 to {MAX_RESULTS}.")
    return number, size


def split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


# --- documents --------------------------------------------------------------------------


def w3(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def discovery(community_changed: datetime | None, base_url: str) -> dict[str, Any]:
    """The Service Discovery document."""
    changeset = w3(community_changed or timezone.now())
    return {
        "changeset": changeset,
        "contact": "Ask the police service that runs this Beacon for help with this API.",
        "key_service": "Keys are issued to partner applications by the community's staff.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service(category: Category) -> dict[str, Any]:
    """One entry of GET Service List."""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or None,
        "metadata": bool(list(category.questions.all())),
        "type": "realtime",
        "keywords": category.keywords or None,
        "group": category.group or None,
    }


def service_definition(category: Category) -> dict[str, Any]:
    """GET Service Definition."""
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": q.code,
                "datatype": q.datatype,
                "required": q.required,
                "datatype_description": q.help_text or None,
                "order": q.order,
                "description": q.prompt,
                "values": [
                    {"key": str(c.get("key")), "name": str(c.get("name"))} for c in q.choices or []
                ],
            }
            for q in category.questions.all()
        ],
    }


def public_requests(community: Community) -> QuerySet[Report]:
    """The reports Open311 may show: public categories only (never staff-only ones)."""
    return (
        Report.objects.filter(community=community, category__privacy=Privacy.PUBLIC)
        .select_related("category", "community__organization")
        .order_by("-created_at", "-pk")
    )


def status_notes(report: Report) -> str | None:
    last = (
        report.updates.filter(visibility=Visibility.PUBLIC)
        .exclude(body="")
        .order_by("-created_at", "-pk")
        .first()
    )
    return last.body if last else None


def service_request(report: Report) -> dict[str, Any]:
    """One entry of GET Service Requests / GET Service Request."""
    return {
        "service_request_id": str(report.pk),
        "status": OPEN311_STATUS[Status(report.status)],
        "status_notes": status_notes(report),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": report.description,
        "agency_responsible": report.community.organization.name,
        "service_notice": report.category.service_notice or None,
        "requested_datetime": w3(report.created_at),
        "updated_datetime": w3(report.closed_at or report.updated_at),
        "expected_datetime": None,
        # The typed address and the pin are never public; only the masked point is.
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": report.public_lat,
        "long": report.public_lon,
        "media_url": None,
    }


@dataclass
class UpdateRow:
    update: ReportUpdate
    status: str


def request_updates(rows: Iterable[ReportUpdate]) -> list[dict[str, Any]]:
    """servicerequestupdates entries, with each report's status as of each update."""
    rows = list(rows)
    report_ids = {u.report_id for u in rows}
    history: dict[int, list[tuple[datetime, int, str]]] = {}
    for change in (
        ReportUpdate.objects.filter(report_id__in=report_ids)
        .exclude(status_to="")
        .order_by("created_at", "pk")
        .values_list("report_id", "created_at", "pk", "status_to")
    ):
        history.setdefault(change[0], []).append((change[1], change[2], change[3]))
    out = []
    for update in rows:
        status = Status.NEW.value
        for at, pk, to in history.get(update.report_id, []):
            if (at, pk) <= (update.created_at, update.pk):
                status = to
        label = UPDATE_STATUS[Status(status)]
        if update.kind == "merge" and update.report.merged_into_id:
            label = "duplicate"
        out.append(
            {
                "update_id": str(update.pk),
                "service_request_id": str(update.report_id),
                "status": label,
                "updated_datetime": w3(update.created_at),
                "description": update.body,
                "media_url": "",
            }
        )
    return out


# --- rendering --------------------------------------------------------------------------

# XML element names for each list: (root, item).
XML_NAMES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
    "updates": ("service_requests_updates", "request_update"),
}
_NESTED_ITEM = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, dict):
        for key, item in value.items():
            _xml_value(element, key, item)
    elif isinstance(value, list):
        child = _NESTED_ITEM.get(name, "item")
        for item in value:
            _xml_value(element, child, item)
    else:
        element.text = str(value)


def to_xml(root: str, item: str | None, data: Any) -> bytes:
    """Render a document or list of documents as the specification's XML."""
    top = ET.Element(root)
    if item is None:
        for key, value in data.items():
            _xml_value(top, key, value)
    else:
        for entry in data:
            node = ET.SubElement(top, item)
            for key, value in entry.items():
                _xml_value(node, key, value)
    body = ET.tostring(top, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")
