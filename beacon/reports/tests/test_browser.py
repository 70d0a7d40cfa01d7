"""The resident–officer journey in headless Chromium (Debian's package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from beacon.core.models import AuditChainHead
from beacon.core.testing import make_world
from beacon.reports.models import Report, ReportPhoto, Status
from beacon.reports.testing import make_categories
from beacon.reports.tests.helpers import jpeg_with_gps

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.browser]


def test_report_acknowledge_and_reply(
    live_server: Any, transactional_db: Any, browser: Any, tmp_path: Path
) -> None:
    AuditChainHead.objects.get_or_create(pk=1)
    cache.clear()
    world = make_world()
    make_categories(world.community)
    officer = world.members["officer"]
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    photo = tmp_path / "wall.jpg"
    photo.write_bytes(jpeg_with_gps((320, 240)))
    base = live_server.url
    console_errors: list[str] = []

    # 1. A resident files a report with a pin and a photo, and gets a tip code.
    resident = browser.new_context()
    page = resident.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/c/north/report")
    page.get_by_label("Vandalism and graffiti").check()
    page.wait_for_selector("#report-map path.leaflet-interactive")  # the beats are drawn
    page.wait_for_timeout(300)  # the map frames the community
    beats = page.locator("#report-map path.leaflet-interactive")
    west = min((beats.nth(i).bounding_box() for i in range(beats.count())), key=lambda b: b["x"])
    page.mouse.click(west["x"] + west["width"] / 2, west["y"] + west["height"] / 2)
    assert page.input_value("#id_lat") and page.input_value("#id_lon")
    page.select_option("#q-graffiti-surface", "wall")
    page.fill("#id_description", "Fresh tags across the community hall's side door.")
    page.set_input_files("#id_photos", str(photo))
    page.get_by_role("button", name="Send report").click()
    page.wait_for_selector("#tip-code")
    code = page.inner_text("#tip-code").strip()
    passphrase = page.inner_text("#passphrase").strip()
    report = Report.objects.get(tip_code=code)
    assert report.beat is not None and report.beat.name == "West beat"
    assert ReportPhoto.objects.filter(report=report).count() == 1

    # 2. The officer signs in with a second factor and acknowledges with a public update.
    staff = browser.new_context()
    desk = staff.new_page()
    desk.goto(f"{base}/accounts/login/?next=/staff/c/north/reports/")
    desk.fill("input[name='username']", officer.email)
    desk.fill("input[name='password']", PASSWORD)
    desk.locator("form").filter(has=desk.locator("input[name='password']")).locator(
        "button[type='submit']"
    ).click()
    desk.wait_for_selector("input[name='token']")
    desk.fill("input[name='token']", f"{totp(device.bin_key):06d}")
    desk.locator("form").filter(has=desk.locator("input[name='token']")).locator(
        "button[type='submit']"
    ).click()
    desk.wait_for_selector("table.queue")
    desk.click(f"table.queue a:text-is('{report.pk}')")
    desk.select_option("#id_status", "acknowledged")
    desk.fill("#id_status_body", "Thanks — the city crew will clean this on Monday.")
    desk.locator("#status-form button[type='submit']").click()
    desk.wait_for_selector("#report-status:text('Acknowledged')")
    report.refresh_from_db()
    assert report.status == Status.ACKNOWLEDGED

    # 3. The resident reads the update with the code and passphrase, and replies.
    page.goto(f"{base}/c/north/tip")
    page.fill("#id_code", code)
    page.fill("#id_passphrase", passphrase)
    page.get_by_role("button", name="Open").click()
    page.wait_for_selector("text=the city crew will clean this on Monday")
    page.fill("#id_body", "Thank you! It is the door facing the car park.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_selector("text=Your reply was sent")
    assert page.locator("text=facing the car park").count() == 1
    assert report.updates.filter(kind="reply", from_reporter=True).exists()
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
    for row in ReportPhoto.objects.all():
        row.image.delete(save=False)
    resident.close()
    staff.close()
