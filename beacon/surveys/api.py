"""Survey endpoints: read a survey by its token and answer it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Status

from beacon.core.access import get_object_or_deny
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Area
from beacon.surveys import services
from beacon.surveys.models import Channel, Survey
from beacon.surveys.schemas import ErrorsOut, ResponseIn, ResponseOut, SurveyOut

router = Router(tags=["surveys"])
ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut}


def _survey(request: HttpRequest, token: str) -> Survey:
    survey: Survey = get_object_or_deny(
        Survey.objects.select_related("community"), request.user, "view", token=token
    )
    return survey


@router.get("/surveys/{token}", response={200: SurveyOut, 404: ErrorsOut})
def get_survey(request: HttpRequest, token: str) -> Any:
    """A survey's questions, as the response page shows them."""
    survey = _survey(request, token)
    areas = (
        Area.objects.filter(community=survey.community, kind=survey.area_kind).order_by("name")
        if survey.area_kind
        else Area.objects.none()
    )
    return {
        "token": survey.token,
        "title": survey.title,
        "description": survey.description,
        "community": survey.community.slug,
        "anonymous": survey.anonymous,
        "open": survey.is_open,
        "asks_demographics": survey.asks_demographics,
        "areas": [{"id": a.pk, "name": a.name} for a in areas],
        "questions": [
            {
                "code": q.code,
                "prompt": q.prompt,
                "kind": q.kind,
                "required": q.required,
                "choices": [{"key": str(c["key"]), "label": str(c["label"])} for c in q.choices],
                "scale_min": q.scale_min,
                "scale_max": q.scale_max,
                "low_label": q.low_label,
                "high_label": q.high_label,
            }
            for q in survey.questions.all()
        ],
    }


@router.post("/surveys/{token}/responses", response={201: ResponseOut, **ERRORS})
def respond(request: HttpRequest, token: str, payload: ResponseIn) -> Any:
    """Answer a survey. Every answer is checked; errors are keyed by question code.

    Send an ``Idempotency-Key`` header to make retries safe.
    """
    survey = _survey(request, token)
    user = request.user if request.user.is_authenticated else None

    def operation() -> tuple[int, Any]:
        response = services.submit_response(
            survey,
            payload.answers,
            user=user,
            about=services.About(
                area_id=payload.area_id, age_band=payload.age_band, gender=payload.gender
            ),
            channel=Channel.API,
        )
        return 201, {"id": response.pk, "survey": survey.token}

    # Anonymous respondents share one scope per survey; their keys are random UUIDs.
    scope = f"surveys.response:{survey.pk}:{getattr(user, 'pk', '') or 'anonymous'}"
    try:
        return Status(
            *run_once(
                scope, request.headers.get("Idempotency-Key"), payload.model_dump(), operation
            )
        )
    except IdempotencyError as exc:
        return Status(409, {"detail": str(exc)})
    except services.SurveyError as exc:
        return Status(400, {"detail": exc.message, "errors": exc.errors})
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc) or "Not allowed."})
