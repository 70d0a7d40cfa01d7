"""Problem services: opening, areas and their errors, stages, analysis, evidence, tasks,
the board, partner access and the concerns-board hand-over."""

from __future__ import annotations

import datetime as dt

import h3
import pytest
from django.core.exceptions import PermissionDenied

from beacon.core.access import can
from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase, box_polygon
from beacon.forums.testing import make_concern
from beacon.incidents.testing import make_incident
from beacon.partners.testing import make_partner
from beacon.problems import analysis, board, origins, response, scanning, services
from beacon.problems.errors import ProblemError
from beacon.problems.models import (
    EvidenceLink,
    Origin,
    OwnerKind,
    Problem,
    ResponseTask,
    Stage,
    TaskStatus,
)
from beacon.problems.testing import box_in, make_problem
from beacon.reports.testing import file as file_report
from beacon.reports.testing import make_categories
from beacon.watch.testing import make_group

BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [
            [-123.13, 49.265],
            [-123.12, 49.275],
            [-123.12, 49.265],
            [-123.13, 49.275],
            [-123.13, 49.265],
        ]
    ],
}


class AreaErrorTests(BeaconTestCase):
    def _open(self, geometry: object = None, cells: list[str] | None = None) -> Problem:
        return services.open_problem(
            self.community,
            self.analyst,
            services.ProblemInput(
                title="Thefts from cars",
                offence_groups=["vehicle"],
                geometry=geometry,
                cells=cells,
            ),
        )

    def test_self_intersecting_area_is_refused_naming_the_field(self) -> None:
        with pytest.raises(ProblemError) as caught:
            self._open(BOWTIE)
        assert list(caught.value.errors) == ["geometry"]
        assert "Self-intersection" in caught.value.message
        assert caught.value.message.startswith("geometry: ")
        assert not Problem.objects.exists()

    def test_area_outside_the_community_is_refused(self) -> None:
        outside = box_polygon(-123.139, 49.27, -123.10, 49.279)  # runs east of the boundary
        with pytest.raises(ProblemError) as caught:
            self._open(outside)
        assert "outside the community boundary" in caught.value.errors["geometry"][0]
        far = box_polygon(-0.2, 51.4, -0.1, 51.5)
        with pytest.raises(ProblemError) as caught:
            self._open(far)
        assert "outside the community boundary (100% of it)" in caught.value.message

    def test_missing_area_and_bad_cells(self) -> None:
        with pytest.raises(ProblemError) as caught:
            self._open(None)
        assert "draw the area" in caught.value.errors["geometry"][0]
        with pytest.raises(ProblemError) as caught:
            self._open(cells=["not-a-cell"])
        assert "item 0 ('not-a-cell') is not an H3 cell" in caught.value.errors["cells"][0]
        london = h3.latlng_to_cell(51.5, -0.12, 9)
        with pytest.raises(ProblemError) as caught:
            self._open(cells=[london])
        assert "outside the community boundary" in caught.value.errors["cells"][0]
        mixed = [h3.latlng_to_cell(49.27, -123.13, 9), h3.latlng_to_cell(49.27, -123.12, 8)]
        with pytest.raises(ProblemError) as caught:
            self._open(cells=mixed)
        assert "one resolution" in caught.value.errors["cells"][0]

    def test_cells_on_the_edge_are_trimmed_to_the_community(self) -> None:
        # A cell straddling the north edge: kept, cut at the boundary.
        edge = h3.latlng_to_cell(49.2799, -123.125, 9)
        problem = self._open(cells=[edge])
        assert problem.area_cells == [edge]
        assert max(p[1] for p in problem.area["coordinates"][0]) <= 49.28 + 1e-9

    def test_all_input_errors_come_together(self) -> None:
        with pytest.raises(ProblemError) as caught:
            services.open_problem(
                self.community,
                self.analyst,
                services.ProblemInput(
                    title="x",
                    offence_groups=["nonsense"],
                    offences=["theft_from_vehicle"],
                    geometry=BOWTIE,
                    owner_id=self.resident.pk,
                ),
            )
        assert set(caught.value.errors) == {"title", "offence_groups", "geometry", "owner_id"}

    def test_offences_must_sit_in_the_groups(self) -> None:
        with pytest.raises(ProblemError) as caught:
            services.check_offences(["burglary"], ["theft_from_vehicle"])
        assert "not in the chosen offence groups" in caught.value.errors["offences"][0]


class LifecycleTests(BeaconTestCase):
    def test_open_places_the_problem_and_audits(self) -> None:
        problem = make_problem(self.community, self.analyst)
        assert problem.stage == Stage.SCANNING and problem.origin == Origin.MANUAL
        assert problem.owner == self.analyst
        assert problem.beat is not None and problem.beat.name == "West beat"
        assert problem.neighbourhood is not None
        assert AuditEvent.objects.filter(
            action="create", object_type="problems.problem", object_id=str(problem.pk)
        ).exists()

    def test_residents_and_partners_cannot_open_problems(self) -> None:
        for user in (self.resident, self.partner, self.outsider):
            with pytest.raises(PermissionDenied):
                make_problem(self.community, user)

    def test_stages_outcome_and_response_start(self) -> None:
        problem = make_problem(self.community, self.analyst)
        with pytest.raises(ProblemError) as caught:
            services.set_stage(problem, self.analyst, Stage.ASSESSMENT)
        assert "response started" in caught.value.message
        with pytest.raises(ProblemError) as caught:
            services.set_stage(problem, self.analyst, Stage.CLOSED)
        assert list(caught.value.errors) == ["outcome"]
        today = services.today_in(self.community)
        with pytest.raises(ProblemError) as caught:
            services.set_response_start(problem, self.analyst, today + dt.timedelta(days=1))
        assert "future" in caught.value.message
        services.set_response_start(problem, self.analyst, today - dt.timedelta(days=30))
        services.set_stage(problem, self.analyst, Stage.ASSESSMENT)
        services.set_stage(problem, self.supervisor, Stage.CLOSED, outcome="reduced", note="Fewer.")
        problem.refresh_from_db()
        assert problem.closed_at is not None and problem.outcome == "reduced"
        services.set_stage(problem, self.analyst, Stage.ANALYSIS)
        problem.refresh_from_db()
        assert problem.closed_at is None
        stages = AuditEvent.objects.filter(action="stage", object_id=str(problem.pk))
        assert [e.detail["to"] for e in stages] == ["assessment", "closed", "analysis"]

    def test_update_keeps_the_area_unless_redrawn(self) -> None:
        problem = make_problem(self.community, self.analyst)
        area = problem.area
        services.update_problem(
            problem,
            self.officer,
            services.ProblemInput(
                title="Car crime by the market", offence_groups=["vehicle", "theft"]
            ),
        )
        problem.refresh_from_db()
        assert problem.area == area and problem.offence_groups == ["vehicle", "theft"]
        assert problem.offences == []
        east = box_in(self.community, 0.7, 0.3, 0.9, 0.6)
        services.update_problem(
            problem,
            self.officer,
            services.ProblemInput(title="Car crime", offence_groups=["vehicle"], geometry=east),
        )
        problem.refresh_from_db()
        assert problem.beat is not None and problem.beat.name == "East beat"

    def test_triangle_and_questions(self) -> None:
        problem = make_problem(self.community, self.analyst)
        analysis.save_triangle(
            problem, self.analyst, {"offender": "Local youths", "place": "Car park"}
        )
        analysis.save_triangle(problem, self.analyst, {"manager": "The lot's owner"})
        problem.refresh_from_db()
        assert problem.triangle()["offender"] == "Local youths"
        assert problem.triangle()["manager"] == "The lot's owner"
        with pytest.raises(ProblemError):
            analysis.save_triangle(problem, self.analyst, {"weather": "rain"})
        question = analysis.add_question(problem, self.analyst, "When do they happen?")
        assert question.answered_at is None
        analysis.answer_question(question, self.analyst, "At night, mostly weekends.")
        assert question.answered_at is not None

    def test_scanning_counts_and_trend(self) -> None:
        problem = make_problem(self.community, self.analyst)
        inside = problem.area["coordinates"][0][0]
        lon, lat = inside[0] + 0.001, inside[1] + 0.001
        for month in (1, 2, 2, 3):
            make_incident(
                self.community,
                lat=lat,
                lon=lon,
                offence="theft_from_vehicle",
                when=dt.datetime(2024, month, 10, 12, tzinfo=dt.UTC),
            )
        # Outside the offences, outside the area, unfounded: not counted.
        make_incident(self.community, lat=lat, lon=lon, offence="theft_of_vehicle")
        make_incident(self.community, lat=49.262, lon=-123.112, offence="theft_from_vehicle")
        make_incident(
            self.community, lat=lat, lon=lon, offence="theft_from_vehicle", status="unfounded"
        )
        scan = scanning.scanning(problem, self.analyst, months=6)
        assert scan.total == 4
        assert scan.by_offence == [("Theft from a vehicle", 4)]
        assert [n for _m, n in scan.trend] == [0, 0, 0, 1, 2, 1]
        assert scan.trend[-1][0] == dt.date(2024, 3, 1)


class EvidenceTests(BeaconTestCase):
    def test_link_reports_and_concerns(self) -> None:
        make_categories(self.community)
        problem = make_problem(self.community, self.analyst)
        ring = problem.area["coordinates"][0]
        lat = (ring[0][1] + ring[2][1]) / 2
        lon = (ring[0][0] + ring[2][0]) / 2
        report = file_report(self.community, lat=lat, lon=lon).report
        scan = scanning.scanning(problem, self.analyst)
        assert [r.pk for r in scan.suggested_reports] == [report.pk]
        link = scanning.link_evidence(problem, self.analyst, "report", report.pk, "Same lot")
        again = scanning.link_evidence(problem, self.analyst, "report", report.pk)
        assert again.pk == link.pk and EvidenceLink.objects.count() == 1
        assert scanning.scanning(problem, self.analyst).suggested_reports == []
        with pytest.raises(ProblemError) as caught:
            scanning.link_evidence(problem, self.analyst, "concern", 999_999)
        assert list(caught.value.errors) == ["target_id"]
        scanning.unlink_evidence(link, self.analyst)
        assert not EvidenceLink.objects.exists()

    def test_open_from_reports_links_them(self) -> None:
        make_categories(self.community)
        reports = [
            file_report(self.community, lat=49.27 + d, lon=-123.13 + d).report
            for d in (0.0, 0.0005, 0.001)
        ]
        problem = origins.open_from_reports(
            self.community,
            self.officer,
            [r.pk for r in reports],
            services.ProblemInput(title="Graffiti run", offence_groups=["damage"]),
        )
        assert problem.origin == Origin.REPORTS
        assert sorted(problem.links.values_list("report_id", flat=True)) == [r.pk for r in reports]
        from shapely.geometry import Point, shape

        area = shape(problem.area)
        assert all(area.contains(Point(r.lon, r.lat)) for r in reports)

    def test_concern_becomes_a_problem_through_the_board(self) -> None:
        from beacon.forums import services as forums

        concern = make_concern(
            self.community, category="property", title="Car break-ins on our block"
        )
        forums.request_problem(concern, self.officer)
        concern.refresh_from_db()
        assert concern.problem_id is not None
        problem = Problem.objects.get(pk=concern.problem_id)
        assert problem.origin == Origin.CONCERN and problem.source_concern == concern
        assert "vehicle" in problem.offence_groups
        assert problem.links.get().concern == concern
        forums.request_problem(concern, self.officer)  # a second request opens nothing new
        assert Problem.objects.count() == 1


class TaskTests(BeaconTestCase):
    def test_owners_due_dates_and_overdue(self) -> None:
        partner = make_partner(self.community)
        group = make_group(self.community, self.watch_coordinator)
        problem = make_problem(self.community, self.analyst)
        today = services.today_in(self.community)

        def task(kind: str, owner: int, days: int) -> ResponseTask:
            return response.add_task(
                problem,
                self.analyst,
                response.TaskInput(
                    title=f"Task for {kind}",
                    owner_kind=kind,
                    owner_id=owner,
                    due_on=today + dt.timedelta(days=days),
                ),
            )

        late = task(OwnerKind.STAFF, self.officer.pk, -2)
        with pytest.raises(ProblemError) as caught:
            task(OwnerKind.PARTNER, partner.pk, 5)
        assert "problem's partners" in caught.value.errors["owner_id"][0]
        services.update_problem(
            problem,
            self.analyst,
            services.ProblemInput(
                title=problem.title,
                offence_groups=problem.offence_groups,
                offences=problem.offences,
                partner_ids=[partner.pk],
            ),
        )
        by_partner = task(OwnerKind.PARTNER, partner.pk, 5)
        by_group = task(OwnerKind.WATCH_GROUP, group.pk, -1)
        assert by_partner.owner_label == partner.name and by_group.owner_label == group.name
        with pytest.raises(ProblemError) as caught:
            task(OwnerKind.STAFF, self.resident.pk, 3)
        assert list(caught.value.errors) == ["owner_id"]
        overdue = list(response.overdue_tasks(self.community, self.supervisor))
        assert overdue == [late, by_group]
        response.set_task_status(late, self.officer, TaskStatus.DONE)
        late.refresh_from_db()
        assert late.completed_at is not None and not late.is_overdue(today)
        assert list(response.overdue_tasks(self.community, self.supervisor)) == [by_group]

    def test_board_by_stage_and_beat(self) -> None:
        west = make_problem(self.community, self.analyst, title="West problem")
        east = make_problem(
            self.community,
            self.analyst,
            title="East problem",
            geometry=box_in(self.community, 0.7, 0.3, 0.9, 0.6),
        )
        services.set_stage(east, self.analyst, Stage.ANALYSIS)
        response.add_task(
            west,
            self.analyst,
            response.TaskInput(
                title="Overdue",
                owner_kind=OwnerKind.STAFF,
                owner_id=self.officer.pk,
                due_on=services.today_in(self.community) - dt.timedelta(days=3),
            ),
        )
        result = board.build(self.community, self.supervisor)
        columns = {code: [p.title for p in problems] for code, _label, problems in result.columns}
        assert columns["scanning"] == ["West problem"] and columns["analysis"] == ["East problem"]
        assert {row.name: row.by_stage for row in result.beats} == {
            "East beat": {"analysis": 1},
            "West beat": {"scanning": 1},
        }
        assert [t.title for t in result.overdue] == ["Overdue"]
        only_east = board.build(self.community, self.supervisor, beat_id=east.beat_id)
        assert only_east.overdue == [] and only_east.stage_totals[1] == 1


class PartnerAccessTests(BeaconTestCase):
    def test_partner_sees_only_covered_problems_and_cannot_change_them(self) -> None:
        own = make_partner(self.community, contact_user=self.partner)
        other = make_partner(self.community, "Another Organisation")
        covered = make_problem(self.community, self.analyst, title="Covered", partners=[own])
        make_problem(self.community, self.analyst, title="Someone else's", partners=[other])
        make_problem(self.community, self.analyst, title="Internal")
        visible = services.problems_for(self.community, self.partner)
        assert [p.title for p in visible] == ["Covered"]
        assert can(self.partner, "view", covered) and not can(self.partner, "change", covered)
        with pytest.raises(PermissionDenied):
            analysis.save_triangle(covered, self.partner, {"offender": "x"})
        # An agreement that ended ends the access.
        own.agreements.update(terminated_on=services.today_in(self.community))
        assert not services.problems_for(self.community, self.partner).exists()

    def test_partner_sees_problems_of_their_joint_initiatives(self) -> None:
        from django.contrib.contenttypes.models import ContentType

        from beacon.partners.testing import make_initiative

        own = make_partner(self.community, contact_user=self.partner)
        problem = make_problem(self.community, self.analyst, title="Initiative problem")
        assert not can(self.partner, "view", problem)
        initiative = make_initiative(self.community, own)
        initiative.problem_type = ContentType.objects.get_for_model(Problem)
        initiative.problem_id = problem.pk
        initiative.save()
        assert can(self.partner, "view", problem)


class EvaluationIndicatorTests(BeaconTestCase):
    def test_open_problem_areas_and_opened_closed_figures(self) -> None:
        from beacon.evaluation.indicators import Period, open_problem_area_ids, problems_indicator

        problem = make_problem(self.community, self.analyst)
        assert problem.beat_id is not None and problem.neighbourhood_id is not None
        assert {problem.beat_id, problem.neighbourhood_id} <= open_problem_area_ids(self.community)
        today = services.today_in(self.community)
        period = Period.current(today)
        figures = {f.key: f.value for f in problems_indicator(self.community, period).figures}
        assert figures["problems_opened"] == 1 and figures["problems_closed"] == 0
        services.set_stage(problem, self.analyst, Stage.CLOSED, outcome="eliminated")
        assert problem.beat_id not in open_problem_area_ids(self.community)
        figures = {f.key: f.value for f in problems_indicator(self.community, period).figures}
        assert figures["problems_closed"] == 1
