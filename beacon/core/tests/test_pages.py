from __future__ import annotations

import json
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

from beacon.core.models import Area, AuditEvent
from beacon.core.navigation import Link, section_links
from beacon.core.testing import NORTH_BOX, BeaconTestCase, box_polygon

WEST, SOUTH, EAST, NORTH = NORTH_BOX


class PublicPageTests(BeaconTestCase):
    def test_home_lists_communities(self) -> None:
        response = self.client.get("/")
        assert response.status_code == 200
        self.assertContains(response, "North")

    def test_community_home_shows_map_and_areas(self) -> None:
        response = self.client.get("/c/north/")
        assert response.status_code == 200
        self.assertContains(response, 'data-map="areas"')
        self.assertContains(response, "West beat")
        assert self.client.get("/c/nowhere/").status_code == 404

    def test_areas_geojson(self) -> None:
        data = self.client.get("/c/north/areas.geojson?kind=beat").json()
        assert data["type"] == "FeatureCollection"
        assert {f["properties"]["name"] for f in data["features"]} == {"West beat", "East beat"}

    def test_admin_login_page(self) -> None:
        response = self.client.get("/admin/login/")
        assert response.status_code == 200
        self.assertContains(response, "otp_token")

    def test_french_translation_via_language_switch(self) -> None:
        response = self.client.post("/i18n/setlang/", {"language": "fr", "next": "/c/north/"})
        assert response.status_code == 302
        page = self.client.get("/c/north/")
        assert page.status_code == 200
        self.assertContains(page, 'lang="fr"')
        self.assertContains(page, "Quartiers et secteurs")

    def test_no_external_scripts_or_styles(self) -> None:
        page = self.client.get("/c/north/").content.decode()
        assert "http://" not in page.replace("http://www.w3.org", "")
        assert "https://" not in page
        assert "<script>" not in page and "style=" not in page


class AreaEditorTests(BeaconTestCase):
    url = "/staff/c/north/areas/"

    def test_roles(self) -> None:
        self.login(self.resident)
        assert self.client.get(self.url).status_code == 403
        self.login(self.outsider)
        assert self.client.get(self.url).status_code == 404
        self.login(self.analyst)
        assert self.client.get(self.url).status_code == 200
        assert AuditEvent.objects.filter(outcome="denied").count() >= 2

    def test_anonymous_is_sent_to_sign_in(self) -> None:
        response = self.client.get(self.url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_draw_an_area(self) -> None:
        self.login(self.supervisor)
        geometry = json.dumps(box_polygon(WEST, SOUTH, -123.13, 49.27))
        response = self.client.post(
            self.url, {"name": "Park district", "kind": "district", "geometry": geometry}
        )
        assert response.status_code == 302
        area = Area.objects.get(name="Park district")
        assert area.cells.exists()
        assert AuditEvent.objects.filter(action="create", object_id=str(area.pk)).exists()

    def test_bad_polygon_shows_the_reason_and_saves_nothing(self) -> None:
        self.login(self.supervisor)
        count = Area.objects.count()
        outside = json.dumps(box_polygon(0, 0, 1, 1))
        response = self.client.post(self.url, {"name": "Far", "kind": "beat", "geometry": outside})
        assert response.status_code == 200
        self.assertContains(response, "outside the community boundary")
        response = self.client.post(self.url, {"name": "Bad", "kind": "beat", "geometry": "{"})
        self.assertContains(response, "Not valid JSON")
        assert Area.objects.count() == count

    def test_edit_and_delete(self) -> None:
        self.login(self.admin)
        area = self.area("West beat")
        url = f"/staff/c/north/areas/{area.pk}/"
        assert self.client.get(url).status_code == 200
        geometry = json.dumps(box_polygon(WEST, SOUTH, -123.12, NORTH))
        response = self.client.post(
            url, {"name": "West beat", "kind": "beat", "geometry": geometry}
        )
        assert response.status_code == 302
        assert self.client.post(url, {"delete": "1"}).status_code == 302
        assert not Area.objects.filter(pk=area.pk).exists()

    def test_outsider_cannot_reach_another_communitys_area(self) -> None:
        self.login(self.outsider)
        area = self.area("West beat")
        assert self.client.get(f"/staff/c/north/areas/{area.pk}/").status_code == 404


class ApiTests(BeaconTestCase):
    def test_openapi_document(self) -> None:
        response = self.client.get("/api/v1/openapi.json")
        assert response.status_code == 200
        assert "/api/v1/communities/{slug}/area-at" in response.json()["paths"]

    def test_area_at(self) -> None:
        response = self.client.get(
            "/api/v1/communities/north/area-at", {"kind": "beat", "lat": "49.27", "lon": "-123.135"}
        )
        assert response.status_code == 200 and response.json()["name"] == "West beat"
        outside = self.client.get(
            "/api/v1/communities/north/area-at", {"kind": "beat", "lat": "10", "lon": "10"}
        )
        assert outside.status_code == 404
        bad = self.client.get(
            "/api/v1/communities/north/area-at", {"kind": "beat", "lat": "123", "lon": "10"}
        )
        assert bad.status_code == 422

    def test_create_area_through_the_api(self) -> None:
        self.login(self.analyst)
        payload = {
            "kind": "district",
            "name": "D1",
            "geometry": box_polygon(WEST, SOUTH, -123.13, NORTH),
        }
        response = self.client.post(
            "/api/v1/communities/north/areas", payload, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        bad = self.client.post(
            "/api/v1/communities/north/areas",
            {**payload, "name": "D2", "geometry": box_polygon(0, 0, 1, 1)},
            content_type="application/json",
        )
        assert bad.status_code == 400 and "outside" in bad.json()["detail"]
        self.login(self.resident)
        denied = self.client.post(
            "/api/v1/communities/north/areas",
            {**payload, "name": "D3"},
            content_type="application/json",
        )
        assert denied.status_code == 403


class CacheTests(BeaconTestCase):
    def test_signed_in_pages_are_not_stored(self) -> None:
        assert "no-store" not in self.client.get("/c/north/").get("Cache-Control", "")
        self.login(self.officer)
        assert "no-store" in self.client.get("/c/north/")["Cache-Control"]
        assert "no-store" in self.client.get("/staff/")["Cache-Control"]


class NavigationTests(BeaconTestCase):
    def test_dashboard_links_follow_roles(self) -> None:
        self.login(self.officer)
        officer_page = self.client.get("/staff/").content.decode()
        assert "/staff/c/north/reports/" in officer_page
        self.login(self.resident)
        resident_page = self.client.get("/staff/").content.decode()
        assert "/staff/c/north/reports/" not in resident_page

    def test_community_home_links_to_public_pages(self) -> None:
        page = self.client.get("/c/north/").content.decode()
        assert "/c/north/report" in page
        # Residents find their officer and their watch group from the community's page.
        assert 'href="/c/north/officers/"' in page
        assert 'href="/c/north/watch/"' in page

    def test_dashboard_groups_links_in_sections(self) -> None:
        self.login(self.analyst)
        page = self.client.get("/staff/").content.decode()
        headings = ["Reports and concerns", "Officers and beats", "Crime data and analysis"]
        positions = [page.index(f"<h3>{heading}</h3>") for heading in headings]
        assert positions == sorted(positions)
        # Each link sits under its own section's heading.
        crime = page.index("<h3>Crime data and analysis</h3>")
        assert page.index("/staff/c/north/reports/") < crime < page.index("/c/north/insights/")
        assert page.index("<h3>Officers and beats</h3>") < page.index("/staff/c/north/areas/")
        self.login(self.resident)
        assert "<h3>" not in self.client.get("/staff/").content.decode()

    def test_a_staff_link_without_a_known_section_is_refused_by_name(self) -> None:
        module = ModuleType("beacon.example.navigation")
        module.STAFF_LINKS = [Link("example:page", "Example")]  # type: ignore[attr-defined]
        expected = r"beacon\.example\.navigation\.SECTION is None; it must be one of reports"
        with pytest.raises(ImproperlyConfigured, match=expected):
            section_links(module)
        module.SECTION = "crime"  # type: ignore[attr-defined]
        assert section_links(module) == [("crime", Link("example:page", "Example"))]

    def test_officers_and_supervisors_find_their_beat_pages(self) -> None:
        self.login(self.officer)
        officer_page = self.client.get("/staff/").content.decode()
        assert "/staff/c/north/officers/me/" in officer_page
        assert "/staff/c/north/officers/workload/" not in officer_page
        self.login(self.supervisor)
        supervisor_page = self.client.get("/staff/").content.decode()
        assert "/staff/c/north/officers/workload/" in supervisor_page
