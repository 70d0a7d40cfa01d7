from __future__ import annotations

import random

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from beacon.core.models import Area, AreaKind
from beacon.core.testing import BeaconTestCase
from beacon.surveys import services, stats, trust
from beacon.surveys.models import Distribution, PopulationGroup, Response, SurveyStatus
from beacon.surveys.testing import make_custom_survey, make_trust_survey, trust_answers


class BuilderTests(BeaconTestCase):
    def test_trust_survey_has_the_instrument(self) -> None:
        survey = make_trust_survey(self.community, open_=False)
        dims = set(survey.questions.values_list("dimension", flat=True))
        assert dims == set(trust.DIMENSIONS)
        assert survey.questions.filter(reverse=True, dimension="fear").count() == 2
        assert survey.series == "trust"

    def test_question_validation(self) -> None:
        survey = services.create_survey(
            self.community, self.analyst, services.SurveyInput(title="Parks")
        )
        with pytest.raises(services.SurveyError, match="at least two choices"):
            services.add_question(
                survey, self.analyst, {"prompt": "Pick", "kind": "single", "choices": "Only one"}
            )
        with pytest.raises(services.SurveyError, match="Likert scale"):
            services.add_question(
                survey,
                self.analyst,
                {"prompt": "Rate", "kind": "likert", "scale_min": 5, "scale_max": 1},
            )
        with pytest.raises(PermissionDenied):
            services.add_question(survey, self.resident, {"prompt": "Q", "kind": "text"})
        with pytest.raises(services.SurveyError, match="Add at least one question"):
            services.set_status(survey, self.analyst, SurveyStatus.OPEN)
        first = services.add_question(survey, self.analyst, {"prompt": "Rate it", "kind": "likert"})
        second = services.add_question(survey, self.analyst, {"prompt": "Rate it", "kind": "text"})
        assert (first.code, second.code) == ("rate-it", "rate-it-2")
        assert first.scale() == [1, 2, 3, 4, 5]
        services.set_status(survey, self.analyst, SurveyStatus.OPEN)
        with pytest.raises(services.SurveyError, match="draft"):
            services.add_question(survey, self.analyst, {"prompt": "Late", "kind": "text"})

    def test_only_editors_create(self) -> None:
        with pytest.raises(PermissionDenied):
            services.create_survey(self.community, self.resident, services.SurveyInput(title="X"))


class ResponseTests(BeaconTestCase):
    def test_answer_outside_scale_is_a_clear_error_naming_the_question(self) -> None:
        survey = make_trust_survey(self.community)
        answers = trust_answers(3) | {"trust_police": 7}
        with pytest.raises(services.SurveyError) as info:
            services.submit_response(survey, answers)
        message = info.value.errors["trust_police"][0]
        assert "I trust the police in my neighbourhood." in message
        assert "(trust_police)" in message and "7 is outside the scale 1–5" in message
        assert not Response.objects.exists()

    def test_every_kind_is_checked(self) -> None:
        survey = make_custom_survey(self.community)
        with pytest.raises(services.SurveyError) as info:
            services.submit_response(
                survey,
                {
                    "walk": "9",
                    "places": ["1", "zz"],
                    "safe": "2.5",
                    "years": "-3",
                    "ideas": "x" * 6000,
                    "bogus": 1,
                },
            )
        errors = info.value.errors
        assert "choose one of the listed answers" in errors["walk"][0]
        assert "zz is not one of the listed answers" in errors["places"][0]
        assert "whole number on the scale 1–5" in errors["safe"][0]
        assert "at least 0" in errors["years"][0]
        assert "under 5000 characters" in errors["ideas"][0]
        assert "bogus" in errors["__all__"][0]
        with pytest.raises(services.SurveyError, match="needs an answer"):
            services.submit_response(survey, {"walk": "1"})
        response = services.submit_response(
            survey,
            {"walk": "1", "places": ["3", "1"], "safe": 4, "years": "12.5", "ideas": "Lights"},
        )
        stored = {a.question.code: a for a in response.answers.select_related("question")}
        assert stored["places"].choices == ["1", "3"]
        assert stored["safe"].number == 4 and stored["years"].number == 12.5
        assert stored["walk"].choices == ["1"] and stored["ideas"].text == "Lights"

    def test_anonymous_response_stores_no_person(self) -> None:
        survey = make_trust_survey(self.community)
        response = services.submit_response(survey, trust_answers(4), user=self.resident)
        assert response.respondent is None
        field_names = {f.name for f in Response._meta.get_fields()}
        assert not {"ip", "ip_address", "user_agent", "created_at"} & field_names

    def test_identified_response_once_per_person(self) -> None:
        survey = make_trust_survey(self.community, anonymous=False)
        with pytest.raises(PermissionDenied):
            services.submit_response(survey, trust_answers(4))
        response = services.submit_response(survey, trust_answers(4), user=self.resident)
        assert response.respondent == self.resident
        with pytest.raises(services.SurveyError, match="already answered"):
            services.submit_response(survey, trust_answers(2), user=self.resident)

    def test_closed_survey_and_bad_area(self) -> None:
        survey = make_trust_survey(self.community)
        beat = Area.objects.filter(community=self.community, kind=AreaKind.BEAT).first()
        assert beat is not None
        with pytest.raises(services.SurveyError, match="Choose an area"):
            services.submit_response(
                survey, trust_answers(3), about=services.About(area_id=beat.pk)
            )
        services.set_status(survey, self.analyst, SurveyStatus.CLOSED)
        with pytest.raises(services.SurveyError, match="not open"):
            services.submit_response(survey, trust_answers(3))

    def test_distribution_emails_residents_once(self) -> None:
        survey = make_trust_survey(self.community)
        with self.captureOnCommitCallbacks(execute=True):
            distribution = services.distribute_to_members(
                survey, self.analyst, link="https://beacon.example/s/abc/?via=email", message="Hi"
            )
        distribution.refresh_from_db()
        assert distribution.sent_at is not None and distribution.recipients == 1
        assert [m.to for m in mail.outbox] == [[self.resident.email]]
        assert "https://beacon.example/s/abc/?via=email" in mail.outbox[0].body
        from beacon.surveys.tasks import send_invitations

        assert send_invitations.call(distribution.pk) == 0  # idempotent
        assert len(mail.outbox) == 1
        assert Distribution.objects.count() == 1

    def test_qr_code_is_svg(self) -> None:
        svg = services.qr_svg("https://beacon.example/s/abc/")
        assert svg.lstrip().startswith("<svg") and "</svg>" in svg


class TrustIndexTests(BeaconTestCase):
    """Two waves of generated responses: indices, intervals, suppression, weights, trend."""

    def generate(self, survey, rng: random.Random, per_area: dict[str, int], shift: float) -> None:
        areas = {
            a.name: a for a in Area.objects.filter(community=self.community, kind="neighbourhood")
        }
        for name, count in per_area.items():
            for _ in range(count):
                base = 3.4 + shift + (0.4 if name == "Northside" else 0)
                answers = {
                    code: min(5, max(1, round(rng.gauss(6 - base if rev else base, 0.9))))
                    for code, _dim, _p, rev, _l in trust.ITEMS
                }
                about = services.About(
                    area_id=areas[name].pk,
                    age_band=rng.choice(["16-24", "25-44", "25-44", "45-64", "65+"]),
                    gender=rng.choice(["woman", "man"]),
                )
                services.submit_response(survey, answers, about=about)

    def test_two_hundred_responses_give_indices_with_intervals(self) -> None:
        rng = random.Random(7)
        first = make_trust_survey(self.community, wave="Spring")
        self.generate(first, rng, {"Northside": 120, "Southside": 100}, shift=0)
        services.set_status(first, self.analyst, SurveyStatus.CLOSED)
        second = make_trust_survey(self.community, wave="Autumn")
        self.generate(second, rng, {"Northside": 110, "Southside": 4}, shift=-0.6)
        result = trust.trust_results(first)
        assert result.responses == 220 and result.scored == 220
        assert not result.weighted
        est = result.overall
        assert est.mean is not None and est.ci_low is not None and est.ci_high is not None
        assert est.ci_low < est.mean < est.ci_high and est.ci_high - est.ci_low < 8
        by_name = {a.name: a for a in result.areas}
        north, south = by_name["Northside"].estimate.mean, by_name["Southside"].estimate.mean
        assert north is not None and south is not None and north > south
        assert set(result.dimensions) == set(trust.DIMENSIONS)
        # The mean matches a direct computation from the stored answers.
        scores = trust.respondent_scores(first)
        direct = sum(s.index for s in scores if s.index is not None) / 220
        assert est.mean == pytest.approx(direct)

        later = trust.trust_results(second)
        small = {a.name: a for a in later.areas}["Southside"]
        assert small.estimate.suppressed and small.estimate.mean is None
        points = trust.trend(second)
        assert [p.survey for p in points] == [first, second]
        assert points[1].change is not None and points[1].change.difference < 0
        assert points[1].change.significant

    def test_weighting_to_population(self) -> None:
        survey = make_trust_survey(self.community)
        # Young respondents distrust, older ones trust; the sample is mostly older.
        for _ in range(5):
            services.submit_response(
                survey,
                trust_answers(2),
                about=services.About(age_band="16-24", gender="woman"),
            )
        for _ in range(15):
            services.submit_response(
                survey,
                trust_answers(4),
                about=services.About(age_band="65+", gender="woman"),
            )
        unweighted = trust.trust_results(survey).overall.mean
        for band in ("16-24", "65+"):
            PopulationGroup.objects.create(
                community=self.community, age_band=band, gender="woman", population=500
            )
        weighted = trust.trust_results(survey)
        assert weighted.weighted
        # Item score 2 on every item: safety etc. 25, fear items reversed to 4 → 75.
        young = stats.respondent_index([2] * 12, [i[3] for i in trust.ITEMS])
        old = stats.respondent_index([4] * 12, [i[3] for i in trust.ITEMS])
        assert young is not None and old is not None
        assert unweighted == pytest.approx((5 * young + 15 * old) / 20)
        assert weighted.overall.mean == pytest.approx((young + old) / 2)
        assert weighted.overall.n_eff < 20
