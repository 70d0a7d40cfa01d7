"""Stored runs equal what the analytics library returns when called directly on the
same incidents; the run life cycle (queue, claim, compute, fail) and its audit."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import h3
import numpy as np
import pytest

from beacon.analytics import backtest, forecast, hotspots, nearrepeat, patrol
from beacon.analytics.evaluation import rate_ratio
from beacon.analytics.events import Events
from beacon.analytics.grid import Grid
from beacon.analytics.io import project_lonlat, to_lonlat, utm_crs_for
from beacon.core.models import AreaCell, AreaKind, AuditEvent, Community
from beacon.core.services import area_at
from beacon.core.testing import BeaconTestCase
from beacon.incidents.models import Incident, IncidentStatus
from beacon.insights import services
from beacon.insights.models import AnalysisRun, RunKind, RunStatus
from beacon.insights.params import RunParameterError
from beacon.insights.testing import HOT_SPOT, SEED_DAYS, SEED_END, seed_incidents

START = SEED_END - dt.timedelta(days=SEED_DAYS - 1)


def direct_events(
    community: Community, groups: list[str], start: dt.date, end: dt.date
) -> tuple[Events, str]:
    """The incidents as library events, built here without the insights code."""
    zone = zoneinfo.ZoneInfo(community.timezone)
    rows = Incident.objects.filter(
        community=community,
        lat__isnull=False,
        occurred_from__gte=dt.datetime.combine(start, dt.time(), zone),
        occurred_from__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone),
    ).exclude(status=IncidentStatus.UNFOUNDED)
    if groups:
        rows = rows.filter(offence_group__in=groups)
    rows = rows.order_by("id")
    lat = [float(r.lat or 0.0) for r in rows]  # all mapped (filtered above)
    lon = [float(r.lon or 0.0) for r in rows]
    days = [
        (r.occurred_from.astimezone(zone).replace(tzinfo=None) - dt.datetime(1970, 1, 1))
        / dt.timedelta(days=1)
        for r in rows
    ]
    crs = utm_crs_for(community.centre_lon, community.centre_lat)
    x, y, crs = project_lonlat(lon, lat, crs)
    return Events.from_arrays(x, y, days), crs


class ServiceTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)

    def run_kind(
        self, kind: str, groups: list[str], parameters: dict[str, Any] | None = None, **window: Any
    ) -> AnalysisRun:
        with self.captureOnCommitCallbacks(execute=True):
            run = services.create_run(
                self.community,
                kind,
                offence_groups=groups,
                window_start=window.get("start", START),
                window_end=window.get("end", SEED_END),
                parameters=parameters,
                actor=self.analyst,
            )
        # Tests run tasks at once, here on commit: the run is computed.
        run.refresh_from_db()
        assert run.status == RunStatus.DONE, run.error
        assert run.duration_ms is not None and run.started_at and run.finished_at
        return run

    def test_gi_star_equals_the_library(self) -> None:
        run = self.run_kind(RunKind.GI, ["vehicle"])
        events, crs = direct_events(self.community, ["vehicle"], START, SEED_END)
        area = sorted(
            {
                h3.int_to_str(c)
                for c in AreaCell.objects.filter(community=self.community).values_list(
                    "cell", flat=True
                )
            }
        )
        counts = hotspots.h3_counts(events, crs, 9, area_cells=area)
        result = hotspots.getis_ord_gi_star(counts.counts, hotspots.h3_weights(counts.cells))
        cells = run.results["cells"]
        assert [c["cell"] for c in cells] == counts.cells
        assert [c["count"] for c in cells] == counts.counts.tolist()
        assert [c["z"] for c in cells] == result.z.tolist()
        assert [c["p"] for c in cells] == result.p_value.tolist()
        assert [c["significant"] for c in cells] == result.significant.tolist()
        labels = {"hot": "hot", "cold": "cold", "not significant": "ns"}
        assert [c["class"] for c in cells] == [labels[v] for v in result.labels()]
        for c in cells:
            assert set(c) == {"cell", "count", "z", "p", "significant", "class"}
            assert isinstance(c["cell"], str) and h3.is_valid_cell(c["cell"])
        geojson = run.results["geojson"]
        assert geojson["type"] == "FeatureCollection"
        assert len(geojson["features"]) == len(cells)
        # The seeded vehicle hot spot is found.
        hot_cell = h3.latlng_to_cell(*HOT_SPOT, 9)
        by_cell = {c["cell"]: c for c in cells}
        assert by_cell[hot_cell]["class"] == "hot"

    def test_kde_equals_the_library(self) -> None:
        run = self.run_kind(RunKind.KDE, [])
        events, crs = direct_events(self.community, [], START, SEED_END)
        surface = hotspots.kde(events, bandwidth=300.0, cell_size=100.0, kernel="quartic")
        results = run.results
        assert results["total"] == surface.total()
        assert results["max_per_km2"] == float(surface.values.max() * 1e6)
        assert results["geojson"] == hotspots.kde_geojson(
            surface, crs, threshold=results["threshold_per_km2"]
        )
        positive = int((surface.values > 0).sum())
        # The densest tenth of the cells with any density (ties may add a few).
        assert results["cells_shown"] >= round(0.1 * positive)
        assert results["cells_shown"] <= round(0.1 * positive) + 5

    def test_knox_equals_the_library(self) -> None:
        params = {"permutations": 49, "seed": 5, "space_bands": 4, "time_bands": 3}
        run = self.run_kind(RunKind.KNOX, ["burglary"], params)
        events, _crs = direct_events(self.community, ["burglary"], START, SEED_END)
        result = nearrepeat.knox(events, 100.0, 4, 7, 3, permutations=49, seed=5)
        expected = result.to_dict()
        for key, value in expected.items():
            assert run.results[key] == value, key
        # The seeded follow-ups (30-80 m, 1-6 days) make a near-repeat zone.
        zone = run.results["zone"]
        assert zone is not None and zone["distance_m"] >= 100.0 and zone["days"] >= 7.0

    def test_forecast_and_patrol_plan_equal_the_library(self) -> None:
        params = {"method": "prospective", "units_per_beat": 2, "max_cells": 3}
        run = self.run_kind(RunKind.FORECAST, ["burglary", "vehicle"], params)
        events, crs = direct_events(self.community, ["burglary", "vehicle"], START, SEED_END)
        grid = Grid.from_events(events, 150.0)
        now = float((SEED_END + dt.timedelta(days=1) - dt.date(1970, 1, 1)).days)
        fitted = forecast.make_forecaster("prospective", grid).fit(events, now=now)
        study = np.unique(grid.cells(events))
        scores = fitted.score(study)
        n_top = backtest.coverage_cells(0.05, len(study))
        top = backtest.select_top(scores, study, n_top).tolist()
        features = run.results["geojson"]["features"]
        assert [f["properties"]["cell"] for f in features] == top
        score_of = dict(zip(study.tolist(), scores.tolist(), strict=True))
        assert [f["properties"]["score"] for f in features] == [score_of[c] for c in top]
        assert run.results["forecast_start"] == "2024-04-30"
        # Beats by the core look-up, cell by cell, then one plan per beat.
        cx, cy = grid.centres(study)
        lon, lat = to_lonlat(cx, cy, crs)
        beat_of = {}
        for cell, la, lo in zip(study.tolist(), lat.tolist(), lon.tolist(), strict=True):
            beat = area_at(self.community, AreaKind.BEAT, la, lo)
            if beat is not None:
                beat_of[cell] = beat.pk
        plans = {p["beat"]: p for p in run.results["plans"]}
        assert set(plans) == set(beat_of.values())
        for beat_id, stored in plans.items():
            cells = [c for c, b in beat_of.items() if b == beat_id]
            plan = patrol.plan_patrols(
                grid,
                cells,
                [score_of[c] for c in cells],
                {c: beat_id for c in cells},
                units=2,
                max_cells=3,
            )
            assert [u["cells"] for u in stored["units"]] == [list(u.cells) for u in plan.units]
            assert stored["covered"] == plan.expected_covered
            assert stored["bound"] == plan.bound
            assert len(stored["units"]) <= 2
            assert all(len(u["cells"]) <= 3 for u in stored["units"])
        # The backtest of the last four weeks compares the method with past counts.
        assert set(run.results["backtest"]["methods"]) == {"prospective", "naive"}

    def test_trend_alert_figures_equal_the_exact_test(self) -> None:
        run = self.run_kind(RunKind.TREND, [], start=START, end=SEED_END)
        results = run.results
        current_start = SEED_END - dt.timedelta(days=27)
        assert results["current_start"] == current_start.isoformat()
        zone = zoneinfo.ZoneInfo(self.community.timezone)
        first = (
            Incident.objects.filter(community=self.community)
            .earliest("occurred_from")
            .occurred_from.astimezone(zone)
            .date()
        )
        history_start = max(START, first)  # the history starts with the data
        assert results["history_start"] == history_start.isoformat()
        assert results["history_days"] == (current_start - history_start).days
        northside = self.area("Northside")
        alerts = [
            a
            for a in results["alerts"]
            if a["area"] == northside.pk and a["offence_group"] == "theft"
        ]
        assert alerts, "the seeded surge of thefts in Northside raises an alert"
        alert = alerts[0]

        def count(first: dt.date, last: dt.date) -> int:
            return Incident.objects.filter(
                community=self.community,
                neighbourhood=northside,
                offence_group="theft",
                occurred_from__gte=dt.datetime.combine(first, dt.time(), zone),
                occurred_from__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone),
            ).count()

        observed = count(current_start, SEED_END)
        history = count(history_start, current_start - dt.timedelta(days=1))
        assert (alert["observed"], alert["history"]) == (observed, history)
        rr = rate_ratio(history, observed, results["history_days"], 28)
        assert alert["ratio"] == rr.ratio
        assert alert["ci_low"] == rr.ci_low and alert["ci_high"] == rr.ci_high
        assert alert["p_value"] == rr.p_value
        assert alert["expected"] == pytest.approx(history * 28 / results["history_days"])
        assert sum(alert["weekly"]) == observed and len(alert["weekly"]) == 4
        flags = hotspots.benjamini_hochberg(
            [
                rate_ratio(s["history"], s["observed"], results["history_days"], 28).p_value
                for s in results["alerts"]
            ],
            0.05,
        )
        assert flags.all()

    def test_cusum_trend_alerts(self) -> None:
        run = self.run_kind(RunKind.TREND, [], {"method": "cusum"}, start=START, end=SEED_END)
        northside = self.area("Northside")
        alert = next(
            a
            for a in run.results["alerts"]
            if a["area"] == northside.pk and a["offence_group"] == "theft"
        )
        cusum = alert["cusum"]
        rate = alert["history"] * 7.0 / run.results["history_days"]
        assert cusum["baseline_rate"] == pytest.approx(rate)
        assert max(cusum["path"]) >= cusum["h"] == 4.0
        assert len(cusum["path"]) == len(alert["weekly"])

    def test_request_finds_the_stored_run_and_create_is_audited(self) -> None:
        first, created = services.request_run(
            self.community, RunKind.GI, offence_groups=["vehicle"], actor=self.analyst
        )
        assert created
        again, created_again = services.request_run(
            self.community, RunKind.GI, offence_groups=["vehicle"], actor=self.analyst
        )
        assert again.pk == first.pk and not created_again
        other, created_other = services.request_run(
            self.community,
            RunKind.GI,
            offence_groups=["vehicle"],
            parameters={"resolution": 8},
            actor=self.analyst,
        )
        assert created_other and other.pk != first.pk
        # The default window ends on the last day of data.
        assert first.window_end == SEED_END
        assert first.window_start == SEED_END - dt.timedelta(days=90)
        audit = AuditEvent.objects.filter(
            action="create", object_type="insights.analysisrun", object_id=str(first.pk)
        )
        assert audit.count() == 1 and audit[0].actor == self.analyst

    def test_execute_is_idempotent(self) -> None:
        run = self.run_kind(RunKind.GI, [])
        finished = run.finished_at
        again = services.execute_run(run.pk)
        assert again is not None and again.finished_at == finished
        assert AnalysisRun.objects.filter(community=self.community).count() == 1

    def test_too_few_incidents_fail_with_a_clear_error(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            run = services.create_run(
                self.community,
                RunKind.KNOX,
                offence_groups=["robbery"],
                window_start=START,
                window_end=SEED_END,
            )
        run.refresh_from_db()
        assert run.status == RunStatus.FAILED
        assert "only 0 mapped incidents" in run.error and "at least 20" in run.error

    def test_bad_parameters_name_the_field(self) -> None:
        with pytest.raises(RunParameterError) as bad:
            services.create_run(self.community, RunKind.KNOX, parameters={"permutations": 5})
        assert bad.value.field == "parameters.permutations"
        assert "between 9 and 9999" in str(bad.value)
        with pytest.raises(RunParameterError, match="unknown parameter"):
            services.create_run(self.community, RunKind.GI, parameters={"bandwidth": 3})
        with pytest.raises(RunParameterError, match="unknown offence group"):
            services.create_run(self.community, RunKind.GI, offence_groups=["arson-ish"])
        with pytest.raises(RunParameterError, match="before it starts"):
            services.create_run(
                self.community,
                RunKind.GI,
                window_start=dt.date(2024, 3, 1),
                window_end=dt.date(2024, 2, 1),
            )
        with pytest.raises(RunParameterError, match="one of"):
            services.create_run(self.community, RunKind.FORECAST, parameters={"method": "magic"})
        assert not AnalysisRun.objects.exists()

    def test_unfounded_incidents_are_left_out(self) -> None:
        run = self.run_kind(RunKind.GI, ["vehicle"])
        Incident.objects.filter(community=self.community, offence_group="vehicle").update(
            status=IncidentStatus.UNFOUNDED
        )
        with pytest.raises(AssertionError):
            self.run_kind(RunKind.GI, ["vehicle"], {"resolution": 8})
        assert run.results["n_events"] > 0

    def test_runs_left_running_by_a_dead_worker_are_queued_again(self) -> None:
        from django.utils import timezone

        from beacon.insights.testing import make_run

        stale = make_run(
            self.community,
            status=RunStatus.RUNNING,
            started_at=timezone.now() - dt.timedelta(hours=3),
            window_start=START,
            window_end=SEED_END,
        )
        fresh = make_run(self.community, status=RunStatus.RUNNING, started_at=timezone.now())
        with self.captureOnCommitCallbacks(execute=True) as queued:
            assert services.requeue_stale(self.community) == 1
        assert len(queued) == 1
        stale.refresh_from_db()
        fresh.refresh_from_db()
        assert stale.status == RunStatus.DONE  # queued again, then computed by the task
        assert fresh.status == RunStatus.RUNNING
