"""Assessment: zones, overlap errors, periods, and figures that are the library's."""

from __future__ import annotations

import datetime as dt

import pytest

from beacon.analytics import evaluation as library
from beacon.core.models import Area
from beacon.core.testing import BeaconTestCase
from beacon.problems import assessment, report, services
from beacon.problems.errors import ProblemError
from beacon.problems.models import Verdict
from beacon.problems.testing import CONTROL, box_in, make_problem
from beacon.problems.tests.scenario import (
    PERIOD_DAYS,
    RESPONSE_START,
    expected_figures,
    seed_incidents,
)

FAR_CONTROL = (0.7, 0.1, 0.98, 0.9)


class AssessmentTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)

    def _problem(self) -> object:
        problem = make_problem(self.community, self.analyst)
        services.set_response_start(problem, self.analyst, RESPONSE_START)
        return problem

    def test_figures_are_the_librarys_on_the_same_counts(self) -> None:
        problem = self._problem()
        row = assessment.assess(
            problem,  # type: ignore[arg-type]
            self.analyst,
            assessment.AssessmentInput(
                control_geometry=box_in(self.community, *FAR_CONTROL),
                buffer_m=400,
                period_days=PERIOD_DAYS,
            ),
        )
        assert row.before_start == RESPONSE_START - dt.timedelta(days=PERIOD_DAYS)
        assert row.after_end == RESPONSE_START + dt.timedelta(days=PERIOD_DAYS)
        counts, figures = expected_figures(row, {"theft_from_vehicle"})
        assert row.counts == counts
        assert row.results == figures
        # The hot spot quietened: far fewer after than before, more than chance.
        target_before, target_after = row.counts["target"]
        assert target_before > 2 * target_after > 0, row.counts
        assert row.verdict == Verdict.REDUCED, (row.counts, row.results["relative"])
        assert row.verdict == Verdict.REDUCED
        assert "fewer" in row.verdict_text
        # Theft of vehicles is in the group but not in the problem's offences.
        assert row.offences == ["theft_from_vehicle"]

    def test_control_overlapping_the_target_or_buffer_is_refused(self) -> None:
        problem = self._problem()
        overlapping = box_in(self.community, 0.3, 0.45, 0.5, 0.55)
        with pytest.raises(ProblemError) as caught:
            assessment.assess(
                problem,  # type: ignore[arg-type]
                self.analyst,
                assessment.AssessmentInput(control_geometry=overlapping, period_days=PERIOD_DAYS),
            )
        message = caught.value.errors["control_geometry"][0]
        assert "overlaps the problem area" in message and "m²" in message
        # Clear of the target but inside its 400 m buffer.
        near = box_in(self.community, 0.45, 0.4, 0.55, 0.6)
        with pytest.raises(ProblemError) as caught:
            assessment.assess(
                problem,  # type: ignore[arg-type]
                self.analyst,
                assessment.AssessmentInput(
                    control_geometry=near, buffer_m=400, period_days=PERIOD_DAYS
                ),
            )
        assert "overlaps its 400 m buffer" in caught.value.errors["control_geometry"][0]
        # An existing area holding the target: named on its own field.
        west = Area.objects.get(community=self.community, name="West beat")
        with pytest.raises(ProblemError) as caught:
            assessment.assess(
                problem,  # type: ignore[arg-type]
                self.analyst,
                assessment.AssessmentInput(control_area_id=west.pk, period_days=PERIOD_DAYS),
            )
        assert "overlaps the problem area" in caught.value.errors["control_area_id"][0]

    def test_bad_control_buffer_and_periods(self) -> None:
        problem = make_problem(self.community, self.analyst)
        with pytest.raises(ProblemError) as caught:
            assessment.assess(
                problem,
                self.analyst,
                assessment.AssessmentInput(control_geometry=None, buffer_m=10, period_days=5),
            )
        assert set(caught.value.errors) == {"response_started_on", "buffer_m", "control_geometry"}
        services.set_response_start(problem, self.analyst, services.today_in(self.community))
        with pytest.raises(ProblemError) as caught:
            assessment.assess(
                problem,
                self.analyst,
                assessment.AssessmentInput(control_geometry=box_in(self.community, *CONTROL)),
            )
        assert "has not ended yet" in caught.value.errors["period_days"][0]
        outside = {
            "type": "Polygon",
            "coordinates": [[[-0.2, 51.4], [-0.1, 51.4], [-0.1, 51.5], [-0.2, 51.4]]],
        }
        with pytest.raises(ProblemError) as caught:
            assessment.assess(
                problem, self.analyst, assessment.AssessmentInput(control_geometry=outside)
            )
        assert "outside the community boundary" in caught.value.errors["control_geometry"][0]

    def test_too_few_incidents_gives_the_library_reason(self) -> None:
        problem = make_problem(
            self.community, self.analyst, groups=("burglary",), offences=("burglary_commercial",)
        )
        services.set_response_start(problem, self.analyst, RESPONSE_START)
        row = assessment.assess(
            problem,
            self.analyst,
            assessment.AssessmentInput(
                control_geometry=box_in(self.community, *FAR_CONTROL), period_days=PERIOD_DAYS
            ),
        )
        assert row.verdict == Verdict.INSUFFICIENT
        assert row.results["rate_ratio"] == {
            "error": "no events in either period; nothing to compare"
        }
        assert "too few incidents" in row.verdict_text

    def test_pdf_report(self) -> None:
        problem = self._problem()
        row = assessment.assess(
            problem,  # type: ignore[arg-type]
            self.analyst,
            assessment.AssessmentInput(
                control_geometry=box_in(self.community, *FAR_CONTROL), period_days=PERIOD_DAYS
            ),
        )
        data = report.build(row)
        assert set(data.charts) == {"map", "trend", "counts"}
        assert data.charts["map"].startswith("data:image/png;base64,")
        assert data.charts["trend"].startswith("data:image/svg+xml;base64,")
        html = report.report_html(data)
        ratio = library.ratio_of_ratios(tuple(row.counts["target"]), tuple(row.counts["control"]))
        assert f"{ratio.ratio:.3f}" in html
        assert row.verdict_text.split(":")[0] in html
        pdf = report.report_pdf(data)
        assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
