"""Every Examples section in beacon.analytics runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import beacon.analytics

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(beacon.analytics.__path__, "beacon.analytics.")
    if ".tests" not in info.name
)


def test_modules_found():
    assert "beacon.analytics.nearrepeat" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
