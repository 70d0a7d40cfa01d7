"""Alert pages: following an area, one-click unsubscribe, broadcasts and Atom feeds."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beacon.core.access import MEMBERS, deny, get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Area, Community
from beacon.notify import broadcasts, feeds, services
from beacon.notify.forms import BroadcastForm, SubscriptionForm
from beacon.notify.messages import absolute
from beacon.notify.models import Subscription


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


@never_cache
@require_http_methods(["GET", "POST"])
def alerts_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Follow an area: a point and radius, a drawn area, a neighbourhood, beat or group."""
    community = _community(request, slug)
    context: dict[str, Any] = {
        "community": community,
        "feeds": [
            (a, reverse("notify:area_feed", args=[slug, a.pk])) for a in _feed_areas(community)
        ],
    }
    if not request.user.is_authenticated:
        return render(request, "notify/alerts.html", context)
    require_role(request.user, community, MEMBERS)
    user: Any = request.user
    form = SubscriptionForm(community, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                subscribed = services.subscribe(community, user, form.to_request())
            except services.AlertError as exc:
                form.add_service_errors(exc.errors)
            else:
                if subscribed.secret:
                    context["secret"] = subscribed.secret
                    context["subscription"] = subscribed.subscription
                    return render(request, "notify/webhook_secret.html", context)
                messages.success(
                    request,
                    _("You are now following %(area)s.") % {"area": subscribed.subscription.cover},
                )
                return redirect("notify:alerts", slug=slug)
        status = 400
    context["form"] = form
    context["subscriptions"] = services.subscriptions_of(user, community)
    return render(request, "notify/alerts.html", context, status=status)


def _feed_areas(community: Community) -> list[Area]:
    return list(Area.objects.filter(community=community).order_by("kind", "name"))


@require_POST
def stop(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Stop one of one's own subscriptions."""
    community = _community(request, slug)
    subscription: Subscription = get_object_or_deny(
        Subscription.objects.filter(community=community), request.user, "change", pk=pk
    )
    services.unsubscribe(subscription, actor=request.user)  # type: ignore[arg-type]
    messages.success(
        request, _("You will get no more alerts for %(area)s.") % {"area": subscription.cover}
    )
    return redirect("notify:alerts", slug=slug)


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no cookies
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe. GET asks to confirm (link scanners must not unsubscribe)."""
    from beacon.notify.messages import read_unsubscribe_token

    pk = read_unsubscribe_token(token)
    subscription = (
        Subscription.objects.filter(pk=pk).select_related("cover").first() if pk else None
    )
    if subscription is None:
        raise Http404
    done = False
    if request.method == "POST":
        services.unsubscribe(subscription)
        done = True
    return render(
        request,
        "notify/unsubscribe.html",
        {"subscription": subscription, "done": done or not subscription.active},
    )


def _feed_response(request: HttpRequest, community: Community, area: Area | None) -> HttpResponse:
    title = (
        _("Alerts for %(area)s, %(c)s") % {"area": area.name, "c": community.name}
        if area
        else _("Alerts for %(c)s") % {"c": community.name}
    )
    link = absolute(reverse("notify:alerts", args=[community.slug]))
    feed = Atom1Feed(
        title=title,
        link=link,
        description=title,
        language=request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else "en",
        feed_url=absolute(request.get_full_path()),
        author_name=community.organization.name,
        feed_guid=f"tag:beacon,2024:{community.slug}:alerts:{area.pk if area else 'all'}",
    )
    for event in feeds.public_events(community, area):
        feed.add_item(
            title=event.title,
            link=absolute(event.link) if event.link else link,
            description=event.body or event.title,
            unique_id=f"tag:beacon,2024:{community.slug}:event:{event.pk}",
            unique_id_is_permalink=False,
            pubdate=event.created_at,
            updateddate=event.created_at,
            categories=[c for c in (event.topic, event.offence_group) if c],
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


@require_GET
def community_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """The community's public alerts as an Atom 1.0 feed."""
    return _feed_response(request, _community(request, slug), None)


@require_GET
def area_feed(request: HttpRequest, slug: str, area_id: int) -> HttpResponse:
    """Public alerts in one neighbourhood, beat or district as an Atom 1.0 feed."""
    community = _community(request, slug)
    area = Area.objects.filter(community=community, pk=area_id).first()
    if area is None:
        raise Http404
    return _feed_response(request, community, area)


def _broadcaster(request: HttpRequest, community: Community) -> Any:
    require_role(request.user, community, MEMBERS)
    user: Any = request.user
    allowed = broadcasts.broadcast_area(user, community)
    if allowed is None:
        deny(user, "broadcast", community)
    return user, allowed


@signed_in
@never_cache
@require_http_methods(["GET", "POST"])
def broadcast_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Officers and coordinators draw an area, preview the reach, and send."""
    community = _community(request, slug)
    user, allowed = _broadcaster(request, community)
    form = BroadcastForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                event = broadcasts.send_broadcast(
                    community,
                    user,
                    form.cleaned_data["geometry"],
                    form.cleaned_data["title"],
                    form.cleaned_data["body"],
                )
            except services.AlertError as exc:
                for name, problems in exc.errors.items():
                    for problem in problems:
                        form.add_error(name if name in ("title", "body") else None, problem)
            else:
                messages.success(
                    request,
                    _("Broadcast sent to %(n)d people.") % {"n": event.recipients},
                )
                return redirect("notify:broadcast", slug=slug)
        status = 400
    from beacon.core import geo

    return render(
        request,
        "notify/broadcast.html",
        {"community": community, "form": form, "allowed": geo.to_geojson(allowed)},
        status=status,
    )


@signed_in
@require_POST
def broadcast_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """How many people the drawn area reaches (an htmx fragment)."""
    community = _community(request, slug)
    user, _allowed = _broadcaster(request, community)
    form = BroadcastForm(request.POST)
    form.is_valid()
    count: int | None = None
    error = ""
    if "geometry" in form.errors:
        error = " ".join(str(e) for e in form.errors["geometry"])
    else:
        try:
            count = broadcasts.preview_broadcast(community, user, form.cleaned_data["geometry"])
        except services.AlertError as exc:
            error = str(exc)
    return render(
        request,
        "notify/_preview.html",
        {"count": count, "error": error},
        status=200 if not error else 400,
    )
