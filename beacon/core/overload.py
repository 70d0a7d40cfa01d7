"""Load shedding: past capacity, a request is refused at once with 503 and Retry-After.

A web process that accepts more work than its CPU and database can finish only makes
every request slower until clients time out and retry, which adds more work. Beacon
instead caps the requests each process works on at once (``BEACON_MAX_INFLIGHT``); a
request that finds no free slot (after waiting ``BEACON_INFLIGHT_WAIT_MS``, 0 by
default) is answered
``503 Service Unavailable`` with ``Retry-After`` before it touches the session, the
database or a template, so refusing costs almost nothing and the requests already
admitted keep their latency. Clients (and the reverse proxy) retry after the delay;
submissions carry an ``Idempotency-Key``, so a retried one is never filed twice.

Run the web server with more threads than the cap (gunicorn ``--threads`` above
``BEACON_MAX_INFLIGHT``): the spare threads are what answer the refusals while the
admitted requests work. The cap is per process, so it holds with any number of
processes and needs no shared state. ``0`` (the default) turns the cap off.
A streaming response (an open-data download) gives its slot back once its headers are
ready, not when the last byte is sent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
# Under overload a line per refusal would itself be load; one summary per interval.
LOG_INTERVAL_SECONDS = 10.0


class InflightLimitMiddleware:
    """Caps the requests this process serves at once; refuses the rest with 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        limit = int(settings.BEACON_MAX_INFLIGHT)
        if limit <= 0:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.limit = limit
        self.wait = max(0.0, float(settings.BEACON_INFLIGHT_WAIT_MS) / 1000)
        self.retry_after = int(settings.BEACON_OVERLOAD_RETRY_AFTER)
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._refused = 0
        self._last_log = time.monotonic()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        admitted = (
            self._slots.acquire(timeout=self.wait) if self.wait else self._slots.acquire(False)
        )
        if not admitted:
            return self._refuse(request)
        try:
            return self.get_response(request)
        finally:
            self._slots.release()

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        message = _("Beacon is busy; try again in %(seconds)d seconds.") % {
            "seconds": self.retry_after
        }
        if request.path.startswith("/api/"):
            # The API's error shape, so clients parse a refusal like any other error.
            response = HttpResponse(
                json.dumps({"detail": message, "errors": {}}),
                status=503,
                content_type="application/json",
            )
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(self.retry_after)
        response["Cache-Control"] = "no-store"
        # Set here because the middleware that would set it never runs for a refusal.
        response["Content-Length"] = str(len(response.content))
        # Django logs every 5xx as an error; under overload that is thousands of lines,
        # each costing the time refusing is meant to save. _count_refusal sums them up.
        response._has_been_logged = True  # type: ignore[attr-defined]
        self._count_refusal()
        return response

    def _count_refusal(self) -> None:
        with self._lock:
            self._refused += 1
            now = time.monotonic()
            if now - self._last_log < LOG_INTERVAL_SECONDS:
                return
            refused, self._refused, self._last_log = self._refused, 0, now
        logger.warning(
            "Overloaded: refused %d requests with 503 in the last %.0f s (limit %d in flight).",
            refused,
            LOG_INTERVAL_SECONDS,
            self.limit,
        )
