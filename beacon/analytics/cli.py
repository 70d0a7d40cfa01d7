"""``beacon analyze``: crime analysis from the command line.

:func:`main` receives the arguments after ``analyze``, e.g.
``["knox", "burglary.csv", "--space-bandwidth", "100", ...]``. Subcommands:

``hotspots INPUT --method kde|gi|lisa --out FILE.geojson``
    Kernel density surface, Getis-Ord Gi* or local Moran's I on H3 cells.
``knox INPUT --space-bandwidth M --space-bands N --time-bandwidth D --time-bands N
--permutations R --seed S --out FILE.json``
    Near-repeat Knox test (Near Repeat Calculator conventions).
``evaluate --treated BEFORE AFTER [--control B A] [--buffer B A] [--buffer-control B A]``
    Before/after rate ratio, ratio of ratios, WDQ and WDD from counts.
``backtest``, ``forecast``
    Registered by :mod:`beacon.analytics.forecast_cli`.

Every subparser sets ``func``: a callable taking the parsed arguments and returning the
exit code. Bad input prints one line to stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, NoReturn, cast

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from beacon.analytics import forecast_cli
from beacon.analytics.evaluation import rate_ratio, ratio_of_ratios, wdd, wdq
from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.hotspots import (
    getis_ord_gi_star,
    gi_star_geojson,
    h3_counts,
    h3_weights,
    kde,
    kde_geojson,
    local_moran,
    local_moran_geojson,
)
from beacon.analytics.io import FORMATS, ReadReport, read_events
from beacon.analytics.nearrepeat import knox

__all__ = ["build_parser", "main", "read_input"]

PROG = "beacon analyze"


def _add_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", type=Path, help="event file (CSV)")
    parser.add_argument(
        "--format",
        dest="fmt",
        default="auto",
        choices=FORMATS,
        help="input format (default: detect from the header)",
    )
    parser.add_argument(
        "--crs",
        help="EPSG:NNNN: CRS of projected x/y input, or the CRS to project lat/lon into "
        "(default for lat/lon: local UTM zone)",
    )
    parser.add_argument(
        "--category", help="keep events whose category contains this text (case-insensitive)"
    )
    parser.add_argument(
        "--categories",
        help="keep events whose category is one of these, comma-separated (case-insensitive)",
    )
    parser.add_argument("--tz", help="IANA time zone of times written without an offset")
    parser.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="KEY=NAME",
        help="generic format column mapping, e.g. --column time=offense_date (repeatable; "
        "keys: id, time, category, lat, lon, x, y, time_format, delimiter)",
    )


def read_input(args: argparse.Namespace) -> tuple[Events, ReadReport]:
    """Read the events named by the common input options."""
    category: str | list[str] | None = args.category
    if args.categories:
        if category:
            raise AnalysisInputError("use --category or --categories, not both")
        category = [c.strip() for c in args.categories.split(",") if c.strip()]
    options: dict[str, Any] = {}
    for item in args.column:
        key, sep, value = item.partition("=")
        if not sep:
            raise AnalysisInputError(f"--column expects KEY=NAME, got {item!r}")
        key = key.strip()
        # --category is the filter; the generic mapping's category column is separate.
        options["category_column" if key == "category" else key] = value
    if args.tz:
        options["tz"] = args.tz
    return read_events(args.input, args.fmt, crs=args.crs, category=category, **options)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")


def _console() -> Console:
    # Plain output: no markup parsing (paths and interval labels contain brackets), no
    # wrapping of long lines when stdout is not a terminal.
    return Console(soft_wrap=True, markup=False, highlight=False)


def _err(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- hotspots


def _hotspots(args: argparse.Namespace) -> int:
    events, report = read_input(args)
    console = _console()
    console.print(report.summary())
    if len(events) < 2:
        raise AnalysisInputError(
            f"hot spot analysis needs at least two events, got {len(events)} after reading "
            "and filtering"
        )
    if np.ptp(events.x) == 0 and np.ptp(events.y) == 0:
        raise AnalysisInputError("all events are at one place; there is no pattern to map")
    if report.crs is None:
        raise AnalysisInputError("GeoJSON output needs the input's CRS; pass --crs EPSG:NNNN")
    if args.method == "kde":
        surface = kde(events, args.bandwidth, args.cell_size, kernel=args.kernel)
        peak = float(surface.values.max()) * 1e6
        threshold = args.threshold if args.threshold is not None else 0.05 * peak
        payload = kde_geojson(surface, report.crs, threshold=threshold, as_points=args.points)
        ny, nx = surface.shape
        console.print(
            f"KDE ({args.kernel}, bandwidth {args.bandwidth:g} m) on {nx} x {ny} cells of "
            f"{args.cell_size:g} m; peak {peak:.1f} events/km²; "
            f"{len(payload['features'])} cells above {threshold:.2f} events/km²"
        )
    else:
        counts = h3_counts(events, report.crs, args.resolution, fill_k=args.k)
        if int((counts.counts > 0).sum()) < 2:
            raise AnalysisInputError(
                f"all events fall in one H3 cell at resolution {args.resolution}; "
                "use a finer resolution"
            )
        weights = h3_weights(counts.cells, k=args.k)
        if args.method == "gi":
            gi = getis_ord_gi_star(counts.counts, weights, alpha=args.alpha)
            payload = gi_star_geojson(counts, gi)
            labels = gi.labels()
        else:
            lisa = local_moran(
                counts.counts,
                weights,
                permutations=args.permutations,
                seed=args.seed,
                alpha=args.alpha,
            )
            payload = local_moran_geojson(counts, lisa)
            labels = lisa.labels()
        tally = {k: labels.count(k) for k in sorted(set(labels))}
        console.print(
            f"{args.method}: {len(counts.cells)} H3 cells at resolution {args.resolution}, "
            f"k = {args.k}, FDR {args.alpha:g}: " + ", ".join(f"{k} {v}" for k, v in tally.items())
        )
    payload["source"] = {"path": str(args.input), "events": len(events), "crs": report.crs}
    _write_json(args.out, payload)
    console.print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------------- knox


def _cell(v: float, digits: int = 2) -> str:
    return "-" if not math.isfinite(v) else f"{v:.{digits}f}"


def _knox(args: argparse.Namespace) -> int:
    events, report = read_input(args)
    console = _console()
    console.print(report.summary())
    result = knox(
        events,
        space_bandwidth=args.space_bandwidth,
        space_bands=args.space_bands,
        time_bandwidth=args.time_bandwidth,
        time_bands=args.time_bands,
        permutations=args.permutations,
        seed=args.seed,
        distance=args.distance,
    )
    payload = result.to_dict()
    payload["source"] = {"path": str(args.input), "format": report.fmt, "crs": report.crs}
    payload["seed"] = args.seed
    _write_json(args.out, payload)

    table = Table(
        title=f"Knox ratios (observed / mean expected), {result.permutations} permutations, "
        f"{result.distance} distance; * p <= {args.alpha:g}"
    )
    table.add_column("distance", no_wrap=True)
    for label in result.time_labels:
        table.add_column(Text(label), justify="right")
    for r, label in enumerate(result.space_labels):
        cells = []
        for c in range(len(result.time_labels)):
            mark = "*" if result.p_value[r, c] <= args.alpha else ""
            cells.append(f"{_cell(float(result.ratio[r, c]))}{mark} ({int(result.observed[r, c])})")
        table.add_row(Text(label), *(Text(c) for c in cells))
    console.print(table)
    console.print("cells: ratio, * if significant, (observed pairs)")
    console.print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------------- evaluate


def _evaluate(args: argparse.Namespace) -> int:
    console = _console()
    out: dict[str, Any] = {"alpha": args.alpha}
    tb, ta = args.treated
    eb, ea = args.exposure
    rr = rate_ratio(tb, ta, exposure_before=eb, exposure_after=ea, alpha=args.alpha)
    out["treated_rate_ratio"] = rr.to_dict()
    console.print(f"treated area: {tb} before, {ta} after; {rr.summary()}")
    if args.control:
        ror = ratio_of_ratios(tuple(args.treated), tuple(args.control), alpha=args.alpha)
        out["ratio_of_ratios"] = ror.to_dict()
        console.print(f"against control {args.control[0]} -> {args.control[1]}: {ror.summary()}")
        disp = tuple(args.buffer) if args.buffer else (0, 0)
        disp_control = tuple(args.buffer_control) if args.buffer_control else (0, 0)
        d = wdd(tuple(args.treated), tuple(args.control), disp, disp_control, alpha=args.alpha)
        out["wdd"] = d.to_dict()
        level = round(100 * (1 - args.alpha))
        console.print(
            f"WDD = {d.wdd:+g} (local {d.local:+g}, displacement {d.displacement:+g}), "
            f"SE {d.se:.2f}, z = {d.z:.2f}, p = {d.p_value:.4g}, "
            f"{level}% CI {d.ci_low:.1f} to {d.ci_high:.1f}"
        )
        if args.buffer:
            q = wdq(tuple(args.treated), tuple(args.buffer), tuple(args.control))
            out["wdq"] = q.to_dict()
            shown = "n/a" if q.wdq is None else f"{q.wdq:.3f}"
            console.print(
                f"WDQ = {shown} (success measure {q.success_measure:.4f}, buffer "
                f"displacement measure {q.buffer_displacement_measure:.4f}, total net "
                f"effect {q.total_net_effect:.1f}): {q.interpretation}"
            )
    elif args.buffer or args.buffer_control:
        raise AnalysisInputError("--buffer and --buffer-control need --control")
    if args.out:
        _write_json(args.out, out)
        console.print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting so :func:`main` can return the exit code."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"counts must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``beacon analyze`` argument parser."""
    parser = _Parser(
        prog=PROG, description="Crime analysis: hot spots, near repeats, evaluation, forecasting."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    hs = sub.add_parser("hotspots", help="kernel density, Gi* or local Moran's I hot spots")
    _add_input(hs)
    hs.add_argument("--method", choices=("kde", "gi", "lisa"), required=True)
    hs.add_argument(
        "--bandwidth",
        type=_positive_float,
        default=250.0,
        help="KDE bandwidth in metres (quartic radius / Gaussian sd; default 250)",
    )
    hs.add_argument(
        "--cell-size",
        type=_positive_float,
        default=50.0,
        help="KDE cell size in metres (default 50)",
    )
    hs.add_argument("--kernel", choices=("quartic", "gaussian"), default="quartic")
    hs.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="KDE: write cells above this many events/km² (default: 5%% of peak)",
    )
    hs.add_argument("--points", action="store_true", help="KDE: write cell centres as points")
    hs.add_argument("--resolution", type=int, default=9, help="H3 resolution (default 9)")
    hs.add_argument("--k", type=_positive_int, default=1, help="H3 k-ring neighbourhood")
    hs.add_argument("--alpha", type=float, default=0.05, help="false discovery rate")
    hs.add_argument(
        "--permutations", type=_positive_int, default=999, help="LISA permutations (default 999)"
    )
    hs.add_argument("--seed", type=int, default=None)
    hs.add_argument("--out", type=Path, required=True, metavar="FILE.geojson")
    hs.set_defaults(func=_hotspots)

    kx = sub.add_parser("knox", help="near-repeat Knox test")
    _add_input(kx)
    kx.add_argument("--space-bandwidth", type=_positive_float, required=True, metavar="M")
    kx.add_argument("--space-bands", type=_positive_int, required=True, metavar="N")
    kx.add_argument("--time-bandwidth", type=_positive_int, required=True, metavar="DAYS")
    kx.add_argument("--time-bands", type=_positive_int, required=True, metavar="N")
    kx.add_argument("--permutations", type=_positive_int, default=999, metavar="R")
    kx.add_argument("--seed", type=int, default=None, metavar="S")
    kx.add_argument("--distance", choices=("euclidean", "manhattan"), default="euclidean")
    kx.add_argument("--alpha", type=float, default=0.05, help="significance mark in the table")
    kx.add_argument("--out", type=Path, required=True, metavar="FILE.json")
    kx.set_defaults(func=_knox)

    ev = sub.add_parser("evaluate", help="before/after tests, WDQ and WDD from counts")
    ev.add_argument("--treated", nargs=2, type=_count, required=True, metavar=("BEFORE", "AFTER"))
    ev.add_argument("--control", nargs=2, type=_count, metavar=("BEFORE", "AFTER"))
    ev.add_argument(
        "--buffer",
        nargs=2,
        type=_count,
        metavar=("BEFORE", "AFTER"),
        help="displacement (buffer) area counts",
    )
    ev.add_argument(
        "--buffer-control",
        nargs=2,
        type=_count,
        metavar=("BEFORE", "AFTER"),
        help="control area for the buffer (WDD)",
    )
    ev.add_argument(
        "--exposure",
        nargs=2,
        type=_positive_float,
        default=(1.0, 1.0),
        metavar=("BEFORE", "AFTER"),
        help="period lengths (default equal)",
    )
    ev.add_argument("--alpha", type=float, default=0.05)
    ev.add_argument("--out", type=Path, metavar="FILE.json")
    ev.set_defaults(func=_evaluate)

    # The forecasting subcommands build their parsers with the same error handling.
    forecast_cli.add_subcommands(cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``beacon analyze`` with ``argv`` (the arguments after ``analyze``).

    Returns the exit code: 0 on success, 2 on bad input or usage (one line on stderr).

    Examples
    --------
    >>> main(["evaluate", "--treated", "40", "20"])  # doctest: +ELLIPSIS
    treated area: 40 before, 20 after; rate fell: ratio 0.500 (-50.0%), ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        code: int = args.func(args)
        return code
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    except AnalysisInputError as exc:
        _err(str(exc))
        return 2
    except OSError as exc:
        _err(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
