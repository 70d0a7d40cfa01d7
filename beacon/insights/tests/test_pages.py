"""Dashboards: who sees what, filters that select or queue runs, status polling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from beacon.core.navigation import staff_links
from beacon.core.roles import Role
from beacon.core.testing import BeaconTestCase
from beacon.insights import services
from beacon.insights.models import AnalysisRun, RunKind, RunStatus
from beacon.insights.testing import SEED_DAYS, SEED_END, make_run, seed_incidents
from beacon.officers.services import assign_beat

START = SEED_END - dt.timedelta(days=SEED_DAYS - 1)
BASE = "/c/north/insights"
PAGES = ["/", "/hotspots/", "/forecast/", "/trends/"]


def computed(community: Any, kind: str, groups: list[str], **parameters: Any) -> AnalysisRun:
    run = services.create_run(
        community,
        kind,
        offence_groups=groups,
        window_start=START,
        window_end=SEED_END,
        parameters=parameters,
        enqueue=False,
    )
    done = services.execute_run(run.pk)
    assert done is not None and done.status == RunStatus.DONE, done and done.error
    return done


class PageTests(BeaconTestCase):
    gi: AnalysisRun
    kde: AnalysisRun
    knox: AnalysisRun
    forecast: AnalysisRun
    trend: AnalysisRun

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)
        cls.gi = computed(cls.community, RunKind.GI, [])
        cls.kde = computed(cls.community, RunKind.KDE, [])
        cls.knox = computed(cls.community, RunKind.KNOX, ["burglary"], permutations=49)
        cls.forecast = computed(
            cls.community, RunKind.FORECAST, ["burglary", "vehicle"], method="naive"
        )
        cls.trend = computed(cls.community, RunKind.TREND, [])
        from beacon.insights.zones import refresh_risk_zones

        refresh_risk_zones(cls.community, SEED_END)

    def test_anonymous_are_sent_to_sign_in(self) -> None:
        for page in [*PAGES, "/near-repeat/"]:
            response = self.client.get(BASE + page)
            assert response.status_code == 302 and "login" in response["Location"], page

    def test_members_without_the_right_get_403_and_outsiders_404(self) -> None:
        for user in (self.resident, self.partner, self.watch_coordinator):
            self.login(user)
            for page in PAGES:
                assert self.client.get(BASE + page).status_code == 403, (user, page)
        self.login(self.resident)
        assert self.client.get(BASE + "/near-repeat/").status_code == 403
        self.login(self.outsider)
        for page in [*PAGES, "/near-repeat/", f"/runs/{self.gi.pk}/"]:
            assert self.client.get(BASE + page).status_code == 404, page

    def test_staff_see_every_dashboard(self) -> None:
        for user in (self.officer, self.analyst, self.supervisor, self.admin):
            self.login(user)
            for page in [*PAGES, "/near-repeat/", f"/runs/{self.gi.pk}/"]:
                response = self.client.get(BASE + page)
                assert response.status_code == 200, (user, page)
                assert b"<script>" not in response.content  # no inline scripts (CSP)

    def test_hotspot_page_shows_the_stored_layers(self) -> None:
        self.login(self.officer)
        response = self.client.get(BASE + "/hotspots/")
        page = response.content.decode()
        assert f"/insights/runs/{self.gi.pk}/map.json" in page
        assert f"/insights/runs/{self.kde.pk}/map.json" in page
        assert "Strongest hot spots" in page
        data = self.client.get(f"{BASE}/runs/{self.gi.pk}/map.json").json()
        assert data["type"] == "FeatureCollection"
        assert len(data["features"]) == self.gi.results["n_cells"]
        assert {f["properties"]["class"] for f in data["features"]} <= {"hot", "cold", "ns"}
        # Choosing the stored KDE run shows it with its Gi* twin.
        chosen = self.client.get(f"{BASE}/hotspots/?run={self.kde.pk}").content.decode()
        assert f"/insights/runs/{self.gi.pk}/map.json" in chosen
        # A Knox run has no map layer; an unknown run is 404.
        assert self.client.get(f"{BASE}/runs/{self.knox.pk}/map.json").status_code == 404
        assert self.client.get(f"{BASE}/runs/999999/map.json").status_code == 404
        assert self.client.get(f"{BASE}/hotspots/?run=abc").status_code == 404

    def test_a_filter_without_a_stored_run_offers_to_queue_it(self) -> None:
        query = "?group=vehicle&window_start=2024-03-01&window_end=2024-04-29"
        self.login(self.officer)
        page = self.client.get(BASE + "/hotspots/" + query).content.decode()
        assert "No stored analysis covers" in page and "An analyst can queue it." in page
        response = self.client.post(
            BASE + "/runs/new/",
            {"kind": "gi", "offence_groups": ["vehicle"], "window_start": "2024-03-01"},
        )
        assert response.status_code == 403
        self.login(self.analyst)
        page = self.client.get(BASE + "/hotspots/" + query).content.decode()
        assert "Queue Hot spots (Getis-Ord Gi*)" in page
        for kind in ("gi", "kde"):
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(
                    BASE + "/runs/new/",
                    {
                        "kind": kind,
                        "offence_groups": ["vehicle"],
                        "window_start": "2024-03-01",
                        "window_end": "2024-04-29",
                        "next": BASE + "/hotspots/" + query,
                    },
                )
            assert response.status_code == 302
            assert response["Location"] == BASE + "/hotspots/" + query
        runs = AnalysisRun.objects.filter(kind__in=["gi", "kde"], window_start="2024-03-01")
        assert runs.count() == 2 and {r.status for r in runs} == {"done"}
        assert all(r.created_by == self.analyst for r in runs)
        page = self.client.get(BASE + "/hotspots/" + query).content.decode()
        assert "No stored analysis" not in page
        gi = runs.get(kind="gi")
        assert f"/insights/runs/{gi.pk}/map.json" in page
        # Asking again finds the stored run instead of queueing another.
        self.client.post(
            BASE + "/runs/new/",
            {
                "kind": "gi",
                "offence_groups": ["vehicle"],
                "window_start": "2024-03-01",
                "window_end": "2024-04-29",
            },
        )
        assert AnalysisRun.objects.filter(kind="gi", window_start="2024-03-01").count() == 1

    def test_bad_requests_are_refused_with_the_reason(self) -> None:
        self.login(self.analyst)
        response = self.client.post(
            BASE + "/runs/new/",
            {"kind": "gi", "window_start": "2024-04-01", "window_end": "2024-03-01"},
            follow=True,
        )
        assert "The end date is before the start date." in response.content.decode()
        response = self.client.post(
            BASE + "/runs/new/", {"kind": "gi", "next": "https://evil.example/"}
        )
        assert response.status_code == 302 and "evil" not in response["Location"]
        page = self.client.get(
            BASE + "/hotspots/?window_start=2024-04-01&window_end=2024-03-01"
        ).content.decode()
        assert "The end date is before the start date." in page

    def test_status_is_polled_until_done(self) -> None:
        queued = make_run(self.community, RunKind.GI, window_start=START, window_end=SEED_END)
        self.login(self.officer)
        fragment = self.client.get(f"{BASE}/runs/{queued.pk}/", headers={"HX-Request": "true"})
        text = fragment.content.decode()
        assert "hx-trigger" in text and "Queued" in text and "<html" not in text
        assert self.client.get(f"{BASE}/runs/{queued.pk}/map.json").status_code == 409
        services.execute_run(queued.pk)
        done = self.client.get(f"{BASE}/runs/{queued.pk}/?reload=1", headers={"HX-Request": "true"})
        assert done["HX-Refresh"] == "true" and "hx-trigger" not in done.content.decode()

    def test_near_repeat_for_officers_and_coordinators(self) -> None:
        east = self.area("East beat")
        assign_beat(east, self.officer, actor=self.supervisor)
        self.login(self.officer)
        page = self.client.get(BASE + "/near-repeat/").content.decode()
        assert "Knox tests" in page and "in-zone" in page
        assert "your area" in page
        zones = self.client.get(BASE + "/near-repeat/zones.json").json()["features"]
        assert zones and all(f["properties"]["exact"] for f in zones)
        self.login(self.watch_coordinator)
        page = self.client.get(BASE + "/near-repeat/").content.decode()
        assert "Knox tests" not in page and "Locations are approximate" in page
        assert "/staff/c/north/incidents/" not in page
        zones = self.client.get(BASE + "/near-repeat/zones.json").json()["features"]
        assert zones and not any(f["properties"]["exact"] for f in zones)

    def test_forecast_page_puts_the_officers_beat_first(self) -> None:
        west = self.area("West beat")
        assign_beat(west, self.officer, actor=self.supervisor)
        self.login(self.officer)
        page = self.client.get(BASE + "/forecast/").content.decode()
        assert "Patrol plan by beat" in page and "your beat" in page
        assert page.index("West beat") < page.index("East beat")
        assert "How well did it forecast?" in page
        layer = self.client.get(f"{BASE}/runs/{self.forecast.pk}/map.json").json()
        kinds = {f["properties"].get("layer", "cell") for f in layer["features"]}
        assert kinds == {"cell", "patrol"}

    def test_trend_page_shows_the_figures(self) -> None:
        self.login(self.analyst)
        page = self.client.get(BASE + "/trends/").content.decode()
        assert "Northside" in page and "Theft" in page
        assert "Benjamini" in page
        chosen = self.client.get(f"{BASE}/trends/?run={self.gi.pk}")
        assert chosen.status_code == 404  # not a trend run

    def test_navigation_links_by_role(self) -> None:
        officer = dict((label, url) for url, label in staff_links("north", {Role.OFFICER}))
        assert officer["Hot spots"] == BASE + "/hotspots/"
        assert "Near-repeat risk zones" in officer and "Trend alerts" in officer
        coordinator = {label for _, label in staff_links("north", {Role.WATCH_COORDINATOR})}
        assert "Near-repeat risk zones" in coordinator and "Hot spots" not in coordinator
        resident = {label for _, label in staff_links("north", {Role.RESIDENT})}
        assert "Near-repeat risk zones" not in resident
