"""Open311 GeoReport v2 over real HTTP, in both formats, validated against JSON schemas.

The schemas below are written from the field tables of the GeoReport v2 specification
(wiki.open311.org/GeoReport_v2: GET Service List, GET Service Definition, POST Service
Request, GET service_request_id from a token, GET Service Requests, Errors), its Service
Discovery page (wiki.open311.org/Service_Discovery), and, for servicerequestupdates, the
fields mySociety's open311-adapter serves to FixMyStreet. Optional fields the spec says
"may not be returned" are allowed to be null. XML answers are turned into the same
structure by the Spark convention the spec uses for its JSON, then checked against the
same schemas.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from django.core.cache import cache
from django.core.management import call_command

from beacon.core.models import AuditChainHead
from beacon.core.testing import make_world
from beacon.reports import ratelimit, services
from beacon.reports.models import Report, Status
from beacon.reports.testing import file, make_categories

W3C = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
NULLABLE_STR = {"type": ["string", "null"]}
W3C_DATE = {"type": "string", "pattern": W3C}

DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "endpoints"],
    "properties": {
        "changeset": W3C_DATE,
        "contact": {"type": "string"},
        "key_service": NULLABLE_STR,
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"const": "http://wiki.open311.org/GeoReport_v2"},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "changeset": W3C_DATE,
                    "type": {"enum": ["production", "test"]},
                    "formats": {
                        "type": "array",
                        "items": {"enum": ["text/xml", "application/json"]},
                    },
                },
            },
        },
    },
}
SERVICES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "additionalProperties": False,
        "properties": {
            "service_code": {"type": "string"},
            "service_name": {"type": "string"},
            "description": NULLABLE_STR,
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": NULLABLE_STR,
            "group": NULLABLE_STR,
        },
    },
}
SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "additionalProperties": False,
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required", "order", "description"],
                "additionalProperties": False,
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ]
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": NULLABLE_STR,
                    "order": {"type": "integer", "minimum": 1},
                    "description": {"type": "string"},
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}
REQUESTS = {
    "type": "array",
    "maxItems": 1000,
    "items": {
        "type": "object",
        "required": [
            "service_request_id",
            "status",
            "service_name",
            "service_code",
            "requested_datetime",
            "updated_datetime",
        ],
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"enum": ["open", "closed"]},
            "status_notes": NULLABLE_STR,
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": {"type": ["string", "null"], "maxLength": 4000},
            "agency_responsible": NULLABLE_STR,
            "service_notice": NULLABLE_STR,
            "requested_datetime": W3C_DATE,
            "updated_datetime": W3C_DATE,
            "expected_datetime": {"anyOf": [W3C_DATE, {"type": "null"}]},
            "address": NULLABLE_STR,
            "address_id": NULLABLE_STR,
            "zipcode": NULLABLE_STR,
            "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
            "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
            "media_url": NULLABLE_STR,
        },
    },
}
POST_RESPONSE = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "oneOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
        "properties": {
            "service_request_id": {"type": "string"},
            "token": {"type": "string"},
            "service_notice": NULLABLE_STR,
            "account_id": NULLABLE_STR,
        },
    },
}
TOKEN_RESPONSE = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "additionalProperties": False,
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
    },
}
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "additionalProperties": False,
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
UPDATES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "properties": {
            "update_id": {"type": "string"},
            "service_request_id": {"type": "string"},
            "status": {
                "enum": [
                    "open",
                    "investigating",
                    "in_progress",
                    "action_scheduled",
                    "fixed",
                    "closed",
                    "duplicate",
                    "not_councils_responsibility",
                    "no_further_action",
                    "internal_referral",
                ]
            },
            "updated_datetime": W3C_DATE,
            # Empty in XML, so null once converted by the Spark convention.
            "description": NULLABLE_STR,
            "media_url": NULLABLE_STR,
        },
    },
}

# Spark convention: these XML elements hold lists of their children.
LIST_ELEMENTS = {
    "services",
    "service_requests",
    "errors",
    "attributes",
    "values",
    "endpoints",
    "formats",
    "service_requests_updates",
}
BOOLEANS = {"metadata", "variable", "required"}
INTEGERS = {"order", "code"}
FLOATS = {"lat", "long"}


def spark(element: ET.Element) -> Any:
    """XML to the JSON structure the specification derives from it."""
    if element.tag in LIST_ELEMENTS:
        return [spark(child) for child in element]
    children = list(element)
    if children:
        return {child.tag: spark(child) for child in children}
    text = element.text
    if text is None:
        return None
    if element.tag in BOOLEANS:
        return text == "true"
    if element.tag in INTEGERS and text.lstrip("-").isdigit():
        return int(text)
    if element.tag in FLOATS:
        return float(text)
    return text


def fetch(
    url: str, data: dict[str, Any] | list[tuple[str, str]] | None = None
) -> tuple[int, str, bytes]:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    request = urllib.request.Request(url, data=body)
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def both(base: str, path: str, schema: dict[str, Any], status: int = 200, **kw: Any) -> Any:
    """GET or POST a resource as .json and .xml; validate both; return the JSON."""
    query = kw.pop("query", "")
    results = []
    for fmt in ("json", "xml"):
        code, ctype, body = fetch(f"{base}/{path}.{fmt}{query}", kw.get("data"))
        assert code == status, (fmt, code, body[:500])
        if fmt == "json":
            assert ctype == "application/json; charset=utf-8"
            parsed = json.loads(body)
        else:
            assert ctype == "text/xml; charset=utf-8"
            assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
            parsed = spark(ET.parse(io.BytesIO(body)).getroot())  # noqa: S314 (our own server)
        jsonschema.validate(parsed, schema)
        results.append(parsed)
    return results[0], results[1]


@pytest.fixture
def world(transactional_db: Any, monkeypatch: Any) -> Any:
    AuditChainHead.objects.get_or_create(pk=1)
    cache.clear()  # the cache table outlives a transactional test's flush
    # Every request here comes from 127.0.0.1; the limits have their own tests.
    monkeypatch.setattr(ratelimit, "SUBMIT_LIMITS", (ratelimit.Limit("test", 1000, 60),))
    world = make_world()
    make_categories(world.community)
    return world


def test_read_endpoints_in_both_formats(live_server: Any, world: Any) -> None:
    base = f"{live_server.url}/open311/v2"
    public = file(world.community).report
    services.change_status(
        public, Status.RESOLVED, actor=world.members["officer"], message="Cleaned"
    )
    file(world.community, category="drugs")
    discovery, _ = both(base, "discovery", DISCOVERY)
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2/")
    listed, listed_xml = both(base, "services", SERVICES, query="?jurisdiction_id=north")
    assert {s["service_code"] for s in listed} == {"graffiti", "drugs"}
    assert listed == listed_xml
    definition, definition_xml = both(
        base, "services/graffiti", SERVICE_DEFINITION, query="?jurisdiction_id=north"
    )
    assert [a["code"] for a in definition["attributes"]][:2] == ["surface", "offensive"]
    assert definition == definition_xml
    rows, rows_xml = both(base, "requests", REQUESTS, query="?jurisdiction_id=north")
    assert [r["service_request_id"] for r in rows] == [str(public.pk)]  # never staff-only
    assert rows[0]["status"] == "closed" and rows[0]["status_notes"] == "Cleaned"
    assert (rows[0]["lat"], rows[0]["long"]) != (public.lat, public.lon)
    assert rows == rows_xml
    one, _ = both(base, f"requests/{public.pk}", REQUESTS, query="?jurisdiction_id=north")
    assert one == rows
    token, _ = both(base, f"tokens/{public.token}", TOKEN_RESPONSE, query="?jurisdiction_id=north")
    assert token == [{"service_request_id": str(public.pk), "token": public.token}]
    updates, _ = both(base, "servicerequestupdates", UPDATES, query="?jurisdiction_id=north")
    assert [u["status"] for u in updates] == ["fixed"]
    open_only, _ = both(base, "requests", REQUESTS, query="?jurisdiction_id=north&status=open")
    assert open_only == []
    paged, _ = both(base, "requests", REQUESTS, query="?jurisdiction_id=north&page=2&page_size=1")
    assert paged == []


def test_errors_in_both_formats(live_server: Any, world: Any) -> None:
    base = f"{live_server.url}/open311/v2"
    errors, xml_errors = both(base, "services", ERRORS, status=400)  # two jurisdictions
    assert "jurisdiction_id" in errors[0]["description"]
    assert errors == xml_errors
    both(base, "services", ERRORS, status=404, query="?jurisdiction_id=atlantis")
    both(base, "services/potholes", ERRORS, status=404, query="?jurisdiction_id=north")
    both(base, "requests/999999", ERRORS, status=404, query="?jurisdiction_id=north")
    drugs = file(world.community, category="drugs").report
    both(base, f"requests/{drugs.pk}", ERRORS, status=404, query="?jurisdiction_id=north")
    both(
        base,
        "requests",
        ERRORS,
        status=400,
        query="?jurisdiction_id=north&start_date=2020-01-01T00:00:00Z&end_date=2021-01-01T00:00:00Z",
    )
    both(base, "requests", ERRORS, status=400, query="?jurisdiction_id=north&start_date=yesterday")
    both(
        base,
        "requests",
        ERRORS,
        status=403,
        data={"jurisdiction_id": "north", "service_code": "graffiti"},
    )
    both(
        base,
        "requests",
        ERRORS,
        status=403,
        data={"api_key": "b311_wrong", "service_code": "graffiti"},
    )


def test_post_requests(live_server: Any, world: Any, capsys: Any) -> None:
    call_command("open311_key", "create", "--community", "north", "--name", "Partner app")
    key = capsys.readouterr().out.strip()
    assert key.startswith("b311_")
    base = f"{live_server.url}/open311/v2"
    form: list[tuple[str, str]] = [
        ("api_key", key),
        ("jurisdiction_id", "north"),
        ("service_code", "graffiti"),
        ("lat", "49.27"),
        ("long", "-123.13"),
        ("description", "Tag on the bridge"),
        ("email", "partner-user@example.org"),
        ("attribute[surface]", "wall"),
        ("attribute[colours][]", "red"),
        ("attribute[colours][]", "black"),
    ]
    created, _ = both(base, "requests", POST_RESPONSE, data=form)
    reports = Report.objects.filter(source="open311").order_by("pk")
    assert reports.count() == 2  # one per format
    assert reports[0].answers == {"surface": "wall", "colours": ["red", "black"]}
    assert created[0]["service_request_id"] == str(reports[0].pk)
    # Malformed submissions: clear errors, nothing stored.
    bad = [
        ([("lat", "40.7"), ("long", "-74.0")], 400, "outside"),
        ([("service_code", "potholes")], 404, "potholes"),
        ([("attribute[surface]", "")], 400, "needs an answer"),
        ([("description", "z" * 5000)], 400, "5000"),
        ([("service_code", "")], 400, "service_code"),
    ]
    for changes, status, words in bad:
        names = {name for name, _v in changes}
        data = [(n, v) for n, v in form if n not in names] + changes
        errors, _ = both(base, "requests", ERRORS, status=status, data=data)
        assert words in errors[0]["description"] or any(words in e["description"] for e in errors)
    assert Report.objects.filter(source="open311").count() == 2
    # An Idempotency-Key retry returns the first answer and creates nothing.
    body = urllib.parse.urlencode(form, doseq=True).encode()
    answers = []
    for _ in range(2):
        request = urllib.request.Request(f"{base}/requests.json", data=body)
        request.add_header("Idempotency-Key", "partner-42")
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append(json.loads(response.read()))
    assert answers[0] == answers[1]
    assert Report.objects.filter(source="open311").count() == 3
