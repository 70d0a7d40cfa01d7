"""Survey pages: the public response page and QR code, and the staff builder and results."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from beacon.core.access import can, get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Area, Community
from beacon.core.roles import STAFF_ROLES
from beacon.surveys import services, trust
from beacon.surveys.forms import InviteForm, QuestionForm, SurveyForm
from beacon.surveys.models import (
    AgeBand,
    Channel,
    Gender,
    QuestionKind,
    Survey,
    SurveyKind,
    SurveyStatus,
)


def _survey_by_token(request: HttpRequest, token: str) -> Survey:
    survey: Survey = get_object_or_deny(
        Survey.objects.select_related("community"), request.user, "view", token=token
    )
    return survey


def _raw_answers(request: HttpRequest, survey: Survey) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for question in survey.questions.all():
        key = f"q-{question.code}"
        if question.kind == QuestionKind.MULTIPLE:
            values = request.POST.getlist(key)
            if values:
                raw[question.code] = values
        elif key in request.POST:
            raw[question.code] = request.POST.get(key, "").strip()
    return raw


def respond(request: HttpRequest, token: str) -> HttpResponse:
    """The public response page reached by link, QR code or invitation."""
    survey = _survey_by_token(request, token)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    about: dict[str, Any] = {}
    if request.method == "POST":
        values = _raw_answers(request, survey)
        about = {
            "area": request.POST.get("area", ""),
            "age_band": request.POST.get("age_band", ""),
            "gender": request.POST.get("gender", ""),
        }
        channel = request.POST.get("via", Channel.LINK)
        try:
            services.submit_response(
                survey,
                values,
                user=request.user,
                about=services.About(
                    area_id=int(about["area"]) if about["area"].isdigit() else None,
                    age_band=about["age_band"],
                    gender=about["gender"],
                ),
                channel=channel
                if channel in (Channel.LINK, Channel.QR, Channel.EMAIL)
                else Channel.LINK,
            )
        except services.SurveyError as exc:
            errors = exc.errors
        except PermissionDenied:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        else:
            return render(request, "surveys/thanks.html", {"survey": survey}, status=200)
    questions = [
        {
            "q": q,
            "errors": errors.get(q.code, []),
            "value": values.get(q.code, ""),
            "values": values.get(q.code, []) if q.kind == QuestionKind.MULTIPLE else [],
        }
        for q in survey.questions.all()
    ]
    areas = (
        Area.objects.filter(community=survey.community, kind=survey.area_kind).order_by("name")
        if survey.area_kind
        else []
    )
    status = 400 if errors else 200
    return render(
        request,
        "surveys/respond.html",
        {
            "survey": survey,
            "community": survey.community,
            "questions": questions,
            "general_errors": [
                m for k in ("__all__", "area", "age_band", "gender") for m in errors.get(k, [])
            ],
            "areas": areas,
            "age_bands": AgeBand.choices,
            "genders": Gender.choices,
            "about": about,
            "via": request.GET.get("via", request.POST.get("via", Channel.LINK)),
            "open": survey.is_open,
        },
        status=status,
    )


@require_GET
def qr_code(request: HttpRequest, token: str) -> HttpResponse:
    """The QR code of the survey's link, as SVG (``?via=qr`` marks the channel)."""
    survey = _survey_by_token(request, token)
    url = request.build_absolute_uri(services.survey_path(survey)) + "?via=qr"
    response = HttpResponse(services.qr_svg(url), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="survey-{survey.token}.svg"'
    return response


# --- Staff --------------------------------------------------------------------------


def _staff_community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, STAFF_ROLES)
    return community


@signed_in
def staff_surveys(request: HttpRequest, slug: str) -> HttpResponse:
    """Surveys of the community, and the form to start one."""
    community = _staff_community(request, slug)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey = services.create_survey(
                community,
                request.user,  # type: ignore[arg-type]
                services.SurveyInput(
                    title=data["title"],
                    description=data.get("description") or "",
                    kind=data["kind"],
                    anonymous=bool(data.get("anonymous")),
                    area_kind=data.get("area_kind") or "",
                    asks_demographics=bool(data.get("asks_demographics")),
                    series=data.get("series") or "",
                    wave_label=data.get("wave_label") or "",
                    opens_on=data.get("opens_on"),
                    closes_on=data.get("closes_on"),
                ),
            )
        except PermissionDenied:
            raise
        except services.SurveyError as exc:
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            messages.success(request, _("Survey created as a draft."))
            return redirect("surveys:staff_survey", slug=slug, pk=survey.pk)
    surveys = Survey.objects.visible_to(request.user).filter(community=community)
    return render(
        request,
        "surveys/staff_list.html",
        {"community": community, "form": form, "surveys": surveys},
    )


@signed_in
def staff_survey(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Build a survey, open or close it, and share it by link, QR code or email."""
    community = _staff_community(request, slug)
    survey = get_object_or_deny(
        Survey.objects.filter(community=community), request.user, "view", pk=pk
    )
    actor: Any = request.user
    action = request.POST.get("do", "") if request.method == "POST" else ""
    question_form = QuestionForm(request.POST if action == "question" else None)
    invite_form = InviteForm(request.POST if action == "invite" else None)
    link = request.build_absolute_uri(services.survey_path(survey))
    try:
        if action == "question" and question_form.is_valid():
            services.add_question(survey, actor, question_form.cleaned_data)
            return redirect("surveys:staff_survey", slug=slug, pk=pk)
        if action == "remove":
            question = survey.questions.filter(pk=request.POST.get("question")).first()
            if question is None:
                raise Http404
            services.remove_question(question, actor)
            return redirect("surveys:staff_survey", slug=slug, pk=pk)
        if action in ("open", "close"):
            services.set_status(
                survey, actor, SurveyStatus.OPEN if action == "open" else SurveyStatus.CLOSED
            )
            return redirect("surveys:staff_survey", slug=slug, pk=pk)
        if action == "invite" and invite_form.is_valid():
            services.distribute_to_members(
                survey, actor, link=f"{link}?via=email", message=invite_form.cleaned_data["message"]
            )
            messages.success(request, _("Invitations are being sent to the community's residents."))
            return redirect("surveys:staff_survey", slug=slug, pk=pk)
    except services.SurveyError as exc:
        target = question_form if action == "question" else invite_form
        for _name, errors in exc.errors.items():
            for error in errors:
                target.add_error(None, error)
        if action not in ("question", "invite"):
            messages.error(request, exc.message)
    return render(
        request,
        "surveys/staff_survey.html",
        {
            "community": community,
            "survey": survey,
            "questions": survey.questions.all(),
            "question_form": question_form,
            "invite_form": invite_form,
            "link": link,
            "can_edit": can(actor, "change", survey),
            "can_read_results": can(actor, "results", survey),
            "responses": survey.responses.count(),
            "distributions": survey.distributions.all()[:10],
        },
    )


@signed_in
def results(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Results: the trust index with intervals per area and wave, and per question."""
    community = _staff_community(request, slug)
    survey = get_object_or_deny(
        Survey.objects.filter(community=community), request.user, "results", pk=pk
    )
    context: dict[str, Any] = {
        "community": community,
        "survey": survey,
        "summaries": services.summaries(survey),
    }
    if survey.kind == SurveyKind.TRUST:
        cache: dict[int, trust.TrustResults] = {}
        outcome = trust.trust_results(survey)
        cache[survey.pk] = outcome
        context.update(
            {
                "trust": outcome,
                "dimensions": [(trust.DIMENSIONS[k], v) for k, v in outcome.dimensions.items()],
                "trend": trust.trend(survey, results=cache),
            }
        )
    return render(request, "surveys/results.html", context)
