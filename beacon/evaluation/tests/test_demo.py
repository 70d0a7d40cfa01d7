"""The demo's "done when" lines for concerns, meetings, trust surveys and the report."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from beacon.core import demo as core_demo
from beacon.evaluation import report
from beacon.evaluation.indicators import Period
from beacon.forums import demo as forums_demo
from beacon.forums import services as forums
from beacon.forums.models import Concern, Meeting, MeetingStatus
from beacon.surveys import demo as surveys_demo
from beacon.surveys import trust
from beacon.surveys.models import Response, Survey

pytestmark = pytest.mark.django_db


def test_demo_hooks(tmp_path: Path) -> None:
    # The core demo with no other app's hooks (synthetic areas), then ours, timed.
    with mock.patch.object(core_demo, "_demo_hooks", return_value=[]):
        community = core_demo.build_demo(tmp_path).community
    started = time.monotonic()
    forums_demo.build_demo(community, tmp_path, lambda m: None)
    surveys_demo.build_demo(community, tmp_path, lambda m: None)
    # Their share of the demo's 60 s budget, with room for a busy shared machine
    # (about 3 s when the machine is idle).
    assert time.monotonic() - started < 30

    # Concerns crossing the threshold are on next week's beat meeting agenda.
    threshold = forums.settings_for(community).support_threshold
    upcoming = Meeting.objects.get(
        community=community, title__startswith="Beat 5", status=MeetingStatus.SCHEDULED, kind="beat"
    )
    assert timezone.now() < upcoming.starts_at < timezone.now() + timedelta(days=8)
    on_agenda = Concern.objects.filter(agenda_items__meeting=upcoming)
    assert on_agenda.count() == 2
    assert all(c.support_count >= threshold for c in on_agenda)
    assert not Concern.objects.filter(
        title__startswith="Car break-ins", agenda_items__isnull=False
    ).exists()

    # The minutes' action items are on the public tracker (the completed one is not).
    tracker = list(forums.tracker(community, None))
    assert {i.title for i in tracker} == {
        "Evening patrols of the Ontario Street lane",
        "Crime-prevention walk with residents",
    }
    assert any(i.is_overdue for i in tracker)
    assert list(forums.you_said_we_did(community, None))

    # Two trust waves of at least 200 responses with intervals and suppressed small groups.
    waves = list(Survey.objects.filter(community=community, kind="trust").order_by("opens_on"))
    assert len(waves) == 2
    for wave in waves:
        assert Response.objects.filter(survey=wave).count() >= 200
        results = trust.trust_results(wave)
        assert results.weighted
        overall = results.overall
        assert overall.mean is not None and overall.ci_low is not None
        assert overall.ci_high is not None
        assert overall.ci_low < overall.mean < overall.ci_high
        suppressed = {a.name for a in results.suppressed_areas}
        assert suppressed == {"Musqueam", "Stanley Park"}
        shown = [a for a in results.areas if not a.estimate.suppressed]
        assert len(shown) >= 15 and all(a.estimate.n >= 5 for a in shown)
    later = {a.name: a for a in trust.trust_results(waves[1]).areas}
    earlier = {a.name: a for a in trust.trust_results(waves[0]).areas}
    after, before = later["Strathcona"].estimate.mean, earlier["Strathcona"].estimate.mean
    assert after is not None and before is not None and after < before

    # The quarterly report renders and its figures are the data's.
    period = Period.current(timezone.localdate())
    evaluation = report.evaluate(community, period)
    html = report.report_html(evaluation)
    index = evaluation.indicators["trust"].figure("index")
    assert index is not None
    assert index.value == pytest.approx(trust.trust_results(waves[1]).overall.mean)
    assert f'data-figure="trust.index">{index.shown}<' in html
    assert report.report_pdf(evaluation).startswith(b"%PDF")
