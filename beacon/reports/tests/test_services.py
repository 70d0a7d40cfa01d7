from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.core import mail
from django.utils import timezone

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.officers.models import BeatAssignment
from beacon.reports import services, tips
from beacon.reports.models import (
    Report,
    ReportPhoto,
    ReportUpdate,
    Status,
    Visibility,
)
from beacon.reports.testing import file, make_categories
from beacon.reports.tests.helpers import jpeg_with_gps

WEST = {"lat": 49.27, "lon": -123.13}
EAST = {"lat": 49.27, "lon": -123.115}


class FilingTests(BeaconTestCase):
    categories: dict[str, Any]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.categories = make_categories(cls.community)

    def test_report_goes_to_the_beat_of_its_location(self) -> None:
        filed = file(self.community, **EAST)
        assert filed.report.beat == self.area("East beat")
        assert filed.report.status == Status.NEW
        assert filed.report.response_due_at - filed.report.created_at == timedelta(hours=48)

    def test_tip_code_and_passphrase(self) -> None:
        filed = file(self.community)
        report = filed.report
        assert report.passphrase_hash.startswith("argon2$argon2id$v=19$m=8192,t=1,p=1$")
        assert filed.passphrase not in report.passphrase_hash
        assert len(tips.normalise(filed.passphrase)) * math.log2(len(tips.ALPHABET)) >= 70
        assert tips.find_tip(self.community, report.tip_code, filed.passphrase) == report
        # Typed loosely: lower case, no dashes, O for 0.
        loose = tips.normalise(filed.passphrase).lower().replace("0", "o")
        assert tips.find_tip(self.community, report.tip_code.lower(), loose) == report
        assert tips.find_tip(self.community, report.tip_code, "WRONG-WRONG") is None
        assert tips.find_tip(self.community, "00000-00000", filed.passphrase) is None
        assert tips.find_tip(self.other_community, report.tip_code, filed.passphrase) is None

    def test_anonymous_audit_row_identifies_nobody(self) -> None:
        filed = file(self.community, contact_email="")
        event = AuditEvent.objects.get(
            object_type="reports.report", object_id=str(filed.report.pk), action="create"
        )
        assert event.actor is None
        assert event.actor_label == services.ANONYMOUS_LABEL
        flat = str(event.detail) + event.request_id
        assert "127.0.0.1" not in flat and "Mozilla" not in flat

    def _refused(self, field: str, **overrides: Any) -> services.ReportError:
        reports, photos, updates = (
            Report.objects.count(),
            ReportPhoto.objects.count(),
            ReportUpdate.objects.count(),
        )
        try:
            file(self.community, **overrides)
        except services.ReportError as exc:
            assert field in exc.errors, exc.errors
            assert (Report.objects.count(), ReportPhoto.objects.count()) == (reports, photos)
            assert ReportUpdate.objects.count() == updates
            return exc
        raise AssertionError("the submission was accepted")

    def test_malformed_submissions_store_nothing(self) -> None:
        self._refused("location", lat=40.0, lon=-74.0)
        self._refused("category", category="potholes")
        self._refused("answers.surface", answers={})
        self._refused("answers.surface", answers={"surface": "spaceship"})
        self._refused("answers.size_m", answers={"surface": "wall", "size_m": "wide"})
        self._refused("answers.seen_at", answers={"surface": "wall", "seen_at": "yesterday"})
        exc = self._refused("description", description="x" * 5000)
        assert "5000" in str(exc) and "4000" in str(exc)
        self._refused(
            "photos",
            photos=[
                services.PhotoUpload("ok.jpg", jpeg_with_gps()),
                services.PhotoUpload("fake.jpg", b"not an image at all"),
            ],
        )
        self._refused("photos", photos=[services.PhotoUpload(f"{i}.jpg", b"") for i in range(6)])
        self._refused("location", lat=None, lon=None)

    def test_every_answer_type(self) -> None:
        filed = file(
            self.community,
            answers={
                "surface": "wall",
                "offensive": "no",
                "colours": ["red", "black", "red"],
                "size_m": "2.5",
                "seen_at": "2024-05-01T21:30:00-07:00",
                "notes": "Line one\nline two",
            },
        )
        answers = filed.report.answers
        assert answers["colours"] == ["red", "black"]
        assert answers["size_m"] == 2.5
        assert answers["seen_at"].startswith("2024-05-01T21:30:00")

    def test_photo_is_stored_without_metadata(self) -> None:
        filed = file(self.community, photos=[services.PhotoUpload("p.jpg", jpeg_with_gps())])
        photo = filed.report.photos.get()
        with photo.image.open("rb") as handle:
            assert b"Exif" not in handle.read()
        photo.image.delete(save=False)


class TriageTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_categories(cls.community)
        BeatAssignment.objects.create(
            community=cls.community, beat=cls.area("West beat"), officer=cls.officer
        )

    @classmethod
    def area(cls, name: str) -> Any:
        from beacon.core.models import Area

        return Area.objects.get(community=cls.community, name=name)

    def test_queues(self) -> None:
        west = file(self.community, **WEST).report
        east = file(self.community, **EAST).report
        mine = services.queue(self.officer, self.community, services.QueueFilter(mine=True))
        assert list(mine) == [west]
        everything = services.queue(self.officer, self.community)
        assert set(everything) == {west, east}
        assert not services.queue(self.resident, self.community).exists()
        assert not services.queue(self.outsider, self.community).exists()

    def test_overdue_first_and_filter(self) -> None:
        late = file(self.community).report
        Report.objects.filter(pk=late.pk).update(
            created_at=timezone.now() - timedelta(days=3),
            response_due_at=timezone.now() - timedelta(days=1),
        )
        fresh = file(self.community).report
        rows: list[Any] = list(services.queue(self.officer, self.community))
        assert rows[0] == late and rows[0].overdue_rank == 1
        assert fresh in rows
        overdue = services.queue(self.officer, self.community, services.QueueFilter(overdue=True))
        assert list(overdue) == [late]
        older = services.queue(self.officer, self.community, services.QueueFilter(age="day"))
        assert list(older) == [fresh]

    def test_workflow_is_audited_and_reaches_the_reporter(self) -> None:
        report = file(self.community, contact_email="reporter@example.org").report
        with self.captureOnCommitCallbacks(execute=True):
            services.change_status(
                report, Status.ACKNOWLEDGED, actor=self.officer, message="We are on it."
            )
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["reporter@example.org"]
        assert "We are on it." in mail.outbox[0].body
        assert report.tip_code in mail.outbox[0].body
        report.refresh_from_db()
        assert report.acknowledged_at is not None
        with self.assertRaises(services.ReportError):
            services.change_status(report, Status.NEW, actor=self.officer)
        with self.captureOnCommitCallbacks(execute=True):
            services.add_update(report, "Internal only", actor=self.officer, visibility="internal")
        assert len(mail.outbox) == 1, "internal notes never reach the reporter"
        services.change_status(report, Status.IN_PROGRESS, actor=self.officer)
        services.change_status(report, Status.RESOLVED, actor=self.officer)
        services.change_status(report, Status.CLOSED, actor=self.officer)
        actions = AuditEvent.objects.filter(object_id=str(report.pk), object_type="reports.report")
        assert actions.filter(action="update").count() == 5

    def test_public_update_on_new_report_acknowledges_it(self) -> None:
        report = file(self.community).report
        services.add_update(
            report, "Thanks, we will look.", actor=self.officer, visibility="public"
        )
        report.refresh_from_db()
        assert report.status == Status.ACKNOWLEDGED

    def test_assign_and_merge(self) -> None:
        first = file(self.community).report
        second = file(self.community).report
        services.assign(first, self.officer, actor=self.supervisor)
        with self.assertRaises(services.ReportError):
            services.assign(first, self.resident, actor=self.supervisor)
        services.support_report(second)
        into = services.merge(second, first, actor=self.officer)
        assert into.supporters == 2
        second.refresh_from_db()
        assert second.status == Status.CLOSED and second.merged_into == first
        with self.assertRaises(services.ReportError):
            services.merge(first, first, actor=self.officer)

    def test_reporter_reply_reopen_and_survey(self) -> None:
        report = file(self.community).report
        services.add_update(report, "Which wall?", actor=self.officer, visibility="reporter")
        services.reporter_reply(report, "The north wall.")
        thread = list(services.reporter_thread(report))
        assert [u.kind for u in thread] == ["question", "reply"]
        with self.assertRaises(services.ReportError):
            services.reopen(report, "")
        services.change_status(report, Status.RESOLVED, actor=self.officer)
        report.refresh_from_db()
        services.answer_survey(report, 4)
        services.reopen(report, "Still there.")
        report.refresh_from_db()
        assert report.status == Status.IN_PROGRESS and report.resolved_at is None
        assert report.satisfaction == 4
        services.change_status(report, Status.RESOLVED, actor=self.officer)
        Report.objects.filter(pk=report.pk).update(resolved_at=timezone.now() - timedelta(days=31))
        report.refresh_from_db()
        with self.assertRaises(services.ReportError):
            services.reopen(report, "Too late")

    def test_nearby_uses_open_public_reports_only(self) -> None:
        report = file(self.community).report
        assert report.public_lat is not None, "public reports get a masked location"
        assert (report.public_lat, report.public_lon) != (report.lat, report.lon)
        category = report.category
        assert services.nearby_open_reports(self.community, category, 49.27, -123.13) == [report]
        services.change_status(report, Status.CLOSED, actor=self.officer)
        assert services.nearby_open_reports(self.community, category, 49.27, -123.13) == []
        old = file(self.community).report
        Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))
        assert services.nearby_open_reports(self.community, category, 49.27, -123.13) == []
        drugs = file(self.community, category="drugs").report
        assert services.nearby_open_reports(self.community, drugs.category, 49.27, -123.13) == []

    def test_visibility_rules(self) -> None:
        public = file(self.community).report
        staff_only = file(self.community, category="drugs").report
        services.add_update(public, "Public news", actor=self.officer, visibility=Visibility.PUBLIC)
        services.add_update(public, "Secret", actor=self.officer, visibility=Visibility.INTERNAL)
        from django.contrib.auth.models import AnonymousUser

        anonymous = AnonymousUser()
        assert set(Report.objects.visible_to(anonymous)) == {public}
        assert set(Report.objects.visible_to(self.officer)) == {public, staff_only}
        bodies = set(ReportUpdate.objects.visible_to(anonymous).values_list("body", flat=True))
        assert "Public news" in bodies and "Secret" not in bodies
        mine = file(self.community, category="drugs", reporter=self.resident).report
        assert mine in Report.objects.visible_to(self.resident)
        assert staff_only not in Report.objects.visible_to(self.resident)
