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
        ({"BEACON_SITE_URL": "beacon.example.org"}, "must start with http:// or https://"),
        ({"BEACON_YOUTH_RETENTION_DAYS": "7"}, "BEACON_YOUTH_RETENTION_DAYS=7 is below"),
        ({"BEACON_OUTBOX_BATCH": "0"}, "BEACON_OUTBOX_BATCH=0 is below the minimum 1"),
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


def test_redis_holds_the_shared_cache_when_configured() -> None:
    """With BEACON_REDIS_URL, rate-limit state lives in the Redis server, not the database."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    script = (
        "import django; django.setup();"
        "from django.core.cache import caches; cache = caches['default'];"
        "cache.set('beacon-settings-test', 41, 30); cache.incr('beacon-settings-test');"
        "print(type(cache).__name__, cache.get('beacon-settings-test'))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "beacon.settings",
            "BEACON_REDIS_URL": "redis://127.0.0.1:6379/15",
            "DATABASE_URL": "sqlite:///:memory:",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=clean, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["RedisCache", "42"]
