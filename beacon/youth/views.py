"""Pages for the staff of youth programs.

Anyone who is not on a program's staff (or a community administrator) gets 404 on its
pages, officers and partners of the same community included: unlike other records,
even the existence of a minor's record is sensitive, so a 403 would say too much.
"""

from __future__ import annotations

from datetime import date
from typing import cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import signed_in
from beacon.core.models import Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.youth import services
from beacon.youth.access import get_safeguarded_or_404, may_open, refuse_program
from beacon.youth.models import Match, Measure, Mentee, Mentor, YouthProgram


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    require_role(request.user, community, STAFF_ROLES)
    return community


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


class DateInput(forms.DateInput):
    input_type = "date"


class ApplicationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Young person's name"), max_length=120)
    date_of_birth = forms.DateField(label=gettext_lazy("Date of birth"), widget=DateInput())
    guardian_name = forms.CharField(label=gettext_lazy("Parent or guardian"), max_length=120)
    guardian_contact = forms.CharField(
        label=gettext_lazy("Guardian's phone or email"), max_length=200
    )


class ConsentForm(forms.Form):
    given_by = forms.CharField(label=gettext_lazy("Consent given by"), max_length=120)
    method = forms.CharField(
        label=gettext_lazy("How"),
        max_length=120,
        help_text=gettext_lazy("For example: signed form, scanned and filed."),
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class ProfileForm(forms.Form):
    interests = forms.CharField(label=gettext_lazy("Interests"), required=False)
    languages = forms.CharField(label=gettext_lazy("Languages"), required=False)
    availability = forms.CharField(
        label=gettext_lazy("Free times"),
        required=False,
        help_text=gettext_lazy("Comma-separated, e.g. mon-pm, sat-am."),
    )
    lat = forms.FloatField(label=gettext_lazy("Home latitude (approximate)"), required=False)
    lon = forms.FloatField(label=gettext_lazy("Home longitude (approximate)"), required=False)
    school = forms.CharField(label=gettext_lazy("School"), max_length=200, required=False)
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea, required=False)


class SessionForm(forms.Form):
    occurred_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    minutes = forms.IntegerField(label=gettext_lazy("Minutes"))
    activity = forms.CharField(label=gettext_lazy("Activity"), max_length=200)
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea, required=False)


class OutcomeForm(forms.Form):
    measure = forms.ChoiceField(label=gettext_lazy("Measure"), choices=Measure.choices)
    value = forms.FloatField(label=gettext_lazy("Value"))
    recorded_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)


def _apply_errors(form: forms.Form, exc: services.YouthError) -> None:
    for name, errors in exc.errors.items():
        for message in errors:
            form.add_error(name if name in form.fields else None, message)


@signed_in
def youth_home(request: HttpRequest, slug: str) -> HttpResponse:
    """The youth programs this person may open."""
    community = _community(request, slug)
    programs = [
        p
        for p in YouthProgram.objects.visible_to(request.user).filter(community=community)
        if may_open(request.user, p)
    ]
    return render(request, "youth/home.html", {"community": community, "programs": programs})


@signed_in
@require_http_methods(["GET", "POST"])
def program_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A program's mentees and mentors, and the application form."""
    community = _community(request, slug)
    program = YouthProgram.objects.filter(community=community, pk=pk).first()
    if program is None:
        raise Http404
    if not may_open(request.user, program):
        refuse_program(request.user, program)
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mentee = services.apply(
                program,
                data["name"],
                data["date_of_birth"],
                data["guardian_name"],
                data["guardian_contact"],
                actor=_actor(request),
            )
        except services.YouthError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("youth:mentee", slug, mentee.pk)
    mentees = list(Mentee.objects.visible_to(request.user).filter(program=program))
    mentors = list(Mentor.objects.visible_to(request.user).filter(program=program))
    services.audit_list(request.user, program, [m.pk for m in mentees], "mentee")
    services.audit_list(request.user, program, [m.pk for m in mentors], "mentor")
    return render(
        request,
        "youth/program.html",
        {
            "community": community,
            "program": program,
            "mentees": mentees,
            "mentors": [(m, m.vetting_problems()) for m in mentors],
            "form": form,
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def mentee_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One mentee: consent, profile, match suggestions with reasons, sessions, outcomes."""
    community = _community(request, slug)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    mentee: Mentee = get_safeguarded_or_404(
        Mentee.objects.filter(community=community).select_related("program"),
        request.user,
        "change" if action else "view",
        pk=pk,
    )
    actor = _actor(request)
    bound = request.POST if action else None
    consent_form = ConsentForm(bound if action == "consent" else None, prefix="consent")
    profile_form = ProfileForm(
        bound if action == "profile" else None,
        prefix="profile",
        initial={
            "interests": ", ".join(mentee.interests),
            "languages": ", ".join(mentee.languages),
            "availability": ", ".join(mentee.availability),
            "lat": mentee.lat,
            "lon": mentee.lon,
            "school": mentee.school,
            "notes": mentee.notes,
        },
    )
    session_form = SessionForm(bound if action == "session" else None, prefix="session")
    outcome_form = OutcomeForm(bound if action == "outcome" else None, prefix="outcome")
    try:
        if action == "consent" and consent_form.is_valid():
            services.record_consent(
                mentee,
                consent_form.cleaned_data["given_by"],
                consent_form.cleaned_data["method"],
                actor=actor,
            )
            return redirect("youth:mentee", slug, pk)
        if action == "profile" and profile_form.is_valid():
            data = profile_form.cleaned_data
            services.update_profile(
                mentee,
                services.Profile(
                    interests=_split(data["interests"]),
                    languages=_split(data["languages"]),
                    availability=_split(data["availability"]),
                    lat=data.get("lat"),
                    lon=data.get("lon"),
                    school=data.get("school") or "",
                    notes=data.get("notes") or "",
                ),
                actor=actor,
            )
            return redirect("youth:mentee", slug, pk)
        if action == "match":
            mentor = Mentor.objects.filter(
                program=mentee.program, pk=int(request.POST.get("mentor", "0") or 0)
            ).first()
            if mentor is None:
                raise Http404
            services.match(mentee, mentor, actor=actor)
            messages.success(request, _("Matched with %(name)s.") % {"name": mentor.name})
            return redirect("youth:mentee", slug, pk)
        if action == "session" and session_form.is_valid():
            pairing = mentee.matches.filter(status="active").first()
            if pairing is None:
                raise services.YouthError({"activity": [_("Match the mentee first.")]})
            data = session_form.cleaned_data
            services.log_session(
                pairing,
                data["occurred_on"],
                data["minutes"],
                data["activity"],
                notes=data.get("notes") or "",
                actor=actor,
            )
            return redirect("youth:mentee", slug, pk)
        if action == "outcome" and outcome_form.is_valid():
            data = outcome_form.cleaned_data
            services.record_outcome(
                mentee,
                data["measure"],
                data["value"],
                data["recorded_on"],
                note=data.get("note") or "",
                actor=actor,
            )
            return redirect("youth:mentee", slug, pk)
        if action == "leave":
            services.leave(mentee, actor=actor)
            return redirect("youth:mentee", slug, pk)
    except services.YouthError as exc:
        form = {
            "consent": consent_form,
            "profile": profile_form,
            "session": session_form,
            "outcome": outcome_form,
        }.get(action)
        if form is not None:
            _apply_errors(form, exc)
        else:
            messages.error(request, str(" ".join(m for ms in exc.errors.values() for m in ms)))
    pairing = mentee.matches.filter(status="active").select_related("mentor").first()
    return render(
        request,
        "youth/mentee.html",
        {
            "community": community,
            "mentee": mentee,
            "age": services.age_on(mentee.date_of_birth, date.today()),
            "pairing": pairing,
            "suggestions": services.suggest_matches(mentee)
            if mentee.has_consent and pairing is None and mentee.status == "active"
            else None,
            "sessions": Match.objects.none() if pairing is None else pairing.sessions.all(),
            "outcomes": mentee.outcomes.all(),
            "consent_form": consent_form,
            "profile_form": profile_form,
            "session_form": session_form,
            "outcome_form": outcome_form,
        },
    )
