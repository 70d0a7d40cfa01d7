"""Problem pages: who gets in, what partners see, forms and their errors, htmx fragments."""

from __future__ import annotations

import datetime as dt
import json
import re

from django.urls import reverse

from beacon.core.testing import BeaconTestCase
from beacon.incidents.testing import make_incident
from beacon.partners.testing import make_partner
from beacon.problems import services
from beacon.problems.models import Problem, ResponseTask, Stage
from beacon.problems.testing import TARGET, box_in, make_problem
from beacon.problems.tests.test_services import BOWTIE

HTMX = {"HX-Request": "true"}


def no_inline_script(html: str) -> bool:
    """Every script tag loads a file or holds JSON data: the CSP forbids inline code."""
    for tag in re.findall(r"<script[^>]*>", html):
        if "src=" not in tag and 'type="application/json"' not in tag:
            return False
    return " style=" not in html


class PageAccessTests(BeaconTestCase):
    def test_list_board_and_detail_by_role(self) -> None:
        own = make_partner(self.community, contact_user=self.partner)
        covered = make_problem(self.community, self.analyst, partners=[own])
        hidden = make_problem(self.community, self.analyst, title="Internal only")
        make_incident(self.community, lat=49.27, lon=-123.1305, offence="theft_from_vehicle")
        list_url = reverse("problems:list", args=["north"])
        self.login(self.resident)
        assert self.client.get(list_url).status_code == 403
        self.login(self.outsider)
        assert self.client.get(list_url).status_code == 404
        self.login(self.partner)
        page = self.client.get(list_url).content.decode()
        assert covered.title in page and "Internal only" not in page
        detail = self.client.get(reverse("problems:detail", args=["north", covered.pk]))
        body = detail.content.decode()
        assert detail.status_code == 200
        assert "Incident-level evidence is for the agency" in body
        assert "/do/" not in body and "Change area" not in body  # read-only: no forms
        assert (
            self.client.get(reverse("problems:detail", args=["north", hidden.pk])).status_code
            == 403
        )
        geojson = self.client.get(reverse("problems:geojson", args=["north", covered.pk])).json()
        assert [f["properties"]["kind"] for f in geojson["features"]] == ["area"]
        assert self.client.get(reverse("problems:board", args=["north"])).status_code == 403
        action = reverse("problems:action", args=["north", covered.pk, "stage"])
        assert self.client.post(action, {"stage": "analysis"}).status_code == 403
        self.login(self.officer)
        staff = self.client.get(
            reverse("problems:detail", args=["north", covered.pk])
        ).content.decode()
        assert "1 incident in the area" in staff
        assert no_inline_script(staff)
        ids = re.findall(r' id="([^"]+)"', staff)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        geojson = self.client.get(reverse("problems:geojson", args=["north", covered.pk])).json()
        assert [f["properties"]["kind"] for f in geojson["features"]] == ["area", "incident"]
        board = self.client.get(reverse("problems:board", args=["north"]))
        assert board.status_code == 200 and "Internal only" in board.content.decode()


class PageFormTests(BeaconTestCase):
    def test_open_by_hand_with_errors_next_to_the_field(self) -> None:
        self.login(self.analyst)
        url = reverse("problems:new", args=["north"])
        page = self.client.get(url)
        assert page.status_code == 200 and no_inline_script(page.content.decode())
        bad = self.client.post(
            url,
            {"title": "Car crime", "offence_groups": ["vehicle"], "geometry": json.dumps(BOWTIE)},
        )
        assert bad.status_code == 200
        assert "Self-intersection" in bad.content.decode()
        assert not Problem.objects.exists()
        good = self.client.post(
            url,
            {
                "title": "Car crime",
                "offence_groups": ["vehicle"],
                "geometry": json.dumps(box_in(self.community, *TARGET)),
            },
        )
        assert good.status_code == 302
        problem = Problem.objects.get()
        assert problem.owner == self.analyst

    def test_stage_close_needs_outcome_and_htmx_task_status(self) -> None:
        problem = make_problem(self.community, self.analyst)
        self.login(self.supervisor)
        stage = reverse("problems:action", args=["north", problem.pk, "stage"])
        refused = self.client.post(stage, {"stage": "closed"})
        assert refused.status_code == 400
        assert "choose an outcome" in refused.content.decode()
        closed = self.client.post(stage, {"stage": "closed", "outcome": "reduced"})
        assert closed.status_code == 302
        problem.refresh_from_db()
        assert problem.stage == Stage.CLOSED and problem.outcome == "reduced"
        task_url = reverse("problems:action", args=["north", problem.pk, "task"])
        added = self.client.post(
            task_url,
            {
                "title": "Check the lights",
                "owner": f"staff:{self.officer.pk}",
                "due_on": (services.today_in(self.community) + dt.timedelta(days=3)).isoformat(),
                "status": "planned",
            },
            headers=HTMX,
        )
        assert added.status_code == 200 and added.content.decode().startswith('<div id="tasks"')
        task = ResponseTask.objects.get()
        status = reverse("problems:action", args=["north", problem.pk, "task-status"])
        changed = self.client.post(status, {"task": task.pk, "status": "done"}, headers=HTMX)
        assert changed.status_code == 200
        task.refresh_from_db()
        assert task.status == "done" and task.completed_at is not None
        # Without htmx the same form redirects back to the section.
        again = self.client.post(status, {"task": task.pk, "status": "in_progress"})
        assert again.status_code == 302 and again["Location"].endswith("#tasks")

    def test_assessment_form_suggests_a_clear_control(self) -> None:
        problem = make_problem(self.community, self.analyst)
        services.set_response_start(problem, self.analyst, dt.date(2024, 7, 1))
        self.login(self.analyst)
        page = self.client.get(reverse("problems:assessment_new", args=["north", problem.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert no_inline_script(html)
        # Both neighbourhoods of the test community hold part of the target: nothing to
        # suggest, so the form starts on "draw on the map".
        assert '<option value="" selected>' in html
