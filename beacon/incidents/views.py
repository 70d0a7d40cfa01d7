"""Pages: the public crime map, statistics and open data; staff incident pages.

Public views read only :mod:`beacon.incidents.public` and :mod:`beacon.incidents.stats`
(published, masked tables). Staff views read ``Incident`` through the access policy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Community
from beacon.core.roles import MANAGER_ROLES, STAFF_ROLES
from beacon.incidents import public, stats, taxonomy
from beacon.incidents.forms import ImportForm, IncidentFilterForm, IncidentForm, PolicyForm
from beacon.incidents.importer import FormatError, ImportOptions
from beacon.incidents.models import IMPORTERS, Incident, IncidentImport
from beacon.incidents.privacy import policy_for
from beacon.incidents.services import (
    request_publication,
    start_upload_import,
    update_incident,
)

CHARTS = ("months", "groups", "neighbourhoods", "time")


def _community(request: HttpRequest, slug: str) -> Community:
    return get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)


def _month_choices(pub: public.Publication) -> list[str]:
    if pub.first_month is None or pub.last_month is None:
        return []
    query = public.PublicQuery(pub.first_month, pub.last_month, ())
    return [f"{m:%Y-%m}" for m in query.months()]


def _query(request: HttpRequest, pub: public.Publication, *, mapped_only: bool) -> Any:
    return pub.query(
        request.GET.get("from") or None,
        request.GET.get("to") or None,
        request.GET.getlist("group"),
        mapped_only=mapped_only,
    )


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=400)


# --------------------------------------------------------------------------- public pages


@require_GET
def crime_map(request: HttpRequest, slug: str) -> HttpResponse:
    """The public crime map: hexagon counts zoomed out, masked points zoomed in."""
    community = _community(request, slug)
    pub = public.publication(community)
    try:
        query = _query(request, pub, mapped_only=True)
    except public.QueryError as exc:
        messages.error(request, str(exc))
        query = pub.query(mapped_only=True)
    return render(
        request,
        "incidents/map.html",
        {
            "community": community,
            "pub": pub,
            "query": query,
            "months": _month_choices(pub),
            "groups": pub.map_groups,
            "group_labels": {g.code: g.label for g in pub.map_groups},
            "chosen": set(request.GET.getlist("group")),
        },
    )


def _publication_cache_key(
    community: Community, pub: public.Publication, query: public.PublicQuery, *parts: object
) -> str:
    """A cache key for an answer computed from the published tables.

    It names the publication's version, so a new publication (an import, an edit, a
    policy change) makes every earlier answer unreachable instead of stale.
    """
    # Hashed: filters and a bounding box would make keys too long and not key-safe.
    request_key = repr((query.first, query.last, query.groups, *parts)).encode()
    digest = hashlib.sha256(request_key).hexdigest()
    return f"incidents:{community.pk}:{pub.policy.version}:{digest}"


@require_GET
def map_data(request: HttpRequest, slug: str) -> HttpResponse:
    """GeoJSON for the map at a zoom level: published hexagons or masked points.

    The answer depends only on the published tables and the validated filters, so it
    is cached per publication: map reads are the public's most frequent request.
    """
    community = _community(request, slug)
    pub = public.publication(community)
    try:
        query = _query(request, pub, mapped_only=True)
        zoom = int(request.GET.get("zoom", "12"))
        bbox = public.parse_bbox(request.GET["bbox"]) if request.GET.get("bbox") else None
        layer, resolution = public.zoom_layer(zoom)
    except (public.QueryError, ValueError) as exc:
        return _bad_request(str(exc))
    key = _publication_cache_key(
        community, pub, query, "map", layer, resolution, bbox if layer == "points" else ""
    )
    body = cache.get(key)
    if body is None:
        if layer == "hexagons":
            features = public.hexagons(community, resolution, query)
        else:
            features = public.points(community, query, bbox)
        body = json.dumps(
            {
                "type": "FeatureCollection",
                "layer": layer,
                "resolution": resolution,
                "from": f"{query.first:%Y-%m}",
                "to": f"{query.last:%Y-%m}",
                "features": features,
            },
            cls=DjangoJSONEncoder,
        )
        cache.set(key, body, 3600)
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def stats_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Public statistics: by group and month against a year earlier, by neighbourhood,
    and by time of day and day of week, each chart with its table."""
    community = _community(request, slug)
    pub = public.publication(community)
    try:
        query = _query(request, pub, mapped_only=False)
    except public.QueryError as exc:
        messages.error(request, str(exc))
        query = pub.query(mapped_only=False)
    params = request.GET.urlencode()
    charts = {
        name: reverse("incidents:chart", args=[slug, name]) + (f"?{params}" if params else "")
        for name in CHARTS
    }
    return render(
        request,
        "incidents/stats.html",
        {
            "community": community,
            "pub": pub,
            "query": query,
            "months": _month_choices(pub),
            "groups": pub.all_groups,
            "chosen": set(request.GET.getlist("group")),
            "total": stats.total(community, query),
            "by_group": stats.by_group(community, query),
            "by_month": stats.by_month(community, query),
            "by_neighbourhood": stats.by_neighbourhood(community, query),
            "time_of_day": stats.time_of_day(community, query),
            "weekdays": stats.WEEKDAYS,
            "charts": charts,
        },
    )


@require_GET
def chart(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """One statistics chart as SVG (cached per publication)."""
    if name not in CHARTS:
        raise Http404
    community = _community(request, slug)
    pub = public.publication(community)
    try:
        query = _query(request, pub, mapped_only=name == "neighbourhoods")
    except public.QueryError as exc:
        return _bad_request(str(exc))
    key = _publication_cache_key(community, pub, query, "chart", name)
    svg = cache.get(key)
    if svg is None:
        svg = _render_chart(community, query, name)
        cache.set(key, svg, 3600)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _render_chart(community: Community, query: public.PublicQuery, name: str) -> str:
    if name == "months":
        return stats.chart_months(
            stats.by_month(community, query), _("Incidents by month, against a year earlier")
        )
    if name == "groups":
        rows = stats.by_group(community, query)
        return stats.chart_bars(
            [r.label for r in rows], [r.current for r in rows], _("Incidents by offence group")
        )
    if name == "neighbourhoods":
        hoods = stats.by_neighbourhood(community, query)
        return stats.chart_bars(
            [r.name for r in hoods], [r.figure for r in hoods], _("Incidents by neighbourhood")
        )
    return stats.chart_time_of_day(
        stats.time_of_day(community, query), _("Incidents by time of day and weekday")
    )


@require_GET
def open_data(request: HttpRequest, slug: str) -> HttpResponse:
    """The open-data page: downloads, the data dictionary and the masking method."""
    community = _community(request, slug)
    pub = public.publication(community)
    return render(
        request,
        "incidents/open_data.html",
        {"community": community, "pub": pub, "meta": public.metadata(pub)},
    )


CSV_COLUMNS = list(public.DATA_DICTIONARY)


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _download_query(request: HttpRequest, pub: public.Publication) -> public.PublicQuery:
    months = 240 if not request.GET.get("from") else 12
    return pub.query(
        request.GET.get("from") or None,
        request.GET.get("to") or None,
        request.GET.getlist("group"),
        mapped_only=False,
        default_months=months,
    )


@require_GET
def download_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The published units as CSV (every published month unless filtered)."""
    community = _community(request, slug)
    pub = public.publication(community)
    try:
        query = _download_query(request, pub)
    except public.QueryError as exc:
        return _bad_request(str(exc))
    response = StreamingHttpResponse(
        _csv_lines(public.unit_rows(community, query)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-crime.csv"'
    return response


def _geojson_chunks(meta: dict[str, Any], rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","metadata":' + json.dumps(meta) + ',"features":['
    first = True
    for row in rows:
        geometry = (
            {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
            if row["lat"] is not None
            else None
        )
        feature = {"type": "Feature", "geometry": geometry, "properties": row}
        yield ("" if first else ",") + json.dumps(feature)
        first = False
    yield "]}"


@require_GET
def download_geojson(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The published units as GeoJSON, with the data dictionary and method as metadata."""
    community = _community(request, slug)
    pub = public.publication(community)
    try:
        query = _download_query(request, pub)
    except public.QueryError as exc:
        return _bad_request(str(exc))
    response = StreamingHttpResponse(
        _geojson_chunks(public.metadata(pub), public.unit_rows(community, query)),
        content_type="application/geo+json",
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-crime.geojson"'
    return response


# --------------------------------------------------------------------------- staff pages


def _staff_incidents(request: HttpRequest, community: Community) -> tuple[Any, Any]:
    form = IncidentFilterForm(request.GET or None, community=community)
    qs = Incident.objects.restrict(request.user, "view").filter(community=community)
    if form.is_valid():
        data = form.cleaned_data
        if data["group"]:
            qs = qs.filter(offence_group=data["group"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["location"]:
            qs = qs.filter(location_status=data["location"])
        if data["neighbourhood"]:
            qs = qs.filter(neighbourhood=data["neighbourhood"])
        if data["date_from"]:
            qs = qs.filter(occurred_from__date__gte=data["date_from"])
        if data["date_to"]:
            qs = qs.filter(occurred_from__date__lte=data["date_to"])
        if data["q"]:
            qs = qs.filter(
                Q(external_id__icontains=data["q"]) | Q(block_address__icontains=data["q"])
            )
    return form, qs


@signed_in
def incident_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Staff: incidents with true locations, filters and a map."""
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    form, qs = _staff_incidents(request, community)
    page = Paginator(qs.order_by("-occurred_from", "-id"), 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "incidents/staff_list.html",
        {
            "community": community,
            "form": form,
            "page": page,
            "params": params.urlencode(),
            "points_url": reverse("incidents:staff_points", args=[slug])
            + (f"?{params.urlencode()}" if params else ""),
            "can_import": _has_role(request, community, IMPORTERS),
        },
    )


def _has_role(request: HttpRequest, community: Community, roles: frozenset[str]) -> bool:
    user: Any = request.user
    return bool(user.is_superuser or user.roles_in(community) & roles)


@signed_in
def incident_points(request: HttpRequest, slug: str) -> JsonResponse:
    """Staff: true locations of the filtered incidents (at most 5,000) for the map."""
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    _form, qs = _staff_incidents(request, community)
    rows = (
        qs.filter(lat__isnull=False)
        .order_by("-occurred_from")
        .values_list("pk", "lat", "lon", "offence", "occurred_from")[:5000]
    )
    features = [
        {
            "type": "Feature",
            "id": pk,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "offence": taxonomy.OFFENCES[offence].label,
                "date": f"{when:%Y-%m-%d}",
                "url": reverse("incidents:staff_detail", args=[slug, pk]),
            },
        }
        for pk, lat, lon, offence, when in rows
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@signed_in
@require_http_methods(["GET", "POST"])
def incident_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Staff: one incident with its true location; edits are audited."""
    community = _community(request, slug)
    incident = get_object_or_deny(
        Incident.objects.filter(community=community).select_related(
            "neighbourhood", "beat", "last_import"
        ),
        request.user,
        "view",
        pk=pk,
    )
    form = IncidentForm(request.POST or None, instance=incident)
    if request.method == "POST":
        get_object_or_deny(Incident.objects.all(), request.user, "change", pk=incident.pk)
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            fresh = Incident.objects.select_related("community").get(pk=incident.pk)
            try:
                changed = update_incident(fresh, changes, actor=request.user)
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Saved: %(fields)s.") % {"fields": ", ".join(changed)}
                    if changed
                    else _("Nothing changed."),
                )
                return redirect("incidents:staff_detail", slug=slug, pk=incident.pk)
    return render(
        request,
        "incidents/staff_detail.html",
        {
            "community": community,
            "incident": incident,
            "form": form,
            "can_edit": _has_role(request, community, STAFF_ROLES),
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Staff: upload a file for import (analysts, supervisors, admins) and past imports."""
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        require_role(request.user, community, IMPORTERS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                options = ImportOptions(
                    fmt=data["fmt"],
                    source=data["source"],
                    crs=data["crs"] or None,
                    mapping=data["mapping"],
                    time_format=data["time_format"] or "iso",
                    on_error=data["on_error"],
                    default_offence=data["default_offence"] or None,
                )
            except FormatError as exc:
                form.add_error(None, str(exc))
            else:
                record = start_upload_import(community, data["file"], options, actor=request.user)
                return redirect("incidents:import_detail", slug=slug, pk=record.pk)
    imports = IncidentImport.objects.restrict(request.user, "view").filter(community=community)
    return render(
        request,
        "incidents/import_list.html",
        {
            "community": community,
            "form": form,
            "imports": imports[:30],
            "can_import": _has_role(request, community, IMPORTERS),
        },
    )


@signed_in
def import_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Staff: an import's progress (polled by htmx) and its rejected rows."""
    community = _community(request, slug)
    record = get_object_or_deny(
        IncidentImport.objects.filter(community=community), request.user, "view", pk=pk
    )
    template = (
        "incidents/_import_progress.html"
        if request.headers.get("HX-Request")
        else "incidents/import_detail.html"
    )
    return render(request, template, {"community": community, "record": record})


@signed_in
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Managers: the community's publication rules; saving republishes."""
    community = _community(request, slug)
    require_role(request.user, community, MANAGER_ROLES)
    policy = policy_for(community)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        from beacon.core.audit import record_event

        form.save()
        record_event(
            actor=request.user,
            action="update",
            obj=policy,
            detail={name: str(form.cleaned_data[name]) for name in form.changed_data},
        )
        request_publication(community)
        messages.success(request, _("Publication rules saved; the public data is being rebuilt."))
        return redirect("incidents:policy", slug=slug)
    return render(
        request,
        "incidents/policy.html",
        {"community": community, "form": form, "policy": policy},
    )
