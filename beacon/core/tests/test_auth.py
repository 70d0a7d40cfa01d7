from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from beacon.core.models import AuditEvent
from beacon.core.testing import BeaconTestCase

PASSWORD = "correct-horse-battery"


class SignInTests(BeaconTestCase):
    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        return self.client.post("/accounts/login/", {"username": email, "password": password})

    def test_resident_signs_in_without_second_factor(self) -> None:
        response = self.sign_in(self.resident.email)
        assert response.status_code == 302
        assert response["Location"] == "/staff/"
        assert self.client.get("/staff/").status_code == 200
        assert AuditEvent.objects.filter(
            action="login", outcome="success", actor=self.resident
        ).exists()

    def test_officer_must_enrol_and_pass_totp(self) -> None:
        response = self.sign_in(self.officer.email)
        assert response.status_code == 302 and "/accounts/two-factor/" in response["Location"]
        # Staff pages stay closed until the second factor is passed.
        assert self.client.get("/staff/").status_code == 302
        page = self.client.get("/accounts/two-factor/")
        assert page.status_code == 200 and page.context["enrolling"]
        device = TOTPDevice.objects.get(user=self.officer, confirmed=False)
        wrong = self.client.post("/accounts/two-factor/", {"token": "000000"})
        assert wrong.status_code == 200 and wrong.context["form"].errors
        # django-otp throttles the next attempt after a failure; a second right away is
        # refused even with the right code.
        throttled_token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=6):06d}"
        throttled = self.client.post("/accounts/two-factor/", {"token": throttled_token})
        assert throttled.status_code == 200
        TOTPDevice.objects.filter(pk=device.pk).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
        token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=6):06d}"
        done = self.client.post("/accounts/two-factor/", {"token": token, "next": "/staff/"})
        assert done.status_code == 302 and done["Location"] == "/staff/"
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert self.client.get("/staff/").status_code == 200

    def test_lockout_after_five_failures_for_fifteen_minutes(self) -> None:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.sign_in(self.resident.email, "wrong-password")
        locked = self.sign_in(self.resident.email)  # even the right password is refused now
        assert locked.status_code == 429
        assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
        assert AuditEvent.objects.filter(action="login", outcome="failure").count() >= 5
        # Another account is not affected.
        assert self.sign_in(self.analyst.email).status_code == 302

    def test_staff_session_ends_after_idle_timeout(self) -> None:
        self.login(self.supervisor)
        assert self.client.get("/staff/").status_code == 200
        session = self.client.session
        session["beacon_last_seen"] = time.time() - settings.BEACON_STAFF_IDLE_SECONDS - 5
        session.save()
        assert self.client.get("/staff/").status_code == 302

    def test_argon2_is_the_production_hasher(self) -> None:
        with override_settings(PASSWORD_HASHERS=settings.PASSWORD_HASHERS[1:]):
            encoded = make_password("a long passphrase here")
            assert identify_hasher(encoded).algorithm == "argon2"
            assert check_password("a long passphrase here", encoded)

    def test_open_redirect_after_two_factor_is_refused(self) -> None:
        self.login(self.officer)
        response = self.client.get("/accounts/two-factor/?next=https://evil.example/")
        assert response.status_code == 302 and response["Location"] == "/staff/"
