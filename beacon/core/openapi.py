"""The API object: JSON refusals, and an OpenAPI document that names every answer.

Access checks shared with the pages (``get_object_or_deny``, ``require_role``) raise
Django's ``PermissionDenied``; django-ninja leaves that to Django, whose answer is an HTML
page, so API clients would get HTML where their document promises JSON. ``BeaconAPI``
answers it as JSON like every other API error.

django-ninja answers 401 when an operation's authentication is missing and 422 when a
request does not match its declared parameters or body, before Beacon's code runs.
Neither is in the document ninja generates, so clients (and the fuzzer, which holds the
API to its document) would meet status codes the document never mentions.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

UNAUTHORIZED = {
    "title": "UnauthorizedOut",
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
INVALID_REQUEST = {
    "title": "InvalidRequestOut",
    "type": "object",
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
                "required": ["type", "loc", "msg"],
            },
        }
    },
    "required": ["detail"],
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _response(description: str, name: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def document_framework_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Add 401 to operations that need authentication and 422 to those that take input."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("UnauthorizedOut", UNAUTHORIZED)
    schemas.setdefault("InvalidRequestOut", INVALID_REQUEST)
    for item in document.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if operation.get("security"):
                responses.setdefault(401, _response("Not signed in", "UnauthorizedOut"))
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault(
                    422, _response("The request does not match this operation", "InvalidRequestOut")
                )
    return document


class BeaconAPI(NinjaAPI):
    """NinjaAPI answering ``PermissionDenied`` as JSON, with the framework's 401 and 422
    answers in its OpenAPI document.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_exception_handler(PermissionDenied, self._permission_denied)

    def _permission_denied(self, request: HttpRequest, exc: Any) -> HttpResponse:
        detail = str(exc) or "You do not have permission to do that."
        return self.create_response(request, {"detail": detail}, status=403)

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """The generated document, completed by :func:`document_framework_responses`."""
        return document_framework_responses(super().get_openapi_schema(**kwargs))
