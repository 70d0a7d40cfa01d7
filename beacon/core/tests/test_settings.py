"""Settings come from the environment and fail fast; production passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION_ENV = {
    "BEACON_ENV": "production",
    "BEACON_SECRET_KEY": "p" * 20 + "-random-production-secret-0123456789-abcdefghijkl",
    "BEACON_ALLOWED_HOSTS": "beacon.example.org",
    "BEACON_DEBUG": "false",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    clean.update(env)
    clean.setdefault("DATABASE_URL", "sqlite:///:memory:")
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=ROOT,
        timeout=120,
    )


def test_production_check_deploy_is_clean() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BEACON_ENV": "production"}, "BEACON_SECRET_KEY must be set"),
        ({**PRODUCTION_ENV, "BEACON_DEBUG": "true"}, "BEACON_DEBUG must be false"),
        ({"BEACON_DEBUG": "maybe"}, "BEACON_DEBUG='maybe' is not a boolean"),
        ({"BEACON_LOCKOUT_FAILURES": "five"}, "BEACON_LOCKOUT_FAILURES='five' is not a whole"),
        ({"BEACON_ENV": "staging"}, "BEACON_ENV='staging' must be one of"),
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL is not usable"),
    ],
)
def test_bad_settings_fail_fast_with_a_clear_message(env: dict[str, str], message: str) -> None:
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr


def test_security_headers_on_pages(client: object) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "default-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
