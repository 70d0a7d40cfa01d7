"""The programs, partners and youth endpoints of the JSON API."""

from __future__ import annotations

from typing import Any

from beacon.core.testing import BeaconTestCase
from beacon.partners.testing import make_initiative, make_partner
from beacon.programs.models import Registration
from beacon.programs.testing import confirmed_registration, make_event
from beacon.youth.testing import make_mentee, make_program

API = "/api/v1/communities/north"


def session(**overrides: Any) -> dict[str, Any]:
    data = {
        "starts_at": "2030-05-01T18:00:00-07:00",
        "ends_at": "2030-05-01T20:00:00-07:00",
        "venue": "Hall",
        "lat": 49.275,
        "lon": -123.125,
    }
    data.update(overrides)
    return data


class ProgramsApiTests(BeaconTestCase):
    def test_public_lists_and_registration_with_idempotency_key(self) -> None:
        event = make_event(self.community, capacity=1)
        events = self.client.get(f"{API}/events").json()
        assert [e["id"] for e in events] == [event.pk]
        assert events[0]["sessions"][0]["neighbourhood"] in ("Northside", "Southside")
        assert self.client.get(f"{API}/programs").json()[0]["name"] == "Home security basics"
        url = f"{API}/events/{event.pk}/registrations"
        body = {"name": "Robin", "email": "robin@x.org"}
        first = self.client.post(
            url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"}
        )
        again = self.client.post(
            url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"}
        )
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json() and first.json()["status"] == "pending"
        assert Registration.objects.filter(event=event).count() == 1
        clash = self.client.post(
            url,
            {"name": "Other", "email": "other@x.org"},
            content_type="application/json",
            headers={"Idempotency-Key": "k-1"},
        )
        assert clash.status_code == 409

    def test_bad_input_gets_clear_errors(self) -> None:
        event = make_event(self.community)
        response = self.client.post(
            f"{API}/events/{event.pk}/registrations",
            {"name": "X", "email": "nope"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "valid email" in response.json()["errors"]["email"][0]
        self.login(self.officer)
        response = self.client.post(
            f"{API}/events",
            {"title": "Fair", "kind": "safety_fair", "capacity": -3, "sessions": [session()]},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "cannot be negative" in response.json()["errors"]["capacity"][0]
        response = self.client.post(
            f"{API}/events",
            {
                "title": "Fair",
                "kind": "safety_fair",
                "sessions": [session(ends_at="2030-05-01T17:00:00-07:00")],
            },
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "end after it starts" in response.json()["errors"]["sessions.0.ends_at"][0]
        response = self.client.post(
            f"{API}/events",
            {"title": "Fair", "kind": "safety_fair", "publish": True, "sessions": [session()]},
            content_type="application/json",
        )
        assert response.status_code == 201 and response.json()["status"] == "published"

    def test_staff_only_endpoints(self) -> None:
        event = make_event(self.community)
        confirmed_registration(event)
        self.login(self.resident)
        assert self.client.get(f"{API}/programs/figures").status_code == 403
        response = self.client.post(
            f"{API}/events",
            {"title": "x", "kind": "workshop", "sessions": [session()]},
            content_type="application/json",
        )
        assert response.status_code == 403
        self.login(self.analyst)
        figures = self.client.get(f"{API}/programs/figures?by=audience").json()
        assert figures["totals"][0]["confirmed"] == 1


class PartnersAndYouthApiTests(BeaconTestCase):
    def test_partner_sees_own_initiatives_only(self) -> None:
        school = make_partner(self.community, "School", contact_user=self.partner)
        other = make_partner(self.community, "Other", kind="ngo")
        make_initiative(self.community, school, "Ours")
        make_initiative(self.community, other, "Theirs")
        self.login(self.partner)
        titles = [i["title"] for i in self.client.get(f"{API}/initiatives").json()]
        assert titles == ["Ours"]
        assert [p["name"] for p in self.client.get(f"{API}/partners").json()] == ["School"]
        self.login(self.officer)
        assert len(self.client.get(f"{API}/initiatives").json()) == 2

    def test_youth_endpoints_are_404_outside_the_program(self) -> None:
        program = make_program(self.community, self.supervisor)
        mentee = make_mentee(program)
        for user in (self.officer, self.partner, self.outsider):
            self.login(user)
            assert self.client.get(f"{API}/youth/mentees/{mentee.pk}").status_code == 404
            assert self.client.get(f"{API}/youth/programs/{program.pk}/mentees").status_code == 404
        self.login(self.supervisor)
        assert self.client.get(f"{API}/youth/mentees/{mentee.pk}").json()["consent"] is True
        listed = self.client.get(f"{API}/youth/programs/{program.pk}/mentees").json()
        assert [m["id"] for m in listed] == [mentee.pk]
