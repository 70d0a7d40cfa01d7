"""The demo community: the City of Vancouver, built from real open data.

No boundary file ships offline, so neighbourhood polygons are derived from the VPD 2020
incidents: each H3 cell goes to the neighbourhood most of its incidents name, cells in
gaps go to the nearest assigned neighbourhood, and each neighbourhood is the union of
its cells. Without the data folder a synthetic 6 × 4 layout stands in. Everything is
deterministic: the same input gives the same areas, users and secrets.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h3
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from pyproj import Transformer
from shapely import geometry as sg
from shapely.ops import unary_union

from beacon.core import geo
from beacon.core.models import Area, AreaKind, Community, Organization, User
from beacon.core.roles import Role
from beacon.core.services import add_member, save_area

DEMO_SLUG = "demo"
VANCOUVER_FILE = Path("vancouver_2020") / "crimedata_csv_AllNeighbourhoods_2020.csv"
VANCOUVER_CENTRE = (49.2577, -123.1207)

# Districts and beats group VPD's neighbourhoods roughly as the department's four
# patrol districts do; beats are pairs or triples of neighbouring neighbourhoods.
DISTRICTS: dict[str, list[str]] = {
    "District 1": ["Central Business District", "West End", "Stanley Park"],
    "District 2": ["Strathcona", "Grandview-Woodland", "Hastings-Sunrise"],
    "District 3": [
        "Mount Pleasant",
        "Riley Park",
        "Kensington-Cedar Cottage",
        "Renfrew-Collingwood",
        "Sunset",
        "Victoria-Fraserview",
        "Killarney",
    ],
    "District 4": [
        "Fairview",
        "South Cambie",
        "Kitsilano",
        "West Point Grey",
        "Dunbar-Southlands",
        "Arbutus Ridge",
        "Kerrisdale",
        "Musqueam",
        "Shaughnessy",
        "Oakridge",
        "Marpole",
    ],
}
BEATS: dict[str, list[str]] = {
    "Beat 1 Downtown": ["Central Business District"],
    "Beat 2 West End": ["West End", "Stanley Park"],
    "Beat 3 Strathcona": ["Strathcona"],
    "Beat 4 East Side": ["Grandview-Woodland", "Hastings-Sunrise"],
    "Beat 5 Mount Pleasant": ["Mount Pleasant", "Riley Park"],
    "Beat 6 Cedar Cottage": ["Kensington-Cedar Cottage", "Renfrew-Collingwood"],
    "Beat 7 South East": ["Sunset", "Victoria-Fraserview", "Killarney"],
    "Beat 8 Fairview": ["Fairview", "South Cambie"],
    "Beat 9 Kitsilano": ["Kitsilano", "West Point Grey"],
    "Beat 10 South West": ["Dunbar-Southlands", "Arbutus Ridge", "Kerrisdale", "Musqueam"],
    "Beat 11 Oakridge": ["Shaughnessy", "Oakridge", "Marpole"],
}
NEIGHBOURHOODS = [n for names in DISTRICTS.values() for n in names]

DEMO_USERS: list[tuple[str, str, str]] = [
    ("admin@demo.beacon", Role.ADMIN, "Alex Admin"),
    ("supervisor@demo.beacon", Role.SUPERVISOR, "Sam Supervisor"),
    ("analyst@demo.beacon", Role.ANALYST, "Ana Analyst"),
    ("officer@demo.beacon", Role.OFFICER, "Olu Officer"),
    ("officer2@demo.beacon", Role.OFFICER, "Owen Officer"),
    ("coordinator@demo.beacon", Role.WATCH_COORDINATOR, "Cora Coordinator"),
    ("partner@demo.beacon", Role.PARTNER, "Pat Partner"),
    ("resident@demo.beacon", Role.RESIDENT, "Riley Resident"),
]


def demo_password(email: str) -> str:
    """The demo password of a demo user: fixed, so the README can show how to sign in."""
    return f"beacon-{email.split('@')[0]}-demo"


def demo_totp_key(email: str) -> bytes:
    """A deterministic 20-byte TOTP key for a demo user."""
    return hashlib.sha256(f"beacon-demo-totp:{email}".encode()).digest()[:20]


def totp_secret(key: bytes) -> str:
    """The base32 secret an authenticator app takes for ``key``."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


@dataclass
class DemoResult:
    community: Community
    created: bool
    users: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _vancouver_cells(path: Path) -> dict[str, Counter[str]]:
    to_wgs84 = Transformer.from_crs("EPSG:26910", "EPSG:4326", always_xy=True)
    per_cell: dict[str, Counter[str]] = defaultdict(Counter)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("NEIGHBOURHOOD") or "").strip()
            try:
                x, y = float(row["X"]), float(row["Y"])
            except (TypeError, ValueError):
                continue
            if not name or x == 0 or y == 0:
                continue
            lon, lat = to_wgs84.transform(x, y)
            per_cell[h3.latlng_to_cell(lat, lon, geo.H3_RESOLUTION)][name] += 1
    return per_cell


def derive_vancouver_neighbourhoods(path: Path) -> dict[str, sg.base.BaseGeometry]:
    """Neighbourhood polygons from incident locations (see the module docstring)."""
    per_cell = _vancouver_cells(path)
    owner: dict[str, str] = {
        cell: max(sorted(counts), key=lambda n: counts[n]) for cell, counts in per_cell.items()
    }
    # The community is every cell holding an incident plus the cells in the holes of
    # their union (parks, rail yards and the like have no incidents but are in the city).
    union = geo.cells_union(h3.str_to_int(c) for c in owner)
    polygons = union.geoms if isinstance(union, sg.MultiPolygon) else [union]
    filled = unary_union([sg.Polygon(p.exterior) for p in polygons])
    community_cells = set(owner) | set(h3.geo_to_cells(filled.__geo_interface__, geo.H3_RESOLUTION))
    queue = deque(sorted(owner))
    while queue:
        cell = queue.popleft()
        for neighbour in sorted(h3.grid_disk(cell, 1)):
            if neighbour in community_cells and neighbour not in owner:
                owner[neighbour] = owner[cell]
                queue.append(neighbour)
    by_name: dict[str, list[int]] = defaultdict(list)
    for cell, name in owner.items():
        by_name[name].append(h3.str_to_int(cell))
    return {name: geo.cells_union(cells) for name, cells in sorted(by_name.items())}


def synthetic_neighbourhoods() -> dict[str, sg.base.BaseGeometry]:
    """A 6 × 4 grid of rectangles around Vancouver's centre, named like its neighbourhoods."""
    lat0, lon0 = VANCOUVER_CENTRE
    width, height = 0.025, 0.02
    shapes: dict[str, sg.base.BaseGeometry] = {}
    for index, name in enumerate(NEIGHBOURHOODS[:24]):
        col, row = index % 6, index // 6
        west = lon0 - 3 * width + col * width
        south = lat0 - 2 * height + row * height
        shapes[name] = sg.box(west, south, west + width, south + height)
    return shapes


def _demo_hooks() -> list[Callable[[Community, Path, Callable[[str], None]], None]]:
    """``build_demo`` functions of other Beacon apps, in INSTALLED_APPS order."""
    hooks = []
    for app in settings.INSTALLED_APPS:
        if not app.startswith("beacon.") or app == "beacon.core":
            continue
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            continue
        hooks.append(module.build_demo)
    return hooks


def _ensure_user(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, demo_password(email), display_name=name)
    TOTPDevice.objects.get_or_create(
        user=user,
        name="Demo authenticator",
        defaults={"key": demo_totp_key(email).hex(), "confirmed": True},
    )
    return user


def build_demo(
    data_dir: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> DemoResult:
    """Build the demo community if it does not exist yet, and report what was made."""
    data_dir = data_dir or settings.BEACON_DATA_DIR
    existing = Community.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoResult(existing, created=False)
    source = data_dir / VANCOUVER_FILE
    notes = []
    if source.exists():
        progress(f"Deriving neighbourhoods from {source}")
        neighbourhoods = derive_vancouver_neighbourhoods(source)
    else:
        notes.append(f"{source} not found: using a synthetic 6 x 4 neighbourhood layout.")
        neighbourhoods = synthetic_neighbourhoods()
    boundary = unary_union(list(neighbourhoods.values()))
    with transaction.atomic():
        organization, _ = Organization.objects.get_or_create(
            slug="demo-police", defaults={"name": "Demo Police Department"}
        )
        community = Community.objects.create(
            organization=organization,
            name="City of Vancouver (demo)",
            slug=DEMO_SLUG,
            timezone="America/Vancouver",
            centre_lat=round(boundary.centroid.y, 6),
            centre_lon=round(boundary.centroid.x, 6),
            default_zoom=12,
            boundary=geo.to_geojson(boundary),
            population=662_248,
        )
        progress("Saving neighbourhoods, beats and districts with their H3 covers")
        for name, shape in neighbourhoods.items():
            save_area(community, AreaKind.NEIGHBOURHOOD, name, geo.to_geojson(shape))
        for kind, groups in ((AreaKind.BEAT, BEATS), (AreaKind.DISTRICT, DISTRICTS)):
            for code, (group_name, members) in enumerate(groups.items(), 1):
                parts = [neighbourhoods[m] for m in members if m in neighbourhoods]
                if not parts:
                    continue
                shape = unary_union(parts)
                save_area(community, kind, group_name, geo.to_geojson(shape), code=str(code))
        users = []
        for email, role, name in DEMO_USERS:
            user = _ensure_user(email, name)
            add_member(user, community, role)
            users.append((email, role, demo_password(email), totp_secret(demo_totp_key(email))))
    for hook in _demo_hooks():
        hook(community, data_dir, progress)
    return DemoResult(community, created=True, users=users, notes=notes)


def demo_users_table() -> list[tuple[str, str, str, str]]:
    """The demo accounts with their roles, passwords and TOTP secrets."""
    return [
        (email, str(role), demo_password(email), totp_secret(demo_totp_key(email)))
        for email, role, _name in DEMO_USERS
    ]


def area_count(community: Community) -> dict[str, Any]:
    """How many areas of each kind a community has."""
    return {
        kind: Area.objects.filter(community=community, kind=kind).count()
        for kind in AreaKind.values
    }
