"""Attendance and feedback figures per program, area and audience, month by month.

An event counts in the month of its first session and in the neighbourhood of its first
session's venue. "Attended" is the number of different people checked in to at least one
session; the attendance rate divides it by the confirmed registrations.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from beacon.core.models import Community
from beacon.programs.models import (
    Attendance,
    Audience,
    Event,
    EventStatus,
    Feedback,
    Registration,
    RegistrationStatus,
    Session,
)

DIMENSIONS = ("program", "area", "audience")


@dataclass
class Row:
    """One group in one month (or over the whole period when ``month`` is None)."""

    month: date | None
    key: str
    events: int = 0
    confirmed: int = 0
    attended: int = 0
    feedback: int = 0
    rating_total: int = 0

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.confirmed if self.confirmed else None

    @property
    def average_rating(self) -> float | None:
        return self.rating_total / self.feedback if self.feedback else None

    def as_dict(self) -> dict[str, Any]:
        """The row as plain values, for the API."""
        return {
            "month": self.month.isoformat() if self.month else None,
            "key": self.key,
            "events": self.events,
            "confirmed": self.confirmed,
            "attended": self.attended,
            "attendance_rate": self.attendance_rate,
            "feedback": self.feedback,
            "average_rating": self.average_rating,
        }


@dataclass
class Figures:
    """Rows per month and totals per group for one dimension."""

    dimension: str
    rows: list[Row] = field(default_factory=list)
    totals: list[Row] = field(default_factory=list)


def _event_keys(events: list[Event], dimension: str) -> dict[int, str]:
    if dimension == "program":
        return {e.pk: e.program.name if e.program else _("(no program)") for e in events}
    if dimension == "audience":
        labels = dict(Audience.choices)
        return {e.pk: str(labels.get(e.audience, e.audience)) for e in events}
    first_area: dict[int, str] = {}
    for event_id, area_name in (
        Session.objects.filter(event__in=[e.pk for e in events])
        .order_by("event_id", "starts_at", "pk")
        .values_list("event_id", "area__name")
    ):
        first_area.setdefault(event_id, area_name or _("(outside any neighbourhood)"))
    return {e.pk: first_area.get(e.pk, _("(no session)")) for e in events}


def compute(
    community: Community,
    dimension: str = "program",
    start: date | None = None,
    end: date | None = None,
) -> Figures:
    """The figures for ``community`` grouped by ``dimension``."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {DIMENSIONS}")
    events_qs = Event.objects.filter(
        community=community, starts_at__isnull=False, status=EventStatus.PUBLISHED
    ).select_related("program")
    if start:
        events_qs = events_qs.filter(starts_at__date__gte=start)
    if end:
        events_qs = events_qs.filter(starts_at__date__lte=end)
    events = list(events_qs)
    ids = [e.pk for e in events]
    confirmed = dict(
        Registration.objects.filter(event__in=ids, status=RegistrationStatus.CONFIRMED)
        .values("event_id")
        .annotate(n=Count("pk"))
        .values_list("event_id", "n")
    )
    attended = dict(
        Attendance.objects.filter(session__event__in=ids)
        .values("session__event_id")
        .annotate(n=Count("registration_id", distinct=True))
        .values_list("session__event_id", "n")
    )
    feedback = {
        row["event_id"]: (row["n"], row["total"])
        for row in Feedback.objects.filter(event__in=ids)
        .values("event_id")
        .annotate(n=Count("pk"), total=Sum("rating"))
    }
    keys = _event_keys(events, dimension)
    by_month: dict[tuple[date, str], Row] = {}
    totals: dict[str, Row] = defaultdict(lambda: Row(None, ""))
    for event in events:
        assert event.starts_at is not None
        month = event.starts_at.date().replace(day=1)
        key = keys[event.pk]
        for row in (by_month.setdefault((month, key), Row(month, key)), totals[key]):
            row.key = key
            row.events += 1
            row.confirmed += confirmed.get(event.pk, 0)
            row.attended += attended.get(event.pk, 0)
            count, total = feedback.get(event.pk, (0, 0))
            row.feedback += count
            row.rating_total += total or 0
    return Figures(
        dimension,
        rows=sorted(by_month.values(), key=lambda r: (r.month or date.min, r.key)),
        totals=sorted(totals.values(), key=lambda r: r.key),
    )


def attendance_chart(figures: Figures) -> bytes:
    """A PNG line chart of people attending per month for each group.

    PNG rather than inline SVG: matplotlib's SVG carries style attributes, which the
    content security policy forbids inside pages.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    series: dict[str, dict[date, int]] = defaultdict(dict)
    for row in figures.rows:
        assert row.month is not None
        series[row.key][row.month] = row.attended
    months = sorted({row.month for row in figures.rows if row.month is not None})
    figure, axes = plt.subplots(figsize=(7, 3), dpi=100)
    try:
        for key, values in sorted(series.items()):
            axes.plot(
                [m.strftime("%Y-%m") for m in months],
                [values.get(m, 0) for m in months],
                marker="o",
                label=key,
            )
        axes.set_ylabel(_("People attending"))
        axes.grid(alpha=0.3)
        if series:
            axes.legend(fontsize="small", loc="upper left")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()
