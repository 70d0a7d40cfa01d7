"""Turning parsed rows into incident rows, a batch at a time: classification, checks,
H3 cells, neighbourhood and beat, content hashes (the importer's middle step).

Every step works on whole columns: one classification per distinct category, one
area look-up per distinct H3 cell (exact polygon tests only for points in cells on an
area's edge, vectorised per area), calendar fields with numpy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from itertools import compress, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely
from h3.api import basic_int as h3i
from shapely.geometry.base import BaseGeometry

from beacon.core import geo
from beacon.core.models import Area, AreaCell, AreaKind, Community
from beacon.incidents import taxonomy
from beacon.incidents.bulkwrite import Constant, Prepared
from beacon.incidents.formats import MAPPED, RowBatch
from beacon.incidents.models import IncidentImport

if TYPE_CHECKING:
    from beacon.incidents.importer import ImportOptions

__all__ = ["SITE_RESOLUTION", "AreaLocator", "Batcher", "cell_parents"]

SITE_RESOLUTION = 10
IntArray = npt.NDArray[np.int64]


class AreaLocator:
    """Neighbourhood and beat of points via the areas' H3 covers, held in memory."""

    def __init__(self, community: Community) -> None:
        self.cells: dict[str, dict[int, list[tuple[int, bool]]]] = {
            AreaKind.NEIGHBOURHOOD: {},
            AreaKind.BEAT: {},
        }
        rows = AreaCell.objects.filter(community=community, kind__in=list(self.cells)).values_list(
            "kind", "cell", "area_id", "interior"
        )
        edge_areas: set[int] = set()
        for kind, cell, area_id, interior in rows.order_by("area_id"):
            self.cells[kind].setdefault(cell, []).append((area_id, interior))
            if not interior:
                edge_areas.add(area_id)
        self.names = {
            name.casefold(): pk
            for pk, name in Area.objects.filter(
                community=community, kind=AreaKind.NEIGHBOURHOOD
            ).values_list("pk", "name")
        }
        # Loaded up front: the PostgreSQL writer keeps a COPY stream open between
        # batches, so nothing may query the database while a batch is prepared.
        self._shapes: dict[int, BaseGeometry] = {}
        for pk, geometry in Area.objects.filter(pk__in=edge_areas).values_list("pk", "geometry"):
            shape = geo.parse_area_geometry(geometry)
            shapely.prepare(shape)
            self._shapes[pk] = shape

    def locate(self, kind: str, cell9: int, lat: float, lon: float) -> int | None:
        """The id of the area of ``kind`` holding the point (lowest id on shared edges)."""
        found = self.locate_many(
            kind, np.array([cell9], dtype=np.int64), np.array([lat]), np.array([lon])
        )
        return int(found[0]) if found[0] > 0 else None

    def locate_many(
        self,
        kind: str,
        cells9: IntArray,
        lat: npt.NDArray[np.float64],
        lon: npt.NDArray[np.float64],
    ) -> IntArray:
        """Area ids of ``kind`` for many points (-1: none), one look-up per distinct cell.

        A cell inside an area answers at once; points in edge cells are tested against
        the candidate polygons, one vectorised test per area, lowest area id first.
        """
        result = np.full(len(cells9), -1, dtype=np.int64)
        table = self.cells[kind]
        if not table or not len(cells9):
            return result
        distinct, inverse = np.unique(cells9, return_inverse=True)
        answers = np.full(len(distinct), -1, dtype=np.int64)
        edges: dict[int, list[int]] = {}
        for k, cell in enumerate(distinct.tolist()):
            candidates = table.get(cell)
            if not candidates:
                continue
            inside = next((area for area, interior in candidates if interior), None)
            if inside is not None:
                answers[k] = inside
            else:
                edges[k] = [area for area, _interior in candidates]
        result[:] = answers[inverse]
        if not edges:
            return result
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate(([0], np.cumsum(np.bincount(inverse, minlength=len(distinct)))))
        by_area: dict[int, list[IntArray]] = {}
        for k, areas in edges.items():
            members = order[starts[k] : starts[k + 1]]
            for area in areas:
                by_area.setdefault(area, []).append(members)
        resolved = np.zeros(len(cells9), dtype=bool)
        for area in sorted(by_area):
            members = np.concatenate(by_area[area])
            members = members[~resolved[members]]
            if not len(members):
                continue
            # intersects_xy on a prepared polygon: no Point objects, boundary included.
            hit = shapely.intersects_xy(self._shapes[area], lon[members], lat[members])
            result[members[hit]] = area
            resolved[members[hit]] = True
        return result


def cell_parents(cells: IntArray, resolution: int) -> IntArray:
    """The parents at ``resolution`` of H3 cells (all of one finer resolution), at once.

    An H3 index keeps its resolution in bits 52-55 and one 3-bit digit per resolution
    below the base cell, digit ``r`` in bits ``3 * (15 - r)`` and up; a cell's parent
    has the coarser resolution and every finer digit set to 7 ("unused").
    """
    unused = 0
    for digit in range(resolution + 1, 16):
        unused |= 7 << (3 * (15 - digit))
    values = cells.astype(np.uint64)
    values &= np.uint64(~(0xF << 52) & 0xFFFFFFFFFFFFFFFF)
    values |= np.uint64((resolution << 52) | unused)
    return values.astype(np.int64)


def _bounds(community: Community) -> tuple[float, float, float, float] | None:
    """The community's bounding box with ~1 km to spare, or None without a boundary."""
    if not community.boundary:
        return None
    west, south, east, north = geo.parse_area_geometry(community.boundary).bounds
    margin = 0.01
    return west - margin, south - margin, east + margin, north + margin


class Batcher:
    """Turns batches of parsed rows into incident columns for the bulk writer."""

    def __init__(
        self,
        community: Community,
        options: ImportOptions,
        record: IncidentImport,
        extra_sensitive: frozenset[str],
    ) -> None:
        self.community = community
        self.options = options
        self.record_id = record.pk
        self.extra_sensitive = extra_sensitive
        self.locator = AreaLocator(community)
        self.bounds = _bounds(community)
        self.vocabulary = options.fmt if options.fmt in taxonomy.VOCABULARIES else "any"
        self._found: dict[tuple[str, bool], taxonomy.Classification | str] = {}
        self._detail: dict[str, bool] = {}
        self._suffixes: dict[tuple[str, bool, int, int], bytes] = {}

    def _classify(self, category: str, domestic: bool) -> taxonomy.Classification | str:
        key = (category, domestic)
        found = self._found.get(key)
        if found is None:
            try:
                found = taxonomy.classify(
                    self.vocabulary,
                    category,
                    default=self.options.default_offence,
                    extra_sensitive=self.extra_sensitive,
                    domestic=domestic,
                )
            except taxonomy.UnknownOffenceError as exc:
                found = str(exc)
            if len(self._found) < 100_000:
                self._found[key] = found
        return found

    def _classify_all(self, batch: RowBatch) -> list[taxonomy.Classification | str]:
        """:meth:`_classify` for a batch: each distinct category once, then look-ups."""
        if batch.domestic.any():
            classify = self._classify
            return [
                classify(category, domestic)
                for category, domestic in zip(batch.category, batch.domestic.tolist(), strict=True)
            ]
        # No row flagged domestic (most files flag none): each distinct category once.
        found = {category: self._classify(category, False) for category in set(batch.category)}
        return list(map(found.__getitem__, batch.category))

    def _sensitive_detail(self, detail: str) -> bool:
        found = self._detail.get(detail)
        if found is None:
            found = bool(detail) and taxonomy.classify("any", detail, default="other").sensitive
            if len(self._detail) < 100_000:
                self._detail[detail] = found
        return found

    def prepare(
        self, batch: RowBatch, rejections: list[tuple[int, str]], now: dt.datetime
    ) -> Prepared | None:
        """The batch's incident columns; rows that cannot be imported go to ``rejections``."""
        n = len(batch)
        if not n:
            return None
        keep = np.ones(n, dtype=bool)
        found = self._classify_all(batch)
        for i, item in enumerate(found):
            if isinstance(item, str):
                keep[i] = False
                rejections.append((batch.lines[i], item))
        mapped = ~np.isnan(batch.lat)
        if self.bounds is not None and mapped.any():
            west, south, east, north = self.bounds
            with np.errstate(invalid="ignore"):
                inside = (
                    (batch.lon >= west)
                    & (batch.lon <= east)
                    & (batch.lat >= south)
                    & (batch.lat <= north)
                )
            for i in np.flatnonzero(mapped & ~inside & keep).tolist():
                keep[i] = False
                rejections.append(
                    (
                        batch.lines[i],
                        f"latitude {float(batch.lat[i])} / longitude {float(batch.lon[i])} is "
                        f"outside the community {self.community.slug!r} "
                        "(wrong file, community or --crs?)",
                    )
                )
        for i in _with_nul(batch).tolist():
            if keep[i]:
                keep[i] = False
                rejections.append((batch.lines[i], "the row contains a NUL character"))
        if not keep.all():
            batch = batch.select(keep)
            found = list(compress(found, keep.tolist()))
            if not len(batch):
                return None
        return self._columns(batch, found, now)

    def _columns(self, batch: RowBatch, found: list[Any], now: dt.datetime) -> Prepared:
        n = len(batch)
        offences = [f.offence for f in found]
        groups = [f.group for f in found]
        sensitive = np.array([f.sensitive for f in found], dtype=bool)
        if any(batch.detail):
            sensitive |= np.array([self._sensitive_detail(d) for d in batch.detail], dtype=bool)
        # Cells and areas of the mapped rows.
        mapped = ~np.isnan(batch.lat)
        where = np.flatnonzero(mapped)
        cells = np.full(n, -1, dtype=np.int64)
        beats = np.full(n, -1, dtype=np.int64)
        located = np.full(n, -1, dtype=np.int64)
        if len(where):
            lat, lon = batch.lat[where], batch.lon[where]
            to_cell = h3i.latlng_to_cell
            cells10 = np.fromiter(
                map(to_cell, lat.tolist(), lon.tolist(), repeat(SITE_RESOLUTION)),
                dtype=np.int64,
                count=len(where),
            )
            cells[where] = cells10
            cells9 = cell_parents(cells10, geo.H3_RESOLUTION)
            beats[where] = self.locator.locate_many(AreaKind.BEAT, cells9, lat, lon)
            located[where] = self.locator.locate_many(AreaKind.NEIGHBOURHOOD, cells9, lat, lon)
        # The source's own neighbourhood name wins when it names one of ours.
        by_name = self._by_name(batch.neighbourhood)
        nbhds = np.where(by_name > 0, by_name, located)
        # The raw row plus what Beacon derived from it: a change in either is an update.
        blake = hashlib.blake2b
        suffixes = map(
            self._suffix,
            zip(offences, sensitive.tolist(), nbhds.tolist(), beats.tolist(), strict=True),
        )
        hashes = [
            blake(digest + suffix, digest_size=16).hexdigest()
            for digest, suffix in zip(batch.digests, suffixes, strict=True)
        ]
        local = batch.local
        days = local.astype("datetime64[D]")
        known = batch.time_known
        weekday = np.where(known, (days.astype(np.int64) + 3) % 7, -1)  # 1970-01-01: Thursday
        hour = np.where(known, local.astype("datetime64[h]").astype(np.int64) % 24, -1)
        status = batch.location
        if mapped.any():
            status = [MAPPED if m else s for m, s in zip(mapped.tolist(), status, strict=True)]
        columns: dict[str, Any] = {
            "community_id": Constant(self.community.pk),
            "source": Constant(self.options.source),
            "external_id": [key[:100] for key in batch.external_ids],
            "status": Constant("reported"),
            "created_at": Constant(now),
            "occurred_from": batch.occurred_from,
            "occurred_to": batch.occurred_to,
            "reported_at": batch.reported_at,
            "local_month": local.astype("datetime64[M]").astype("datetime64[D]"),
            "local_weekday": weekday,
            "local_hour": hour,
            "offence": offences,
            "offence_group": groups,
            "source_offence": [text[:200] for text in batch.category],
            "sensitive": sensitive,
            "lat": batch.lat,
            "lon": batch.lon,
            "cell": cells,
            "location_status": status,
            "block_address": [text[:200] for text in batch.block],
            "neighbourhood_id": nbhds,
            "neighbourhood_name": [text[:120] for text in batch.neighbourhood],
            "beat_id": beats,
            "outcome": [text[:200] for text in batch.outcome],
            "content_hash": hashes,
            "last_import_id": Constant(self.record_id),
            "updated_at": Constant(now),
        }
        return Prepared(columns["external_id"], hashes, columns)

    def _by_name(self, neighbourhoods: list[str]) -> IntArray:
        """Area ids of the neighbourhoods the source names (-1: none of ours), each
        distinct name looked up once."""
        names = self.locator.names
        ids = {
            name: (names.get(name.casefold(), -1) if name else -1) for name in set(neighbourhoods)
        }
        return np.fromiter(map(ids.__getitem__, neighbourhoods), np.int64, len(neighbourhoods))

    def _suffix(self, key: tuple[str, bool, int, int]) -> bytes:
        found = self._suffixes.get(key)
        if found is None:
            offence, sensitive, nbhd, beat = key
            # The text the first importer hashed: None for "no area".
            found = (
                f"|{offence}|{sensitive:d}|{nbhd if nbhd > 0 else None}|"
                f"{beat if beat > 0 else None}"
            ).encode()
            if len(self._suffixes) < 100_000:
                self._suffixes[key] = found
        return found


def _with_nul(batch: RowBatch) -> IntArray:
    """Rows with a NUL character in a text field (PostgreSQL cannot store one)."""
    bad: set[int] = set()
    for values in (
        batch.external_ids,
        batch.category,
        batch.block,
        batch.neighbourhood,
        batch.outcome,
    ):
        if "\x00" in "".join(values):
            bad.update(i for i, v in enumerate(values) if "\x00" in v)
    return np.array(sorted(bad), dtype=np.int64)
