from __future__ import annotations

import logging
import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.reports.models import Report, ReportPhoto, Status
from beacon.reports.testing import file, make_categories
from beacon.reports.tests.helpers import jpeg_with_gps


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "graffiti",
        "description": "Fresh tags on the library wall.",
        "lat": "49.27",
        "lon": "-123.13",
        "q-graffiti-surface": "wall",
    }
    data.update(overrides)
    return data


class ReportPageTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_categories(cls.community)

    def url(self) -> str:
        return reverse("reports:report", args=[self.community.slug])

    def test_home_page_links_to_the_report_page(self) -> None:
        page = self.client.get(reverse("core:community", args=[self.community.slug]))
        assert self.url() in page.content.decode()

    def test_form_shows_categories_and_questions(self) -> None:
        page = self.client.get(self.url())
        html = page.content.decode()
        assert page.status_code == 200
        assert "Vandalism and graffiti" in html and "What is it on?" in html
        assert 'name="website"' in html  # the honeypot
        assert "<script>" not in html and "style=" not in html

    def test_filing_with_a_photo_shows_code_and_passphrase_once(self) -> None:
        photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
        with self.assertLogs("beacon", level=logging.DEBUG) as logs:
            logging.getLogger("beacon").debug("marker")
            response = self.client.post(
                self.url(),
                form(photos=photo),
                REMOTE_ADDR="203.0.113.9",
                HTTP_USER_AGENT="Mozilla/5.0 TestAgent",
            )
        assert response.status_code == 200, response.content.decode()[:2000]
        html = response.content.decode()
        report = Report.objects.get()
        assert report.tip_code in html
        passphrase = re.search(r'id="passphrase">([^<]+)<', html)
        assert passphrase and len(passphrase.group(1)) == 19
        assert "no-store" in response["Cache-Control"]
        assert report.photos.count() == 1
        # Nothing about the source is kept or logged.
        stored = str(list(Report.objects.values())) + str(list(AuditEvent.objects.values()))
        assert "203.0.113.9" not in stored and "TestAgent" not in stored
        assert not any("203.0.113.9" in line for line in logs.output)
        assert not response.cookies.get("sessionid")
        for photo_row in ReportPhoto.objects.all():
            photo_row.image.delete(save=False)

    def test_errors_are_shown_and_nothing_is_stored(self) -> None:
        cases = [
            (form(lat="40.7", lon="-74.0"), "outside"),
            (form(category="potholes"), "Unknown category"),
            (form(**{"q-graffiti-surface": ""}), "needs an answer"),
            (form(description="x" * 5000), "5000 characters"),
            (
                form(photos=SimpleUploadedFile("fake.jpg", b"hello" * 100, "image/jpeg")),
                "not a JPEG, PNG or WebP",
            ),
        ]
        for data, message in cases:
            response = self.client.post(self.url(), data)
            assert response.status_code == 400
            assert message in response.content.decode(), message
        assert Report.objects.count() == 0
        assert ReportPhoto.objects.count() == 0

    def test_honeypot_discards_silently(self) -> None:
        response = self.client.post(self.url(), form(website="http://spam.example"))
        assert response.status_code == 200
        assert Report.objects.count() == 0

    def test_a_flood_from_one_source_is_limited_but_others_get_through(self) -> None:
        statuses = [
            self.client.post(self.url(), form(), REMOTE_ADDR="198.51.100.1").status_code
            for _ in range(7)
        ]
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429, 429]
        assert self.client.post(self.url(), form(), REMOTE_ADDR="198.51.100.2").status_code == 200
        assert Report.objects.count() == 6


class TipPageTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_categories(cls.community)

    def test_follow_up_with_code_and_passphrase(self) -> None:
        filed = file(self.community)
        url = reverse("reports:tip", args=[self.community.slug])
        wrong_code = self.client.post(url, {"code": "00000-00000", "passphrase": filed.passphrase})
        wrong_pass = self.client.post(url, {"code": filed.report.tip_code, "passphrase": "AAAA"})
        assert wrong_code.status_code == wrong_pass.status_code == 400
        strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
        assert strip.sub("", wrong_code.content.decode()) == strip.sub(
            "", wrong_pass.content.decode()
        )
        opened = self.client.post(
            url, {"code": filed.report.tip_code, "passphrase": filed.passphrase}
        )
        assert opened.status_code == 200
        access = re.search(r'name="access" value="([^"]+)"', opened.content.decode())
        assert access
        replied = self.client.post(
            url, {"access": access.group(1), "action": "reply", "body": "It is on the east side."}
        )
        assert "It is on the east side." in replied.content.decode()
        assert filed.report.updates.filter(kind="reply").count() == 1
        forged = self.client.post(url, {"access": "x" + access.group(1), "action": "reply"})
        assert forged.status_code == 400

    def test_attempts_are_throttled(self) -> None:
        url = reverse("reports:tip", args=[self.community.slug])
        codes = [
            self.client.post(
                url, {"code": "ABCDE-12345", "passphrase": "nope"}, REMOTE_ADDR="192.0.2.7"
            ).status_code
            for _ in range(11)
        ]
        assert codes[:10] == [400] * 10 and codes[10] == 429


class StaffPageTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_categories(cls.community)

    def test_queue_access(self) -> None:
        url = reverse("reports:queue", args=[self.community.slug])
        self.login(self.resident)
        assert self.client.get(url).status_code == 403
        self.login(self.outsider)
        assert self.client.get(url).status_code == 404
        self.login(self.officer)
        file(self.community)
        page = self.client.get(url + "?status=new")
        assert page.status_code == 200 and "Vandalism and graffiti" in page.content.decode()

    def test_triage_acknowledge_with_public_update(self) -> None:
        report = file(self.community).report
        self.login(self.officer)
        url = reverse("reports:triage", args=[self.community.slug, report.pk])
        assert self.client.get(url).status_code == 200
        response = self.client.post(
            url,
            {
                "action": "status",
                "status": "acknowledged",
                "body": "An officer will visit.",
                "visibility": "public",
            },
        )
        assert response.status_code == 302
        report.refresh_from_db()
        assert report.status == Status.ACKNOWLEDGED
        public = self.client.get(
            reverse("reports:public_detail", args=[self.community.slug, report.pk])
        )
        assert "An officer will visit." in public.content.decode()
        self.login(self.resident)
        assert self.client.get(url).status_code == 403

    def test_public_views_hide_staff_only_reports_and_pins(self) -> None:
        public = file(self.community).report
        secret = file(self.community, category="drugs").report
        geojson = self.client.get(reverse("reports:public_geojson", args=[self.community.slug]))
        features = geojson.json()["features"]
        assert [f["id"] for f in features] == [public.pk]
        lon, lat = features[0]["geometry"]["coordinates"]
        assert (lat, lon) == (public.public_lat, public.public_lon) != (public.lat, public.lon)
        detail = reverse("reports:public_detail", args=[self.community.slug, secret.pk])
        assert self.client.get(detail).status_code == 404
        page = self.client.get(reverse("reports:public_map", args=[self.community.slug]))
        assert "Drug activity" not in page.content.decode()
