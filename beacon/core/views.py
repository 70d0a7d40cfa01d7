"""Public community pages, sign-in with a second factor, and the staff shell."""

from __future__ import annotations

from typing import Any, cast

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from beacon.core import geo
from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import second_factor_satisfied, signed_in
from beacon.core.forms import AreaForm, EmailAuthenticationForm, TokenForm
from beacon.core.models import Area, Community, Membership
from beacon.core.navigation import public_links, staff_sections
from beacon.core.roles import AREA_EDITORS, STAFF_ROLES
from beacon.core.services import delete_area, save_area


def home(request: HttpRequest) -> HttpResponse:
    """The list of communities served here."""
    communities = Community.objects.visible_to(request.user).order_by("name")
    return render(request, "core/home.html", {"communities": communities})


def community_home(request: HttpRequest, slug: str) -> HttpResponse:
    """A community's public home: its map and areas."""
    community = get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)
    areas = Area.objects.visible_to(request.user).filter(community=community)
    return render(
        request,
        "core/community_home.html",
        {"community": community, "areas": areas, "sections": public_links(community.slug)},
    )


def areas_geojson(request: HttpRequest, slug: str) -> JsonResponse:
    """The community's areas as a GeoJSON FeatureCollection for its map."""
    community = get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)
    kind = request.GET.get("kind", "")
    areas = Area.objects.visible_to(request.user).filter(community=community)
    if kind:
        areas = areas.filter(kind=kind)
    features = [
        {
            "type": "Feature",
            "id": area.pk,
            "properties": {"name": area.name, "kind": area.kind, "code": area.code},
            "geometry": area.geometry,
        }
        for area in areas
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


class LoginView(auth_views.LoginView):
    """Email and password; staff then go on to the second factor."""

    form_class = EmailAuthenticationForm
    template_name = "core/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        if not second_factor_satisfied(self.request):
            target = self.get_success_url()
            return redirect(f"{two_factor_path()}?next={target}")
        return response


def two_factor_path() -> str:
    from django.urls import reverse

    return reverse("core:two_factor")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    from django.urls import reverse

    return reverse("core:dashboard")


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code, enrolling an authenticator app on first use."""
    user: Any = request.user
    if not user.is_authenticated:
        return redirect("core:login")
    if second_factor_satisfied(request):
        return HttpResponseRedirect(_safe_next(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "Authenticator app"}
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert device is not None
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request))
        form.add_error(
            "token", _("That code is not valid. Check your device's clock and try again.")
        )
    context: dict[str, Any] = {"form": form, "enrolling": enrolling, "next": _safe_next(request)}
    if enrolling:
        assert device is not None
        context["secret"] = _base32(device.bin_key)
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(request, "core/two_factor.html", context)


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode("ascii").rstrip("=")


@signed_in
def dashboard(request: HttpRequest) -> HttpResponse:
    """The staff and member start page: the user's communities and roles."""
    memberships = (
        Membership.objects.filter(user_id=cast(int, request.user.pk))
        .select_related("community")
        .order_by("community__name", "role")
    )
    communities: dict[int, dict[str, Any]] = {}
    for membership in memberships:
        entry = communities.setdefault(
            membership.community_id, {"community": membership.community, "roles": []}
        )
        entry["roles"].append(membership.get_role_display())
        entry["staff"] = entry.get("staff", False) or membership.role in STAFF_ROLES
        entry.setdefault("role_codes", set()).add(membership.role)
    superuser = bool(getattr(request.user, "is_superuser", False))
    for entry in communities.values():
        entry["staff_sections"] = staff_sections(
            entry["community"].slug, entry["role_codes"], superuser=superuser
        )
    return render(request, "core/dashboard.html", {"communities": communities.values()})


@signed_in
def area_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Staff list of areas with the map editor for a new one."""
    community = get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)
    require_role(request.user, community, AREA_EDITORS)
    form = AreaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        area = _save_area_from_form(request, community, form, None)
        if area is not None:
            messages.success(request, _("Area “%(name)s” saved.") % {"name": area.name})
            return redirect("core:area_list", slug=slug)
    areas = Area.objects.restrict(request.user, "view").filter(community=community)
    return render(
        request, "core/area_list.html", {"community": community, "areas": areas, "form": form}
    )


@signed_in
def area_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit or delete one area on the map."""
    community = get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)
    area = get_object_or_deny(
        Area.objects.filter(community=community), request.user, "change", pk=pk
    )
    if request.method == "POST" and request.POST.get("delete"):
        get_object_or_deny(Area.objects.filter(pk=area.pk), request.user, "delete", pk=area.pk)
        delete_area(area, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Area deleted."))
        return redirect("core:area_list", slug=slug)
    import json

    initial = {
        "name": area.name,
        "kind": area.kind,
        "code": area.code,
        "population": area.population,
        "geometry": json.dumps(area.geometry),
    }
    form = AreaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save_area_from_form(request, community, form, area)
        if saved is not None:
            messages.success(request, _("Area “%(name)s” saved.") % {"name": saved.name})
            return redirect("core:area_list", slug=slug)
    return render(
        request, "core/area_edit.html", {"community": community, "area": area, "form": form}
    )


def _save_area_from_form(
    request: HttpRequest, community: Community, form: AreaForm, area: Area | None
) -> Area | None:
    data = form.cleaned_data
    clash = Area.objects.filter(community=community, kind=data["kind"], name=data["name"])
    if area is not None:
        clash = clash.exclude(pk=area.pk)
    if clash.exists():
        form.add_error("name", _("Another area of this kind already has this name."))
        return None
    try:
        return save_area(
            community,
            data["kind"],
            data["name"],
            data["geometry"],
            actor=request.user,  # type: ignore[arg-type]
            code=data.get("code") or "",
            population=data.get("population"),
            area=area,
        )
    except geo.GeometryError as exc:
        form.add_error("geometry", str(exc))
        return None
