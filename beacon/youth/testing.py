"""Test support for youth programs: a program with staff, mentors and a consented mentee."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.utils import timezone

from beacon.core.models import Community, User
from beacon.core.testing import World, access_factory
from beacon.youth import services
from beacon.youth.models import (
    Match,
    Mentee,
    Mentor,
    OutcomeMeasure,
    ProgramStaff,
    SessionLog,
    YouthProgram,
)


def make_program(community: Community, staff: User | None = None) -> YouthProgram:
    """A mentoring program, with ``staff`` assigned when given."""
    program = YouthProgram.objects.filter(community=community).first()
    if program is None:
        program = services.save_program(community, "Mentoring", "mentoring")
    if staff is not None:
        services.assign_staff(program, staff)
    return program


def make_mentor(
    program: YouthProgram, name: str = "Vetted Mentor", *, expires_in: int = 300, **extra: object
) -> Mentor:
    """A mentor whose background check expires in ``expires_in`` days (negative: expired)."""
    today = timezone.localdate()
    data = services.MentorData(
        name=name,
        interests=["football", "music"],
        languages=["english", "punjabi"],
        availability=["sat-am", "wed-pm"],
        lat=49.27,
        lon=-123.125,
        background_check_on=today - timedelta(days=400),
        background_check_expires_on=today + timedelta(days=expires_in),
        training_completed_on=today - timedelta(days=100),
    )
    for key, value in extra.items():
        setattr(data, key, value)
    return services.save_mentor(program, data)


def make_mentee(program: YouthProgram, *, consent: bool = True, name: str = "Jo Young") -> Mentee:
    """A 14-year-old mentee, with consent and a profile unless ``consent`` is False."""
    born = timezone.localdate() - timedelta(days=14 * 365 + 30)
    mentee = services.apply(program, name, born, "Pat Guardian", "guardian@example.org")
    if consent:
        services.record_consent(mentee, "Pat Guardian", "signed form")
        services.update_profile(
            mentee,
            services.Profile(
                interests=["football"],
                languages=["punjabi"],
                availability=["sat-am"],
                lat=49.272,
                lon=-123.12,
            ),
        )
    return mentee


def _program_staff_world(community: Community, world: World) -> YouthProgram:
    # The world's officer is assigned to the program in the first community: the
    # matrix then checks the grant, and that the other roles (partner too) get nothing.
    staff = world.members["officer"] if community == world.community else None
    return make_program(community, staff)


@access_factory(YouthProgram)
def _program(community: Community, world: World) -> models.Model:
    return _program_staff_world(community, world)


@access_factory(ProgramStaff)
def _staff(community: Community, world: World) -> models.Model:
    program = _program_staff_world(community, world)
    analyst = world.members["analyst"] if community == world.community else None
    if analyst is None:
        analyst = world.outsiders["analyst"]
    return services.assign_staff(program, analyst)


@access_factory(Mentor)
def _mentor(community: Community, world: World) -> models.Model:
    return make_mentor(_program_staff_world(community, world))


@access_factory(Mentee)
def _mentee(community: Community, world: World) -> models.Model:
    return make_mentee(_program_staff_world(community, world))


def _match(community: Community, world: World) -> Match:
    program = _program_staff_world(community, world)
    return services.match(make_mentee(program), make_mentor(program))


@access_factory(Match)
def _access_match(community: Community, world: World) -> models.Model:
    return _match(community, world)


@access_factory(SessionLog)
def _session(community: Community, world: World) -> models.Model:
    return services.log_session(_match(community, world), date.today(), 60, "Football")


@access_factory(OutcomeMeasure)
def _outcome(community: Community, world: World) -> models.Model:
    mentee = make_mentee(_program_staff_world(community, world))
    return services.record_outcome(mentee, "engagement", 4, date.today())
