"""Opening a problem by drawing its area, and adding a task, in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from beacon.core.models import AuditChainHead
from beacon.core.testing import make_world
from beacon.problems.models import Problem, ResponseTask

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.browser]


def test_draw_a_problem_and_add_a_task(
    live_server: Any, transactional_db: Any, browser: Any
) -> None:
    AuditChainHead.objects.get_or_create(pk=1)
    cache.clear()
    world = make_world()
    analyst = world.members["analyst"]
    officer = world.members["officer"]
    device = TOTPDevice.objects.create(user=analyst, name="phone", confirmed=True)
    base = live_server.url
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Sign in with the second factor.
    page.goto(f"{base}/accounts/login/?next=/c/north/problems/new/")
    page.fill("input[name='username']", analyst.email)
    page.fill("input[name='password']", PASSWORD)
    page.locator("form").filter(has=page.locator("input[name='password']")).locator(
        "button[type='submit']"
    ).click()
    page.wait_for_selector("input[name='token']")
    page.fill("input[name='token']", f"{totp(device.bin_key):06d}")
    page.locator("form").filter(has=page.locator("input[name='token']")).locator(
        "button[type='submit']"
    ).click()

    # Draw a rectangle inside the west beat with leaflet-draw.
    page.wait_for_selector("[data-map='problem-editor'] path.leaflet-interactive")
    page.wait_for_timeout(300)
    beats = page.locator("[data-map='problem-editor'] path.leaflet-interactive")
    west = min((beats.nth(i).bounding_box() for i in range(beats.count())), key=lambda b: b["x"])
    page.click(".leaflet-draw-draw-rectangle")
    x0, y0 = west["x"] + west["width"] * 0.3, west["y"] + west["height"] * 0.35
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + west["width"] * 0.3, y0 + west["height"] * 0.3, steps=8)
    page.mouse.up()
    assert '"Polygon"' in page.input_value("[data-problem-geometry]")
    page.fill("#id_title", "Thefts from cars by the school")
    page.get_by_label("Vehicle crime").check()
    page.get_by_role("button", name="Open the problem").click()
    page.wait_for_selector("h1:text('Thefts from cars by the school')")
    problem = Problem.objects.get()
    assert problem.beat is not None and problem.beat.name == "West beat"

    # Add a task through the htmx form: the table updates in place.
    form = page.locator("#task-form")
    form.locator("#id_title").fill("Lighting audit of the car park")
    form.locator("#id_owner").select_option(f"staff:{officer.pk}")
    form.locator("#id_due_on").fill("2030-01-15")
    url_before = page.url
    form.locator("button[type='submit']").click()
    page.wait_for_selector("#tasks td:text('Lighting audit of the car park')")
    assert page.url == url_before  # swapped in, not reloaded
    task = ResponseTask.objects.get()
    assert task.owner_user == officer and task.problem == problem
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
