"""The insights API: runs (list, get, queue), risk zones, trend alerts; access and audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from beacon.api import api
from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.insights.models import AnalysisRun, RunKind
from beacon.insights.testing import SEED_DAYS, SEED_END, seed_incidents
from beacon.insights.zones import refresh_risk_zones

API = "/api/v1/communities/north/insights"
START = (SEED_END - dt.timedelta(days=SEED_DAYS - 1)).isoformat()


class InsightsApiTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)

    def queue(self, payload: Mapping[str, object], **headers: str) -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                f"{API}/runs", payload, content_type="application/json", headers=headers
            )

    def test_queue_get_and_list_runs(self) -> None:
        payload = {"kind": "gi", "offence_groups": ["vehicle"], "window_start": START}
        assert self.queue(payload).status_code == 401
        self.login(self.officer)
        assert self.queue(payload).status_code == 403
        self.login(self.analyst)
        response = self.queue(payload, **{"Idempotency-Key": "gi-vehicle-1"})
        assert response.status_code == 202, response.content
        body = response.json()
        assert body["kind"] == "gi" and body["status"] == "queued"
        assert body["window_end"] == SEED_END.isoformat()
        assert body["parameters"] == {"resolution": 9, "k": 1, "alpha": 0.05}
        replay = self.queue(payload, **{"Idempotency-Key": "gi-vehicle-1"})
        assert replay.status_code == 202 and replay.json()["id"] == body["id"]
        same = self.queue(payload)
        assert same.status_code == 200 and same.json()["id"] == body["id"]
        assert AnalysisRun.objects.count() == 1
        audit = AuditEvent.objects.filter(
            action="create", object_type="insights.analysisrun", object_id=str(body["id"])
        )
        assert audit.count() == 1 and audit[0].actor == self.analyst

        self.login(self.officer)
        listed = self.client.get(f"{API}/runs?kind=gi").json()
        assert [r["id"] for r in listed] == [body["id"]] and "results" not in listed[0]
        assert self.client.get(f"{API}/runs?kind=knox").json() == []
        assert self.client.get(f"{API}/runs?kind=bogus").status_code == 422
        run = self.client.get(f"{API}/runs/{body['id']}").json()
        assert run["status"] == "done" and run["duration_ms"] is not None
        cells = run["results"]["cells"]
        assert cells and set(cells[0]) == {"cell", "count", "z", "p", "significant", "class"}
        assert run["results"]["geojson"]["type"] == "FeatureCollection"
        assert run["created_by"] == str(self.analyst)

    def test_access_is_enforced(self) -> None:
        self.login(self.analyst)
        run_id = self.queue({"kind": "kde"}).json()["id"]
        for user in (self.resident, self.partner, self.watch_coordinator):
            self.login(user)
            assert self.client.get(f"{API}/runs").status_code == 403
            assert self.client.get(f"{API}/runs/{run_id}").status_code == 403
            assert self.client.get(f"{API}/trend-alerts").status_code == 403
        self.login(self.outsider)
        assert self.client.get(f"{API}/runs/{run_id}").status_code == 404
        assert self.client.get(f"{API}/risk-zones").status_code == 404
        assert self.queue({"kind": "gi"}).status_code == 404
        self.login(self.officer)
        assert self.client.get(f"{API}/runs/{run_id + 1000}").status_code == 404

    def test_bad_requests_say_what_is_wrong(self) -> None:
        self.login(self.analyst)
        bad = self.queue({"kind": "knox", "parameters": {"permutations": 3}})
        assert bad.status_code == 400
        assert "parameters.permutations" in bad.json()["detail"]
        bad = self.queue({"kind": "gi", "offence_groups": ["nope"]})
        assert bad.status_code == 400 and "unknown offence group 'nope'" in bad.json()["detail"]
        bad = self.queue({"kind": "gi", "window_start": "2024-04-01", "window_end": "2024-01-01"})
        assert bad.status_code == 400 and "before it starts" in bad.json()["detail"]
        assert self.queue({"kind": "hexbin"}).status_code == 422
        assert not AnalysisRun.objects.exists()

    def test_risk_zones_and_trend_alerts(self) -> None:
        self.login(self.analyst)
        knox = self.queue(
            {
                "kind": "knox",
                "offence_groups": ["burglary"],
                "window_start": START,
                "parameters": {"permutations": 49},
            }
        ).json()
        assert self.client.get(f"{API}/runs/{knox['id']}").json()["status"] == "done"
        refresh_risk_zones(self.community, SEED_END)
        self.login(self.officer)
        zones = self.client.get(f"{API}/risk-zones").json()
        assert zones and all(z["exact"] and z["incident_id"] for z in zones)
        assert all(z["run_id"] == knox["id"] for z in zones)
        self.login(self.watch_coordinator)
        masked = self.client.get(f"{API}/risk-zones").json()
        assert len(masked) == len(zones)
        assert not any(z["exact"] or z["incident_id"] for z in masked)
        true_points = {(z["lat"], z["lon"]) for z in zones}
        assert not true_points & {(z["lat"], z["lon"]) for z in masked}

        self.login(self.analyst)
        empty = self.client.get(f"{API}/trend-alerts").json()
        assert empty["run_id"] is None and empty["alerts"] == []
        trend = self.queue({"kind": "trend", "window_start": START}).json()
        alerts = self.client.get(f"{API}/trend-alerts").json()
        assert alerts["run_id"] == trend["id"] and alerts["method"] == "poisson"
        stored = AnalysisRun.objects.get(pk=trend["id"]).results["alerts"]
        assert len(alerts["alerts"]) == len(stored) > 0
        first = alerts["alerts"][0]
        assert first["observed"] == stored[0]["observed"]
        assert first["p_value"] == stored[0]["p_value"]
        assert self.client.get(f"{API}/trend-alerts?run={knox['id']}").status_code == 404

    def test_endpoints_are_in_the_openapi_document(self) -> None:
        paths = api.get_openapi_schema()["paths"]
        base = "/api/v1/communities/{slug}/insights"
        assert {"get", "post"} <= set(paths[f"{base}/runs"])
        assert "get" in paths[f"{base}/runs/{{run_id}}"]
        assert "get" in paths[f"{base}/risk-zones"]
        assert "get" in paths[f"{base}/trend-alerts"]
        post = paths[f"{base}/runs"]["post"]
        assert {"200", "202", "400", "403", "404"} <= {str(k) for k in post["responses"]}
        kinds = api.get_openapi_schema()["components"]["schemas"]["RunIn"]["properties"]["kind"]
        assert set(kinds["enum"]) == set(RunKind.values)
