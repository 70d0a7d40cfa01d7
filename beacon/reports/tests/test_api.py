from __future__ import annotations

import json
from typing import Any

from beacon.core.testing import BeaconTestCase
from beacon.reports.models import Report, ReportPhoto, Status
from beacon.reports.testing import file, make_categories
from beacon.reports.tests.helpers import jpeg_with_gps

BASE = "/api/v1/communities/north"


def payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "graffiti",
        "description": "Tags on the underpass.",
        "lat": 49.27,
        "lon": -123.13,
        "answers": {"surface": "wall", "colours": ["red"]},
    }
    data.update(overrides)
    return data


class ReportApiTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_categories(cls.community)

    def post(self, url: str, data: Any, **headers: Any) -> Any:
        return self.client.post(url, json.dumps(data), content_type="application/json", **headers)

    def test_categories(self) -> None:
        response = self.client.get(f"{BASE}/report-categories")
        codes = [c["code"] for c in response.json()]
        assert codes == ["graffiti", "drugs"] or set(codes) == {"graffiti", "drugs"}
        graffiti = next(c for c in response.json() if c["code"] == "graffiti")
        assert {q["datatype"] for q in graffiti["questions"]} == {
            "string",
            "number",
            "datetime",
            "text",
            "singlevaluelist",
            "multivaluelist",
        }

    def test_idempotent_filing(self) -> None:
        first = self.post(f"{BASE}/reports", payload(), HTTP_IDEMPOTENCY_KEY="retry-1")
        assert first.status_code == 201, first.content
        again = self.post(f"{BASE}/reports", payload(), HTTP_IDEMPOTENCY_KEY="retry-1")
        assert again.status_code == 201
        assert again.json() == first.json()
        assert Report.objects.count() == 1
        other = self.post(
            f"{BASE}/reports", payload(description="Different"), HTTP_IDEMPOTENCY_KEY="retry-1"
        )
        assert other.status_code == 409
        assert Report.objects.count() == 1

    def test_errors_are_clear_and_store_nothing(self) -> None:
        for data, field in [
            (payload(lat=40.7, lon=-74.0), "location"),
            (payload(category="potholes"), "category"),
            (payload(answers={}), "answers.surface"),
            (payload(description="y" * 5000), "description"),
        ]:
            response = self.post(f"{BASE}/reports", data)
            assert response.status_code == 400, response.content
            body = response.json()
            assert field in body["errors"], body
            assert body["detail"]
        assert Report.objects.count() == 0

    def test_photos_by_multipart(self) -> None:
        ok = self.client.post(
            f"{BASE}/reports/with-photos",
            {"data": json.dumps(payload()), "photos": [self._photo("a.jpg", jpeg_with_gps())]},
        )
        assert ok.status_code == 201, ok.content
        assert ok.json()["photos"] == 1
        fake = self.client.post(
            f"{BASE}/reports/with-photos",
            {"data": json.dumps(payload()), "photos": [self._photo("b.jpg", b"plain text")]},
        )
        assert fake.status_code == 400
        assert "photos" in fake.json()["errors"]
        assert Report.objects.count() == 1
        for row in ReportPhoto.objects.all():
            row.image.delete(save=False)

    @staticmethod
    def _photo(name: str, data: bytes) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile(name, data, content_type="image/jpeg")

    def test_tip_follow_up(self) -> None:
        filed = self.post(f"{BASE}/reports", payload()).json()
        wrong = self.post(f"{BASE}/tips/open", {"code": filed["tip_code"], "passphrase": "x"})
        unknown = self.post(f"{BASE}/tips/open", {"code": "11111-11111", "passphrase": "x"})
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.json() == unknown.json()
        creds = {"code": filed["tip_code"], "passphrase": filed["passphrase"]}
        opened = self.post(f"{BASE}/tips/open", creds)
        assert opened.status_code == 200 and opened.json()["status"] == "new"
        replied = self.post(f"{BASE}/tips/reply", {**creds, "body": "More detail"})
        assert replied.json()["updates"][-1]["body"] == "More detail"

    def test_public_reports_are_masked(self) -> None:
        public = file(self.community).report
        file(self.community, category="drugs")
        rows = self.client.get(f"{BASE}/reports").json()
        assert [r["id"] for r in rows] == [public.pk]
        assert (rows[0]["lat"], rows[0]["lon"]) == (public.public_lat, public.public_lon)

    def test_staff_triage(self) -> None:
        report = file(self.community).report
        assert self.client.get(f"{BASE}/queue").status_code == 401
        self.login(self.resident)
        assert self.client.get(f"{BASE}/queue").status_code == 403
        self.login(self.officer)
        rows = self.client.get(f"{BASE}/queue?status=new").json()
        assert [r["id"] for r in rows] == [report.pk]
        changed = self.post(
            f"{BASE}/queue/{report.pk}/status",
            {"status": "acknowledged", "message": "Seen", "visibility": "public"},
        )
        assert changed.status_code == 200, changed.content
        assert changed.json()["status"] == Status.ACKNOWLEDGED
        bad = self.post(f"{BASE}/queue/{report.pk}/status", {"status": "new"})
        assert bad.status_code == 400
        note = self.post(
            f"{BASE}/queue/{report.pk}/updates", {"body": "Check CCTV", "visibility": "internal"}
        )
        assert note.json()["updates"][-1]["visibility"] == "internal"
        assigned = self.post(f"{BASE}/queue/{report.pk}/assign", {"officer": self.officer.email})
        assert assigned.json()["assigned_to"] == self.officer.email

    def test_openapi_document_lists_the_operations(self) -> None:
        paths = self.client.get("/api/v1/openapi.json").json()["paths"]
        for path in (
            "/api/v1/communities/{slug}/reports",
            "/api/v1/communities/{slug}/reports/with-photos",
            "/api/v1/communities/{slug}/tips/open",
            "/api/v1/communities/{slug}/queue/{report_id}/status",
        ):
            assert path in paths, path
