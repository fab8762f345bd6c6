"""The shell's pages: server time of the home page and /api/v1/me/, against /healthz.

Runs on a throw-away database (SQLite in memory by default, or DATABASE_URL's
server with a test_ prefix), through Django's test client: server time only.
"""

from harness import measure


def run() -> list[str]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from dsi_finance.demo import seed_demo_users

    setup_test_environment()
    seed_demo_users()
    client = Client()
    client.force_login(get_user_model().objects.get(username="chef"))

    baseline = measure("GET /healthz (baseline)", lambda: client.get("/healthz"))
    results = [
        measure("GET / (home, chef)", lambda: client.get("/")),
        measure("GET /api/v1/me/ (chef)", lambda: client.get("/api/v1/me/")),
    ]
    return [baseline.line()] + [timing.line(baseline) for timing in results]
