"""Analyst dashboards: hot spots, near repeat, the weekly forecast and trend alerts.

Every page reads stored runs only (:mod:`beacon.insights.services`); a filter that no
stored run answers offers to queue one and then shows its status until it is done.
Staff only, except the near-repeat zones, which watch coordinators also see (masked).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Community
from beacon.core.roles import STAFF_ROLES, Role
from beacon.incidents.taxonomy import GROUPS
from beacon.insights import services
from beacon.insights.forms import HotspotFilterForm, RunRequestForm
from beacon.insights.models import RUNNERS, AnalysisRun, RunKind, RunStatus
from beacon.insights.params import RunParameterError, clean_parameters
from beacon.insights.zones import NEAR_REPEAT_GROUPS, sees_exact, zones_for

#: Zones listed in the page's table (the caller's own first); the map shows them all.
ZONE_TABLE_ROWS = 100
ZONE_READERS: frozenset[str] = frozenset({*STAFF_ROLES, Role.WATCH_COORDINATOR})
DASHBOARDS: dict[str, str] = {
    RunKind.GI: "insights:hotspots",
    RunKind.KDE: "insights:hotspots",
    RunKind.KNOX: "insights:near_repeat",
    RunKind.FORECAST: "insights:forecast",
    RunKind.TREND: "insights:trends",
}


def _community(request: HttpRequest, slug: str, roles: frozenset[str] = STAFF_ROLES) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, roles)
    return community


def _is_runner(request: HttpRequest, community: Community) -> bool:
    user: Any = request.user
    return bool(user.is_superuser or set(user.roles_in(community)) & RUNNERS)


def _runs(request: HttpRequest, community: Community) -> Any:
    return AnalysisRun.objects.visible_to(request.user).filter(community=community)


def _run(request: HttpRequest, community: Community, pk: Any, *kinds: str) -> AnalysisRun:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    run: AnalysisRun = get_object_or_deny(
        AnalysisRun.objects.filter(community=community), request.user, "view", pk=number
    )
    if kinds and run.kind not in kinds:
        raise Http404
    return run


def _stored(request: HttpRequest, community: Community, kind: str, limit: int = 15) -> list[Any]:
    """The latest finished runs of a kind, without their results, for the run pickers."""
    return list(
        services.visible_runs(request.user, community).filter(kind=kind, status=RunStatus.DONE)[
            :limit
        ]
    )


def _group_labels(codes: list[str]) -> str:
    if not codes:
        return _("all offence groups")
    return ", ".join(str(GROUPS[c].label) if c in GROUPS else c for c in codes)


def _base(request: HttpRequest, community: Community, **extra: Any) -> dict[str, Any]:
    return {
        "community": community,
        "can_run": _is_runner(request, community),
        "group_labels": {code: str(g.label) for code, g in GROUPS.items()},
        **extra,
    }


# --------------------------------------------------------------------------- runs


@signed_in
@require_GET
def index(request: HttpRequest, slug: str) -> HttpResponse:
    """The analyses of the community: the latest of each kind and every stored run."""
    community = _community(request, slug)
    runs = services.visible_runs(request.user, community)
    kind = request.GET.get("kind") or None
    if kind and kind in RunKind.values:
        runs = runs.filter(kind=kind)
    form = RunRequestForm(initial={"next": request.get_full_path()})
    return render(
        request,
        "insights/index.html",
        _base(
            request,
            community,
            runs=list(runs[:50]),
            kinds=RunKind.choices,
            chosen_kind=kind or "",
            form=form,
            data_end=services.data_end(community),
        ),
    )


@signed_in
@require_POST
def request_run(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue a run (analysts, supervisors, admins), or find the stored one it repeats."""
    community = _community(request, slug, RUNNERS)
    form = RunRequestForm(request.POST)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = ""
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                label = form.fields[field].label if field in form.fields else field
                messages.error(request, f"{label}: {error}")
        return redirect(target or reverse("insights:index", args=[community.slug]))
    data = form.cleaned_data
    try:
        run, created = services.request_run(
            community,
            data["kind"],
            offence_groups=data["offence_groups"],
            window_start=data["window_start"],
            window_end=data["window_end"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except RunParameterError as exc:
        messages.error(request, str(exc))
        return redirect(target or reverse("insights:index", args=[community.slug]))
    if created:
        messages.success(request, _("The analysis is queued; this page shows its progress."))
    else:
        messages.info(request, _("This analysis is already stored; showing it."))
    return redirect(target or reverse("insights:run_detail", args=[community.slug, run.pk]))


@signed_in
@require_GET
def run_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One run: status (polled while it works), parameters, window, timing, summary."""
    community = _community(request, slug)
    run = _run(request, community, pk)
    context = _base(
        request,
        community,
        run=run,
        groups_label=_group_labels(run.offence_groups),
        dashboard=reverse(DASHBOARDS[run.kind], args=[community.slug]) + f"?run={run.pk}",
    )
    if request.headers.get("HX-Request"):
        response = render(request, "insights/_run_status.html", context)
        if run.finished and request.GET.get("reload"):
            response["HX-Refresh"] = "true"
        return response
    return render(request, "insights/run_detail.html", context)


@signed_in
@require_GET
def run_geojson(request: HttpRequest, slug: str, pk: int) -> JsonResponse:
    """The map layer of a finished run (Gi* hexagons, KDE cells, forecast cells and
    patrol units)."""
    community = _community(request, slug)
    run = _run(request, community, pk, RunKind.GI, RunKind.KDE, RunKind.FORECAST)
    if run.status != RunStatus.DONE:
        return JsonResponse({"detail": _("This run has no results yet.")}, status=409)
    results = run.results or {}
    layer: dict[str, Any] = dict(results.get("geojson") or {"type": "FeatureCollection"})
    if run.kind == RunKind.FORECAST:
        units = [
            {
                "type": "Feature",
                "geometry": unit["geometry"],
                "properties": {
                    "layer": "patrol",
                    "beat": plan["beat_name"],
                    "unit": unit["unit"],
                    "expected": unit["expected"],
                },
            }
            for plan in results.get("plans", [])
            for unit in plan["units"]
        ]
        layer = {**layer, "features": [*layer.get("features", []), *units]}
    response = JsonResponse(layer)
    response["Cache-Control"] = "private, max-age=300"
    return response


def _stored_for(
    community: Community, kind: str, groups: list[str], start: dt.date, end: dt.date
) -> AnalysisRun | None:
    """The run (queued, running or done) with the default parameters for a filter."""
    return services.find_run(community, kind, groups, start, end, clean_parameters(kind, {}))


# --------------------------------------------------------------------------- dashboards


@signed_in
@require_GET
def hotspots(request: HttpRequest, slug: str) -> HttpResponse:
    """Gi* hexagons and the KDE surface for an offence group and data window."""
    community = _community(request, slug)
    form = HotspotFilterForm(request.GET or None)
    gi: AnalysisRun | None = None
    kde: AnalysisRun | None = None
    wanted: dict[str, Any] | None = None
    missing: list[tuple[str, Any]] = []
    if request.GET.get("run"):
        chosen = _run(request, community, request.GET["run"], RunKind.GI, RunKind.KDE)
        gi, kde = (chosen, None) if chosen.kind == RunKind.GI else (None, chosen)
    elif form.is_bound and form.is_valid() and any(form.cleaned_data.values()):
        group = form.cleaned_data["group"]
        start, end = services.default_window(community, RunKind.GI, form.cleaned_data["window_end"])
        start = form.cleaned_data["window_start"] or start
        groups = [group] if group else []
        gi = _stored_for(community, RunKind.GI, groups, start, end)
        kde = _stored_for(community, RunKind.KDE, groups, start, end)
        missing = [
            (k, RunKind(k).label) for k, r in ((RunKind.GI, gi), (RunKind.KDE, kde)) if r is None
        ]
        if missing:
            wanted = {"groups": groups, "start": start, "end": end, "label": _group_labels(groups)}
    else:
        gi = services.latest_run(community, RunKind.GI, []) or services.latest_run(
            community, RunKind.GI
        )
    # The other layer of the same selection, when it is stored.
    anchor = gi or kde
    if anchor is not None and (gi is None or kde is None):
        twin = services.find_run(
            community,
            RunKind.KDE if gi is not None else RunKind.GI,
            anchor.offence_groups,
            anchor.window_start,
            anchor.window_end,
            statuses=[RunStatus.DONE],
        )
        gi, kde = (gi, twin) if gi is not None else (twin, kde)
    if gi is not None:
        gi = AnalysisRun.objects.get(pk=gi.pk)  # with its results
    if kde is not None:
        kde = AnalysisRun.objects.only(
            "id",
            "kind",
            "status",
            "offence_groups",
            "window_start",
            "window_end",
            "finished_at",
            "duration_ms",
            "parameters",
            "error",
            "community_id",
        ).get(pk=kde.pk)
    top_cells: list[dict[str, Any]] = []
    if gi is not None and gi.status == RunStatus.DONE:
        cells = [c for c in gi.results.get("cells", []) if c["class"] == "hot"]
        top_cells = sorted(cells, key=lambda c: -c["z"])[:10]
    if anchor is not None and form.is_bound is False:
        form = HotspotFilterForm(
            initial={
                "group": anchor.offence_groups[0] if len(anchor.offence_groups) == 1 else "",
                "window_start": anchor.window_start,
                "window_end": anchor.window_end,
            }
        )
    return render(
        request,
        "insights/hotspots.html",
        _base(
            request,
            community,
            form=form,
            gi=gi,
            kde=kde,
            anchor=anchor,
            groups_label=_group_labels(anchor.offence_groups) if anchor else "",
            top_cells=top_cells,
            wanted=wanted,
            missing_kinds=missing,
            stored=_stored(request, community, RunKind.GI),
            gi_summary={
                k: v for k, v in (gi.results if gi else {}).items() if k not in ("geojson", "cells")
            },
            kde_summary=_kde_summary(kde),
        ),
    )


def _kde_summary(run: AnalysisRun | None) -> dict[str, Any]:
    if run is None or run.status != RunStatus.DONE:
        return {}
    row = (
        AnalysisRun.objects.filter(pk=run.pk)
        .values_list(
            "results__n_events",
            "results__max_per_km2",
            "results__threshold_per_km2",
            "results__cells_shown",
        )
        .first()
    )
    if row is None:
        return {}
    return dict(
        zip(("n_events", "max_per_km2", "threshold_per_km2", "cells_shown"), row, strict=True)
    )


@signed_in
@require_GET
def near_repeat(request: HttpRequest, slug: str) -> HttpResponse:
    """Knox tables per offence group (staff) and the open near-repeat risk zones."""
    community = _community(request, slug, ZONE_READERS)
    exact = sees_exact(request.user, community)
    tables = []
    if exact:
        chosen = request.GET.get("run")
        if chosen:
            runs = [_run(request, community, chosen, RunKind.KNOX)]
        else:
            runs = []
            seen: set[tuple[str, ...]] = set()
            for row in services.visible_runs(request.user, community).filter(
                kind=RunKind.KNOX, status=RunStatus.DONE
            )[:50]:
                key = tuple(sorted(row.offence_groups))
                if key not in seen:
                    seen.add(key)
                    runs.append(AnalysisRun.objects.get(pk=row.pk))
            order = {g: i for i, g in enumerate(NEAR_REPEAT_GROUPS)}
            runs.sort(key=lambda r: order.get(r.offence_groups[0] if r.offence_groups else "", 99))
        tables = [_knox_table(run) for run in runs]
    as_of = services.data_end(community)
    zones = zones_for(request.user, community, as_of)
    return render(
        request,
        "insights/near_repeat.html",
        _base(
            request,
            community,
            exact=exact,
            tables=tables,
            zones=zones[:ZONE_TABLE_ROWS],
            zone_count=len(zones),
            hidden=max(0, len(zones) - ZONE_TABLE_ROWS),
            # One reverse() for the page, not one per row.
            incident_url=reverse("incidents:staff_detail", args=[community.slug, 0])[:-2],
            as_of=as_of,
            mine=sum(1 for z in zones if z.mine),
            stored=_stored(request, community, RunKind.KNOX) if exact else [],
        ),
    )


def _knox_table(run: AnalysisRun) -> dict[str, Any]:
    results = run.results or {}
    zone = results.get("zone") or {}
    in_zone = {tuple(c) for c in zone.get("cells", [])}
    rows = []
    for i, label in enumerate(results.get("space_labels", [])):
        cells = []
        for j in range(len(results.get("time_labels", []))):
            cells.append(
                {
                    "observed": results["observed"][i][j],
                    "expected": results["expected"][i][j],
                    "ratio": results["knox_ratio"][i][j],
                    "p": results["p_value"][i][j],
                    "zone": (i, j) in in_zone,
                }
            )
        rows.append({"label": label, "cells": cells})
    return {
        "run": run,
        "label": _group_labels(run.offence_groups),
        "time_labels": results.get("time_labels", []),
        "rows": rows,
        "zone": zone,
        "n_events": results.get("n_events"),
        "permutations": results.get("permutations"),
    }


@signed_in
@require_GET
def zones_geojson(request: HttpRequest, slug: str) -> JsonResponse:
    """The open zones this person may see, as points with a radius (masked for
    watch coordinators)."""
    community = _community(request, slug, ZONE_READERS)
    features = []
    for row in zones_for(request.user, community):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                "properties": {
                    "group": str(GROUPS[row.zone.offence_group].label)
                    if row.zone.offence_group in GROUPS
                    else row.zone.offence_group,
                    "radius_m": row.radius_m,
                    "from": row.zone.starts_on.isoformat(),
                    "until": row.last_day.isoformat(),
                    "mine": row.mine,
                    "exact": row.exact,
                },
            }
        )
    return JsonResponse({"type": "FeatureCollection", "features": features})


@signed_in
@require_GET
def forecast(request: HttpRequest, slug: str) -> HttpResponse:
    """The weekly forecast map and the patrol plan of each beat."""
    community = _community(request, slug)
    if request.GET.get("run"):
        run: AnalysisRun | None = _run(request, community, request.GET["run"], RunKind.FORECAST)
    else:
        run = services.latest_run(community, RunKind.FORECAST)
    plans: list[dict[str, Any]] = []
    backtest: list[dict[str, Any]] = []
    if run is not None and run.status == RunStatus.DONE:
        from beacon.officers.services import active_beat_ids

        mine = set(active_beat_ids(request.user, community).values_list("beat_id", flat=True))
        for plan in run.results.get("plans", []):
            share = plan["covered"] / plan["total"] if plan["total"] else 0.0
            plans.append({**plan, "mine": plan["beat"] in mine, "share": share})
        plans.sort(key=lambda p: not p["mine"])
        for name, figures in ((run.results.get("backtest") or {}).get("methods") or {}).items():
            for f in figures:
                backtest.append({"method": name, **f})
    return render(
        request,
        "insights/forecast.html",
        _base(
            request,
            community,
            run=run,
            plans=plans,
            backtest=backtest,
            groups_label=_group_labels(run.offence_groups) if run else "",
            stored=_stored(request, community, RunKind.FORECAST),
        ),
    )


@signed_in
@require_GET
def trends(request: HttpRequest, slug: str) -> HttpResponse:
    """Offence groups rising beyond expectation in a neighbourhood or beat."""
    community = _community(request, slug)
    if request.GET.get("run"):
        run: AnalysisRun | None = _run(request, community, request.GET["run"], RunKind.TREND)
    else:
        run = services.latest_run(community, RunKind.TREND)
    return render(
        request,
        "insights/trends.html",
        _base(
            request,
            community,
            run=run,
            alerts=(run.results.get("alerts", []) if run and run.status == RunStatus.DONE else []),
            stored=_stored(request, community, RunKind.TREND),
        ),
    )
