from __future__ import annotations

import pytest

from beacon.incidents import taxonomy


def test_every_vocabulary_entry_maps_to_a_known_offence() -> None:
    for name, vocabulary in taxonomy.VOCABULARIES.items():
        for text, code in vocabulary.items():
            assert code in taxonomy.OFFENCES, (name, text)
            assert taxonomy.classify(name, text).offence == code


def test_every_offence_has_a_group_and_a_nibrs_group_when_coded() -> None:
    for offence in taxonomy.OFFENCES.values():
        assert offence.group in taxonomy.GROUPS
        if offence.nibrs_code:
            assert offence.nibrs_group in ("A", "B")


@pytest.mark.parametrize(
    ("vocabulary", "text"),
    [
        ("chicago", "CRIM SEXUAL ASSAULT"),
        ("chicago", "OFFENSE INVOLVING CHILDREN"),
        ("chicago", "DOMESTIC VIOLENCE"),
        ("policeuk", "Violence and sexual offences"),
        ("vancouver", "Offence Against a Person"),
        ("any", "Sexual assault"),
        ("any", "Domestic battery"),
    ],
)
def test_sensitive_categories(vocabulary: str, text: str) -> None:
    assert taxonomy.classify(vocabulary, text, default="other").sensitive


def test_keyword_net_makes_free_text_sensitive_whatever_it_maps_to() -> None:
    found = taxonomy.classify("any", "Assault (domestic)", default="assault")
    assert found.offence == "assault"
    assert found.sensitive


def test_domestic_flag_and_community_groups() -> None:
    assert taxonomy.classify("chicago", "BATTERY", domestic=True).sensitive
    assert not taxonomy.classify("chicago", "BATTERY").sensitive
    assert taxonomy.classify("chicago", "NARCOTICS", extra_sensitive=frozenset({"drugs"})).sensitive


def test_unknown_text_is_an_error_without_a_default() -> None:
    with pytest.raises(taxonomy.UnknownOffenceError):
        taxonomy.classify("vancouver", "Jaywalking")
    assert taxonomy.classify("vancouver", "Jaywalking", default="other").offence == "other"


def test_lookup_ignores_case_and_spacing() -> None:
    assert taxonomy.classify("chicago", "motor  vehicle theft").offence == "theft_of_vehicle"
