"""Test support for surveys: access-matrix factories and builders."""

from __future__ import annotations

from typing import Any

from django.db import models

from beacon.core.models import Community, Membership, User
from beacon.core.roles import Role
from beacon.core.testing import World, access_factory
from beacon.surveys import services
from beacon.surveys.models import (
    Answer,
    Distribution,
    PopulationGroup,
    Question,
    Response,
    Survey,
    SurveyKind,
    SurveyStatus,
)
from beacon.surveys.trust import ITEMS


def analyst_of(community: Community) -> User:
    """An analyst of ``community`` (created if needed)."""
    membership = Membership.objects.filter(community=community, role=Role.ANALYST).first()
    if membership is not None:
        return membership.user
    from beacon.core.services import add_member

    user = User.objects.create_user(f"analyst-surveys@{community.slug}.test", "x" * 12)
    add_member(user, community, Role.ANALYST)
    return user


def make_trust_survey(
    community: Community, *, wave: str = "Wave 1", open_: bool = True, **extra: Any
) -> Survey:
    """A trust survey (the ready instrument), open by default."""
    actor = analyst_of(community)
    survey = services.create_survey(
        community,
        actor,
        services.SurveyInput(
            title="Community trust", kind=SurveyKind.TRUST, wave_label=wave, **extra
        ),
    )
    if open_:
        services.set_status(survey, actor, SurveyStatus.OPEN)
    return survey


def trust_answers(score: int) -> dict[str, int]:
    """Answers giving every trust item ``score`` (fear items too, so they reverse)."""
    return {code: score for code, *_rest in ITEMS}


def make_custom_survey(community: Community) -> Survey:
    """An open custom survey with one question of each kind."""
    actor = analyst_of(community)
    survey = services.create_survey(community, actor, services.SurveyInput(title="Lighting"))
    for spec in (
        {
            "code": "walk",
            "prompt": "Do you walk at night?",
            "kind": "single",
            "required": True,
            "choices": "Often\nSometimes\nNever",
        },
        {
            "code": "places",
            "prompt": "Which places feel unsafe?",
            "kind": "multiple",
            "choices": "Park\nStation\nLane",
        },
        {"code": "safe", "prompt": "I feel safe at night.", "kind": "likert", "required": True},
        {
            "code": "years",
            "prompt": "Years lived here",
            "kind": "number",
            "scale_min": 0,
            "scale_max": 100,
        },
        {"code": "ideas", "prompt": "Ideas?", "kind": "text"},
    ):
        services.add_question(survey, actor, spec)
    services.set_status(survey, actor, SurveyStatus.OPEN)
    return survey


@access_factory(Survey)
def _survey(community: Community, world: World) -> models.Model:
    return make_trust_survey(community)


@access_factory(Question)
def _question(community: Community, world: World) -> models.Model:
    return make_trust_survey(community).questions.first()  # type: ignore[return-value]


@access_factory(Response)
def _response(community: Community, world: World) -> models.Model:
    return services.submit_response(make_trust_survey(community), trust_answers(4))


@access_factory(Answer)
def _answer(community: Community, world: World) -> models.Model:
    response = services.submit_response(make_trust_survey(community), trust_answers(4))
    return response.answers.first()  # type: ignore[return-value]


@access_factory(PopulationGroup)
def _population(community: Community, world: World) -> models.Model:
    return PopulationGroup.objects.create(
        community=community, age_band="25-44", gender="woman", population=1000
    )


@access_factory(Distribution)
def _distribution(community: Community, world: World) -> models.Model:
    survey = make_trust_survey(community)
    return services.distribute_to_members(
        survey, analyst_of(community), link="https://beacon.example/s/x/"
    )
