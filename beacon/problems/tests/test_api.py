"""The problems API: roles, validation errors naming fields, idempotent creates, audit,
and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase
from beacon.forums.testing import make_concern
from beacon.partners.testing import make_partner
from beacon.problems import services
from beacon.problems.models import EvidenceLink, Problem, ResponseTask
from beacon.problems.testing import CONTROL, TARGET, box_in, make_problem
from beacon.problems.tests.test_services import BOWTIE

BASE = "/api/v1/communities/north/problems"


class ProblemApiTests(BeaconTestCase):
    def post(self, url: str, data: Any, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post(url, data, content_type="application/json", headers=headers)

    def new(self, **extra: Any) -> dict[str, Any]:
        return {
            "title": "Thefts from cars",
            "offence_groups": ["vehicle"],
            "offences": ["theft_from_vehicle"],
            "geometry": box_in(self.community, *TARGET),
            **extra,
        }

    def test_create_is_idempotent_and_audited(self) -> None:
        self.login(self.analyst)
        first = self.post(BASE, self.new(), key="open-1")
        assert first.status_code == 201, first.content
        body = first.json()
        assert body["stage"] == "scanning" and body["beat"] == "West beat"
        again = self.post(BASE, self.new(), key="open-1")
        assert again.status_code == 201 and again.json()["id"] == body["id"]
        assert Problem.objects.count() == 1
        reused = self.post(BASE, self.new(title="Something else"), key="open-1")
        assert reused.status_code == 409
        assert (
            AuditEvent.objects.filter(action="create", object_type="problems.problem").count() == 1
        )

    def test_bad_areas_name_the_field(self) -> None:
        self.login(self.analyst)
        bowtie = self.post(BASE, self.new(geometry=BOWTIE))
        assert bowtie.status_code == 400
        assert "Self-intersection" in bowtie.json()["errors"]["geometry"][0]
        assert bowtie.json()["detail"].startswith("geometry: ")
        outside = self.post(BASE, self.new(geometry=box_in(self.community, 0.5, 0.5, 1.5, 0.9)))
        assert outside.status_code == 400
        assert "outside the community boundary" in outside.json()["errors"]["geometry"][0]
        assert not Problem.objects.exists()

    def test_roles(self) -> None:
        own = make_partner(self.community, contact_user=self.partner)
        covered = make_problem(self.community, self.analyst, partners=[own])
        hidden = make_problem(self.community, self.analyst, title="Internal")
        self.login(self.resident)
        assert self.client.get(BASE).status_code == 403
        self.login(self.outsider)
        assert self.client.get(BASE).status_code == 404
        self.login(self.partner)
        assert [p["id"] for p in self.client.get(BASE).json()] == [covered.pk]
        assert self.client.get(f"{BASE}/{hidden.pk}").status_code == 403
        assert self.client.get(f"{BASE}/{covered.pk}/tasks").status_code == 200
        assert self.client.get(f"{BASE}/{covered.pk}/evidence").status_code == 403
        assert self.post(BASE, self.new()).status_code == 403
        patched = self.client.patch(
            f"{BASE}/{covered.pk}", {"title": "Mine now"}, content_type="application/json"
        )
        assert patched.status_code == 403

    def test_workspace_endpoints(self) -> None:
        self.login(self.analyst)
        problem = make_problem(self.community, self.analyst)
        one = f"{BASE}/{problem.pk}"
        triangle = self.client.put(
            f"{one}/triangle",
            {"offender": "Youths", "place": "Car park"},
            content_type="application/json",
        )
        assert triangle.status_code == 200 and triangle.json()["place"] == "Car park"
        assert self.client.get(f"{one}/triangle").json()["offender"] == "Youths"
        question = self.post(f"{one}/questions", {"question": "When?"}, key="q-1")
        assert question.status_code == 201
        answered = self.client.patch(
            f"{one}/questions/{question.json()['id']}",
            {"finding": "At night."},
            content_type="application/json",
        )
        assert answered.json()["answered_at"] is not None
        concern = make_concern(self.community)
        link = self.post(f"{one}/evidence", {"kind": "concern", "target_id": concern.pk})
        assert link.status_code == 201
        evidence = self.client.get(f"{one}/evidence").json()
        assert [row["target_id"] for row in evidence["links"]] == [concern.pk]
        assert evidence["total"] == 0 and evidence["trend"] == []  # no incidents yet
        gone = self.client.delete(f"{one}/evidence/{link.json()['id']}")
        assert gone.status_code == 204 and not EvidenceLink.objects.exists()
        due = (services.today_in(self.community) - dt.timedelta(days=2)).isoformat()
        task = self.post(
            f"{one}/tasks",
            {"title": "Patrol", "owner_kind": "staff", "owner_id": self.officer.pk, "due_on": due},
            key="t-1",
        )
        assert task.status_code == 201 and task.json()["overdue"] is True
        assert (
            self.post(
                f"{one}/tasks",
                {
                    "title": "Patrol",
                    "owner_kind": "staff",
                    "owner_id": self.officer.pk,
                    "due_on": due,
                },
                key="t-1",
            ).json()["id"]
            == task.json()["id"]
        )
        assert ResponseTask.objects.count() == 1
        done = self.client.patch(
            f"{one}/tasks/{task.json()['id']}", {"status": "done"}, content_type="application/json"
        )
        assert done.json()["status"] == "done" and done.json()["overdue"] is False
        bad_owner = self.post(
            f"{one}/tasks",
            {"title": "Leaflets", "owner_kind": "partner", "owner_id": 999, "due_on": due},
        )
        assert bad_owner.status_code == 400 and "owner_id" in bad_owner.json()["errors"]
        stage = self.post(f"{one}/stage", {"stage": "closed"})
        assert stage.status_code == 400 and "outcome" in stage.json()["errors"]
        start = self.client.put(
            f"{one}/response-start",
            {"response_started_on": "2024-07-01"},
            content_type="application/json",
        )
        assert start.status_code == 200 and start.json()["response_started_on"] == "2024-07-01"
        assessed = self.post(
            f"{one}/assessments",
            {
                "control_geometry": box_in(self.community, *CONTROL),
                "buffer_m": 200,
                "period_days": 60,
            },
            key="a-1",
        )
        assert assessed.status_code == 201, assessed.content
        assert set(assessed.json()["counts"]) == {"target", "buffer", "control", "control_buffer"}
        overlapping = self.post(
            f"{one}/assessments",
            {"control_geometry": box_in(self.community, *TARGET), "period_days": 60},
        )
        assert overlapping.status_code == 400
        assert "overlaps the problem area" in overlapping.json()["errors"]["control_geometry"][0]
        board = self.client.get("/api/v1/communities/north/problem-board").json()
        assert [p["id"] for p in board["by_stage"]["scanning"]] == [problem.pk]

    def test_openapi_lists_the_endpoints(self) -> None:
        schema = self.client.get("/api/v1/openapi.json").json()
        paths = schema["paths"]
        for path in (
            "/api/v1/communities/{slug}/problems",
            "/api/v1/communities/{slug}/problems/{problem_id}",
            "/api/v1/communities/{slug}/problems/{problem_id}/evidence",
            "/api/v1/communities/{slug}/problems/{problem_id}/triangle",
            "/api/v1/communities/{slug}/problems/{problem_id}/tasks",
            "/api/v1/communities/{slug}/problems/{problem_id}/assessments",
            "/api/v1/communities/{slug}/problem-board",
        ):
            assert path in paths, path
        assert "post" in paths["/api/v1/communities/{slug}/problems"]
