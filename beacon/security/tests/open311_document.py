"""An OpenAPI 3.1 description of Beacon's Open311 GeoReport v2 endpoints, for the fuzzer.

Open311 predates OpenAPI and publishes no such document, so this one is written from
the specification's resources (wiki.open311.org/GeoReport_v2). The JSON answers are
described by the same JSON schemas the Open311 tests validate against
(``beacon/reports/tests/test_open311.py``), so the fuzzer and those tests hold Beacon to
one reading of the specification. XML answers are documented by media type only.
"""

from __future__ import annotations

from typing import Any

from beacon.reports.tests.test_open311 import (
    DISCOVERY,
    ERRORS,
    POST_RESPONSE,
    REQUESTS,
    SERVICE_DEFINITION,
    SERVICES,
    TOKEN_RESPONSE,
    UPDATES,
)

BASE = "/open311/v2"
FORMAT = {
    "name": "format",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["json", "xml"]},
}


def _query(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"}}


def _path(name: str, pattern: str) -> dict[str, Any]:
    # The patterns are the URL map's (beacon/reports/open311_urls.py): anything else is
    # another URL, not a bad value for this one.
    schema = {"type": "string", "minLength": 1, "pattern": pattern}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _responses(schema: dict[str, Any], errors: tuple[int, ...]) -> dict[str, Any]:
    def content(body: dict[str, Any]) -> dict[str, Any]:
        return {"application/json": {"schema": body}, "text/xml": {}}

    out: dict[str, Any] = {"200": {"description": "OK", "content": content(schema)}}
    for status in errors:
        out[str(status)] = {"description": "Open311 errors", "content": content(ERRORS)}
    return out


JURISDICTION = _query("jurisdiction_id")
DATES = [_query("start_date"), _query("end_date")]
PAGING = [_query("page"), _query("page_size")]

POST_FIELDS: dict[str, Any] = {
    "api_key": {"type": "string"},
    "jurisdiction_id": {"type": "string"},
    "service_code": {"type": "string"},
    "lat": {"type": "number"},
    "long": {"type": "number"},
    "address_string": {"type": "string"},
    "address_id": {"type": "string"},
    "email": {"type": "string"},
    "device_id": {"type": "string"},
    "account_id": {"type": "string"},
    "first_name": {"type": "string"},
    "last_name": {"type": "string"},
    "phone": {"type": "string"},
    "description": {"type": "string"},
    "media_url": {"type": "string"},
    "attribute[surface]": {"type": "string"},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Beacon Open311 GeoReport v2", "version": "2"},
    "paths": {
        f"{BASE}/discovery.{{format}}": {
            "get": {
                "operationId": "discovery",
                "parameters": [FORMAT],
                "responses": _responses(DISCOVERY, ()),
            }
        },
        f"{BASE}/services.{{format}}": {
            "get": {
                "operationId": "service_list",
                "parameters": [FORMAT, JURISDICTION],
                "responses": _responses(SERVICES, (400, 404)),
            }
        },
        f"{BASE}/services/{{service_code}}.{{format}}": {
            "get": {
                "operationId": "service_definition",
                "parameters": [FORMAT, _path("service_code", r"^[-\w]+$"), JURISDICTION],
                "responses": _responses(SERVICE_DEFINITION, (400, 404)),
            }
        },
        f"{BASE}/requests.{{format}}": {
            "get": {
                "operationId": "service_requests",
                "parameters": [
                    FORMAT,
                    JURISDICTION,
                    _query("service_request_id"),
                    _query("service_code"),
                    _query("status"),
                    *DATES,
                    *PAGING,
                ],
                "responses": _responses(REQUESTS, (400, 404)),
            },
            "post": {
                "operationId": "create_service_request",
                "parameters": [FORMAT],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": POST_FIELDS,
                                "required": ["api_key", "service_code"],
                            }
                        }
                    },
                },
                "responses": _responses(POST_RESPONSE, (400, 403, 404, 429)),
            },
        },
        f"{BASE}/requests/{{service_request_id}}.{{format}}": {
            "get": {
                "operationId": "service_request",
                "parameters": [FORMAT, _path("service_request_id", r"^[^/.]+$"), JURISDICTION],
                "responses": _responses(REQUESTS, (400, 404)),
            }
        },
        f"{BASE}/tokens/{{token}}.{{format}}": {
            "get": {
                "operationId": "token",
                "parameters": [FORMAT, _path("token", r"^[^/.]+$"), JURISDICTION],
                "responses": _responses(TOKEN_RESPONSE, (400, 404)),
            }
        },
        f"{BASE}/servicerequestupdates.{{format}}": {
            "get": {
                "operationId": "service_request_updates",
                "parameters": [FORMAT, JURISDICTION, _query("api_key"), *DATES, *PAGING],
                "responses": _responses(UPDATES, (400, 404)),
            }
        },
    },
}
