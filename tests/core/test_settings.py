"""Production settings pass Django's deployment checks; pages carry the Content Security Policy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "SELLER_IDENTIFIER_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_in_production():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        MARKETSAFE_ENV="production",
        SECRET_KEY="a-long-random-production-key-for-this-test-only-0123456789abcdef",
        SELLER_IDENTIFIER_KEY="another-long-random-key-for-seller-identifiers-0123456789",
        ALLOWED_HOSTS="portal.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", MARKETSAFE_ENV="production", ALLOWED_HOSTS="portal.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_seller_identifier_key():
    result = _manage(
        "check",
        MARKETSAFE_ENV="production",
        SECRET_KEY="a-long-random-production-key-for-this-test-only-0123456789abcdef",
        ALLOWED_HOSTS="portal.example.org",
    )
    assert result.returncode != 0
    assert "SELLER_IDENTIFIER_KEY" in result.stderr


def test_development_mode_fails_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", MARKETSAFE_ENV="development")
    assert result.returncode != 0


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy  # plus the request's nonce when a page uses one
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
