"""Tests that try to break the publication privacy rules, on the map, the API and the
downloads alike."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zoneinfo
from typing import Any

from h3.api import basic_int as h3i

from beacon.core.testing import NORTH_BOX, BeaconTestCase
from beacon.incidents.models import Incident
from beacon.incidents.privacy import (
    MIN_POINT_RESOLUTION,
    cell_centre,
    policy_for,
    public_cell_for,
    public_location,
    publish_community,
)
from beacon.incidents.testing import make_incident

ZONE = zoneinfo.ZoneInfo("America/Vancouver")
NOW = dt.datetime(2024, 5, 20, 12, 0, tzinfo=dt.UTC)  # publishes January to April 2024
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]
OFFENCES = ["theft_other", "theft_from_vehicle", "burglary_residential", "damage"]
WEST, SOUTH, EAST, NORTH = NORTH_BOX
BBOX = f"{WEST},{SOUTH},{EAST},{NORTH}"


def when(month: int, day: int = 10, hour: int = 14) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, 30, tzinfo=ZONE)


class PublicationCase(BeaconTestCase):
    """A community with a few hundred incidents at ~80 sites, January to April 2024."""

    def setUp(self) -> None:
        rng = random.Random(7)
        self.sites = [
            (
                round(rng.uniform(SOUTH + 0.002, NORTH - 0.002), 6),
                round(rng.uniform(WEST + 0.002, EAST - 0.002), 6),
            )
            for _ in range(80)
        ]
        for lat, lon in self.sites:
            for _ in range(rng.randint(1, 6)):
                make_incident(
                    self.community,
                    lat=lat,
                    lon=lon,
                    offence=rng.choice(OFFENCES),
                    when=when(rng.randint(1, 4), rng.randint(1, 28), rng.randint(0, 23)),
                )

    def publish(self, now: dt.datetime = NOW) -> None:
        publish_community(self.community, now=now)

    def get_json(self, url: str) -> Any:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return response.json()

    def get_text(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, url
        return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]

    def public_outputs(self, groups: list[list[str]] | None = None) -> dict[str, Any]:
        """Every public answer over a battery of overlapping queries."""
        out: dict[str, Any] = {}
        group_sets = groups or [[], ["theft"], ["vehicle"], ["theft", "vehicle"], ["burglary"]]
        ranges = [(a, b) for i, a in enumerate(MONTHS) for b in MONTHS[i:]]
        for first, last in ranges:
            for chosen in group_sets:
                q = f"from={first}&to={last}" + "".join(f"&group={g}" for g in chosen)
                for zoom in (10, 11, 13, 15):
                    out[f"map {zoom} {q}"] = self.get_json(
                        f"/c/north/map/data.json?zoom={zoom}&bbox={BBOX}&{q}"
                    )
                out[f"api points {q}"] = self.get_json(
                    f"/api/v1/communities/north/crime/points?{q}"
                )
                out[f"api stats {q}"] = self.get_json(f"/api/v1/communities/north/crime/stats?{q}")
        out["api units"] = self.get_json("/api/v1/communities/north/crime/units?limit=10000")
        out["csv"] = self.get_text("/c/north/open-data/crime.csv")
        out["geojson"] = self.get_text("/c/north/open-data/crime.geojson")
        for res in (6, 7, 8):
            out[f"api hex {res}"] = self.get_json(
                f"/api/v1/communities/north/crime/hexagons?resolution={res}&from=2024-01&to=2024-04"
            )
        return out

    def published_points(self) -> list[tuple[str, float, float]]:
        """(cell, lat, lon) of every location any public output carries."""
        found: list[tuple[str, float, float]] = []
        data = self.get_json(f"/c/north/map/data.json?zoom=16&bbox={BBOX}&from=2024-01&to=2024-04")
        assert data["layer"] == "points"
        for f in data["features"]:
            lon, lat = f["geometry"]["coordinates"]
            found.append((f["properties"]["cell"], lat, lon))
        api = self.get_json("/api/v1/communities/north/crime/points?from=2024-01&to=2024-04")
        for f in api["features"]:
            lon, lat = f["geometry"]["coordinates"]
            found.append((f["properties"]["cell"], lat, lon))
        for row in csv.DictReader(io.StringIO(self.get_text("/c/north/open-data/crime.csv"))):
            if row["lat"]:
                found.append((row["cell"], float(row["lat"]), float(row["lon"])))
        geo = json.loads(self.get_text("/c/north/open-data/crime.geojson"))
        for f in geo["features"]:
            if f["geometry"]:
                lon, lat = f["geometry"]["coordinates"]
                found.append((f["properties"]["cell"], lat, lon))
        for row in self.get_json("/api/v1/communities/north/crime/units?limit=10000"):
            if row["lat"] is not None:
                found.append((row["cell"], row["lat"], row["lon"]))
        return found


class MaskedPointTests(PublicationCase):
    def assert_points_are_k_site_cells(self, k: int) -> None:
        true_sites: set[tuple[float, float]] = {
            (float(lat or 0), float(lon or 0))
            for lat, lon in Incident.objects.filter(
                community=self.community, lat__isnull=False
            ).values_list("lat", "lon")
        }
        points = self.published_points()
        assert points, "nothing was published"
        for cell_text, lat, lon in points:
            cell = h3i.str_to_int(cell_text)
            res = h3i.get_resolution(cell)
            assert MIN_POINT_RESOLUTION <= res <= 10
            centre = h3i.cell_to_latlng(cell)
            assert abs(centre[0] - lat) < 1e-5 and abs(centre[1] - lon) < 1e-5
            inside = {
                site
                for site in true_sites
                if h3i.cell_to_parent(h3i.latlng_to_cell(site[0], site[1], 10), res) == cell
            }
            assert len(inside) >= k, (cell_text, len(inside))
            for site in true_sites:
                assert abs(site[0] - lat) > 1e-6 or abs(site[1] - lon) > 1e-6

    def test_every_published_point_stands_for_k_sites(self) -> None:
        # Attacks: a lone site far from the rest, and one address with many incidents.
        for _ in range(12):
            make_incident(self.community, lat=49.2795, lon=-123.1395, when=when(2))
        for month in (1, 2, 3):
            for _ in range(5):
                make_incident(self.community, lat=49.2705, lon=-123.1255, when=when(month))
        self.publish()
        self.assert_points_are_k_site_cells(8)

    def test_a_larger_k_gives_coarser_cells(self) -> None:
        policy = policy_for(self.community)
        policy.k_sites = 25
        policy.save()
        self.publish()
        self.assert_points_are_k_site_cells(25)

    def test_public_location_for_other_apps(self) -> None:
        self.publish()
        lat, lon = self.sites[0]
        masked = public_location(self.community, lat, lon)
        assert masked != (lat, lon)
        cell = public_cell_for(self.community, lat, lon)
        assert cell and masked == cell_centre(cell)
        true_cell = h3i.latlng_to_cell(lat, lon, 10)
        assert h3i.cell_to_parent(true_cell, h3i.get_resolution(cell)) == cell
        # A community without data still never returns the point itself.
        far = public_location(self.other_community, 49.24, -123.12)
        assert far != (49.24, -123.12)
        assert far == cell_centre(h3i.latlng_to_cell(49.24, -123.12, MIN_POINT_RESOLUTION))


class SensitiveTests(PublicationCase):
    def test_sensitive_offences_never_change_any_located_output(self) -> None:
        self.publish()
        before = self.public_outputs(groups=[[]])
        lat, lon = self.sites[3]
        for month in (1, 2, 3, 4):
            for offence in ("sexual_assault", "domestic_violence", "child_offence"):
                for _ in range(4):
                    make_incident(
                        self.community, lat=lat, lon=lon, offence=offence, when=when(month)
                    )
            # A row the source flagged as domestic, in a non-sensitive group.
            for _ in range(4):
                make_incident(
                    self.community,
                    lat=lat,
                    lon=lon,
                    offence="assault",
                    sensitive=True,
                    when=when(month),
                )
        self.publish()
        after = self.public_outputs(groups=[[]])
        located = {
            k: v
            for k, v in after.items()
            if "stats" not in k and k not in ("csv", "geojson", "api units")
        }
        assert located == {k: before[k] for k in located}
        # They are counted, community-wide only, without any location.
        rows = list(csv.DictReader(io.StringIO(after["csv"])))
        sensitive = [r for r in rows if r["offence_group"] in ("sexual", "domestic", "children")]
        assert sensitive
        assert all(not (r["cell"] or r["lat"] or r["lon"] or r["neighbourhood"]) for r in sensitive)
        violence = [r for r in rows if r["offence_group"] == "violence"]
        assert all(not r["cell"] for r in violence)
        stats = after["api stats from=2024-01&to=2024-04"]
        labels = {row["label"] for row in stats["by_group"]}
        assert "Sexual offences" in labels

    def test_sensitive_groups_cannot_be_asked_for_on_the_map(self) -> None:
        self.publish()
        for url in (
            f"/c/north/map/data.json?zoom=15&bbox={BBOX}&group=sexual",
            "/api/v1/communities/north/crime/hexagons?group=domestic",
            "/api/v1/communities/north/crime/points?group=children",
        ):
            assert self.client.get(url).status_code == 400, url

    def test_a_community_can_add_sensitive_groups(self) -> None:
        self.publish()
        before = self.get_json(
            f"/c/north/map/data.json?zoom=15&bbox={BBOX}&from=2024-01&to=2024-04"
        )
        policy = policy_for(self.community)
        policy.extra_sensitive_groups = ["vehicle"]
        policy.save()
        self.publish()
        after = self.get_json(f"/c/north/map/data.json?zoom=15&bbox={BBOX}&from=2024-01&to=2024-04")
        groups_after = {g for f in after["features"] for g in f["properties"]["groups"]}
        assert "vehicle" not in groups_after
        assert "vehicle" in {g for f in before["features"] for g in f["properties"]["groups"]}
        response = self.client.get(f"/c/north/map/data.json?zoom=15&bbox={BBOX}&group=vehicle")
        assert response.status_code == 400


class DelayTests(PublicationCase):
    def test_nothing_newer_than_the_delay_is_published(self) -> None:
        self.publish()
        before = self.public_outputs(groups=[[]])
        lat, lon = self.sites[5]
        for _ in range(5):
            # Three days ago, in May (not yet a finished, delayed month).
            make_incident(self.community, lat=lat, lon=lon, when=NOW - dt.timedelta(days=3))
            # April, but only reported yesterday.
            make_incident(
                self.community,
                lat=lat,
                lon=lon,
                when=when(4),
                reported_at=NOW - dt.timedelta(days=1),
            )
            # An April range that runs into May.
            make_incident(self.community, lat=lat, lon=lon, when=when(4, 30, 12), time_known=False)
        self.publish()
        assert self.public_outputs(groups=[[]]) == before
        # Later, once May ended more than seven days ago, May is published.
        publish_community(self.community, now=dt.datetime(2024, 6, 9, tzinfo=dt.UTC))
        data = self.get_json("/api/v1/communities/north/crime/stats?from=2024-05&to=2024-05")
        assert data["total"]["current"]["count"] is not None

    def test_the_current_month_waits_for_the_delay_after_it_ends(self) -> None:
        make_incident(self.community, lat=self.sites[0][0], lon=self.sites[0][1], when=when(5, 1))
        publish_community(self.community, now=dt.datetime(2024, 6, 5, tzinfo=dt.UTC))
        meta = self.get_json("/api/v1/communities/north/crime/metadata")
        assert meta["published_through"] == "2024-04"


class SmallCountTests(PublicationCase):
    def isolated(self, count: int, *, offence: str = "robbery") -> tuple[float, float]:
        # No other incident is a robbery: filtered to robbery, a hexagon holds only these.
        lat, lon = self.sites[0]
        for _ in range(count):
            make_incident(self.community, lat=lat, lon=lon, offence=offence, when=when(2))
        return lat, lon

    def test_one_or_two_incidents_show_as_fewer_than_three_everywhere(self) -> None:
        for count in (1, 2):
            Incident.objects.filter(offence="robbery").delete()
            self.isolated(count)
            self.publish()
            api = self.get_json(
                "/api/v1/communities/north/crime/hexagons?resolution=8&from=2024-02&to=2024-02"
                "&group=robbery"
            )
            assert len(api["features"]) == 1
            shown = api["features"][0]["properties"]
            assert shown["count"] is None and shown["label"] == "fewer than 3"
            data = self.get_json(
                f"/c/north/map/data.json?zoom=16&bbox={BBOX}&from=2024-02&to=2024-02&group=robbery"
            )
            assert all(f["properties"]["count"] is None for f in data["features"])
            rows = [
                r
                for r in csv.DictReader(io.StringIO(self.get_text("/c/north/open-data/crime.csv")))
                if r["offence_group"] == "robbery"
            ]
            assert [(r["count"], r["suppressed"], r["label"]) for r in rows] == [
                ("", "True", "fewer than 3")
            ]
            stats = self.get_json(
                "/api/v1/communities/north/crime/stats?from=2024-02&to=2024-02&group=robbery"
            )
            assert stats["total"]["current"]["count"] is None
            page = self.client.get("/c/north/stats/?from=2024-02&to=2024-02&group=robbery")
            assert b"fewer than 3" in page.content

    def test_no_public_figure_below_three_is_ever_a_number(self) -> None:
        self.isolated(2)
        self.publish()
        for key, value in self.public_outputs(groups=[[], ["robbery"]]).items():
            for figure in _figures(value):
                if figure["count"]:  # None (suppressed) and 0 (nothing) are fine
                    assert figure["count"] >= 3 and figure["low"] >= 3, key

    def test_overlapping_queries_cannot_tell_one_from_two(self) -> None:
        """Everything public is the same whether a suppressed unit holds 1 or 2."""
        lat, lon = self.isolated(1)
        # A neighbouring month in the same hexagon, big enough to be exact, invites
        # subtraction: Jan–Feb minus Jan would be the suppressed February count.
        for _ in range(5):
            make_incident(self.community, lat=lat, lon=lon, offence="robbery", when=when(1))
        self.publish()
        one = self.public_outputs()
        make_incident(self.community, lat=lat, lon=lon, offence="robbery", when=when(2))
        self.publish()
        two = self.public_outputs()
        differences = [k for k in one if one[k] != two[k]]
        assert not differences, differences[:5]

    def test_the_battery_does_see_real_changes(self) -> None:
        lat, lon = self.isolated(2)
        self.publish()
        before = self.public_outputs(groups=[["robbery"]])
        make_incident(self.community, lat=lat, lon=lon, offence="robbery", when=when(2))
        self.publish()
        after = self.public_outputs(groups=[["robbery"]])
        assert before != after  # 2 → 3 is a published change


def _figures(value: Any) -> list[dict[str, Any]]:
    """Every figure-like dict (count, low, label) in a JSON answer."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "count" in value and "low" in value and "label" in value:
            found.append(value)
        for item in value.values():
            found.extend(_figures(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_figures(item))
    return found
