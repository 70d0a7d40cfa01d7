"""Demo data for surveys: two waves of the community-trust survey.

About 260 generated responses per wave across Vancouver's neighbourhoods (two small
neighbourhoods get fewer than 5, to show suppression), weighted to illustrative
population shares by age band and gender. The second wave is lower in the Strathcona
and Downtown beats, so the trend and the "trust dropped" rule have something to show.
Deterministic (fixed seed).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from beacon.core.models import Area, AreaKind, Community, User
from beacon.surveys import services
from beacon.surveys.models import PopulationGroup, SurveyKind, SurveyStatus
from beacon.surveys.trust import ITEMS

SEED = 20240917
SMALL = {"Musqueam": 3, "Stanley Park": 2}  # fewer than 5: suppressed in results
LOWER_TRUST = {"Strathcona": 0.55, "Central Business District": 0.35, "Grandview-Woodland": 0.2}
# Illustrative population counts (rounded; not an official table) by age band × gender.
POPULATION = {
    ("16-24", "woman"): 38_000,
    ("16-24", "man"): 37_000,
    ("16-24", "another"): 1_500,
    ("25-44", "woman"): 118_000,
    ("25-44", "man"): 115_000,
    ("25-44", "another"): 3_000,
    ("45-64", "woman"): 84_000,
    ("45-64", "man"): 81_000,
    ("45-64", "another"): 1_000,
    ("65+", "woman"): 62_000,
    ("65+", "man"): 51_000,
    ("65+", "another"): 500,
}
# The sample over-represents older women, as such surveys usually do; weights correct it.
SAMPLE_AGE = [("16-24", 0.10), ("25-44", 0.30), ("45-64", 0.30), ("65+", 0.30)]
SAMPLE_GENDER = [("woman", 0.58), ("man", 0.40), ("another", 0.02)]
AGE_SHIFT = {"16-24": -0.35, "25-44": -0.1, "45-64": 0.05, "65+": 0.25}


def _pick(rng: random.Random, options: list[tuple[str, float]]) -> str:
    return rng.choices([o for o, _w in options], weights=[w for _o, w in options])[0]


def _score(rng: random.Random, latent: float, reverse: bool) -> int:
    value = round(rng.gauss(latent, 0.75))
    value = min(5, max(1, value))
    return 6 - value if reverse else value


def wave_rows(
    rng: random.Random,
    areas: list[Area],
    first_day: date,
    *,
    drop: float,
) -> list[tuple[dict[str, int], services.About, date]]:
    """Generated responses for one wave (``drop`` lowers the low-trust areas)."""
    rows = []
    for index, area in enumerate(areas):
        count = SMALL.get(area.name, 9 + (index * 7) % 10)
        base = 3.55 + 0.25 * ((index * 5) % 4 - 1.5) / 1.5 - LOWER_TRUST.get(area.name, 0) * drop
        for _n in range(count):
            age = _pick(rng, SAMPLE_AGE)
            gender = _pick(rng, SAMPLE_GENDER)
            latent = base + AGE_SHIFT[age] + rng.gauss(0, 0.45)
            answers = {code: _score(rng, latent, reverse) for code, _d, _p, reverse, _l in ITEMS}
            if rng.random() < 0.06:  # some leave an item out
                answers.pop(rng.choice(list(answers)))
            rows.append(
                (
                    answers,
                    services.About(area.pk, age, gender),
                    first_day + timedelta(days=rng.randrange(0, 21)),
                )
            )
    return rows


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """Population shares and two trust-survey waves with generated responses."""
    analyst = User.objects.filter(email="analyst@demo.beacon").first()
    if analyst is None:
        return
    progress("Adding two waves of the community-trust survey")
    rng = random.Random(SEED)
    areas = list(
        Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD).order_by("name")
    )
    today = timezone.localdate()
    with transaction.atomic():
        PopulationGroup.objects.bulk_create(
            [
                PopulationGroup(
                    community=community,
                    age_band=age,
                    gender=gender,
                    population=n,
                    source="Illustrative demo figures",
                )
                for (age, gender), n in POPULATION.items()
            ]
        )
        waves = []
        for label, start, drop in (
            ("Spring", today - timedelta(days=150), 0.0),
            ("Autumn", today - timedelta(days=25), 1.0),
        ):
            survey = services.create_survey(
                community,
                analyst,
                services.SurveyInput(
                    title=f"Community trust survey — {label}",
                    description="Twelve questions about safety and the police in your "
                    "neighbourhood. Anonymous; about three minutes.",
                    kind=SurveyKind.TRUST,
                    series="trust",
                    wave_label=f"{label} {start.year}",
                    opens_on=start,
                ),
            )
            services.set_status(survey, analyst, SurveyStatus.OPEN)
            survey.opens_on = start
            survey.save(update_fields=["opens_on"])
            count = services.record_responses(survey, wave_rows(rng, areas, start, drop=drop))
            waves.append((survey, count))
        first, _count = waves[0]
        services.set_status(first, analyst, SurveyStatus.CLOSED)
        first.closes_on = first.opens_on + timedelta(days=28)
        first.save(update_fields=["closes_on"])
    progress("  " + ", ".join(f"{s.wave_label}: {n} responses" for s, n in waves))
