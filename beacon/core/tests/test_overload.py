"""Past capacity Beacon refuses with 503 or 429 and ``Retry-After``, never with a 500."""

from __future__ import annotations

import json
import threading
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from beacon.core.overload import InflightLimitMiddleware
from beacon.core.testing import BeaconTestCase
from beacon.reports import open311, ratelimit
from beacon.reports.models import Report
from beacon.reports.testing import make_categories


class _Blocking:
    """A view that holds its slot until released, so requests really overlap."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.entered.release()
        self.release.wait(timeout=10)
        return HttpResponse("done")


def _in_threads(middleware: InflightLimitMiddleware, paths: list[str]) -> list[Any]:
    factory = RequestFactory()
    results: list[Any] = [None] * len(paths)

    def run(index: int, path: str) -> None:
        results[index] = middleware(factory.get(path))

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(paths)]
    for thread in threads:
        thread.start()
    return [threads, results]


@override_settings(BEACON_MAX_INFLIGHT=0)
def test_the_cap_is_off_by_default() -> None:
    with pytest.raises(MiddlewareNotUsed):
        InflightLimitMiddleware(lambda request: HttpResponse())


@override_settings(BEACON_MAX_INFLIGHT=2, BEACON_INFLIGHT_WAIT_MS=0, BEACON_OVERLOAD_RETRY_AFTER=3)
def test_requests_past_the_cap_get_503_with_retry_after() -> None:
    view = _Blocking()
    middleware = InflightLimitMiddleware(view)
    threads, results = _in_threads(middleware, ["/a/", "/b/"])
    assert view.entered.acquire(timeout=5) and view.entered.acquire(timeout=5)
    factory = RequestFactory()
    page = middleware(factory.get("/c/demo/map/"))
    api = middleware(factory.get("/api/v1/communities/demo"))
    view.release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert [r.status_code for r in results] == [200, 200]
    assert page.status_code == 503 and page["Retry-After"] == "3"
    assert page["Content-Type"].startswith("text/plain")
    assert api.status_code == 503 and api["Retry-After"] == "3"
    assert json.loads(api.content)["detail"].startswith("Beacon is busy")
    # The slots came back: the next request is served.
    view.release.set()
    assert middleware(factory.get("/a/")).status_code == 200


@override_settings(BEACON_MAX_INFLIGHT=1, BEACON_INFLIGHT_WAIT_MS=10_000)
def test_a_request_waits_briefly_for_a_slot() -> None:
    view = _Blocking()
    middleware = InflightLimitMiddleware(view)
    threads, results = _in_threads(middleware, ["/first/", "/second/"])
    assert view.entered.acquire(timeout=5)
    # The second request is waiting for the slot, not refused; freeing it lets it in.
    view.release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert [r.status_code for r in results] == [200, 200]


# One window longer than any test run: a fixed window that ended between the fifth and
# the sixth request would let the sixth through.
ONE_LONG_WINDOW = (ratelimit.Limit("test-submit", 5, 10**9),)


@mock.patch.object(ratelimit, "SUBMIT_LIMITS", ONE_LONG_WINDOW)
class RateLimitRetryAfterTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_categories(cls.community)

    def test_throttled_api_submissions_get_429_with_retry_after(self) -> None:
        body = {
            "category": "graffiti",
            "description": "Tags on the underpass.",
            "lat": 49.27,
            "lon": -123.13,
            "answers": {"surface": "wall", "colours": ["red"]},
        }
        url = f"/api/v1/communities/{self.community.slug}/reports"
        answers = [
            self.client.post(
                url,
                json.dumps(body),
                content_type="application/json",
                REMOTE_ADDR="198.51.100.9",
            )
            for _ in range(6)
        ]
        assert [a.status_code for a in answers[:5]] == [201] * 5
        throttled = answers[5]
        assert throttled.status_code == 429
        assert int(throttled["Retry-After"]) > 0
        assert "Too many attempts" in throttled.json()["detail"]
        assert Report.objects.count() == 5

    def test_throttled_open311_submissions_get_429_with_retry_after(self) -> None:
        _key, raw = open311.create_key(self.community, "Partner app")
        form = {
            "api_key": raw,
            "jurisdiction_id": self.community.slug,
            "service_code": "graffiti",
            "lat": "49.27",
            "long": "-123.13",
            "description": "Tag on the bridge",
            "attribute[surface]": "wall",
        }
        answers = [
            self.client.post("/open311/v2/requests.json", form, REMOTE_ADDR="198.51.100.10")
            for _ in range(6)
        ]
        assert [a.status_code for a in answers[:5]] == [200] * 5
        assert answers[5].status_code == 429
        assert int(answers[5]["Retry-After"]) > 0
