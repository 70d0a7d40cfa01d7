"""``beacon analyze backtest`` / ``forecast`` end to end on a small Beacon CSV."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json

import numpy as np
import pytest

from beacon.analytics.events import AnalysisInputError
from beacon.analytics.forecast_cli import add_subcommands, main, parse_coverages, parse_when


@pytest.fixture
def incidents(tmp_path):
    rng = np.random.default_rng(5)
    path = tmp_path / "incidents.csv"
    start = dt.datetime(2024, 1, 1)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "occurred_at", "category", "lat", "lon"])
        for i in range(400):
            hot = i % 3 == 0
            lat = 49.28 + (rng.normal(0, 0.0005) if hot else rng.uniform(-0.01, 0.01))
            lon = -123.12 + (rng.normal(0, 0.0005) if hot else rng.uniform(-0.01, 0.01))
            when = start + dt.timedelta(days=float(rng.uniform(0, 120)))
            w.writerow([f"r{i}", when.isoformat() + "Z", "Burglary" if hot else "Theft", lat, lon])
    return path


def test_backtest_all_methods_writes_json(incidents, tmp_path, capsys):
    out = tmp_path / "bt.json"
    status = main(
        [
            "backtest",
            str(incidents),
            "--method",
            "naive,prospective,etas",
            "--start",
            "2024-03-01",
            "--weeks",
            "4",
            "--coverage",
            "0.05,0.2",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    doc = json.loads(out.read_text())
    assert set(doc["methods"]) == {"naive", "prospective", "etas"}
    assert doc["protocol"]["weeks"] == 4
    fig = doc["methods"]["naive"]["figures"][0]
    assert fig["coverage"] == 0.05 and fig["pai"] >= 0
    assert "naive" in capsys.readouterr().out


def test_backtest_default_start_is_the_last_weeks(incidents, tmp_path):
    out = tmp_path / "bt.json"
    assert (
        main(
            [
                "backtest",
                str(incidents),
                "--method",
                "naive",
                "--weeks",
                "2",
                "--category",
                "burglary",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["input"]["category"] == "burglary"
    assert doc["input"]["rows_used"] < 400


def test_forecast_writes_ranked_cells(incidents, tmp_path):
    out = tmp_path / "f.csv"
    assert (
        main(
            [
                "forecast",
                str(incidents),
                "--method",
                "kde",
                "--top",
                "5",
                "--at",
                "2024-04-01",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(out.open()))
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert float(rows[0]["score"]) >= float(rows[-1]["score"])
    assert -124 < float(rows[0]["lon"]) < -123
    out_json = tmp_path / "f.json"
    assert main(["forecast", str(incidents), "--out", str(out_json)]) == 0
    assert json.loads(out_json.read_text())["method"] == "blend"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["backtest", "missing.csv", "--weeks", "2"], "no such file"),
        (["backtest", "{f}", "--weeks", "2", "--method", "magic"], "--method"),
        (["backtest", "{f}", "--weeks", "2", "--coverage", "0,2"], "--coverage"),
        (["backtest", "{f}", "--weeks", "2", "--start", "next tuesday"], "ISO date"),
        (["backtest", "{f}", "--weeks", "2", "--start", "2020-01-01"], "study area"),
        (["backtest", "{f}", "--weeks", "0"], "--weeks"),
        (["forecast", "{f}", "--out", "x.txt"], ".json or .csv"),
        (["forecast", "{f}", "--at", "2000-01-01", "--out", "x.json"], "no events before"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(incidents, capsys, argv, message):
    argv = [a.replace("{f}", str(incidents)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_registration_and_parsers():
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["forecast", "x.csv", "--out", "o.json"])
    assert args.method == "blend" and callable(args.func)
    assert parse_when("2020-07-01") == 18444.0
    assert parse_coverages("0.05") == (0.05,)
    with pytest.raises(AnalysisInputError):
        parse_coverages("five")
