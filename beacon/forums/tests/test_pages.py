from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from beacon.core.testing import BeaconTestCase
from beacon.forums import services
from beacon.forums.models import ActionItem, Concern, Meeting
from beacon.forums.testing import centre, make_concern, make_meeting

HTMX = {"HX-Request": "true"}


class PublicPageTests(BeaconTestCase):
    def test_board_lists_and_maps_concerns(self) -> None:
        concern = make_concern(self.community, self.resident)
        page = self.client.get("/c/north/concerns/")
        self.assertContains(page, concern.title)
        self.assertContains(page, 'data-map="concerns"')
        self.assertContains(page, "Sign in to raise or support a concern.")
        body = page.content.decode()
        assert "<script>" not in body and "style=" not in body
        data = self.client.get("/c/north/concerns.geojson").json()
        lon, lat = data["features"][0]["geometry"]["coordinates"]
        assert (lat, lon) == concern.public_point
        assert self.client.get("/c/nowhere/concerns/").status_code == 404

    def test_resident_raises_concern_with_field_errors_then_success(self) -> None:
        self.login(self.resident)
        page = self.client.post(
            "/c/north/concerns/", {"title": "x", "category": "traffic", "body": ""}
        )
        self.assertContains(page, "Put a pin on the map")
        self.assertContains(page, "Describe the concern.")
        lat, lon = centre(self.community)
        response = self.client.post(
            "/c/north/concerns/",
            {
                "title": "Broken street light",
                "category": "public_space",
                "body": "Dark corner.",
                "lat": lat,
                "lon": lon,
            },
        )
        concern = Concern.objects.get(title="Broken street light")
        self.assertRedirects(response, f"/c/north/concerns/{concern.pk}/")

    def test_htmx_support_and_double_support_message(self) -> None:
        concern = make_concern(self.community, self.resident)
        url = f"/c/north/concerns/{concern.pk}/support"
        anonymous = self.client.post(url, headers=HTMX)
        self.assertContains(anonymous, "Sign in to support concerns.")
        assert self.client.post(url).status_code == 302
        self.login(self.partner)
        first = self.client.post(url, headers=HTMX)
        self.assertContains(first, "You support this")
        self.assertContains(first, "<strong>2</strong>", html=False)
        # A second click from a stale page (no withdraw flag) gets the clear error.
        second = self.client.post(url, headers=HTMX)
        self.assertContains(second, "You already support this concern")
        concern.refresh_from_db()
        assert concern.support_count == 2

    def test_meeting_pages_agenda_and_registration(self) -> None:
        services.settings_for(self.community).__class__.objects.filter(
            community=self.community
        ).update(support_threshold=1)
        meeting = make_meeting(self.community, area=self.area("West beat"))
        concern = make_concern(self.community, self.resident)
        self.assertContains(self.client.get("/c/north/meetings/"), meeting.title)
        page = self.client.get(f"/c/north/meetings/{meeting.pk}/")
        self.assertContains(page, concern.title)
        bad = self.client.post(f"/c/north/meetings/{meeting.pk}/", {"name": "", "email": "x"})
        self.assertContains(bad, "Give your name.")
        ok = self.client.post(
            f"/c/north/meetings/{meeting.pk}/", {"name": "Lee", "email": "lee@example.test"}
        )
        assert ok.status_code == 302 and meeting.registrations.count() == 1

    def test_tracker_and_you_said_we_did(self) -> None:
        concern = make_concern(self.community, self.resident)
        services.answer_concern(concern, self.officer, "Extra patrols on Fridays.")
        item = services.create_action_item(
            self.community,
            self.officer,
            services.ActionInput(
                "Friday patrols",
                "West beat team",
                timezone.localdate() + timedelta(days=7),
                concern_id=concern.pk,
            ),
        )
        self.assertContains(self.client.get("/c/north/actions/"), "Friday patrols")
        self.assertContains(self.client.get(f"/c/north/actions/{item.pk}/"), "West beat team")
        ysw = self.client.get("/c/north/you-said-we-did/")
        self.assertContains(ysw, "Extra patrols on Fridays.")
        self.assertContains(ysw, "Friday patrols")


class StaffPageTests(BeaconTestCase):
    def test_roles_on_staff_pages(self) -> None:
        for url in ("/staff/c/north/concerns/", "/staff/c/north/meetings/"):
            self.login(self.resident)
            assert self.client.get(url).status_code == 403
            self.login(self.outsider)
            assert self.client.get(url).status_code == 404
            self.login(self.officer)
            assert self.client.get(url).status_code == 200

    def test_schedule_meeting_without_time_shows_error(self) -> None:
        self.login(self.officer)
        page = self.client.post(
            "/staff/c/north/meetings/", {"title": "Beat meeting", "kind": "beat", "venue": "Hall"}
        )
        self.assertContains(page, "A meeting needs a start time")
        assert not Meeting.objects.exists()
        start = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
        ok = self.client.post(
            "/staff/c/north/meetings/",
            {"title": "Beat meeting", "kind": "beat", "venue": "Hall", "starts_at": start},
        )
        assert ok.status_code == 302

    def test_answer_concern_and_publish_minutes_with_actions(self) -> None:
        concern = make_concern(self.community, self.resident)
        self.login(self.officer)
        url = f"/staff/c/north/concerns/{concern.pk}/"
        self.client.post(url, {"do": "answer", "response": "On it."})
        concern.refresh_from_db()
        assert concern.response == "On it."
        self.client.post(url, {"do": "problem"})
        concern.refresh_from_db()
        assert concern.problem_requested_at is not None

        meeting = Meeting.objects.create(
            community=self.community,
            title="Held",
            venue="Hall",
            starts_at=timezone.now() - timedelta(hours=1),
        )
        due = (timezone.localdate() + timedelta(days=10)).isoformat()
        data = {
            "do": "minutes",
            "minutes": "We met.",
            "decisions": "Ask the city\nPatrol more",
            "actions-TOTAL_FORMS": "3",
            "actions-INITIAL_FORMS": "0",
            "actions-MIN_NUM_FORMS": "0",
            "actions-MAX_NUM_FORMS": "20",
            "actions-0-title": "Write to the city",
            "actions-0-owner_name": "Sgt. Sam",
            "actions-0-due_date": due,
            "actions-1-title": "Missing owner",
        }
        bad = self.client.post(f"/staff/c/north/meetings/{meeting.pk}/", data)
        self.assertContains(bad, "Action 2: name who owns the action.")
        assert not ActionItem.objects.exists()
        data["actions-1-title"] = ""
        ok = self.client.post(f"/staff/c/north/meetings/{meeting.pk}/", data)
        assert ok.status_code == 302
        assert list(ActionItem.objects.values_list("title", flat=True)) == ["Write to the city"]
        self.assertContains(self.client.get("/c/north/actions/"), "Write to the city")
        self.assertContains(self.client.get(f"/c/north/meetings/{meeting.pk}/"), "Patrol more")


class NavigationTests(BeaconTestCase):
    def test_links_on_home_and_dashboard(self) -> None:
        self.assertContains(self.client.get("/c/north/"), "/c/north/concerns/")
        self.login(self.analyst)
        dashboard = self.client.get("/staff/")
        for url in (
            "/staff/c/north/concerns/",
            "/staff/c/north/surveys/",
            "/staff/c/north/evaluation/",
        ):
            self.assertContains(dashboard, url)
