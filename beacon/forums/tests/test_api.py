from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from beacon.core.testing import BeaconTestCase
from beacon.forums import services
from beacon.forums.models import Concern
from beacon.forums.testing import centre, make_concern, make_meeting

API = "/api/v1/communities/north"


class ForumsApiTests(BeaconTestCase):
    def concern_payload(self) -> dict[str, object]:
        lat, lon = centre(self.community)
        return {
            "title": "Car break-ins on Elm",
            "body": "Three this week.",
            "category": "property",
            "lat": lat,
            "lon": lon,
        }

    def test_raise_with_idempotency_key(self) -> None:
        assert (
            self.client.post(
                f"{API}/concerns", self.concern_payload(), content_type="application/json"
            ).status_code
            == 401
        )
        self.login(self.resident)
        headers = {"Idempotency-Key": "abc-123"}
        first = self.client.post(
            f"{API}/concerns",
            self.concern_payload(),
            content_type="application/json",
            headers=headers,
        )
        again = self.client.post(
            f"{API}/concerns",
            self.concern_payload(),
            content_type="application/json",
            headers=headers,
        )
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert Concern.objects.count() == 1
        bad = self.client.post(
            f"{API}/concerns",
            self.concern_payload() | {"lat": 10.0},
            content_type="application/json",
        )
        assert bad.status_code == 400 and "location" in bad.json()["errors"]

    def test_support_twice_is_409(self) -> None:
        concern = make_concern(self.community, self.resident)
        self.login(self.partner)
        url = f"{API}/concerns/{concern.pk}/support"
        ok = self.client.post(url)
        assert ok.status_code == 200 and ok.json()["support_count"] == 2
        again = self.client.post(url)
        assert again.status_code == 409
        assert "already support" in again.json()["detail"]
        self.login(self.outsider)
        assert self.client.post(url).status_code == 403
        listed = self.client.get(f"{API}/concerns").json()
        assert listed[0]["lat"] == round(concern.lat, 3)

    def test_meetings_and_actions(self) -> None:
        self.login(self.officer)
        no_time = self.client.post(
            f"{API}/meetings", {"title": "Beat", "venue": "Hall"}, content_type="application/json"
        )
        assert no_time.status_code == 400
        assert no_time.json()["errors"]["starts_at"] == [
            "A meeting needs a start time (date and time)."
        ]
        start = (timezone.now() + timedelta(days=5)).isoformat()
        created = self.client.post(
            f"{API}/meetings",
            {"title": "Beat", "venue": "Hall", "starts_at": start},
            content_type="application/json",
        )
        assert created.status_code == 201
        self.login(self.resident)
        assert (
            self.client.post(
                f"{API}/meetings",
                {"title": "Beat", "venue": "Hall", "starts_at": start},
                content_type="application/json",
            ).status_code
            == 403
        )
        meeting = make_meeting(self.community)
        assert self.client.get(f"{API}/meetings/{meeting.pk}").json()["title"] == meeting.title
        assert len(self.client.get(f"{API}/meetings").json()) == 2
        item = services.create_action_item(
            self.community,
            self.officer,
            services.ActionInput("Trim hedges", "Parks", timezone.localdate()),
        )
        tracker = self.client.get(f"{API}/action-items").json()
        assert [i["title"] for i in tracker] == ["Trim hedges"]
        assert (
            self.client.post(
                f"{API}/action-items/{item.pk}/progress",
                {"progress": 50, "status": "in_progress"},
                content_type="application/json",
            ).status_code
            == 403
        )
        self.login(self.officer)
        done = self.client.post(
            f"{API}/action-items/{item.pk}/progress",
            {"progress": 100, "status": "completed", "result": "Trimmed"},
            content_type="application/json",
        )
        assert done.status_code == 200 and done.json()["status"] == "completed"
        assert self.client.get(f"{API}/action-items").json() == []
