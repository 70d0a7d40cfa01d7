"""The periodic jobs request each run once; the demo hook stores a run of every kind."""

from __future__ import annotations

from pathlib import Path

from beacon.core.schedule import registered_jobs
from beacon.core.testing import BeaconTestCase
from beacon.insights import schedule
from beacon.insights.demo import DEMO_RUNS, build_demo
from beacon.insights.models import AnalysisRun, RiskZone, RunKind, RunStatus
from beacon.insights.testing import SEED_END, seed_incidents


class ScheduleTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)

    def test_jobs_are_registered(self) -> None:
        names = {job.name for job in registered_jobs()}
        assert {
            "insights.hotspots",
            "insights.near-repeat",
            "insights.forecast",
            "insights.trends",
            "insights.risk-zones",
        } <= names

    def test_each_job_requests_its_runs_once(self) -> None:
        with self.captureOnCommitCallbacks(execute=False) as queued:
            made = schedule.request_hotspots()
        # All groups, then each group with 50 or more incidents (vehicle, burglary,
        # theft in the seed), for Gi* and KDE.
        groups = {tuple(r.offence_groups) for r in AnalysisRun.objects.filter(kind="gi")}
        assert made == 2 * len(groups) and len(queued) == made
        assert () in groups and ("vehicle",) in groups
        assert schedule.request_hotspots() == 0
        assert schedule.request_near_repeat() == 2
        assert schedule.request_near_repeat() == 0
        assert schedule.request_forecast() == 1 and schedule.request_forecast() == 0
        assert schedule.request_trends() == 1 and schedule.request_trends() == 0
        assert not AnalysisRun.objects.exclude(status=RunStatus.QUEUED).exists()
        run = AnalysisRun.objects.get(kind=RunKind.FORECAST)
        assert run.offence_groups == ["burglary", "vehicle"]
        assert run.window_end == SEED_END and run.created_by is None

    def test_the_zone_job_enqueues_a_refresh(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as queued:
            schedule.hourly_risk_zones()
        assert len(queued) == 1  # one community with incidents
        assert not RiskZone.objects.exists()  # no Knox run yet: no zones


class DemoHookTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)

    def test_demo_stores_a_run_of_every_kind_once(self) -> None:
        messages: list[str] = []
        build_demo(self.community, Path("/nonexistent"), messages.append)
        runs = AnalysisRun.objects.filter(community=self.community)
        assert runs.count() == len(DEMO_RUNS)
        assert {r.kind for r in runs} == set(RunKind.values)
        failed = {r.kind: r.error for r in runs if r.status != RunStatus.DONE}
        assert not failed, failed
        assert RiskZone.objects.filter(community=self.community).exists()
        assert any("near-repeat risk zones" in m for m in messages)
        build_demo(self.community, Path("/nonexistent"), messages.append)
        assert AnalysisRun.objects.filter(community=self.community).count() == len(DEMO_RUNS)

    def test_demo_without_incidents_says_so(self) -> None:
        messages: list[str] = []
        build_demo(self.other_community, Path("/nonexistent"), messages.append)
        assert not AnalysisRun.objects.exists()
        assert messages == ["No incidents: the analysis dashboards stay empty."]
