"""``beacon analyze``: commands end to end, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from beacon.analytics.cli import build_parser, main


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(os.environ.get("BEACON_DATA_DIR", default))


def beacon_csv(tmp_path: Path, rows: list[tuple], name: str = "events.csv") -> Path:
    lines = ["id,occurred_at,category,lat,lon"]
    lines += [",".join(str(v) for v in row) for row in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def clustered_rows(n: int = 120, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        if i < n // 2:
            lat, lon = 49.282 + rng.normal(0, 0.0005), -123.115 + rng.normal(0, 0.0008)
        else:
            lat, lon = rng.uniform(49.2, 49.3), rng.uniform(-123.2, -123.02)
        day = 1 + int(rng.integers(0, 28))
        rows.append(
            (f"r{i}", f"2024-02-{day:02d}T12:00:00Z", "Burglary", f"{lat:.6f}", f"{lon:.6f}")
        )
    return rows


def run(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_knox_command_writes_matrices(tmp_path, capsys):
    src = beacon_csv(tmp_path, clustered_rows())
    out = tmp_path / "knox.json"
    code, stdout, err = run(
        capsys,
        [
            "knox",
            src,
            "--space-bandwidth",
            100,
            "--space-bands",
            3,
            "--time-bandwidth",
            7,
            "--time-bands",
            3,
            "--permutations",
            49,
            "--seed",
            1,
            "--out",
            out,
        ],
    )
    assert code == 0, err
    result = json.loads(out.read_text())
    assert result["space_edges_m"] == [0, 100, 200, 300]
    assert result["time_edges_days"] == [0, 7, 14, 21]
    for key in ("observed", "expected", "knox_ratio", "p_value"):
        assert np.array(result[key], dtype=float).shape == (5, 4)
    assert sum(map(sum, result["observed"])) == 120 * 119 // 2
    assert result["seed"] == 1 and result["permutations"] == 49
    assert "Knox ratios" in stdout and "same location" in stdout


@pytest.mark.data
def test_knox_command_on_the_calculator_file(tmp_path, capsys):
    src = data_dir() / "nearrepeat_chicago_burglary_month1" / "chicago_be_month1.csv"
    if not src.exists():
        pytest.skip(f"shared crime data not found at {src} (set BEACON_DATA_DIR)")
    out = tmp_path / "k.json"
    code, _, err = run(
        capsys,
        [
            "knox",
            src,
            "--format",
            "nearrepeat",
            "--space-bandwidth",
            100,
            "--space-bands",
            3,
            "--time-bandwidth",
            7,
            "--time-bands",
            3,
            "--permutations",
            99,
            "--seed",
            5,
            "--distance",
            "manhattan",
            "--out",
            out,
        ],
    )
    assert code == 0, err
    assert json.loads(out.read_text())["observed"][0] == [28, 5, 5, 2]


@pytest.mark.parametrize("method", ["kde", "gi", "lisa"])
def test_hotspots_command_writes_geojson(tmp_path, capsys, method):
    src = beacon_csv(tmp_path, clustered_rows())
    out = tmp_path / f"{method}.geojson"
    argv = ["hotspots", src, "--method", method, "--out", out, "--seed", 2]
    if method == "kde":
        argv += ["--bandwidth", 300, "--cell-size", 100]
    else:
        argv += ["--resolution", 8, "--permutations", 99]
    code, stdout, err = run(capsys, argv)
    assert code == 0, err
    gj = json.loads(out.read_text())
    assert gj["type"] == "FeatureCollection" and gj["features"]
    assert gj["source"]["crs"] == "EPSG:32610"
    lon, lat = gj["features"][0]["geometry"]["coordinates"][0][0]
    assert -123.3 < lon < -122.9 and 49.1 < lat < 49.4
    if method == "gi":
        assert "hot" in stdout


def test_category_filter_and_generic_columns(tmp_path, capsys):
    text = "ref,when,what,latitude,longitude\n" + "\n".join(
        f"{r[0]},{r[1]},{'Theft' if i % 2 else 'Burglary'},{r[3]},{r[4]}"
        for i, r in enumerate(clustered_rows())
    )
    src = tmp_path / "g.csv"
    src.write_text(text + "\n", encoding="utf-8")
    out = tmp_path / "k.json"
    code, stdout, err = run(
        capsys,
        [
            "knox",
            src,
            "--format",
            "generic",
            "--column",
            "time=when",
            "--column",
            "id=ref",
            "--column",
            "category=what",
            "--column",
            "lat=latitude",
            "--column",
            "lon=longitude",
            "--category",
            "theft",
            "--space-bandwidth",
            100,
            "--space-bands",
            2,
            "--time-bandwidth",
            7,
            "--time-bands",
            2,
            "--permutations",
            9,
            "--out",
            out,
        ],
    )
    assert code == 0, err
    assert "used 60" in stdout
    assert json.loads(out.read_text())["n_events"] == 60


def test_evaluate_command(tmp_path, capsys):
    out = tmp_path / "eval.json"
    code, stdout, err = run(
        capsys,
        [
            "evaluate",
            "--treated",
            207,
            110,
            "--control",
            308,
            318,
            "--buffer",
            178,
            157,
            "--buffer-control",
            150,
            140,
            "--out",
            out,
        ],
    )
    assert code == 0, err
    figures = json.loads(out.read_text())
    assert figures["wdd"]["wdd"] == -118 and figures["wdd"]["variance"] == 1568
    assert figures["wdq"]["wdq"] == pytest.approx((157 / 318 - 178 / 308) / (110 / 318 - 207 / 308))
    assert figures["treated_rate_ratio"]["ratio"] == pytest.approx(110 / 207)
    assert "WDD = -118" in stdout and "z = -2.98" in stdout
    code, _, err = run(capsys, ["evaluate", "--treated", 5, 3, "--buffer", 1, 2])
    assert code == 2 and "need --control" in err


def one_line_error(code: int, err: str) -> str:
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


KNOX = [
    "--space-bandwidth",
    "100",
    "--space-bands",
    "3",
    "--time-bandwidth",
    "7",
    "--time-bands",
    "3",
    "--permutations",
    "9",
]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "at least two events"),
        ([("a", "2024-01-01", "X", 49.28, -123.12)], "at least two events"),
        (
            [("a", "2024-01-01", "X", 49.28, -123.12), ("b", "2024-01-05", "X", 49.28, -123.12)],
            "one place",
        ),
        (
            [
                ("a", "2024-01-01T01:00", "X", 49.28, -123.12),
                ("b", "2024-01-01T05:00", "X", 49.29, -123.13),
            ],
            "one day",
        ),
        (
            [("a", "yesterday", "X", 49.28, -123.12)],
            "line 2: cannot read occurred_at value 'yesterday'",
        ),
        ([("a", "2024-01-01", "X", 149.28, -123.12)], "line 2: latitude 149.28"),
    ],
)
def test_knox_bad_input_one_line_exit_2(tmp_path, capsys, rows, message):
    src = beacon_csv(tmp_path, rows)
    code, _, err = run(capsys, ["knox", src, *KNOX, "--out", tmp_path / "k.json"])
    assert message in one_line_error(code, err)


def test_hotspots_bad_input_one_line_exit_2(tmp_path, capsys):
    one = beacon_csv(tmp_path, [("a", "2024-01-01", "X", 49.28, -123.12)])
    code, _, err = run(capsys, ["hotspots", one, "--method", "kde", "--out", tmp_path / "o"])
    assert "at least two events" in one_line_error(code, err)
    same = beacon_csv(tmp_path, [("a", "2024-01-01", "X", 49.28, -123.12)] * 3, "same.csv")
    code, _, err = run(capsys, ["hotspots", same, "--method", "gi", "--out", tmp_path / "o"])
    assert "one place" in one_line_error(code, err)
    near = beacon_csv(
        tmp_path,
        [("a", "2024-01-01", "X", 49.28, -123.12), ("b", "2024-01-01", "X", 49.28001, -123.12)],
        "near.csv",
    )
    code, _, err = run(
        capsys, ["hotspots", near, "--method", "gi", "--resolution", "5", "--out", tmp_path / "o"]
    )
    assert "one H3 cell" in one_line_error(code, err)


def test_coordinates_not_fitting_the_crs(tmp_path, capsys):
    src = tmp_path / "nr.csv"
    src.write_text("350353.39,578924.25,2015-12-31\n355691.34,586715.56,2016-01-01\n")
    code, _, err = run(
        capsys,
        [
            "knox",
            src,
            "--format",
            "nearrepeat",
            "--crs",
            "EPSG:26910",
            *KNOX,
            "--out",
            tmp_path / "k.json",
        ],
    )
    assert "does not fit EPSG:26910" in one_line_error(code, err)


def test_usage_errors_and_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, ["knox", tmp_path / "missing.csv", *KNOX, "--out", "x.json"])
    assert "cannot open" in one_line_error(code, err)
    code, _, err = run(capsys, ["knox", "x.csv", "--space-bandwidth", "-5"])
    assert "--space-bandwidth" in one_line_error(code, err)
    code, _, err = run(capsys, [])
    one_line_error(code, err)
    assert main(["--help"]) == 0


def test_forecast_subcommands_are_registered():
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    choices = set(actions[0].choices)  # type: ignore[arg-type]
    assert {"hotspots", "knox", "evaluate"} <= choices
