"""The evaluation of one community and period: indicators, what changed, what worked,
suggested adjustments, charts; rendered as the dashboard and as a PDF (WeasyPrint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from beacon.core.models import Community
from beacon.evaluation import charts, indicators, rules
from beacon.evaluation.indicators import Figure, Indicator, Period

CSS_FILE = Path(__file__).resolve().parent / "static" / "evaluation" / "report.css"


@dataclass
class Evaluation:
    """Everything the dashboard and the PDF show."""

    community: Community
    period: Period
    previous: Period
    indicators: dict[str, Indicator]
    suggestions: list[rules.Suggestion]
    changed: list[tuple[Indicator, Figure]] = field(default_factory=list)
    worked: list[tuple[Indicator, Figure]] = field(default_factory=list)
    worsened: list[tuple[Indicator, Figure]] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)
    generated_at: Any = None

    @property
    def available(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.available]

    @property
    def missing(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if not i.available]


def evaluate(community: Community, period: Period, *, with_charts: bool = True) -> Evaluation:
    """Compute the indicators, compare with the previous period and apply the rules."""
    computed = indicators.compute(community, period)
    ctx = rules.RuleContext(
        computed,
        open_problem_areas=indicators.open_problem_area_ids(community),
        problems_installed=apps.is_installed("beacon.problems"),
    )
    result = Evaluation(
        community=community,
        period=period,
        previous=period.previous(),
        indicators=computed,
        suggestions=rules.suggest(ctx),
        generated_at=timezone.now(),
    )
    for indicator in result.available:
        for figure in indicator.figures:
            if figure.change:
                result.changed.append((indicator, figure))
            if figure.improved is True:
                result.worked.append((indicator, figure))
            elif figure.improved is False:
                result.worsened.append((indicator, figure))
    if with_charts:
        incidents = computed.get("incidents")
        if incidents is not None:
            chart = charts.incidents_chart(incidents, result.previous.label, period.label)
            if chart:
                result.charts["incidents"] = chart
        trust = computed.get("trust")
        if trust is not None and trust.detail.get("area_estimates"):
            chart = charts.trust_chart(trust.detail["area_estimates"])
            if chart:
                result.charts["trust"] = chart
    return result


def report_html(evaluation: Evaluation) -> str:
    """The HTML the PDF is made from (also a printable page on its own)."""
    return render_to_string(
        "evaluation/report.html",
        {
            "e": evaluation,
            "community": evaluation.community,
            "rules": rules.describe_rules(),
            "thresholds": {
                "rise": (rules.RISE_MIN_COUNT, rules.RISE_MIN_RATIO, rules.RISE_MAX_P),
                "attendance": (rules.ATTENDANCE_MIN_BEFORE, int(rules.ATTENDANCE_MAX_FALL * 100)),
                "trust": rules.TRUST_MIN_DROP,
            },
        },
    )


def report_pdf(evaluation: Evaluation) -> bytes:
    """The quarterly evaluation report as PDF bytes."""
    from weasyprint import CSS, HTML

    html = report_html(evaluation)
    # No base URL needed: charts are data URIs and the stylesheet is passed in, so
    # WeasyPrint never fetches anything.
    return bytes(HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(CSS_FILE))]))


def report_filename(evaluation: Evaluation) -> str:
    """``evaluation-<community>-<2025-Q3>.pdf``."""
    return f"evaluation-{evaluation.community.slug}-{evaluation.period.key}.pdf"


def sentence(indicator: Indicator, figure: Figure) -> str:
    """One line of "what changed": label, value, previous value and change."""
    return _("%(label)s: %(value)s (previously %(previous)s, %(change)s)") % {
        "label": figure.label,
        "value": figure.shown,
        "previous": figure.shown_previous,
        "change": figure.shown_change,
    }
