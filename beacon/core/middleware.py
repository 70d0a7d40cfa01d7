"""Request ids for logs and audit rows, and staff session rules."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    """The id of the request being served, or "" outside a request."""
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


class RequestIdMiddleware:
    """Gives each request an id: random, or the trusted proxy's ``X-Request-ID``.

    The id goes into every log line and audit row of the request. A value the client
    chose would be a tag it (or anything on its network) could later match to a tip, so
    an incoming ``X-Request-ID`` is used only behind the trusted proxy
    (``BEACON_BEHIND_PROXY``), which sets its own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted = bool(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))
        incoming = request.headers.get("X-Request-ID", "") if trusted else ""
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class StaffSessionMiddleware:
    """Ends staff sessions after ``BEACON_STAFF_IDLE_SECONDS`` without a request."""

    SESSION_KEY = "beacon_last_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if user is not None and user.is_authenticated and self._is_staff(request, user):
            now = time.time()
            last_seen = request.session.get(self.SESSION_KEY)
            if (
                last_seen is not None
                and now - float(last_seen) > settings.BEACON_STAFF_IDLE_SECONDS
            ):
                logout(request)
            else:
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _is_staff(request: HttpRequest, user: Any) -> bool:
        cached = request.session.get("beacon_is_staff")
        if cached is None:
            cached = bool(user.needs_second_factor)
            request.session["beacon_is_staff"] = cached
        return bool(cached)


class PrivateResponsesMiddleware:
    """Signed-in responses carry personal or staff-only data: no cache may keep them.

    Anonymous pages that hold secrets (a tip read with its code) use ``never_cache``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user: Any = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response
