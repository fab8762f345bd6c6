"""Settings come from the environment; production refuses to start half-configured.

Each case starts a fresh Python process, since settings are read once at start-up.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-like-secret-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "finances.dsi.example.nc",
    "STATIC_MANIFEST": "1",
}


def manage(*args: str, env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    # Only what the test gives: no variable of the surrounding run leaks in.
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    clean["VAR_DIR"] = str(tmp_path)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def python_settings(expression: str, env: dict, tmp_path: Path) -> str:
    code = f"from django.conf import settings; print({expression})"
    result = manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_start_without_secret_key_stops_with_a_clear_message(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY n'est pas défini" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bare_checkout_checks_its_migrations_without_any_secret(tmp_path):
    result = manage("makemigrations", "--check", "--dry-run", env={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_commands_that_serve_or_write_data_still_need_the_secret_key(tmp_path):
    result = manage("migrate", "--plan", env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY n'est pas défini" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_deploy_reports_no_warning_with_production_variables(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_unless_asked(tmp_path):
    assert python_settings("settings.DEBUG", PRODUCTION, tmp_path) == "False"
    assert python_settings("settings.DEBUG", {"DEBUG": "1"}, tmp_path) == "True"


def test_debug_without_secret_key_uses_a_local_key_kept_outside_the_repository(tmp_path):
    key = python_settings("settings.SECRET_KEY", {"DEBUG": "1"}, tmp_path)
    assert len(key) >= 50
    assert (tmp_path / "dev-secret-key").read_text().strip() == key
    assert python_settings("settings.SECRET_KEY", {"DEBUG": "1"}, tmp_path) == key


def test_the_embedded_default_is_sqlite_under_var(tmp_path):
    engine = python_settings("settings.DATABASES['default']['ENGINE']", PRODUCTION, tmp_path)
    name = python_settings("settings.DATABASES['default']['NAME']", PRODUCTION, tmp_path)
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "dsi_finance.sqlite3")


def test_an_empty_database_url_means_the_embedded_default(tmp_path):
    env = {**PRODUCTION, "DATABASE_URL": ""}
    engine = python_settings("settings.DATABASES['default']['ENGINE']", env, tmp_path)
    assert engine == "django.db.backends.sqlite3"


def test_database_url_switches_to_postgresql(tmp_path):
    env = {**PRODUCTION, "DATABASE_URL": "postgres://dsi:secret@db.example:5433/finances"}
    engine = python_settings("settings.DATABASES['default']['ENGINE']", env, tmp_path)
    where = python_settings(
        "(settings.DATABASES['default']['HOST'], settings.DATABASES['default']['PORT'])",
        env,
        tmp_path,
    )
    assert engine == "django.db.backends.postgresql"
    assert where == "('db.example', 5433)"


def test_the_embedded_broker_is_the_filesystem_and_redis_when_asked(tmp_path):
    assert python_settings("settings.CELERY_BROKER_URL", PRODUCTION, tmp_path) == (
        "filesystem://localhost//"
    )
    env = {**PRODUCTION, "CELERY_BROKER_URL": "redis://cache.example:6379/2"}
    assert python_settings("settings.CELERY_BROKER_URL", env, tmp_path) == (
        "redis://cache.example:6379/2"
    )


def test_cache_url_switches_the_cache_to_redis(tmp_path):
    assert python_settings("settings.CACHES['default']['BACKEND']", PRODUCTION, tmp_path) == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    env = {**PRODUCTION, "CACHE_URL": "redis://cache.example:6379/1"}
    assert python_settings("settings.CACHES['default']['BACKEND']", env, tmp_path) == (
        "django.core.cache.backends.redis.RedisCache"
    )


def test_production_defaults_protect_cookies_and_transport(tmp_path):
    values = python_settings(
        "(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS)",
        PRODUCTION,
        tmp_path,
    )
    assert values == "(True, True, True, 31536000)"


def test_local_secrets_and_data_are_never_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored  # read by the settings when present
    assert "var/" in ignored  # the development key, SQLite, uploads


def test_production_serves_hashed_static_files_through_whitenoise(tmp_path):
    # Without the gzip/brotli copies, which take a minute to make and WhiteNoise
    # serves the same way (the Docker image makes them at build time).
    env = {**PRODUCTION, "STATIC_ROOT": str(tmp_path / "collected"), "STATIC_COMPRESS": "0"}
    collected = manage("collectstatic", "--noinput", "-v0", env=env, tmp_path=tmp_path)
    assert collected.returncode == 0, collected.stderr
    code = (
        "from django.test import Client; from django.templatetags.static import static; "
        "url = static('vendor/htmx/htmx.min.js'); "
        "r = Client(HTTP_HOST='finances.dsi.example.nc').get(url, secure=True); "
        "print(url, r.status_code, r['Cache-Control'])"
    )
    result = manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    url, status, cache_control = result.stdout.strip().splitlines()[-1].split(" ", 2)
    assert re.fullmatch(r"/static/vendor/htmx/htmx\.min\.[0-9a-f]{12}\.js", url)
    assert status == "200"
    assert "immutable" in cache_control
