"""Officers: "your officer", profiles, assignment history, activity and workload."""

from __future__ import annotations

import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from PIL import Image

from beacon.core.models import Area
from beacon.core.testing import BeaconTestCase
from beacon.officers import services
from beacon.officers.models import ActivityEntry, ActivityKind, BeatAssignment, OfficerProfile

WEST = (49.27, -123.13)  # in "West beat"
EAST = (49.27, -123.115)  # in "East beat"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (10, 90, 200)).save(out, "JPEG")
    return out.getvalue()


class OfficerTestCase(BeaconTestCase):
    west: Area
    profile: OfficerProfile

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.west = Area.objects.get(community=cls.community, name="West beat")
        services.assign_beat(
            cls.west,
            cls.officer,
            actor=cls.supervisor,
            started_on=timezone.localdate() - timedelta(days=10),
        )
        cls.profile = services.save_profile(
            cls.community,
            cls.officer,
            actor=cls.officer,
            display_name="Constable Olu",
            title="Community policing officer",
            languages=["English", "Yoruba"],
            office_hours=[{"day": "Tuesday", "start": "10:00", "end": "12:00", "place": "Library"}],
            contact_email="olu@police.test",
        )


class YourOfficerTests(OfficerTestCase):
    def test_a_map_click_finds_the_beat_officer(self) -> None:
        url = reverse("officers:at", args=[self.community.slug])
        response = self.client.get(
            url, {"lat": str(WEST[0]), "lon": str(WEST[1])}, HTTP_HX_REQUEST="true"
        )
        self.assertContains(response, "West beat")
        self.assertContains(response, "Constable Olu")
        self.assertContains(response, "olu@police.test")
        self.assertNotContains(response, "<html")  # a fragment for the page

    def test_a_beat_without_an_officer_says_so(self) -> None:
        url = reverse("officers:at", args=[self.community.slug])
        response = self.client.get(url, {"lat": str(EAST[0]), "lon": str(EAST[1])})
        self.assertContains(response, "No officer is assigned to this beat")

    def test_bad_input_gets_a_clear_error(self) -> None:
        url = reverse("officers:at", args=[self.community.slug])
        response = self.client.get(url)
        self.assertContains(response, "Click the map or type an address", status_code=400)
        response = self.client.get(url, {"address": "1 Nowhere Street"})
        self.assertContains(response, "No address in North matches", status_code=400)

    def test_page_lists_officers_and_uses_no_inline_script(self) -> None:
        response = self.client.get(reverse("officers:officers", args=[self.community.slug]))
        self.assertContains(response, "Constable Olu")
        self.assertContains(response, 'data-map="officers"')
        self.assertNotContains(response, "<script>")
        self.assertNotContains(response, "style=")

    def test_api_answers_the_same(self) -> None:
        response = self.client.get(
            f"/api/v1/communities/{self.community.slug}/officers/at",
            {"lat": str(WEST[0]), "lon": str(WEST[1])},
        )
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["beat"], "West beat")
        self.assertEqual(body["officers"][0]["name"], "Constable Olu")
        self.assertEqual(body["officers"][0]["languages"], ["English", "Yoruba"])

    def test_unpublished_profiles_are_hidden_from_the_public(self) -> None:
        OfficerProfile.objects.filter(pk=self.profile.pk).update(published=False)
        url = reverse("officers:profile", args=[self.community.slug, self.profile.pk])
        self.assertEqual(self.client.get(url).status_code, 404)
        self.login(self.officer)
        self.assertEqual(self.client.get(url).status_code, 200)


class ProfileTests(OfficerTestCase):
    def test_photo_is_re_encoded_and_served(self) -> None:
        profile = services.save_profile(
            self.community,
            self.officer,
            actor=self.officer,
            display_name="Constable Olu",
            photo=("me.jpg", jpeg()),
        )
        response = self.client.get(
            reverse("officers:photo", args=[self.community.slug, profile.pk])
        )
        self.assertEqual(response.status_code, 200)

    def test_bad_office_hours_and_residents_are_refused(self) -> None:
        with self.assertRaises(services.OfficerError) as caught:
            services.save_profile(
                self.community,
                self.officer,
                actor=self.officer,
                display_name="X",
                office_hours=[{"day": "Someday", "start": "25:00", "end": "1"}],
            )
        self.assertIn("office_hours", caught.exception.errors)
        with self.assertRaises(services.OfficerError):
            services.save_profile(self.community, self.resident, actor=self.resident)

    def test_officer_edits_their_profile_on_their_page(self) -> None:
        self.login(self.officer)
        url = reverse("officers:me", args=[self.community.slug])
        response = self.client.post(
            url,
            {
                "form": "profile",
                "display_name": "Olu O.",
                "languages": "English, French",
                "office_hours": "Thursday 18:00-19:30 Community centre",
                "published": "on",
            },
        )
        self.assertRedirects(response, url)
        profile = OfficerProfile.objects.get(pk=self.profile.pk)
        self.assertEqual(profile.languages, ["English", "French"])
        self.assertEqual(profile.office_hours[0]["place"], "Community centre")


class ActivityAndWorkloadTests(OfficerTestCase):
    def test_logging_work_goes_to_the_officers_beat(self) -> None:
        entry = services.log_activity(
            self.community, self.officer, kind=ActivityKind.CONTACT, minutes=45, people=3
        )
        self.assertEqual(entry.beat, self.west)
        with self.assertRaises(services.OfficerError) as caught:
            services.log_activity(self.community, self.officer, kind="nap", minutes=0)
        self.assertEqual(set(caught.exception.errors), {"kind", "minutes"})

    def test_log_page_and_api(self) -> None:
        self.login(self.officer)
        url = reverse("officers:me", args=[self.community.slug])
        response = self.client.post(
            url,
            {
                "form": "activity",
                "kind": "patrol",
                "occurred_on": timezone.localdate().isoformat(),
                "minutes": 90,
                "people": 0,
                "summary": "Foot patrol of the lanes",
            },
        )
        self.assertRedirects(response, url)
        response = self.client.post(
            f"/api/v1/communities/{self.community.slug}/activity",
            {"kind": "meeting", "minutes": 60, "people": 12},
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(ActivityEntry.objects.filter(officer=self.officer).count(), 2)

    def test_supervisor_sees_workload_per_beat(self) -> None:
        services.log_activity(self.community, self.officer, kind="contact", minutes=30, people=4)
        services.log_activity(self.community, self.officer, kind="meeting", minutes=90, people=20)
        rows = {row.beat.name: row for row in services.workload(self.community)}
        west = rows["West beat"]
        self.assertEqual((west.entries, west.minutes, west.people), (2, 120, 24))
        self.assertEqual(west.by_kind, {"contact": 1, "meeting": 1})
        self.assertEqual([o.pk for o in west.officers], [self.officer.pk])
        self.assertEqual(rows["East beat"].officers, [])
        url = reverse("officers:workload", args=[self.community.slug])
        self.login(self.officer)
        self.assertEqual(self.client.get(url).status_code, 403)
        self.login(self.supervisor)
        response = self.client.get(url)
        self.assertContains(response, "West beat")
        self.assertContains(response, "2.0")

    def test_assignment_history(self) -> None:
        east = self.area("East beat")
        first = services.assign_beat(
            east,
            self.officer,
            actor=self.supervisor,
            started_on=timezone.localdate() - timedelta(days=5),
        )
        yesterday = timezone.localdate() - timedelta(days=1)
        services.end_assignment(first, actor=self.supervisor, ended_on=yesterday)
        services.assign_beat(east, self.supervisor, actor=self.supervisor)
        history = services.assignment_history(east)
        self.assertEqual(len(history), 2)
        self.assertEqual(history[1].ended_on, yesterday)
        self.assertEqual(services.beat_officers(self.community, east.pk), [self.supervisor])
        with self.assertRaises(services.OfficerError):
            services.assign_beat(east, self.resident, actor=self.supervisor)
        self.login(self.supervisor)
        url = reverse("officers:beat", args=[self.community.slug, east.pk])
        response = self.client.post(
            url, {"officer": self.officer.pk, "started_on": timezone.localdate().isoformat()}
        )
        self.assertRedirects(response, url)
        self.assertEqual(BeatAssignment.objects.filter(beat=east).count(), 3)
        self.login(self.officer)
        self.assertEqual(self.client.post(url, {"officer": self.officer.pk}).status_code, 403)

    def test_officer_broadcast_area_is_their_beats(self) -> None:
        from beacon.notify.broadcasts import broadcast_area

        shape = broadcast_area(self.officer, self.community)
        assert shape is not None
        self.assertAlmostEqual(shape.bounds[2], -123.125, places=3)
        self.assertIsNone(broadcast_area(self.resident, self.community))
