from __future__ import annotations

from beacon.core.testing import BeaconTestCase
from beacon.surveys.models import Response
from beacon.surveys.testing import make_trust_survey, trust_answers


class SurveyApiTests(BeaconTestCase):
    def test_read_and_answer(self) -> None:
        survey = make_trust_survey(self.community)
        data = self.client.get(f"/api/v1/surveys/{survey.token}").json()
        assert len(data["questions"]) == 12 and data["open"]
        url = f"/api/v1/surveys/{survey.token}/responses"
        bad = self.client.post(
            url, {"answers": trust_answers(3) | {"voice": 0}}, content_type="application/json"
        )
        assert bad.status_code == 400
        assert "0 is outside the scale 1–5" in bad.json()["errors"]["voice"][0]
        headers = {"Idempotency-Key": "k1"}
        payload = {"answers": trust_answers(4), "age_band": "25-44", "gender": "woman"}
        first = self.client.post(url, payload, content_type="application/json", headers=headers)
        again = self.client.post(url, payload, content_type="application/json", headers=headers)
        assert first.status_code == again.status_code == 201
        assert Response.objects.count() == 1
        assert Response.objects.get().channel == "api"

    def test_draft_is_hidden(self) -> None:
        survey = make_trust_survey(self.community, open_=False)
        assert self.client.get(f"/api/v1/surveys/{survey.token}").status_code == 404
