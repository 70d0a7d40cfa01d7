"""Public statistics: tables and server-rendered SVG charts, from published figures only.

Every number here is a sum of published units (see :mod:`beacon.incidents.privacy`),
shown through :func:`beacon.incidents.public.figure`, so the statistics obey the same
small-count and sensitivity rules as the map.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from beacon.core.models import Area, AreaKind, Community
from beacon.incidents import taxonomy
from beacon.incidents.models import PublicRollup
from beacon.incidents.privacy import TOD_BLOCK_HOURS, TOD_SLOTS
from beacon.incidents.public import Figure, PublicQuery, figure

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BLOCK_HOURS = TOD_BLOCK_HOURS


@dataclass(frozen=True)
class Comparison:
    """A figure and the same figure a year earlier."""

    label: str
    current: Figure
    previous: Figure

    @property
    def change(self) -> str:
        """Percentage change, or an em dash when either side is not an exact figure."""
        now, before = self.current.value, self.previous.value
        if now is None or before is None or before == 0:
            return "—"
        return f"{(now - before) / before:+.0%}"


def _sums(community: Community, level: str, query: PublicQuery, *fields: str) -> dict[Any, Figure]:
    rows = (
        PublicRollup.objects.filter(
            community=community,
            level=level,
            month__gte=query.first,
            month__lte=query.last,
            group__in=query.groups,
        )
        .values(*fields)
        .annotate(v=Sum("value"), lo=Sum("low"), s=Sum("small_units"))
        .order_by()
    )
    result: dict[Any, Figure] = {}
    for row in rows:
        key = tuple(row[f] for f in fields)
        result[key[0] if len(key) == 1 else key] = figure(row["v"], row["lo"], row["s"])
    return result


_ZERO = figure(0, 0, 0)


def by_group(community: Community, query: PublicQuery) -> list[Comparison]:
    """Each offence group: the period and the same period a year earlier."""
    now = _sums(community, "total", query, "group")
    before = _sums(community, "total", query.shifted(-12), "group")
    rows = []
    for code in query.groups:
        if code in now or code in before:
            rows.append(
                Comparison(
                    taxonomy.GROUPS[code].label, now.get(code, _ZERO), before.get(code, _ZERO)
                )
            )
    return rows


def total(community: Community, query: PublicQuery) -> Comparison:
    """All chosen groups together, against a year earlier."""
    now = _sums(community, "total", query, "level").get("total", _ZERO)
    before = _sums(community, "total", query.shifted(-12), "level").get("total", _ZERO)
    return Comparison(_("All offences"), now, before)


def by_month(community: Community, query: PublicQuery) -> list[Comparison]:
    """Each month of the period against the same month a year earlier."""
    now = _sums(community, "total", query, "month")
    before = _sums(community, "total", query.shifted(-12), "month")
    return [
        Comparison(
            f"{month:%Y-%m}",
            now.get(month, _ZERO),
            before.get(dt.date(month.year - 1, month.month, 1), _ZERO),
        )
        for month in query.months()
    ]


@dataclass(frozen=True)
class NeighbourhoodRow:
    name: str
    figure: Figure
    population: int | None

    @property
    def rate(self) -> str:
        """Incidents per 1,000 residents, when the population and an exact count exist."""
        if not self.population or self.figure.value is None:
            return "—"
        return f"{1000 * self.figure.value / self.population:.1f}"


def by_neighbourhood(community: Community, query: PublicQuery) -> list[NeighbourhoodRow]:
    """Mapped, non-sensitive incidents by neighbourhood, with rates where population is known."""
    sums = _sums(community, "nbhd", query, "key")
    areas = Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD).order_by("name")
    return [NeighbourhoodRow(a.name, sums.get(a.pk, _ZERO), a.population) for a in areas]


def time_of_day(community: Community, query: PublicQuery) -> list[tuple[str, list[Figure]]]:
    """Rows of 3-hour blocks, columns Monday to Sunday (incidents with a known time)."""
    rows = (
        PublicRollup.objects.filter(
            community=community,
            level="tod",
            month__gte=query.first,
            month__lte=query.last,
            group__in=query.groups,
        )
        .values("key")
        .annotate(v=Sum("value"), lo=Sum("low"), s=Sum("small_units"))
        .order_by()
    )
    cells: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        weekday, block = divmod(int(row["key"]), TOD_SLOTS)
        acc = cells[(block, weekday)]
        acc[0] += row["v"]
        acc[1] += row["lo"]
        acc[2] += row["s"]
    table = []
    for block in range(24 // BLOCK_HOURS):
        label = f"{block * BLOCK_HOURS:02d}:00–{block * BLOCK_HOURS + BLOCK_HOURS - 1:02d}:59"
        table.append((label, [figure(*cells[(block, day)]) for day in range(7)]))
    return table


# --------------------------------------------------------------------------- charts


def _figure_svg(fig: Any) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def _new_figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, selectable
    matplotlib.rcParams["svg.hashsalt"] = "beacon"  # stable ids, cacheable output
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot()


def _shown(value: Figure) -> int:
    return value.value or 0


def chart_months(rows: list[Comparison], title: str) -> str:
    """Bars for each month, a line for the same month a year earlier."""
    fig, ax = _new_figure(8, 3.2)
    labels = [r.label for r in rows]
    positions = range(len(rows))
    ax.bar(positions, [_shown(r.current) for r in rows], color="#1f5fa8", label=_("This period"))
    ax.plot(
        positions,
        [_shown(r.previous) for r in rows],
        color="#b3261e",
        marker="o",
        label=_("A year earlier"),
    )
    ax.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=8)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _figure_svg(fig)


def chart_bars(labels: list[str], values: list[Figure], title: str) -> str:
    """Horizontal bars, largest first (suppressed figures drawn as zero)."""
    height = max(2.5, 0.25 * len(labels) + 1)
    fig, ax = _new_figure(7, height)
    order = sorted(range(len(labels)), key=lambda i: _shown(values[i]))
    ax.barh([labels[i] for i in order], [_shown(values[i]) for i in order], color="#1f5fa8")
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _figure_svg(fig)


def chart_time_of_day(table: list[tuple[str, list[Figure]]], title: str) -> str:
    """A heat map of the time-of-day by day-of-week table."""
    fig, ax = _new_figure(6, 3.6)
    grid = [[_shown(f) for f in row] for _label, row in table]
    image = ax.imshow(grid, cmap="Blues", aspect="auto")
    ax.set_xticks(range(7), [_(d) for d in WEEKDAYS])
    ax.set_yticks(range(len(table)), [label for label, _row in table], fontsize=8)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _figure_svg(fig)
