"""Indicators against direct queries, the dashboard, and the PDF report."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from beacon.core.testing import BeaconTestCase
from beacon.evaluation import indicators, report
from beacon.evaluation.indicators import Figure, Indicator, Period
from beacon.forums import services as forums
from beacon.forums.models import ActionItem, Concern
from beacon.forums.testing import make_concern
from beacon.incidents.models import Incident
from beacon.reports.models import Report
from beacon.reports.testing import file as file_report
from beacon.reports.testing import make_categories
from beacon.surveys import services as surveys
from beacon.surveys import trust
from beacon.surveys.models import Survey, SurveyStatus
from beacon.surveys.testing import make_trust_survey, trust_answers
from beacon.watch.models import WatchGroup

Q3 = Period.quarter(2024, 3)  # 1 Jul – 30 Sep 2024, compared with Q2
IN_Q3 = datetime(2024, 8, 15, 18, tzinfo=UTC)
IN_Q2 = datetime(2024, 5, 15, 18, tzinfo=UTC)


def fig(indicator: Indicator, key: str) -> Figure:
    found = indicator.figure(key)
    assert found is not None, key
    return found


class EvaluationTests(BeaconTestCase):
    second: Survey

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        community = cls.community
        north = cls.community.areas.get(name="Northside")
        # Incidents: burglary rises sharply in Northside (8 → 30), theft flat.
        n = 0
        for when, group, count in (
            (IN_Q2, "burglary", 8),
            (IN_Q3, "burglary", 30),
            (IN_Q2, "theft", 12),
            (IN_Q3, "theft", 11),
        ):
            for i in range(count):
                n += 1
                at = when + timedelta(hours=i)
                Incident.objects.create(
                    community=community,
                    source="test",
                    external_id=str(n),
                    occurred_from=at,
                    local_month=at.date().replace(day=1),
                    offence="burglary" if group == "burglary" else "theft_other",
                    offence_group=group,
                    neighbourhood=north,
                    content_hash=hashlib.md5(str(n).encode()).hexdigest(),  # noqa: S324
                    created_at=at,
                    updated_at=at,
                )
        # Reports: 3 in Q3 (acknowledged after 2, 4 and 30 hours), 1 in Q2 (10 hours).
        make_categories(community)
        for created, hours in ((IN_Q3, 2), (IN_Q3, 4), (IN_Q3, 30), (IN_Q2, 10)):
            filed = file_report(community).report
            Report.objects.filter(pk=filed.pk).update(
                created_at=created,
                acknowledged_at=created + timedelta(hours=hours),
                response_due_at=created + timedelta(hours=24),
            )
        # Concerns: two raised in Q3, one answered five days later.
        for title in ("Dark lane behind the school", "Speeding on 4th"):
            concern = make_concern(community, cls.resident, title=title)
            Concern.objects.filter(pk=concern.pk).update(created_at=IN_Q3)
        Concern.objects.filter(title="Speeding on 4th").update(
            response="On it", responded_at=IN_Q3 + timedelta(days=5)
        )
        # An overdue action item.
        ActionItem.objects.create(
            community=community,
            title="Fix the lights",
            owner_name="City",
            due_date=date(2024, 9, 1),
            created_at=IN_Q3,
        )
        # Trust: two waves, the second lower.
        first = make_trust_survey(community, wave="Spring 2024", opens_on=date(2024, 4, 1))
        for score in [4] * 6 + [5] * 4:
            surveys.submit_response(
                first, trust_answers(score), about=surveys.About(area_id=north.pk)
            )
        surveys.set_status(first, cls.analyst, SurveyStatus.CLOSED)
        second = make_trust_survey(community, wave="Summer 2024", opens_on=date(2024, 7, 1))
        for score in [3] * 6 + [2] * 4:
            surveys.submit_response(
                second, trust_answers(score), about=surveys.About(area_id=north.pk)
            )
        cls.second = second

    def test_figures_equal_direct_queries(self) -> None:
        computed = indicators.compute(self.community, Q3)
        start, end = Q3.bounds(self.community.timezone)
        reports = computed["reports"]
        assert (
            fig(reports, "received").value
            == Report.objects.filter(
                community=self.community, created_at__gte=start, created_at__lt=end
            ).count()
            == 3
        )
        assert fig(reports, "median_first_response_hours").value == 4.0
        assert fig(reports, "median_first_response_hours").previous == 10.0
        assert fig(reports, "on_time_percent").value == pytest.approx(200 / 3)
        incidents = computed["incidents"]
        total = Incident.objects.filter(
            community=self.community, occurred_from__gte=start, occurred_from__lt=end
        ).count()
        assert fig(incidents, "total").value == total == 41
        assert fig(incidents, "total").previous == 20
        concerns = computed["concerns"]
        assert fig(concerns, "raised").value == 2
        assert fig(concerns, "median_days_to_answer").value == 5.0
        assert fig(computed["meetings"], "actions_overdue").value == 1
        trust_ind = computed["trust"]
        direct = trust.trust_results(self.second).overall.mean
        assert fig(trust_ind, "index").value == direct
        change = fig(trust_ind, "index").change
        assert change is not None and change < 0
        watch = computed["watch"]
        assert watch.available is True
        assert (
            fig(watch, "groups").value
            == WatchGroup.objects.filter(community=self.community).count()
        )
        assert fig(watch, "patrols").value == 0

    def test_rules_fire_on_the_data(self) -> None:
        evaluation = report.evaluate(self.community, Q3, with_charts=False)
        fired = {s.rule for s in evaluation.suggestions}
        assert {"rising_offence_without_problem", "trust_dropped", "overdue_actions"} <= fired
        # An open problem request in Northside silences the burglary suggestion.
        concern = Concern.objects.get(title="Dark lane behind the school")
        forums.request_problem(concern, self.officer)
        again = report.evaluate(self.community, Q3, with_charts=False)
        assert "rising_offence_without_problem" not in {s.rule for s in again.suggestions}

    def test_pdf_renders_with_the_figures(self) -> None:
        evaluation = report.evaluate(self.community, Q3)
        html = report.report_html(evaluation)
        assert "2024 Q3" in html and "2024 Q2" in html
        assert 'data-figure="incidents.total">41<' in html
        assert 'data-figure="reports.received">3<' in html
        index = evaluation.indicators["trust"].figure("index")
        assert index is not None and f">{index.shown}<" in html
        assert "data:image/svg+xml;base64," in html  # charts embedded
        assert "Northside: Burglary" in html
        pdf = report.report_pdf(evaluation)
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000

    def test_dashboard_and_download(self) -> None:
        url = "/staff/c/north/evaluation/"
        self.login(self.resident)
        assert self.client.get(url).status_code == 403
        self.login(self.outsider)
        assert self.client.get(url).status_code == 404
        self.login(self.analyst)
        page = self.client.get(url, {"period": "2024-Q3"})
        self.assertContains(page, 'data-figure="incidents.total">41<')
        self.assertContains(page, "Suggested adjustments")
        assert "style=" not in page.content.decode()
        assert self.client.get(url, {"period": "nonsense"}).status_code == 404
        pdf = self.client.get("/staff/c/north/evaluation/report-2024-Q3.pdf")
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert "evaluation-north-2024-Q3.pdf" in pdf["Content-Disposition"]

    def test_current_quarter_by_default(self) -> None:
        self.login(self.officer)
        today = timezone.localdate()
        page = self.client.get("/staff/c/north/evaluation/")
        self.assertContains(page, f"{today.year} Q{(today.month - 1) // 3 + 1}")


class EvaluationApiTests(BeaconTestCase):
    def test_indicators_endpoint(self) -> None:
        url = "/api/v1/communities/north/indicators"
        assert self.client.get(url).status_code == 401
        self.login(self.resident)
        assert self.client.get(url).status_code == 403
        self.login(self.analyst)
        data = self.client.get(url, {"period": "2024-Q3"}).json()
        assert data["period"] == "2024-Q3" and data["previous"] == "2024 Q2"
        keys = [i["key"] for i in data["indicators"]]
        assert keys == [
            "reports",
            "incidents",
            "problems",
            "programs",
            "watch",
            "concerns",
            "meetings",
            "trust",
        ]
        assert self.client.get(url, {"period": "bad"}).status_code == 404
