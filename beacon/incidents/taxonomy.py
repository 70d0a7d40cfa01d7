"""Beacon's offence taxonomy and the vocabularies of the import profiles.

Every incident carries one Beacon offence; each offence belongs to one public offence
group (what the crime map and statistics filter on) and names its NIBRS offence code,
category and group (A or B; empty when NIBRS does not count it, e.g. traffic
collisions or anti-social behaviour).

Source vocabularies (Vancouver's ``TYPE``, police.uk's ``Crime type``, Chicago's
``Primary Type``) map onto Beacon offences here, in one place. Several sources publish
mixed categories that include sexual or domestic offences (VPD "Offence Against a
Person", police.uk "Violence and sexual offences"); Beacon cannot tell the parts apart,
so the whole category is treated as sensitive and never mapped.

Pure Python: no Django import, so the formats and the analysis CLI can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "GROUPS",
    "OFFENCES",
    "SENSITIVE_GROUPS",
    "VOCABULARIES",
    "Classification",
    "Group",
    "Offence",
    "UnknownOffenceError",
    "classify",
    "group_of",
    "public_groups",
]


@dataclass(frozen=True)
class Group:
    """A public offence group: what people filter the map and statistics by."""

    code: str
    label: str
    sensitive: bool = False


@dataclass(frozen=True)
class Offence:
    """One Beacon offence with its group and NIBRS classification."""

    code: str
    label: str
    group: str
    nibrs_code: str = ""
    nibrs_category: str = ""
    nibrs_group: str = ""  # "A", "B" or "" (not a NIBRS offence)


GROUPS: dict[str, Group] = {
    g.code: g
    for g in (
        Group("burglary", "Burglary / break and enter"),
        Group("theft", "Theft"),
        Group("vehicle", "Vehicle crime"),
        Group("bicycle", "Bicycle theft"),
        Group("robbery", "Robbery"),
        Group("violence", "Violence against the person"),
        Group("damage", "Criminal damage and arson"),
        Group("drugs", "Drugs"),
        Group("weapons", "Weapons"),
        Group("public_order", "Public order and anti-social behaviour"),
        Group("fraud", "Fraud and deception"),
        Group("traffic", "Traffic collisions"),
        Group("other", "Other offences"),
        # Sensitive groups: never mapped, listed or exported with a location.
        Group("sexual", "Sexual offences", sensitive=True),
        Group("domestic", "Domestic violence", sensitive=True),
        Group("children", "Offences against children", sensitive=True),
        Group(
            "violence_mixed",
            "Violence against the person (including sexual and domestic offences)",
            sensitive=True,
        ),
    )
}
SENSITIVE_GROUPS: frozenset[str] = frozenset(c for c, g in GROUPS.items() if g.sensitive)

_LARCENY = "Larceny/Theft Offenses"
_ASSAULT = "Assault Offenses"
_SEX = "Sex Offenses"

OFFENCES: dict[str, Offence] = {
    o.code: o
    for o in (
        Offence("burglary", "Burglary", "burglary", "220", "Burglary/Breaking & Entering", "A"),
        Offence(
            "burglary_residential",
            "Break and enter, residential",
            "burglary",
            "220",
            "Burglary/Breaking & Entering",
            "A",
        ),
        Offence(
            "burglary_commercial",
            "Break and enter, commercial",
            "burglary",
            "220",
            "Burglary/Breaking & Entering",
            "A",
        ),
        Offence("theft_other", "Other theft", "theft", "23H", _LARCENY, "A"),
        Offence("shoplifting", "Shoplifting", "theft", "23C", _LARCENY, "A"),
        Offence("theft_from_person", "Theft from the person", "theft", "23A", _LARCENY, "A"),
        Offence("theft_from_vehicle", "Theft from a vehicle", "vehicle", "23F", _LARCENY, "A"),
        Offence(
            "theft_of_vehicle", "Theft of a vehicle", "vehicle", "240", "Motor Vehicle Theft", "A"
        ),
        Offence(
            "vehicle_crime",
            "Vehicle crime (theft of or from a vehicle)",
            "vehicle",
            "23F",
            _LARCENY,
            "A",
        ),
        Offence("theft_bicycle", "Theft of a bicycle", "bicycle", "23H", _LARCENY, "A"),
        Offence("robbery", "Robbery", "robbery", "120", "Robbery", "A"),
        Offence("homicide", "Homicide", "violence", "09A", "Homicide Offenses", "A"),
        Offence("assault", "Assault", "violence", "13B", _ASSAULT, "A"),
        Offence("assault_aggravated", "Aggravated assault", "violence", "13A", _ASSAULT, "A"),
        Offence("intimidation", "Intimidation and stalking", "violence", "13C", _ASSAULT, "A"),
        Offence("kidnapping", "Kidnapping", "violence", "100", "Kidnapping/Abduction", "A"),
        Offence(
            "person_mixed",
            "Offence against a person (aggregate category)",
            "violence_mixed",
            "13B",
            _ASSAULT,
            "A",
        ),
        Offence(
            "violence_sexual_mixed",
            "Violence and sexual offences (aggregate category)",
            "violence_mixed",
            "13B",
            _ASSAULT,
            "A",
        ),
        Offence("sexual_assault", "Sexual assault", "sexual", "11A", _SEX, "A"),
        Offence("sex_offence", "Other sexual offence", "sexual", "11D", _SEX, "A"),
        Offence(
            "human_trafficking", "Human trafficking", "sexual", "64A", "Human Trafficking", "A"
        ),
        Offence("domestic_violence", "Domestic violence", "domestic", "13B", _ASSAULT, "A"),
        Offence(
            "child_offence",
            "Offence involving children",
            "children",
            "90F",
            "Family Offenses, Nonviolent",
            "B",
        ),
        Offence(
            "damage",
            "Mischief / criminal damage",
            "damage",
            "290",
            "Destruction/Damage/Vandalism of Property",
            "A",
        ),
        Offence("arson", "Arson", "damage", "200", "Arson", "A"),
        Offence("drugs", "Drug offence", "drugs", "35A", "Drug/Narcotic Offenses", "A"),
        Offence("weapons", "Weapons offence", "weapons", "520", "Weapon Law Violations", "A"),
        Offence(
            "public_order", "Public order offence", "public_order", "90C", "Disorderly Conduct", "B"
        ),
        Offence("antisocial", "Anti-social behaviour", "public_order"),
        Offence("trespass", "Trespass", "public_order", "90J", "Trespass of Real Property", "B"),
        Offence(
            "liquor", "Liquor law violation", "public_order", "90G", "Liquor Law Violations", "B"
        ),
        Offence("fraud", "Fraud and deception", "fraud", "26A", "Fraud Offenses", "A"),
        Offence("gambling", "Gambling", "other", "39A", "Gambling Offenses", "A"),
        Offence("prostitution", "Prostitution", "other", "40A", "Prostitution Offenses", "A"),
        Offence("obscenity", "Obscenity", "other", "370", "Pornography/Obscene Material", "A"),
        Offence("collision_injury", "Collision with injury", "traffic"),
        Offence("collision_fatal", "Collision with a fatality", "traffic"),
        Offence("non_criminal", "Non-criminal occurrence", "other"),
        Offence("other", "Other offence", "other", "90Z", "All Other Offenses", "B"),
    )
}

VANCOUVER: dict[str, str] = {
    "Break and Enter Commercial": "burglary_commercial",
    "Break and Enter Residential/Other": "burglary_residential",
    "Mischief": "damage",
    "Other Theft": "theft_other",
    "Theft from Vehicle": "theft_from_vehicle",
    "Theft of Bicycle": "theft_bicycle",
    "Theft of Vehicle": "theft_of_vehicle",
    "Vehicle Collision or Pedestrian Struck (with Fatality)": "collision_fatal",
    "Vehicle Collision or Pedestrian Struck (with Injury)": "collision_injury",
    "Offence Against a Person": "person_mixed",
    "Homicide": "homicide",
}

POLICEUK: dict[str, str] = {
    "Anti-social behaviour": "antisocial",
    "Bicycle theft": "theft_bicycle",
    "Burglary": "burglary",
    "Criminal damage and arson": "damage",
    "Drugs": "drugs",
    "Other crime": "other",
    "Other theft": "theft_other",
    "Possession of weapons": "weapons",
    "Public order": "public_order",
    "Public disorder and weapons": "public_order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft_from_person",
    "Vehicle crime": "vehicle_crime",
    "Violence and sexual offences": "violence_sexual_mixed",
    "Violent crime": "violence_sexual_mixed",
}

CHICAGO: dict[str, str] = {
    "ARSON": "arson",
    "ASSAULT": "assault",
    "BATTERY": "assault",
    "BURGLARY": "burglary",
    "CONCEALED CARRY LICENSE VIOLATION": "weapons",
    "CRIM SEXUAL ASSAULT": "sexual_assault",
    "CRIMINAL SEXUAL ASSAULT": "sexual_assault",
    "CRIMINAL DAMAGE": "damage",
    "CRIMINAL TRESPASS": "trespass",
    "DECEPTIVE PRACTICE": "fraud",
    "DOMESTIC VIOLENCE": "domestic_violence",
    "GAMBLING": "gambling",
    "HOMICIDE": "homicide",
    "HUMAN TRAFFICKING": "human_trafficking",
    "INTERFERENCE WITH PUBLIC OFFICER": "other",
    "INTIMIDATION": "intimidation",
    "KIDNAPPING": "kidnapping",
    "LIQUOR LAW VIOLATION": "liquor",
    "MOTOR VEHICLE THEFT": "theft_of_vehicle",
    "NARCOTICS": "drugs",
    "OTHER NARCOTIC VIOLATION": "drugs",
    "NON-CRIMINAL": "non_criminal",
    "NON - CRIMINAL": "non_criminal",
    "NON-CRIMINAL (SUBJECT SPECIFIED)": "non_criminal",
    "OBSCENITY": "obscenity",
    "OFFENSE INVOLVING CHILDREN": "child_offence",
    "OTHER OFFENSE": "other",
    "PROSTITUTION": "prostitution",
    "PUBLIC INDECENCY": "sex_offence",
    "PUBLIC PEACE VIOLATION": "public_order",
    "RITUALISM": "other",
    "ROBBERY": "robbery",
    "SEX OFFENSE": "sex_offence",
    "STALKING": "intimidation",
    "THEFT": "theft_other",
    "WEAPONS VIOLATION": "weapons",
}

VOCABULARIES: dict[str, dict[str, str]] = {
    "vancouver": VANCOUVER,
    "policeuk": POLICEUK,
    "chicago": CHICAGO,
}


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


_LOOKUP: dict[str, dict[str, str]] = {
    name: {_norm(k): v for k, v in vocab.items()} for name, vocab in VOCABULARIES.items()
}
# Beacon's own codes and labels, then every vocabulary, for the beacon/generic formats.
_ANY: dict[str, str] = {}
for _vocab in _LOOKUP.values():
    _ANY.update(_vocab)
_ANY.update({_norm(o.label): o.code for o in OFFENCES.values()})
_ANY.update({_norm(o.code): o.code for o in OFFENCES.values()})

# A safety net for free-text categories: whatever they map to, text naming a sexual,
# domestic or child victim offence makes the incident sensitive.
_SENSITIVE_WORDS = re.compile(
    r"\b(sex\w*|rape|indecen\w*|domestic|child\w*|minor|juvenile|incest|traffick\w*|"
    r"groom\w*|molest\w*|abuse)\b",
    re.IGNORECASE,
)


class UnknownOffenceError(ValueError):
    """The source category is not in any vocabulary Beacon knows."""


@dataclass(frozen=True)
class Classification:
    """The Beacon offence of a source category and whether it is sensitive."""

    offence: str
    group: str
    sensitive: bool


_CACHE: dict[tuple[str, str, str | None, frozenset[str]], Classification] = {}


def classify(
    vocabulary: str,
    text: str,
    *,
    default: str | None = None,
    extra_sensitive: frozenset[str] = frozenset(),
    domestic: bool = False,
) -> Classification:
    """Map a source category onto a Beacon offence.

    ``vocabulary`` is ``vancouver``, ``policeuk``, ``chicago`` or anything else (then
    Beacon codes, Beacon labels and all vocabularies are tried). ``default`` is used
    for unknown text; without it unknown text raises :class:`UnknownOffenceError`.
    ``extra_sensitive`` adds a community's own sensitive groups; ``domestic`` marks a
    row the source flags as domestic (Chicago's ``Domestic`` column).

    >>> classify("vancouver", "Theft from Vehicle")
    Classification(offence='theft_from_vehicle', group='vehicle', sensitive=False)
    >>> classify("policeuk", "Violence and sexual offences").sensitive
    True
    """
    key = (vocabulary, text, default, extra_sensitive)
    found = _CACHE.get(key)
    if found is None:
        found = _classify(vocabulary, text, default, extra_sensitive)
        if len(_CACHE) < 10_000:
            _CACHE[key] = found
    if domestic and not found.sensitive:
        return Classification(found.offence, found.group, True)
    return found


def _classify(
    vocabulary: str, text: str, default: str | None, extra_sensitive: frozenset[str]
) -> Classification:
    norm = _norm(text)
    table = _LOOKUP.get(vocabulary, _ANY)
    code = table.get(norm) or _ANY.get(norm)
    if code is None:
        if default is None:
            raise UnknownOffenceError(
                f"unknown offence category {text!r}"
                + (" (empty)" if not norm else "; map it with a default offence")
            )
        code = default
    offence = OFFENCES[code]
    sensitive = (
        offence.group in SENSITIVE_GROUPS
        or offence.group in extra_sensitive
        or bool(_SENSITIVE_WORDS.search(text))
    )
    return Classification(code, offence.group, sensitive)


def group_of(offence: str) -> str:
    """The public group code of an offence code."""
    return OFFENCES[offence].group


def public_groups(extra_sensitive: frozenset[str] = frozenset()) -> list[Group]:
    """Groups that may appear on the map, in display order."""
    return [g for g in GROUPS.values() if not g.sensitive and g.code not in extra_sensitive]
