"""Suite-wide test set-up: Beacon's test settings are chosen before Django loads."""

import os

os.environ.setdefault("BEACON_ENV", "test")


import pytest


@pytest.fixture(autouse=True)
def _english_after_each_test() -> object:
    """A test that switches to French must not leave later tests in the same process in it."""
    yield
    from django.utils import translation

    translation.activate("en")
