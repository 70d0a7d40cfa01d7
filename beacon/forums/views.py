"""Pages of the concerns board, meetings and the public action tracker."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from beacon.core.access import can, get_object_or_deny, is_member, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Area, Community
from beacon.core.roles import STAFF_ROLES
from beacon.forums import services
from beacon.forums.forms import (
    ActionItemFormSet,
    ActionProgressForm,
    AgendaItemForm,
    AnswerForm,
    AttendanceForm,
    ConcernForm,
    ConcernStatusForm,
    MeetingForm,
    MinutesForm,
    RegistrationForm,
    SettingsForm,
    apply_errors,
)
from beacon.forums.models import (
    ActionItem,
    Concern,
    ConcernCategory,
    ConcernStatus,
    Meeting,
    MeetingStatus,
)


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _staff_community(request: HttpRequest, slug: str) -> Community:
    community = _community(request, slug)
    require_role(request.user, community, STAFF_ROLES)
    return community


# --- Public pages -------------------------------------------------------------------


def concern_board(request: HttpRequest, slug: str) -> HttpResponse:
    """The concerns board: map, list, and the form to raise a concern."""
    community = _community(request, slug)
    user: Any = request.user
    form = ConcernForm(request.POST or None)
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            data = form.cleaned_data
            try:
                concern = services.raise_concern(
                    community,
                    user,
                    services.ConcernInput(
                        title=data["title"],
                        body=data["body"],
                        category=data["category"],
                        lat=data.get("lat"),
                        lon=data.get("lon"),
                    ),
                )
            except services.ForumError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Your concern is on the board."))
                return redirect("forums:concern", slug=slug, pk=concern.pk)
    area_id = _int(request.GET.get("area"))
    concerns = services.board(
        community,
        user,
        category=request.GET.get("category", ""),
        status=request.GET.get("status", "")
        if request.GET.get("status") in ConcernStatus.values
        else "",
        area_id=area_id,
    )[:100]
    supported = _supported_ids(user, concerns)
    return render(
        request,
        "forums/board.html",
        {
            "community": community,
            "concerns": concerns,
            "supported": supported,
            "form": form,
            "can_raise": user.is_authenticated and is_member(user, community.pk),
            "threshold": services.settings_for(community).support_threshold,
            "categories": ConcernCategory.choices,
            "statuses": [s for s in ConcernStatus.choices if s[0] != ConcernStatus.HIDDEN],
            "areas": Area.objects.visible_to(user).filter(
                community=community, kind="neighbourhood"
            ),
            "selected": {
                "category": request.GET.get("category", ""),
                "area": area_id,
                "status": request.GET.get("status", ""),
            },
        },
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _supported_ids(user: Any, concerns: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    from beacon.forums.models import ConcernSupport

    ids = [c.pk for c in concerns]
    return set(
        ConcernSupport.objects.filter(user_id=user.pk, concern_id__in=ids).values_list(
            "concern_id", flat=True
        )
    )


@require_GET
def concerns_geojson(request: HttpRequest, slug: str) -> JsonResponse:
    """Concerns as GeoJSON points at their rounded public location."""
    community = _community(request, slug)
    from django.urls import reverse

    features = []
    for concern in services.board(community, request.user)[:500]:
        lat, lon = concern.public_point
        features.append(
            {
                "type": "Feature",
                "id": concern.pk,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "title": concern.title,
                    "category": concern.get_category_display(),
                    "status": concern.get_status_display(),
                    "supports": concern.support_count,
                    "url": reverse("forums:concern", args=[slug, concern.pk]),
                },
            }
        )
    return JsonResponse({"type": "FeatureCollection", "features": features})


def concern_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One concern with its answer, agenda appearances and actions."""
    community = _community(request, slug)
    concern = get_object_or_deny(
        Concern.objects.filter(community=community).select_related("beat", "neighbourhood"),
        request.user,
        "view",
        pk=pk,
    )
    return render(
        request,
        "forums/concern_detail.html",
        {
            "community": community,
            "concern": concern,
            "supported": services.has_supported(concern, request.user),
            "threshold": services.settings_for(community).support_threshold,
            "agenda_items": concern.agenda_items.select_related("meeting").order_by(
                "meeting__starts_at"
            ),
            "actions": ActionItem.objects.visible_to(request.user).filter(concern=concern),
            "staff": can(request.user, "answer", concern),
        },
    )


@require_POST
def support(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Support a concern; htmx swaps in the updated button, others are redirected."""
    community = _community(request, slug)
    concern = get_object_or_deny(
        Concern.objects.filter(community=community), request.user, "view", pk=pk
    )
    htmx = request.headers.get("HX-Request") == "true"
    error = ""
    try:
        if request.POST.get("withdraw"):
            services.withdraw_support(concern, request.user)
        else:
            services.support_concern(concern, request.user)
    except services.SignInRequired:
        if not htmx:
            return redirect_to_login(concern_url(slug, pk))
        error = _("Sign in to support concerns.")
    except PermissionDenied as exc:
        if not htmx:
            raise
        error = str(exc) or _("You cannot support this concern.")
    except services.ForumError as exc:
        error = exc.message
    concern.refresh_from_db()
    if htmx:
        return render(
            request,
            "forums/_support.html",
            {
                "community": community,
                "concern": concern,
                "supported": services.has_supported(concern, request.user),
                "support_error": error,
                "threshold": services.settings_for(community).support_threshold,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Thank you for your support."))
    return redirect("forums:concern", slug=slug, pk=pk)


def concern_url(slug: str, pk: int) -> str:
    from django.urls import reverse

    return reverse("forums:concern", args=[slug, pk])


@require_GET
def you_said_we_did(request: HttpRequest, slug: str) -> HttpResponse:
    """Concerns residents raised, what was done about them and what came of it."""
    community = _community(request, slug)
    return render(
        request,
        "forums/you_said_we_did.html",
        {"community": community, "concerns": services.you_said_we_did(community, request.user)},
    )


@require_GET
def meeting_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Upcoming and past meetings."""
    community = _community(request, slug)
    return render(
        request,
        "forums/meeting_list.html",
        {
            "community": community,
            "upcoming": services.upcoming_meetings(community, request.user),
            "past": services.past_meetings(community, request.user)[:30],
        },
    )


def meeting_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A meeting: when and where, agenda, registration, minutes, decisions, actions."""
    community = _community(request, slug)
    meeting = get_object_or_deny(
        Meeting.objects.filter(community=community).select_related("area"),
        request.user,
        "view",
        pk=pk,
    )
    user: Any = request.user
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.register(
                meeting,
                user=user,
                name=form.cleaned_data.get("name") or "",
                email=form.cleaned_data.get("email") or "",
            )
        except services.ForumError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("You are registered. See you there."))
            return redirect("forums:meeting", slug=slug, pk=pk)
    registered = user.is_authenticated and meeting.registrations.filter(user_id=user.pk).exists()
    return render(
        request,
        "forums/meeting_detail.html",
        {
            "community": community,
            "meeting": meeting,
            "agenda": meeting.agenda.select_related("concern"),
            "decisions": meeting.decisions.all(),
            "actions": ActionItem.objects.visible_to(user).filter(meeting=meeting),
            "form": form,
            "registered": registered,
            "open_for_registration": meeting.status == MeetingStatus.SCHEDULED,
            "staff": can(user, "change", meeting),
        },
    )


@require_GET
def action_tracker(request: HttpRequest, slug: str) -> HttpResponse:
    """The public tracker of action items, open until closed."""
    community = _community(request, slug)
    open_items = services.tracker(community, request.user)
    closed = (
        services.tracker(community, request.user, include_closed=True)
        .filter(closed_at__isnull=False)
        .order_by("-closed_at")[:20]
    )
    return render(
        request,
        "forums/tracker.html",
        {"community": community, "open_items": open_items, "closed_items": closed},
    )


@require_GET
def action_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One action item with its public progress updates."""
    community = _community(request, slug)
    item = get_object_or_deny(
        ActionItem.objects.filter(community=community).select_related("meeting", "concern"),
        request.user,
        "view",
        pk=pk,
    )
    return render(
        request,
        "forums/action_detail.html",
        {
            "community": community,
            "item": item,
            "updates": item.updates.all(),
            "can_update": can(request.user, "change", item),
        },
    )


# --- Staff pages --------------------------------------------------------------------


@signed_in
def staff_concerns(request: HttpRequest, slug: str) -> HttpResponse:
    """Concerns to answer, newest supports first; threshold settings."""
    community = _staff_community(request, slug)
    status = request.GET.get("status", "")
    rows = Concern.objects.restrict(request.user, "answer").filter(community=community)
    if status in ConcernStatus.values:
        rows = rows.filter(status=status)
    settings_row = services.settings_for(community)
    settings_form = SettingsForm(
        request.POST or None,
        initial={
            "support_threshold": settings_row.support_threshold,
            "agenda_size": settings_row.agenda_size,
        },
    )
    if request.method == "POST" and settings_form.is_valid():
        try:
            services.update_settings(community, request.user, **settings_form.cleaned_data)  # type: ignore[arg-type]
        except services.ForumError as exc:
            apply_errors(settings_form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("forums:staff_concerns", slug=slug)
    return render(
        request,
        "forums/staff_concerns.html",
        {
            "community": community,
            "concerns": rows.select_related("beat", "neighbourhood")[:200],
            "statuses": ConcernStatus.choices,
            "status": status,
            "settings_form": settings_form,
            "can_change_settings": can(request.user, "change", settings_row),
            "threshold": settings_row.support_threshold,
        },
    )


@signed_in
def staff_concern(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Answer a concern in public, change its status, or ask for a SARA problem."""
    community = _staff_community(request, slug)
    concern = get_object_or_deny(
        Concern.objects.filter(community=community), request.user, "answer", pk=pk
    )
    actor: Any = request.user
    answer_form = AnswerForm(
        request.POST if request.POST.get("do") == "answer" else None,
        initial={"response": concern.response},
    )
    status_form = ConcernStatusForm(
        request.POST if request.POST.get("do") == "status" else None,
        initial={"status": concern.status, "result": concern.result},
    )
    if request.method == "POST":
        action = request.POST.get("do")
        try:
            if action == "answer" and answer_form.is_valid():
                services.answer_concern(concern, actor, answer_form.cleaned_data["response"])
                messages.success(request, _("Answer published."))
                return redirect("forums:staff_concern", slug=slug, pk=pk)
            if action == "status" and status_form.is_valid():
                services.set_concern_status(
                    concern,
                    actor,
                    status_form.cleaned_data["status"],
                    result=status_form.cleaned_data.get("result") or "",
                )
                messages.success(request, _("Status changed."))
                return redirect("forums:staff_concern", slug=slug, pk=pk)
            if action == "problem":
                services.request_problem(concern, actor)
                messages.success(request, _("Recorded: this concern is to become a SARA problem."))
                return redirect("forums:staff_concern", slug=slug, pk=pk)
        except services.ForumError as exc:
            apply_errors(answer_form if action == "answer" else status_form, exc)
    return render(
        request,
        "forums/staff_concern.html",
        {
            "community": community,
            "concern": concern,
            "answer_form": answer_form,
            "status_form": status_form,
            "actions": concern.action_items.all(),
        },
    )


def _meeting_input(data: dict[str, Any]) -> services.MeetingInput:
    area = data.get("area")
    return services.MeetingInput(
        title=data.get("title") or "",
        kind=data.get("kind") or "",
        starts_at=data.get("starts_at"),
        ends_at=data.get("ends_at"),
        venue=data.get("venue") or "",
        online_url=data.get("online_url") or "",
        area_id=area.pk if area is not None else None,
        description=data.get("description") or "",
        capacity=data.get("capacity"),
    )


@signed_in
def staff_meetings(request: HttpRequest, slug: str) -> HttpResponse:
    """All meetings, and the form to schedule one."""
    community = _staff_community(request, slug)
    # Times typed into the form are the community's local time.
    with timezone.override(ZoneInfo(community.timezone)):
        return _staff_meetings(request, community)


def _staff_meetings(request: HttpRequest, community: Community) -> HttpResponse:
    slug = community.slug
    form = MeetingForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.schedule_meeting(
                community,
                request.user,  # type: ignore[arg-type]
                _meeting_input(form.cleaned_data),
            )
        except services.ForumError as exc:
            apply_errors(form, exc, {"area": "area"})
        else:
            messages.success(
                request,
                _("Meeting scheduled; %(n)d concerns are on its agenda.")
                % {"n": meeting.agenda.filter(concern__isnull=False).count()},
            )
            return redirect("forums:staff_meeting", slug=slug, pk=meeting.pk)
    meetings = Meeting.objects.visible_to(request.user).filter(community=community)
    return render(
        request,
        "forums/staff_meetings.html",
        {
            "community": community,
            "form": form,
            "meetings": meetings.select_related("area").order_by("-starts_at")[:100],
        },
    )


@signed_in
def staff_meeting(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Run a meeting: agenda, attendance, minutes, decisions and action items."""
    community = _staff_community(request, slug)
    meeting = get_object_or_deny(
        Meeting.objects.filter(community=community), request.user, "change", pk=pk
    )
    actor: Any = request.user
    action = request.POST.get("do", "") if request.method == "POST" else ""
    post = request.POST if request.method == "POST" else None
    agenda_form = AgendaItemForm(post if action == "agenda" else None)
    attendance_form = AttendanceForm(
        post if action == "attendance" else None, initial={"walk_ins": meeting.walk_ins}
    )
    minutes_form = MinutesForm(
        post if action == "minutes" else None, initial={"minutes": meeting.minutes}
    )
    concern_choices = [
        (item.concern_id, item.title) for item in meeting.agenda.filter(concern__isnull=False)
    ]
    formset = ActionItemFormSet(
        post if action == "minutes" else None,
        prefix="actions",
        form_kwargs={"concerns": concern_choices},
    )
    try:
        if action == "agenda" and agenda_form.is_valid():
            services.add_agenda_item(meeting, actor, **agenda_form.cleaned_data)
            return redirect("forums:staff_meeting", slug=slug, pk=pk)
        if action == "build":
            added = services.build_agenda(meeting)
            messages.success(request, _("%(n)d concerns added to the agenda.") % {"n": len(added)})
            return redirect("forums:staff_meeting", slug=slug, pk=pk)
        if action == "attendance" and attendance_form.is_valid():
            ids = {int(v) for v in request.POST.getlist("attended") if v.isdigit()}
            services.record_attendance(
                meeting, actor, ids, attendance_form.cleaned_data["walk_ins"]
            )
            messages.success(request, _("Attendance saved."))
            return redirect("forums:staff_meeting", slug=slug, pk=pk)
        if action == "cancel":
            services.cancel_meeting(meeting, actor)
            messages.success(request, _("Meeting cancelled."))
            return redirect("forums:staff_meeting", slug=slug, pk=pk)
        if action == "minutes" and minutes_form.is_valid() and formset.is_valid():
            actions = [
                services.ActionInput(
                    title=f.cleaned_data.get("title") or "",
                    owner_name=f.cleaned_data.get("owner_name") or "",
                    due_date=f.cleaned_data.get("due_date"),
                    concern_id=f.cleaned_data.get("concern"),
                )
                for f in formset.forms
                if f.cleaned_data and not f.is_blank
            ]
            decisions = (minutes_form.cleaned_data.get("decisions") or "").splitlines()
            items = services.record_minutes(
                meeting,
                actor,
                minutes=minutes_form.cleaned_data["minutes"],
                decisions=decisions,
                actions=actions,
            )
            messages.success(
                request,
                _("Minutes published with %(n)d action items on the public tracker.")
                % {"n": len(items)},
            )
            return redirect("forums:staff_meeting", slug=slug, pk=pk)
    except services.ForumError as exc:
        target = {"agenda": agenda_form, "attendance": attendance_form}.get(action, minutes_form)
        apply_errors(target, exc)
    return render(
        request,
        "forums/staff_meeting.html",
        {
            "community": community,
            "meeting": meeting,
            "agenda": meeting.agenda.select_related("concern"),
            "registrations": meeting.registrations.all(),
            "decisions": meeting.decisions.all(),
            "actions": meeting.action_items.all(),
            "agenda_form": agenda_form,
            "attendance_form": attendance_form,
            "minutes_form": minutes_form,
            "formset": formset,
            "candidates": services.agenda_candidates(meeting)[:20],
        },
    )


@signed_in
def staff_action(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Update an action item's progress (staff, or the item's owner)."""
    community = _community(request, slug)
    item = get_object_or_deny(
        ActionItem.objects.filter(community=community), request.user, "change", pk=pk
    )
    form = ActionProgressForm(
        request.POST or None,
        initial={"progress": item.progress, "status": item.status, "result": item.result},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_action(item, request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except services.ForumError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Progress recorded."))
            return redirect("forums:action", slug=slug, pk=pk)
    return render(
        request, "forums/staff_action.html", {"community": community, "item": item, "form": form}
    )
