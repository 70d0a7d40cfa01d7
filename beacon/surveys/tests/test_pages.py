from __future__ import annotations

from beacon.core.testing import BeaconTestCase
from beacon.surveys import services
from beacon.surveys.models import Response, Survey
from beacon.surveys.testing import make_custom_survey, make_trust_survey, trust_answers


class ResponsePageTests(BeaconTestCase):
    def test_respond_by_link_with_errors_next_to_questions(self) -> None:
        survey = make_trust_survey(self.community)
        url = f"/s/{survey.token}/"
        page = self.client.get(url)
        self.assertContains(page, "I trust the police in my neighbourhood.")
        self.assertContains(page, "Northside")
        body = page.content.decode()
        assert "<script>" not in body and "style=" not in body
        data = {f"q-{k}": v for k, v in trust_answers(4).items()} | {"q-respect": "9"}
        bad = self.client.post(url, data)
        assert bad.status_code == 400
        self.assertContains(bad, "9 is outside the scale 1–5", status_code=400)
        assert not Response.objects.exists()
        data["q-respect"] = "5"
        data["via"] = "qr"
        ok = self.client.post(url, data)
        self.assertContains(ok, "were recorded")
        response = Response.objects.get()
        assert response.channel == "qr" and response.respondent is None

    def test_draft_survey_is_not_public_and_qr_is_svg(self) -> None:
        draft = make_trust_survey(self.community, open_=False)
        assert self.client.get(f"/s/{draft.token}/").status_code == 404
        survey = make_trust_survey(self.community)
        qr = self.client.get(f"/s/{survey.token}/qr.svg")
        assert qr["Content-Type"] == "image/svg+xml"
        assert b"<svg" in qr.content

    def test_custom_survey_page_renders_every_kind(self) -> None:
        survey = make_custom_survey(self.community)
        page = self.client.get(f"/s/{survey.token}/")
        for text in ("Often", "Station", 'type="number"', "<textarea", 'type="checkbox"'):
            self.assertContains(page, text)


class StaffSurveyPageTests(BeaconTestCase):
    def test_roles(self) -> None:
        self.login(self.resident)
        assert self.client.get("/staff/c/north/surveys/").status_code == 403
        self.login(self.outsider)
        assert self.client.get("/staff/c/north/surveys/").status_code == 404

    def test_build_open_share_and_read_results(self) -> None:
        self.login(self.analyst)
        created = self.client.post(
            "/staff/c/north/surveys/",
            {
                "title": "Trust spring",
                "kind": "trust",
                "anonymous": "on",
                "area_kind": "neighbourhood",
                "asks_demographics": "on",
                "wave_label": "Spring",
            },
        )
        survey = Survey.objects.get()
        self.assertRedirects(created, f"/staff/c/north/surveys/{survey.pk}/")
        url = f"/staff/c/north/surveys/{survey.pk}/"
        self.client.post(url, {"do": "question", "prompt": "Anything else?", "kind": "text"})
        assert survey.questions.count() == 13
        bad = self.client.post(
            url, {"do": "question", "prompt": "Pick", "kind": "single", "choices": "one"}
        )
        self.assertContains(bad, "Give at least two choices")
        self.client.post(url, {"do": "open"})
        page = self.client.get(url)
        self.assertContains(page, f"/s/{survey.token}/")
        self.assertContains(page, "qr.svg")
        survey.refresh_from_db()
        for score in (1, 2, 3, 4, 5, 4):
            services.submit_response(survey, trust_answers(score))
        results = self.client.get(f"{url}results/")
        self.assertContains(results, "Community-trust index")
        self.assertContains(results, "fewer than 5 responses")  # per-area groups are small
        self.assertContains(results, "Procedural fairness")
        self.login(self.watch_coordinator)
        assert self.client.get(f"{url}results/").status_code == 403
