"""The "done when" journey: an analyst opens a problem from a Gi* hot spot of thefts from
vehicles, records the analysis, assigns response tasks, sets the response start date and
downloads the assessment PDF, whose figures are the analytics library's on the same
incidents.

The synthetic journey always runs (pages, as the analyst clicks through them); the real
one uses the Vancouver 2020 file from ``BEACON_DATA_DIR`` (through the API) and is
skipped with the reason when the file is absent.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import h3
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from shapely import geometry as sg
from shapely.ops import unary_union

from beacon.core import geo
from beacon.core.models import AuditEvent, Community
from beacon.core.testing import BeaconTestCase
from beacon.partners.testing import make_partner
from beacon.problems import assessment, report
from beacon.problems.models import Assessment, Origin, Problem, ResponseTask, Stage
from beacon.problems.testing import TARGET, bbox, box_in
from beacon.problems.tests.scenario import (
    PERIOD_DAYS,
    RESPONSE_START,
    YEAR,
    expected_figures,
    seed_incidents,
)
from beacon.watch.testing import make_group

HTMX = {"HX-Request": "true"}
FAR_CONTROL = (0.7, 0.1, 0.98, 0.9)
VANCOUVER = Path("vancouver_2020") / "crimedata_csv_AllNeighbourhoods_2020.csv"


def gi_run(community: Community, actor: Any, start: dt.date, end: dt.date) -> Any:
    """A Gi* run of vehicle crime, requested and computed by the insights app."""
    from beacon.insights import services as insights

    run, _created = insights.request_run(
        community,
        "gi",
        offence_groups=["vehicle"],
        window_start=start,
        window_end=end,
        actor=actor,
        enqueue=False,
    )
    done = insights.execute_run(run.pk)
    assert done is not None and done.status == "done", getattr(done, "error", "")
    return done


def check_figures(row: Assessment) -> None:
    """The stored counts are an independent recount, and the stored figures are what the
    library returns for them."""
    counts, figures = expected_figures(row, set(row.offences))
    assert row.counts == counts
    assert row.results == figures
    html = report.report_html(report.build(row, with_charts=False))
    for name in ("rate_ratio", "relative"):
        if figures[name].get("ratio") is not None:
            assert f"{figures[name]['ratio']:.3f}" in html


class SyntheticJourneyTests(BeaconTestCase):
    partner_org: Any
    group: Any

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)
        cls.partner_org = make_partner(cls.community, "Market Street Business Association")
        cls.group = make_group(cls.community, cls.watch_coordinator)

    def action(self, problem: Problem, name: str, data: dict[str, Any], **extra: Any) -> Any:
        url = reverse("problems:action", args=["north", problem.pk, name])
        return self.client.post(url, data, **extra)

    def test_analyst_journey_through_the_pages(self) -> None:
        run = gi_run(self.community, self.analyst, dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))
        west, south, east, north = bbox(self.community)
        hot_cell = h3.latlng_to_cell(
            south + (TARGET[1] + TARGET[3]) / 2 * (north - south),
            west + (TARGET[0] + TARGET[2]) / 2 * (east - west),
            int(run.parameters["resolution"]),
        )
        self.login(self.analyst)

        # 1. Scanning: open the problem from the run's largest hot spot.
        url = reverse("problems:new_from_hotspot", args=["north", run.pk])
        page = self.client.get(url)
        assert page.status_code == 200 and hot_cell in page.content.decode()
        response = self.client.post(
            url,
            {
                "run": run.pk,
                "cluster": 0,
                "offences": ["theft_from_vehicle"],
                "title": "Thefts from cars around the market",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        problem = Problem.objects.get()
        assert response["Location"] == reverse("problems:detail", args=["north", problem.pk])
        assert problem.origin == Origin.HOTSPOT and problem.source_run == run
        assert hot_cell in problem.area_cells
        assert problem.offence_groups == ["vehicle"] and problem.offences == ["theft_from_vehicle"]
        assert list(problem.analysis_runs.all()) == [run]
        detail = self.client.get(response["Location"])
        assert detail.status_code == 200
        assert "Thefts from cars around the market" in detail.content.decode()

        # 2. Analysis: the triangle and a question with its finding.
        assert self.action(problem, "stage", {"stage": "analysis"}).status_code == 302
        triangle = {
            "offender": "Local repeat offenders on foot",
            "handler": "Probation officers",
            "target": "Parked cars with bags in view",
            "guardian": "Drivers, the lot attendant",
            "place": "The market's open car park",
            "manager": "The market's owner",
        }
        assert self.action(problem, "triangle", triangle).status_code == 302
        fragment = self.action(
            problem,
            "question",
            {"question": "When do the thefts happen?", "finding": "Evenings, Friday and Saturday."},
            headers=HTMX,
        )
        assert fragment.status_code == 200 and 'id="questions"' in fragment.content.decode()
        assert "When do the thefts happen?" in fragment.content.decode()

        # 3. Response: the partner joins, tasks for an officer, the partner and the watch
        # group; the response start date.
        edit = reverse("problems:edit", args=["north", problem.pk])
        assert (
            self.client.post(
                edit,
                {
                    "title": problem.title,
                    "offence_groups": ["vehicle"],
                    "offences": ["theft_from_vehicle"],
                    "partners": [self.partner_org.pk],
                },
            ).status_code
            == 302
        )
        assert self.action(problem, "stage", {"stage": "response"}).status_code == 302
        due = dt.date(YEAR, 7, 15).isoformat()
        for owner, title in (
            (f"staff:{self.officer.pk}", "Directed patrols on Friday and Saturday evenings"),
            (f"partner:{self.partner_org.pk}", "Signs in the car park"),
            (f"watch_group:{self.group.pk}", "Evening walk-arounds"),
        ):
            added = self.action(
                problem,
                "task",
                {"title": title, "owner": owner, "due_on": due, "status": "in_progress"},
                headers=HTMX,
            )
            assert added.status_code == 200 and title in added.content.decode()
        assert ResponseTask.objects.filter(problem=problem).count() == 3
        assert "overdue" in added.content.decode()  # due in 2024 and still open
        bad = self.action(problem, "task", {"title": "No owner", "due_on": due}, headers=HTMX)
        assert 'class="error"' in bad.content.decode()
        assert (
            self.action(
                problem, "response-start", {"response_started_on": RESPONSE_START.isoformat()}
            ).status_code
            == 302
        )
        problem.refresh_from_db()
        assert problem.response_started_on == RESPONSE_START

        # 4. Assessment: an overlapping control is refused next to the field, then a
        # clear one is assessed.
        assert self.action(problem, "stage", {"stage": "assessment"}).status_code == 302
        new = reverse("problems:assessment_new", args=["north", problem.pk])
        assert self.client.get(new).status_code == 200
        import json

        overlapping = self.client.post(
            new,
            {
                "control_geometry": json.dumps(box_in(self.community, 0.25, 0.4, 0.45, 0.6)),
                "buffer_m": 400,
                "period_days": PERIOD_DAYS,
            },
        )
        assert overlapping.status_code == 200
        assert "The control area overlaps the problem area" in overlapping.content.decode()
        assert not Assessment.objects.exists()
        done = self.client.post(
            new,
            {
                "control_geometry": json.dumps(box_in(self.community, *FAR_CONTROL)),
                "buffer_m": 400,
                "period_days": PERIOD_DAYS,
            },
        )
        assert done.status_code == 302, done.content.decode()[:3000]
        row = Assessment.objects.get()
        assert done["Location"] == reverse(
            "problems:assessment", args=["north", problem.pk, row.pk]
        )
        page = self.client.get(done["Location"])
        assert page.status_code == 200
        assert escape(row.verdict_text.split(".")[0]) in page.content.decode()

        # 5. The PDF, audited as an export; its figures are the library's.
        pdf = self.client.get(
            reverse("problems:assessment_pdf", args=["north", problem.pk, row.pk])
        )
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert f"problem-{problem.pk}-assessment-{row.pk}.pdf" in pdf["Content-Disposition"]
        assert AuditEvent.objects.filter(
            action="export", object_type="problems.assessment"
        ).exists()
        check_figures(row)
        for action in ("create", "stage", "update", "response_start"):
            assert AuditEvent.objects.filter(action=action, actor=self.analyst).exists(), action


@pytest.mark.data
class VancouverJourneyTests(BeaconTestCase):
    """The same journey on the real VPD 2020 incidents (through the API)."""

    def test_vancouver_theft_from_vehicle_hot_spot(self) -> None:
        from beacon.core.demo import derive_vancouver_neighbourhoods
        from beacon.incidents.importer import ImportOptions, import_incidents

        path = Path(settings.BEACON_DATA_DIR) / VANCOUVER
        if not path.exists():
            pytest.skip(f"{path} not found: set BEACON_DATA_DIR to the shared crime data folder")
        tick = time.monotonic()
        neighbourhoods = derive_vancouver_neighbourhoods(path)
        boundary = unary_union(list(neighbourhoods.values()))
        city = Community.objects.create(
            organization=self.community.organization,
            name="Vancouver",
            slug="vancouver",
            timezone="America/Vancouver",
            centre_lat=boundary.centroid.y,
            centre_lon=boundary.centroid.x,
            boundary=geo.to_geojson(boundary),
        )
        from beacon.core.services import add_member

        add_member(self.analyst, city, "analyst")
        summary = import_incidents(
            city, path, ImportOptions(fmt="vancouver", batch_size=20_000), publish=False
        )
        assert summary.imported == 37_512
        run = gi_run(city, self.analyst, dt.date(2020, 1, 1), dt.date(2020, 6, 30))
        self.login(self.analyst)
        base = "/api/v1/communities/vancouver/problems"

        created = self.client.post(
            base,
            {"run_id": run.pk, "offences": ["theft_from_vehicle"], "title": "TFV hot spot"},
            content_type="application/json",
            headers={"Idempotency-Key": "tfv-hotspot-1"},
        )
        assert created.status_code == 201, created.content
        problem_id = created.json()["id"]
        again = self.client.post(
            base,
            {"run_id": run.pk, "offences": ["theft_from_vehicle"], "title": "TFV hot spot"},
            content_type="application/json",
            headers={"Idempotency-Key": "tfv-hotspot-1"},
        )
        assert (
            again.json()["id"] == problem_id and Problem.objects.filter(community=city).count() == 1
        )
        one = f"{base}/{problem_id}"
        assert (
            self.client.put(
                f"{one}/triangle",
                {"offender": "Prolific local offenders", "place": "Downtown parkades and streets"},
                content_type="application/json",
            ).status_code
            == 200
        )
        assert (
            self.client.post(
                f"{one}/questions",
                {"question": "Which parkades repeat?", "finding": "Four account for a third."},
                content_type="application/json",
            ).status_code
            == 201
        )
        task = self.client.post(
            f"{one}/tasks",
            {
                "title": "Parkade lighting and signage audit",
                "owner_kind": "staff",
                "owner_id": self.analyst.pk,
                "due_on": "2020-07-15",
            },
            content_type="application/json",
        )
        assert task.status_code == 201, task.content
        assert (
            self.client.put(
                f"{one}/response-start",
                {"response_started_on": "2020-07-01"},
                content_type="application/json",
            ).status_code
            == 200
        )
        problem = Problem.objects.get(pk=problem_id)
        control = assessment.suggest_control(problem, neighbourhoods.items(), 400)
        assert control is not None
        assessed = self.client.post(
            f"{one}/assessments",
            {
                "control_geometry": geo.to_geojson(neighbourhoods[control]),
                "buffer_m": 400,
                "period_days": 150,
            },
            content_type="application/json",
        )
        assert assessed.status_code == 201, assessed.content
        row = Assessment.objects.get(pk=assessed.json()["id"])
        assert sum(row.counts["target"]) > 100  # a real hot spot, not a handful
        check_figures(row)
        pdf = self.client.get(
            reverse("problems:assessment_pdf", args=["vancouver", problem_id, row.pk])
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        # Overlap with the hot spot itself is refused.
        inside = sg.shape(problem.area).representative_point().buffer(0.0005)
        refused = self.client.post(
            f"{one}/assessments",
            {"control_geometry": geo.to_geojson(inside), "period_days": 150},
            content_type="application/json",
        )
        assert refused.status_code == 400
        assert "overlaps the problem area" in refused.json()["errors"]["control_geometry"][0]
        problem.refresh_from_db()
        assert problem.stage == Stage.SCANNING  # the API moves stages only when asked
        print(
            f"\nVancouver journey: {len(problem.area_cells)} hot cells, counts {row.counts}, "
            f"verdict {row.verdict}, control {control}, {time.monotonic() - tick:.1f} s"
        )
