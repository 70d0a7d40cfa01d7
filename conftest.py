"""Suite-wide test set-up: Beacon's test settings are chosen before Django loads."""

import os
import shutil
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("BEACON_ENV", "test")


import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _english_after_each_test() -> object:
    """A test that switches to French must not leave later tests in the same process in it."""
    yield
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright's sync API (skips without it)."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still synchronous, so Django's async guard would refuse them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
            # Inside Playwright's context the test's queries ran on connections of their
            # own; left open, one outlived the suite and kept PostgreSQL from dropping
            # the test database.
            connections.close_all()
