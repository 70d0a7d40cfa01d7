"""Analysis runs: requesting, computing and finding them.

A run is requested (validated, stored as ``queued``, audited, and its task enqueued
after the transaction commits), computed by the worker (:func:`execute_run`, which
claims the run so it is computed once), and read by the dashboards and the API, which
never compute anything themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from beacon.analytics.events import AnalysisInputError
from beacon.core.audit import record_event
from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import Area, AreaKind, Community, User
from beacon.insights import data
from beacon.insights.compute import COMPUTE, Context
from beacon.insights.models import AnalysisRun, RunKind, RunStatus
from beacon.insights.params import (
    DEFAULT_WINDOW_DAYS,
    clean_groups,
    clean_parameters,
    clean_window,
)

logger = logging.getLogger(__name__)

#: Statuses of a run that answers (or will answer) a request: a failed run does not.
LIVE = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DONE)


def local_today(community: Community) -> dt.date:
    """Today in the community's time zone."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(community.timezone)).date()


def data_end(community: Community) -> dt.date:
    """The last day analyses look at by default: the latest incident's day, or today.

    A community whose data stops in the past (an archive, the demo's 2020 data) is
    analysed as of its last data, not as of an empty today.
    """
    last = data.last_incident_day(community)
    today = local_today(community)
    return min(last, today) if last is not None else today


def default_window(
    community: Community, kind: str, end: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The data window a run of ``kind`` reads unless told otherwise."""
    end = end or data_end(community)
    return end - dt.timedelta(days=DEFAULT_WINDOW_DAYS[kind] - 1), end


def find_run(
    community: Community,
    kind: str,
    offence_groups: Sequence[str],
    window_start: dt.date,
    window_end: dt.date,
    parameters: Mapping[str, Any] | None = None,
    statuses: Sequence[str] = LIVE,
) -> AnalysisRun | None:
    """The newest run of exactly this kind, groups, window (and parameters, if given)."""
    groups = sorted(set(offence_groups))
    rows = AnalysisRun.objects.filter(
        community=community,
        kind=kind,
        window_start=window_start,
        window_end=window_end,
        status__in=list(statuses),
    ).order_by("-created_at", "-id")
    for run in rows.defer("results"):
        if sorted(run.offence_groups) != groups:
            continue
        if parameters is not None and run.parameters != dict(parameters):
            continue
        return run
    return None


def latest_run(
    community: Community, kind: str, offence_groups: Sequence[str] | None = None
) -> AnalysisRun | None:
    """The newest finished (done) run of ``kind``; of exactly these groups if given."""
    rows = AnalysisRun.objects.filter(
        community=community, kind=kind, status=RunStatus.DONE
    ).order_by("-finished_at", "-id")
    if offence_groups is None:
        return rows.first()
    groups = sorted(set(offence_groups))
    for run_id, run_groups in rows.values_list("id", "offence_groups")[:200]:
        if sorted(run_groups) == groups:
            return AnalysisRun.objects.get(pk=run_id)
    return None


def create_run(
    community: Community,
    kind: str,
    *,
    offence_groups: Sequence[str] = (),
    window_start: dt.date | None = None,
    window_end: dt.date | None = None,
    parameters: Mapping[str, Any] | None = None,
    actor: User | None = None,
    enqueue: bool = True,
) -> AnalysisRun:
    """Store a queued run (validated, defaults filled in), audit it, and enqueue it.

    Raises :class:`~beacon.insights.params.RunParameterError` naming the bad field.
    """
    params = clean_parameters(kind, parameters)
    groups = clean_groups(list(offence_groups))
    default_start, default_end = default_window(community, kind, window_end)
    start, end = clean_window(window_start or default_start, window_end or default_end)
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            community=community,
            kind=kind,
            offence_groups=groups,
            parameters=params,
            window_start=start,
            window_end=end,
            created_by=actor,
        )
        record_event(
            action="create",
            actor=actor,
            obj=run,
            detail={"kind": kind, "offence_groups": groups, "window": [str(start), str(end)]},
        )
        if enqueue:
            from beacon.insights.tasks import run_analysis

            enqueue_on_commit(run_analysis, run.pk)
    return run


def request_run(
    community: Community,
    kind: str,
    *,
    offence_groups: Sequence[str] = (),
    window_start: dt.date | None = None,
    window_end: dt.date | None = None,
    parameters: Mapping[str, Any] | None = None,
    actor: User | None = None,
    enqueue: bool = True,
) -> tuple[AnalysisRun, bool]:
    """The run answering this request: a stored one (queued, running or done) with the
    same kind, groups, window and parameters, or a new queued one. Returns
    ``(run, created)``."""
    params = clean_parameters(kind, parameters)
    groups = clean_groups(list(offence_groups))
    default_start, default_end = default_window(community, kind, window_end)
    start, end = clean_window(window_start or default_start, window_end or default_end)
    existing = find_run(community, kind, groups, start, end, params)
    if existing is not None:
        return existing, False
    run = create_run(
        community,
        kind,
        offence_groups=groups,
        window_start=start,
        window_end=end,
        parameters=params,
        actor=actor,
        enqueue=enqueue,
    )
    return run, True


def context_for(community: Community) -> Context:
    """The community's places as the computations need them (cells, beats, names)."""
    cells: dict[int, list[str] | None] = {}

    def study(resolution: int) -> list[str] | None:
        if resolution not in cells:
            cells[resolution] = data.study_cells(community, resolution)
        return cells[resolution]

    def beats(lats: Sequence[float], lons: Sequence[float]) -> list[int | None]:
        return data.areas_for_points(community, AreaKind.BEAT, lats, lons)

    names = dict(Area.objects.filter(community=community).values_list("id", "name"))
    return Context(study_cells=study, beats_for=beats, area_names=names)


def frame_for(run: AnalysisRun) -> data.IncidentFrame:
    """The incidents a run reads."""
    return data.load_frame(run.community, run.window_start, run.window_end)


def execute_run(
    run_id: int,
    *,
    frame: data.IncidentFrame | None = None,
    context: Context | None = None,
) -> AnalysisRun | None:
    """Compute a queued run and store its results, or its error, with the timing.

    Idempotent: the run is claimed with one conditional update, so it is computed once
    however many workers receive it; a run that is not queued is returned unchanged.
    ``frame`` and ``context`` may be shared between runs of one community (the demo
    and the schedule do) as long as the frame covers the run's window.
    """
    claimed = AnalysisRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), error=""
    )
    run = AnalysisRun.objects.select_related("community").filter(pk=run_id).first()
    if run is None or not claimed:
        return run
    tick = time.perf_counter()
    try:
        if frame is None or frame.start > run.window_start or frame.end < run.window_end:
            frame = frame_for(run)
        if context is None:
            context = context_for(run.community)
        results = COMPUTE[run.kind](
            frame, run.offence_groups, run.window_start, run.window_end, run.parameters, context
        )
        run.results = results
        run.status = RunStatus.DONE
    except AnalysisInputError as exc:
        run.status = RunStatus.FAILED
        run.error = str(exc)
    except Exception as exc:  # a bug must not leave the run "running" for ever
        logger.exception("analysis run %s failed", run_id)
        run.status = RunStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
    run.finished_at = timezone.now()
    run.duration_ms = round((time.perf_counter() - tick) * 1000)
    with transaction.atomic():
        run.save(update_fields=["status", "results", "error", "finished_at", "duration_ms"])
        if run.kind == RunKind.KNOX and run.status == RunStatus.DONE:
            from beacon.insights.tasks import refresh_zones

            enqueue_on_commit(refresh_zones, run.community_id)
    return run


def requeue_stale(community: Community, older_than: dt.timedelta = dt.timedelta(hours=2)) -> int:
    """Put back in the queue runs left "running" by a worker that died; returns how many."""
    cutoff = timezone.now() - older_than
    stale = list(
        AnalysisRun.objects.filter(
            community=community, status=RunStatus.RUNNING, started_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    if not stale:
        return 0
    from beacon.insights.tasks import run_analysis

    with transaction.atomic():
        AnalysisRun.objects.filter(pk__in=stale, status=RunStatus.RUNNING).update(
            status=RunStatus.QUEUED, started_at=None
        )
        for pk in stale:
            enqueue_on_commit(run_analysis, pk)
    return len(stale)


def communities_with_incidents() -> list[Community]:
    """Communities that have any incidents (the schedule analyses these)."""
    from beacon.incidents.models import Incident

    ids = Incident.objects.order_by().values_list("community_id", flat=True).distinct()
    return list(Community.objects.filter(pk__in=ids).order_by("pk"))


def groups_present(community: Community, minimum: int = 1) -> list[str]:
    """Offence groups with at least ``minimum`` incidents in the community."""
    from django.db.models import Count

    from beacon.incidents.models import Incident

    rows = (
        Incident.objects.filter(community=community)
        .order_by()
        .values("offence_group")
        .annotate(n=Count("id"))
        .filter(n__gte=minimum)
    )
    return sorted(r["offence_group"] for r in rows)


def visible_runs(user: Any, community: Community) -> Any:
    """The community's runs the user may see, newest first, without their results."""
    return (
        AnalysisRun.objects.visible_to(user)
        .filter(community=community)
        .select_related("created_by")
        .defer("results")
        .order_by("-created_at", "-id")
    )


def run_filter_q(kind: str | None = None, status: str | None = None) -> Q:
    """Filter for the run lists by kind and status (unknown values match nothing)."""
    q = Q()
    if kind:
        q &= Q(kind=kind)
    if status:
        q &= Q(status=status)
    return q
