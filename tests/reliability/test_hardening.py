"""Production settings, secrets, CSRF, login lockout and security headers."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

PASSWORD = "pw-Secret-123"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    "DJANGO_ALLOWED_HOSTS": "baojia.example.com",
}


def test_production_settings_pass_the_deployment_checklist_with_no_warning():
    result = manage("check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_ENV", "staging"),
        ("DATABASE_URL", "mysql://u:p@localhost/db"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
        ("DJANGO_DEBUG", "perhaps"),
        ("BAOJIA_BATCH_SIZE", "many"),
    ],
)
def test_a_malformed_setting_stops_the_process_with_a_clear_error(name, value):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured" in result.stderr or "ValueError" in result.stderr or "invalid" in result.stderr
    )


@pytest.mark.django_db
def test_five_failed_logins_lock_that_account_from_that_address():
    UserFactory(username="alice", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    locked = client.post("/admin/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session

    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    response = elsewhere.post("/admin/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302  # the same account from another address still logs in


@pytest.mark.django_db
def test_four_failures_then_the_right_password_still_logs_in():
    UserFactory(username="bob", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(4):
        client.post("/admin/login/", {"username": "bob", "password": "wrong"})
    assert (
        client.post("/admin/login/", {"username": "bob", "password": PASSWORD, "next": "/admin/"}).status_code
        == 302
    )


@pytest.mark.django_db
def test_a_post_without_its_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 403


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/admin/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_passwords_are_validated():
    validators = {v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert {"MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"} <= validators


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_visibility_timeout_that_is_not_a_positive_number_stops_the_process(value):
    result = manage("check", CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_VISIBILITY_TIMEOUT=value)
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT" in result.stderr or "invalid literal" in result.stderr
