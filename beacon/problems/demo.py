"""Demo problems: thefts from vehicles at the largest Gi* hot spot of the Vancouver data,
worked through to an assessment, and a concern from the board taken up for scanning.

Everything goes through the services (audited like real work). The demo data is 2020,
so the hot spot problem is dated in 2020: found in a Gi* run of January to April,
opened in May, response from 1 July, and assessed on the 120 days either side of it
against the control the assessment form would suggest: the nearest neighbourhood clear
of the problem area and its buffer with enough thefts from vehicles to compare with.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from beacon.core.models import Area, AreaKind, Community, User
from beacon.problems import analysis, assessment, origins, response, services
from beacon.problems import geometry as pgeo
from beacon.problems.errors import ProblemError
from beacon.problems.models import OwnerKind, Problem, Stage, TaskStatus

ANALYST = "analyst@demo.beacon"
OFFICER = "officer@demo.beacon"
HOTSPOT_WINDOW = (dt.date(2020, 1, 1), dt.date(2020, 4, 30))
RESPONSE_START = dt.date(2020, 7, 1)
OPENED = dt.datetime(2020, 5, 12, 10, 0)
PERIOD_DAYS = 120
BUFFER_M = 400
CONCERN_TITLE = "Car break-ins on Quebec Street"

TRIANGLE = {
    "offender": "Mostly local, repeat offenders on foot or bike, checking car doors and "
    "smashing windows for bags and electronics left in view.",
    "handler": "Probation and outreach workers who know the prolific offenders.",
    "target": "Cars parked on the street and in open lots overnight, with valuables "
    "visible; many belong to visitors.",
    "guardian": "Drivers themselves, residents overlooking the street, parking attendants.",
    "place": "Blocks around the hot spot with long rows of on-street parking, poor "
    "lighting and few people about after 22:00.",
    "manager": "Owners of the surface lots, the city's parking and street-lighting teams.",
}
QUESTIONS = [
    (
        "When do the thefts happen?",
        "Two thirds between 20:00 and 06:00; Friday and Saturday nights are the worst.",
    ),
    (
        "Which locations repeat?",
        "Four surface lots and two residential blocks account for about half.",
    ),
    ("What is taken?", ""),
]


def _control_area(problem: Problem, community: Community) -> Area | None:
    """The neighbourhood the assessment form would suggest as the control."""
    areas = Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD)
    found: Area | None = assessment.suggest_control(
        problem, ((a, pgeo.shape_of(a.geometry)) for a in areas), BUFFER_M
    )
    return found


def _hotspot_problem(community: Community, analyst: User, officer: User | None) -> str:
    from beacon.insights import services as insights
    from beacon.partners.models import Partner
    from beacon.watch.models import WatchGroup

    # The hot spot the analyst works from: vehicle crime in the months before the
    # problem was opened (computed now, like any run the insights app stores).
    requested, _created = insights.request_run(
        community,
        "gi",
        offence_groups=["vehicle"],
        window_start=HOTSPOT_WINDOW[0],
        window_end=HOTSPOT_WINDOW[1],
        actor=analyst,
        enqueue=False,
    )
    run = insights.execute_run(requested.pk)
    if run is None or run.status != "done":
        return "the Gi* run of vehicle crime failed: the hot spot problem is left out"
    partner = Partner.objects.filter(community=community).order_by("-name").first()
    problem = origins.open_from_hotspot(
        community,
        analyst,
        run,
        title="Thefts from vehicles at the largest hot spot",
        offences=["theft_from_vehicle"],
        partner_ids=[partner.pk] if partner else [],
    )
    # Demo data is from 2020: date the problem in the data's time.
    opened = OPENED.replace(tzinfo=ZoneInfo(community.timezone))
    Problem.objects.filter(pk=problem.pk).update(opened_at=opened, stage_changed_at=opened)
    problem.refresh_from_db()
    services.set_stage(problem, analyst, Stage.ANALYSIS)
    analysis.save_triangle(problem, analyst, TRIANGLE)
    for question, finding in QUESTIONS:
        analysis.add_question(problem, analyst, question, finding)
    services.set_stage(problem, analyst, Stage.RESPONSE)
    services.set_response_start(problem, analyst, RESPONSE_START)
    tasks: list[tuple[str, str, int, int, str]] = []
    if officer is not None:
        tasks.append(
            (
                "Directed patrols Friday and Saturday nights",
                OwnerKind.STAFF,
                officer.pk,
                7,
                TaskStatus.DONE,
            )
        )
    tasks.append(
        (
            "Lighting audit of the four surface lots",
            OwnerKind.STAFF,
            analyst.pk,
            30,
            TaskStatus.DONE,
        )
    )
    if partner is not None:
        tasks.append(
            (
                "“Lock it or lose it” leaflets on parked cars",
                OwnerKind.PARTNER,
                partner.pk,
                14,
                TaskStatus.IN_PROGRESS,
            )
        )
    group = WatchGroup.objects.filter(community=community).order_by("pk").first()
    if group is not None:
        tasks.append(
            (
                "Evening walk-arounds of the lots",
                OwnerKind.WATCH_GROUP,
                group.pk,
                45,
                TaskStatus.PLANNED,
            )
        )
    for title, kind, owner_id, due_in, status in tasks:
        # Due dates follow the response start; the open ones are long overdue, which
        # is what the board's overdue list is for.
        response.add_task(
            problem,
            analyst,
            response.TaskInput(
                title=title,
                owner_kind=kind,
                owner_id=owner_id,
                due_on=RESPONSE_START + dt.timedelta(days=due_in),
                status=status,
            ),
        )
    control = _control_area(problem, community)
    if control is None:
        return f"problem {problem.pk} opened; no neighbourhood clear of it to assess against"
    services.set_stage(problem, analyst, Stage.ASSESSMENT)
    row = assessment.assess(
        problem,
        analyst,
        assessment.AssessmentInput(
            control_area_id=control.pk, buffer_m=BUFFER_M, period_days=PERIOD_DAYS
        ),
    )
    return (
        f"problem {problem.pk} ({len(problem.area_cells)} hot cells) assessed against "
        f"{control.name}: {row.get_verdict_display().lower()}"
    )


def _concern_problem(community: Community, analyst: User) -> str:
    from beacon.forums.models import Concern
    from beacon.forums.services import request_problem

    concern = Concern.objects.filter(community=community, title=CONCERN_TITLE).first()
    if concern is None:
        return "no demo concern to take up"
    request_problem(concern, analyst)
    concern.refresh_from_db()
    return f"concern {concern.pk} became problem {concern.problem_id}"


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """One hot spot problem worked to an assessment, and one problem from a concern."""
    if Problem.objects.filter(community=community).exists():
        return
    analyst = User.objects.filter(email=ANALYST).first()
    if analyst is None:
        return
    tick = time.perf_counter()
    officer = User.objects.filter(email=OFFICER).first()
    notes = []
    for make in (
        lambda: _hotspot_problem(community, analyst, officer),
        lambda: _concern_problem(community, analyst),
    ):
        try:
            notes.append(make())
        except ProblemError as exc:
            notes.append(f"skipped: {exc.message}")
    progress(f"Problems: {'; '.join(notes)} ({time.perf_counter() - tick:.1f} s)")
