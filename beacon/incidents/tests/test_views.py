from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.incidents.models import Incident, IncidentImport
from beacon.incidents.privacy import publish_community
from beacon.incidents.testing import make_incident
from beacon.incidents.tests.test_privacy import NOW, PublicationCase, when

CSV = (
    "id,occurred_at,category,lat,lon,block\n"
    "u1,2024-03-01T22:15:00,Theft from Vehicle,49.2701,-123.1201,10XX MAIN ST\n"
    "u2,bad,Burglary,49.2702,-123.1202,11XX MAIN ST\n"
)
POLICEUK = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context\n"
    "p1,2024-02,Force,Force,-123.1201,49.2701,On or near Main Street,E0,Area 1,Burglary,"
    "Under investigation,\n"
)


class PublicPageTests(PublicationCase):
    def setUp(self) -> None:
        super().setUp()
        publish_community(self.community, now=NOW)

    def test_community_home_links_to_map_and_stats(self) -> None:
        page = self.client.get(reverse("core:community", args=["north"]))
        assert reverse("incidents:map", args=["north"]).encode() in page.content
        assert reverse("incidents:stats", args=["north"]).encode() in page.content

    def test_map_page_has_filters_legend_data_and_freshness(self) -> None:
        page = self.client.get(reverse("incidents:map", args=["north"]))
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-map="crime"' in html and "crime-map.js" in html
        assert "Published data covers January 2024 to April 2024" in html
        assert 'name="group" value="theft"' in html
        assert 'value="sexual"' not in html  # never offered on the map
        assert "<script>" not in html  # CSP: no inline scripts

    def test_map_data_switches_from_hexagons_to_points(self) -> None:
        url = reverse("incidents:map_data", args=["north"])
        zoomed_out = self.client.get(url, {"zoom": "11"}).json()
        assert zoomed_out["layer"] == "hexagons" and zoomed_out["resolution"] == 7
        assert zoomed_out["features"][0]["geometry"]["type"] == "Polygon"
        zoomed_in = self.client.get(
            url, {"zoom": "16", "bbox": "-123.14,49.26,-123.11,49.28"}
        ).json()
        assert zoomed_in["layer"] == "points"
        assert zoomed_in["features"][0]["geometry"]["type"] == "Point"
        assert self.client.get(url, {"zoom": "16", "bbox": "nonsense"}).status_code == 400
        assert self.client.get(url, {"from": "2024-13"}).status_code == 400

    def test_map_data_is_cached_per_publication(self) -> None:
        url = reverse("incidents:map_data", args=["north"])

        def cells() -> dict[str, Any]:
            features = self.client.get(url, {"zoom": "11"}).json()["features"]
            return {f["id"]: f["properties"] for f in features}

        before = cells()
        lat, lon = self.sites[0]
        for day in range(1, 21):
            make_incident(
                self.community, lat=lat, lon=lon, offence="theft_from_vehicle", when=when(2, day)
            )
        assert cells() == before  # not yet published: the cached answer still holds
        publish_community(self.community, now=NOW)
        after = cells()
        assert after != before  # a new publication is a new cache key
        grown = [
            cell for cell in after if after[cell]["high"] > before.get(cell, {"high": 0})["high"]
        ]
        assert grown, "the 20 new incidents show in the republished map"

    def test_stats_page_tables_and_charts(self) -> None:
        page = self.client.get(
            reverse("incidents:stats", args=["north"]), {"from": "2024-01", "to": "2024-04"}
        )
        assert page.status_code == 200
        html = page.content.decode()
        for heading in (
            "By offence group",
            "By month",
            "By neighbourhood",
            "By time of day and day of week",
        ):
            assert heading in html
        assert html.count("<table") == 4 and html.count("<img") == 4
        assert "Northside" in html
        chart = self.client.get(reverse("incidents:chart", args=["north", "months"]))
        assert chart["Content-Type"] == "image/svg+xml" and b"<svg" in chart.content
        for name in ("groups", "neighbourhoods", "time"):
            assert (
                self.client.get(reverse("incidents:chart", args=["north", name])).status_code == 200
            )
        assert (
            self.client.get(reverse("incidents:chart", args=["north", "nope"])).status_code == 404
        )

    def test_rates_per_thousand_residents(self) -> None:
        area = self.area("Northside")
        area.population = 2000
        area.save()
        data = self.client.get(
            "/api/v1/communities/north/crime/stats?from=2024-01&to=2024-04"
        ).json()
        row = next(r for r in data["by_neighbourhood"] if r["name"] == "Northside")
        assert row["per_1000"] == f"{1000 * row['count'] / 2000:.1f}"

    def test_year_on_year_change(self) -> None:
        for _ in range(6):
            make_incident(
                self.community,
                lat=49.27,
                lon=-123.125,
                offence="robbery",
                when=dt.datetime(2023, 2, 10, 12, tzinfo=dt.UTC),
            )
        for _ in range(9):
            make_incident(self.community, lat=49.27, lon=-123.125, offence="robbery", when=when(2))
        publish_community(self.community, now=NOW)
        data = self.client.get(
            "/api/v1/communities/north/crime/stats?from=2024-02&to=2024-02&group=robbery"
        ).json()
        assert data["total"]["current"]["count"] == 9
        assert data["total"]["previous"]["count"] == 6
        assert data["total"]["change"] == "+50%"

    def test_open_data_page_and_downloads(self) -> None:
        page = self.client.get(reverse("incidents:open_data", args=["north"]))
        assert b"Data dictionary" in page.content and b"at least 8 distinct sites" in page.content
        csv_response = self.client.get(reverse("incidents:download_csv", args=["north"]))
        text = b"".join(csv_response.streaming_content).decode()  # type: ignore[attr-defined]
        assert text.splitlines()[0].startswith("month,offence_group,")
        geo_response: Any = self.client.get(reverse("incidents:download_geojson", args=["north"]))
        geo = json.loads(b"".join(geo_response.streaming_content))
        assert geo["metadata"]["method"]["k_sites"] == 8
        assert geo["metadata"]["dictionary"]["cell"]
        meta = self.client.get("/api/v1/communities/north/crime/metadata").json()
        assert meta["published_through"] == "2024-04"

    def test_outsiders_of_a_community_see_the_public_pages_too(self) -> None:
        self.login(self.outsider)
        assert self.client.get(reverse("incidents:map", args=["north"])).status_code == 200


class StaffTests(BeaconTestCase):
    def setUp(self) -> None:
        self.incident = make_incident(self.community, block_address="12XX MAIN ST")

    def test_staff_list_detail_and_points(self) -> None:
        self.login(self.officer)
        page = self.client.get(reverse("incidents:staff_list", args=["north"]))
        assert page.status_code == 200 and b"12XX MAIN ST" in page.content
        detail = self.client.get(
            reverse("incidents:staff_detail", args=["north", self.incident.pk])
        )
        assert detail.status_code == 200 and b"49.27" in detail.content
        points = self.client.get(reverse("incidents:staff_points", args=["north"])).json()
        assert points["features"][0]["geometry"]["coordinates"] == [-123.125, 49.27]
        filtered = self.client.get(
            reverse("incidents:staff_list", args=["north"]), {"group": "robbery"}
        )
        assert b"12XX MAIN ST" not in filtered.content

    def test_dashboard_links_follow_roles(self) -> None:
        self.login(self.officer)
        page = self.client.get(reverse("core:dashboard")).content.decode()
        assert reverse("incidents:staff_list", args=["north"]) in page
        assert reverse("incidents:import_list", args=["north"]) not in page
        self.client.logout()
        self.login(self.analyst)
        page = self.client.get(reverse("core:dashboard")).content.decode()
        assert reverse("incidents:import_list", args=["north"]) in page

    def test_residents_get_403_and_outsiders_404(self) -> None:
        for user, status in ((self.resident, 403), (self.partner, 403), (self.outsider, 404)):
            self.client.logout()
            self.login(user)
            for url in (
                reverse("incidents:staff_list", args=["north"]),
                reverse("incidents:staff_detail", args=["north", self.incident.pk]),
                reverse("incidents:staff_points", args=["north"]),
            ):
                assert self.client.get(url).status_code == status, (user, url)
        self.client.logout()
        response = self.client.get(reverse("incidents:staff_list", args=["north"]))
        assert response.status_code == 302  # to sign in

    def test_edits_are_audited_and_keep_derived_fields(self) -> None:
        self.login(self.officer)
        url = reverse("incidents:staff_detail", args=["north", self.incident.pk])
        form = self.client.get(url).context["form"]
        data = {k: ("" if v is None else v) for k, v in form.initial.items()}
        data.update(offence="sexual_assault", status="investigating", lat="49.275", lon="-123.13")
        data["occurred_from"] = self.incident.occurred_from.strftime("%Y-%m-%d %H:%M:%S")
        data.pop("sensitive", None)
        response = self.client.post(url, data)
        assert response.status_code == 302, response.content[:2000]
        incident = Incident.objects.get(pk=self.incident.pk)
        assert incident.offence_group == "sexual" and incident.sensitive
        assert incident.status == "investigating" and incident.lat == 49.275
        event = AuditEvent.objects.filter(action="update", object_id=str(incident.pk)).last()
        assert event is not None and event.actor == self.officer
        assert event.detail["changed"]["offence"] == ["theft_other", "sexual_assault"]

    def test_upload_is_imported_by_the_worker_with_progress_and_rejections(self) -> None:
        self.login(self.analyst)
        url = reverse("incidents:import_list", args=["north"])
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                url,
                {
                    "file": SimpleUploadedFile("in.csv", CSV.encode()),
                    "fmt": "beacon",
                    "on_error": "skip",
                    "time_format": "iso",
                },
            )
        assert response.status_code == 302
        record = IncidentImport.objects.get()
        assert (record.status, record.imported, record.rejected) == ("succeeded", 1, 1)
        assert record.rejections == [[3, "cannot read occurred_at 'bad' as a date/time"]]
        page = self.client.get(response["Location"])
        assert b"cannot read occurred_at" in page.content and b"100" in page.content
        partial = self.client.get(response["Location"], headers={"HX-Request": "true"})
        assert b"<html" not in partial.content

    def test_officers_cannot_upload(self) -> None:
        self.login(self.officer)
        response = self.client.post(
            reverse("incidents:import_list", args=["north"]),
            {
                "file": SimpleUploadedFile("in.csv", CSV.encode()),
                "fmt": "beacon",
                "on_error": "skip",
            },
        )
        assert response.status_code == 403

    def test_policy_page_for_managers_republishes(self) -> None:
        self.login(self.officer)
        assert self.client.get(reverse("incidents:policy", args=["north"])).status_code == 403
        self.client.logout()
        self.login(self.supervisor)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("incidents:policy", args=["north"]), {"k_sites": 10, "delay_days": 14}
            )
        assert response.status_code == 302
        assert self.community.publication_policy.k_sites == 10


class ApiTests(BeaconTestCase):
    def setUp(self) -> None:
        self.incident = make_incident(self.community)

    def test_staff_api_lists_and_patches_with_audit(self) -> None:
        self.login(self.analyst)
        rows = self.client.get("/api/v1/communities/north/incidents").json()
        assert rows[0]["lat"] == 49.27
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.patch(
                f"/api/v1/communities/north/incidents/{self.incident.pk}",
                data=json.dumps({"status": "cleared"}),
                content_type="application/json",
            )
        assert response.status_code == 200 and response.json()["status"] == "cleared"
        assert AuditEvent.objects.filter(action="update", object_id=str(self.incident.pk)).exists()

    def test_staff_api_refuses_residents_and_outsiders(self) -> None:
        self.login(self.resident)
        assert self.client.get("/api/v1/communities/north/incidents").status_code == 403
        self.client.logout()
        self.login(self.outsider)
        assert self.client.get("/api/v1/communities/north/incidents").status_code == 404
        self.client.logout()
        assert self.client.get("/api/v1/communities/north/incidents").status_code == 401

    def test_upload_through_the_api_is_idempotent(self) -> None:
        self.login(self.admin)

        def upload() -> dict[str, object]:
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(
                    "/api/v1/communities/north/incident-imports",
                    {"file": SimpleUploadedFile("uk.csv", POLICEUK.encode()), "format": "policeuk"},
                    headers={"Idempotency-Key": "upload-1"},
                )
            assert response.status_code == 202, response.content
            return response.json()

        first = upload()
        second = upload()
        assert first["id"] == second["id"]
        assert IncidentImport.objects.count() == 1
        status = self.client.get(f"/api/v1/communities/north/incident-imports/{first['id']}").json()
        assert status["status"] == "succeeded" and status["imported"] == 1
        incident = Incident.objects.get(external_id="p1")
        assert incident.block_address == "On or near Main Street" and incident.offence == "burglary"
        assert incident.local_hour is None  # police.uk gives the month only
