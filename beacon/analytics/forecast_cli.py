"""``beacon analyze backtest`` and ``beacon analyze forecast``.

``backtest`` runs the weekly evaluation protocol of
:mod:`beacon.analytics.backtest` on an event file and prints hit rate, PAI and
PEI per method and coverage; ``forecast`` scores every study cell for the week
starting at a given date and writes the ranked cells.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from beacon.analytics.backtest import DEFAULT_COVERAGES, BacktestResult, run_backtest
from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.forecast import METHODS, make_forecaster
from beacon.analytics.grid import Grid

_EPOCH = dt.datetime(1970, 1, 1)


def parse_when(text: str) -> float:
    """Days since the epoch for an ISO date or date-time.

    Times without an offset are wall-clock times kept as they are, the same
    convention as the readers in :mod:`beacon.analytics.io`.

    Examples
    --------
    >>> parse_when("1970-01-02"), parse_when("1970-01-01T12:00")
    (1.0, 0.5)
    >>> parse_when("1970-01-01T12:00+02:00")
    0.4166666666666667
    """
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise AnalysisInputError(f"{text!r} is not an ISO date (YYYY-MM-DD[THH:MM])") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return (when - _EPOCH).total_seconds() / 86400.0


def parse_coverages(text: str) -> tuple[float, ...]:
    """Comma-separated coverages in (0, 1].

    Examples
    --------
    >>> parse_coverages("0.01, 0.05")
    (0.01, 0.05)
    """
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise AnalysisInputError(f"--coverage {text!r}: give numbers like 0.01,0.05") from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise AnalysisInputError(f"--coverage {text!r}: every value must be in (0, 1]")
    return values


def _methods(text: str) -> list[str]:
    names = list(METHODS) if text == "all" else [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise AnalysisInputError(
            f"--method {text!r}: choose 'all' or from {', '.join(METHODS)} (comma-separated)"
        )
    return names


def _iso(days: float) -> str:
    return (_EPOCH + dt.timedelta(days=days)).isoformat()


def _read(args: argparse.Namespace) -> tuple[Events, dict[str, Any]]:
    from beacon.analytics.io import read_events

    category: str | list[str] | None = None
    if args.category:
        category = args.category[0] if len(args.category) == 1 else list(args.category)
    path = Path(args.input)
    if not path.is_file():
        raise AnalysisInputError(f"{path}: no such file")
    events, report = read_events(path, fmt=args.format, crs=args.crs, category=category)
    if len(events) == 0:
        raise AnalysisInputError(f"{report.summary()}: no events left to analyse")
    return events, {
        "path": str(path),
        "format": report.fmt,
        "crs": report.crs,
        "category": category,
        "rows_read": report.rows_read,
        "rows_used": report.rows_used,
        "skipped": report.skipped,
    }


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="event file")
    p.add_argument(
        "--format", default="auto", help="input format (default: auto-detect from the header)"
    )
    p.add_argument("--crs", help="projected CRS, e.g. EPSG:26910 (default: per format / UTM)")
    p.add_argument(
        "--category",
        action="append",
        metavar="C",
        help="keep categories containing C; repeat to keep exactly the categories named",
    )
    p.add_argument("--cell-size", type=float, default=150.0, help="cell side in metres [150]")


def add_subcommands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``backtest`` and ``forecast`` on an analytics CLI's subparsers.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="beacon analyze")
    >>> add_subcommands(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["backtest", "f.csv", "--weeks", "4", "--method", "naive"])
    >>> args.func is backtest_command, args.weeks
    (True, 4)
    """
    bt = subparsers.add_parser(
        "backtest",
        help="evaluate forecasting methods week by week (hit rate, PAI, PEI)",
        description=(
            "Weekly rolling backtest: each method is fitted on the events before each test "
            "week and judged on that week. Methods: " + ", ".join(METHODS) + "."
        ),
    )
    _common(bt)
    bt.add_argument("--method", default="all", help="a method, a comma list, or 'all' [all]")
    bt.add_argument(
        "--start", help="first test day T0, ISO date (default: the last --weeks weeks of data)"
    )
    bt.add_argument("--weeks", type=int, required=True, help="number of test weeks K")
    bt.add_argument(
        "--coverage",
        default=",".join(str(c) for c in DEFAULT_COVERAGES),
        help="comma-separated shares of the study area [0.01,0.05,0.1,0.2]",
    )
    bt.add_argument("--out", help="write all figures as JSON to this file")
    bt.set_defaults(func=backtest_command)

    fc = subparsers.add_parser(
        "forecast",
        help="rank cells by forecast risk for the week starting at a date",
        description="Fit a method on the events before --at and rank the study cells.",
    )
    _common(fc)
    fc.add_argument("--method", default="blend", help=f"one of {', '.join(METHODS)} [blend]")
    fc.add_argument("--at", help="start of the forecast week, ISO date (default: day after data)")
    fc.add_argument("--top", type=int, help="keep the N best cells (default: all study cells)")
    fc.add_argument("--out", required=True, help="output file (.json or .csv)")
    fc.set_defaults(func=forecast_command)


def _fail(err: Exception) -> int:
    Console(stderr=True).print(f"[bold red]error:[/] {err}", highlight=False)
    return 2


def _table(result: BacktestResult) -> Table:
    table = Table(
        title=f"{result.weeks} weeks from {_iso(result.start)[:10]}, "
        f"{result.study_cells} study cells of {result.cell_size:g} m",
        caption="each coverage: PAI  PEI",
    )
    table.add_column("method", no_wrap=True)
    for c in result.coverages:
        table.add_column(f"{c:.0%}", justify="right", no_wrap=True)
    table.add_column("seconds", justify="right", no_wrap=True)
    for name, r in result.methods.items():
        row = [name] + [f"{_num(f.pai, 2)}  {_num(f.pei, 3)}" for f in r.figures]
        table.add_row(*row, f"{r.seconds:.2f}")
    return table


def _num(value: float, digits: int) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def backtest_command(args: argparse.Namespace) -> int:
    """Handler of ``backtest``: returns the exit status (2 on bad input)."""
    try:
        if args.weeks < 1:
            raise AnalysisInputError("--weeks must be at least 1")
        if not args.cell_size > 0:
            raise AnalysisInputError("--cell-size must be positive")
        methods = _methods(args.method)
        coverages = parse_coverages(args.coverage)
        events, source = _read(args)
        if args.start is not None:
            start = parse_when(args.start)
        else:
            start = math.floor(float(events.t.max())) + 1.0 - 7.0 * args.weeks
        console = Console(stderr=True)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("backtest", total=len(methods) * args.weeks)

            def tick(method: str, week: int, weeks: int) -> None:
                bar.update(task, advance=1, description=f"{method} week {week}/{weeks}")

            result = run_backtest(
                events, methods, start, args.weeks, args.cell_size, coverages, progress=tick
            )
        out_console = Console()
        if not out_console.is_terminal:
            # Piped output: wide enough for the table, not the 80-column fallback.
            out_console = Console(width=120)
        out_console.print(_table(result))
        if args.out:
            doc = {"input": source, "start": _iso(start), **result.to_dict()}
            Path(args.out).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    except (AnalysisInputError, OSError) as err:
        return _fail(err)
    return 0


def forecast_command(args: argparse.Namespace) -> int:
    """Handler of ``forecast``: returns the exit status (2 on bad input)."""
    try:
        if args.method not in METHODS:
            raise AnalysisInputError(f"--method {args.method!r}: choose from {', '.join(METHODS)}")
        if args.top is not None and args.top < 1:
            raise AnalysisInputError("--top must be at least 1")
        out = Path(args.out)
        if out.suffix.lower() not in (".json", ".csv"):
            raise AnalysisInputError("--out must end in .json or .csv")
        events, source = _read(args)
        at = parse_when(args.at) if args.at else math.floor(float(events.t.max())) + 1.0
        grid = Grid.from_events(events, args.cell_size)
        history = events.select(events.t < at)
        if len(history) == 0:
            raise AnalysisInputError(f"no events before {_iso(at)}")
        study = np.unique(grid.cells(history))
        model = make_forecaster(args.method, grid).fit(history, now=at)
        scores = model.score(study)
        order = np.lexsort((study, -scores))[: args.top]
        cx, cy = grid.centres(study[order])
        lon = lat = None
        if source["crs"]:
            from beacon.analytics.io import to_lonlat

            lon, lat = to_lonlat(cx, cy, source["crs"])
        rows = []
        for i, k in enumerate(order):
            row: dict[str, Any] = {
                "rank": i + 1,
                "cell": int(study[k]),
                "x": float(cx[i]),
                "y": float(cy[i]),
                "score": float(scores[k]),
            }
            if lon is not None and lat is not None:
                row["lon"], row["lat"] = round(float(lon[i]), 6), round(float(lat[i]), 6)
            rows.append(row)
        _write_forecast(out, rows, source, args, at, model.params(), grid)
        Console().print(
            f"{args.method}: {len(rows)} cells ranked for the week from {_iso(at)[:10]} -> {out}"
        )
    except (AnalysisInputError, OSError) as err:
        return _fail(err)
    return 0


def _write_forecast(
    out: Path,
    rows: Sequence[dict[str, Any]],
    source: dict[str, Any],
    args: argparse.Namespace,
    at: float,
    params: dict[str, Any],
    grid: Grid,
) -> None:
    if out.suffix.lower() == ".json":
        doc = {
            "input": source,
            "method": args.method,
            "params": params,
            "week_start": _iso(at),
            "grid": {
                "x0": grid.x0,
                "y0": grid.y0,
                "cell_size": grid.cell_size,
                "nx": grid.nx,
                "ny": grid.ny,
                "crs": source["crs"],
            },
            "cells": list(rows),
        }
        out.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        return
    fields = list(rows[0]) if rows else ["rank", "cell", "x", "y", "score"]
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(fields) + "\n")
        for r in rows:
            fh.write(",".join(str(r[f]) for f in fields) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the two subcommands stand-alone (``python -m beacon.analytics.forecast_cli``)."""
    parser = argparse.ArgumentParser(prog="beacon analyze")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
