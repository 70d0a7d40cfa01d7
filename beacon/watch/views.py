"""Watch pages: the list of groups, a group's page (joining, the board, patrols, members'
reports, and for coordinators requests, roles and training), and the group form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from beacon.core.access import MEMBERS, deny, get_object_or_deny, require_role
from beacon.core.models import Community
from beacon.core.roles import STAFF_ROLES
from beacon.watch import services
from beacon.watch.forms import (
    BoardForm,
    GroupForm,
    JoinForm,
    MemberReportForm,
    PatrolForm,
    TrainingForm,
)
from beacon.watch.models import (
    BoardMessage,
    MemberRole,
    MemberStatus,
    PatrolLog,
    WatchGroup,
    WatchMembership,
)


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _group(request: HttpRequest, community: Community, slug: str) -> WatchGroup:
    group: WatchGroup = get_object_or_deny(
        WatchGroup.objects.filter(community=community), request.user, "view", slug=slug
    )
    return group


@require_GET
def groups_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The community's watch groups."""
    community = _community(request, slug)
    groups = WatchGroup.objects.visible_to(request.user).filter(community=community)
    user: Any = request.user
    can_start = user.is_authenticated and (
        services.is_manager(user, community) or "watch_coordinator" in user.roles_in(community)
    )
    return render(
        request,
        "watch/groups.html",
        {"community": community, "groups": groups, "can_start": can_start},
    )


@require_GET
def group_area(request: HttpRequest, slug: str, group: str) -> JsonResponse:
    """The group's area as GeoJSON, for its map."""
    community = _community(request, slug)
    found = _group(request, community, group)
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": found.name, "kind": "neighbourhood"},
                    "geometry": found.geometry,
                }
            ],
        }
    )


def _is_staff(user: Any, community: Community) -> bool:
    return bool(user.is_authenticated and user.roles_in(community) & STAFF_ROLES)


def _show(form: Any, exc: services.WatchError) -> None:
    for name, problems in exc.errors.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


@never_cache
@require_http_methods(["GET", "POST"])
def group_page(request: HttpRequest, slug: str, group: str) -> HttpResponse:
    """A group's page; what it shows depends on the visitor's place in the group."""
    community = _community(request, slug)
    found = _group(request, community, group)
    user: Any = request.user
    membership = services.membership_of(found, user)
    coordinator = user.is_authenticated and services.is_coordinator(found, user)
    forms_: dict[str, Any] = {
        "join": JoinForm(),
        "board": BoardForm(),
        "patrol": PatrolForm(),
        "report": MemberReportForm(),
        "training": TrainingForm(community),
    }
    status = 200
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        require_role(user, community, MEMBERS)
        action = request.POST.get("action", "")
        handler = ACTIONS.get(action)
        if handler is None:
            raise Http404
        try:
            done = handler(request, found, forms_)
        except services.WatchError as exc:
            form = forms_.get(action)
            if form is not None:
                _show(form, exc)
            else:
                messages.error(request, str(exc))
            done = None
        if done:
            messages.success(request, done)
            return redirect("watch:group", slug=slug, group=found.slug)
        status = 400
    active = membership is not None and membership.is_active
    context: dict[str, Any] = {
        "community": community,
        "group": found,
        "membership": membership,
        "active": active,
        "coordinator": coordinator,
        "forms": forms_,
        "roles": MemberRole.choices,
        "captains": found.memberships.filter(
            status=MemberStatus.ACTIVE, role__in=["coordinator", "block_captain"]
        ).select_related("user"),
    }
    # The board and patrols are read through the access policy: members and staff.
    board = BoardMessage.objects.visible_to(user).filter(group=found).select_related("author")
    patrols = PatrolLog.objects.visible_to(user).filter(group=found).select_related("author")
    context["can_read"] = active or coordinator or board.exists() or _is_staff(user, community)
    context["board"] = board[:30]
    context["patrols"] = patrols[:20]
    if active and membership is not None:
        context["training"] = services.training_status(membership)
    if coordinator:
        context["requests"] = found.memberships.filter(
            status=MemberStatus.REQUESTED
        ).select_related("user")
        context["members"] = found.memberships.filter(status=MemberStatus.ACTIVE).select_related(
            "user"
        )
    return render(request, "watch/group.html", context, status=status)


def _join(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    form = forms_["join"] = JoinForm(request.POST)
    if not form.is_valid():
        return None
    services.request_membership(group, request.user, **form.cleaned_data)  # type: ignore[arg-type]
    return _("Your request was sent to the group's coordinators.")


def _leave(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    membership = services.membership_of(group, request.user)
    if membership is None:
        raise Http404
    services.leave(membership, actor=request.user)  # type: ignore[arg-type]
    return _("You left the group.")


def _member_row(request: HttpRequest, group: WatchGroup) -> WatchMembership:
    row: WatchMembership = get_object_or_deny(
        WatchMembership.objects.filter(group=group),
        request.user,
        "change",
        pk=request.POST.get("member"),
    )
    return row


def _decide(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    row = _member_row(request, group)
    approve = request.POST.get("decision") == "approve"
    services.decide_membership(row, actor=request.user, approve=approve)  # type: ignore[arg-type]
    return _("Approved.") if approve else _("Declined.")


def _role(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    row = _member_row(request, group)
    services.set_role(row, request.POST.get("role", ""), actor=request.user)  # type: ignore[arg-type]
    return _("Role changed.")


def _training(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    form = forms_["training"] = TrainingForm(group.community, request.POST)
    if not form.is_valid():
        return None
    row = _member_row(request, group)
    services.record_training(
        row,
        form.cleaned_data["module"],
        actor=request.user,  # type: ignore[arg-type]
        completed_on=form.cleaned_data["completed_on"],
    )
    return _("Training recorded.")


def _board(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    form = forms_["board"] = BoardForm(request.POST)
    if not form.is_valid():
        return None
    services.post_message(group, request.user, form.cleaned_data["body"])  # type: ignore[arg-type]
    return _("Posted.")


def _patrol(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    form = forms_["patrol"] = PatrolForm(request.POST)
    if not form.is_valid():
        return None
    services.log_patrol(group, request.user, **form.cleaned_data)  # type: ignore[arg-type]
    return _("Patrol logged.")


def _report(request: HttpRequest, group: WatchGroup, forms_: dict[str, Any]) -> str | None:
    from beacon.reports.services import ReportError

    form = forms_["report"] = MemberReportForm(request.POST)
    if not form.is_valid():
        return None
    seen = form.cleaned_data.get("seen_at")
    try:
        filed = services.file_member_report(
            group,
            request.user,  # type: ignore[arg-type]
            description=form.cleaned_data["description"],
            lat=form.cleaned_data.get("lat"),
            lon=form.cleaned_data.get("lon"),
            answers={"seen_at": seen.isoformat()} if seen else {},
        )
    except ReportError as exc:
        for name, problems in exc.errors.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        return None
    return _("Thank you. Report #%(id)s went to the beat officer, with your group named.") % {
        "id": filed.report.pk
    }


ACTIONS: dict[str, Callable[[HttpRequest, WatchGroup, dict[str, Any]], str | None]] = {
    "join": _join,
    "leave": _leave,
    "decide": _decide,
    "role": _role,
    "training": _training,
    "board": _board,
    "patrol": _patrol,
    "report": _report,
}


@never_cache
@require_http_methods(["GET", "POST"])
def group_form(request: HttpRequest, slug: str, group: str | None = None) -> HttpResponse:
    """Start a group (watch coordinators) or change one (its coordinators)."""
    community = _community(request, slug)
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    require_role(request.user, community, MEMBERS)
    user: Any = request.user
    found = _group(request, community, group) if group else None
    initial: dict[str, Any] = {}
    if found is not None:
        if not services.is_coordinator(found, user):
            deny(user, "change", found)
        initial = {
            "name": found.name,
            "description": found.description,
            "neighbourhoods": list(found.neighbourhoods.all()),
            "listed": found.listed,
        }
    form = GroupForm(community, request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.save_group(
                    community,
                    actor=user,
                    name=data["name"],
                    description=data["description"],
                    neighbourhood_ids=[a.pk for a in data["neighbourhoods"]],
                    geometry=data["geometry"],
                    listed=data["listed"],
                    group=found,
                )
            except services.WatchError as exc:
                _show(form, exc)
            else:
                return redirect("watch:group", slug=slug, group=saved.slug)
        status = 400
    return render(
        request,
        "watch/group_form.html",
        {"community": community, "form": form, "group": found},
        status=status,
    )
