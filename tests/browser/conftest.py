"""Playwright for Python driving Debian's Chromium (/usr/bin/chromium), headless.

No browser is ever downloaded: the tests skip, with the reason, when Chromium
is missing (CI installs it and makes them required). Screenshots of each test,
and of every failure, go to artifacts/browser/.
"""

import os
from pathlib import Path

import pytest

from tests.conftest import skip_unless

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
# Without these flags Chromium calls home at every start, and this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    skip_unless(
        CHROMIUM.exists(), f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    )
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls
    # made by the test itself (fixtures) are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "page" in item.funcargs:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        item.funcargs["page"].screenshot(path=ARTIFACTS / f"FAILED-{item.name}.png", full_page=True)
    return report


@pytest.fixture
def page(browser, live_server):
    # An English browser on purpose: the screens are French unless the person chooses.
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.errors = errors
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def htmx_idle(page) -> None:
    """Waits until htmx has no request in flight and nothing left to swap or settle:
    acting on a region that is about to be replaced sends the action to a dead element
    (a choice made in a select that the next swap throws away)."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def log_in(page, username: str) -> None:
    """Logs in through the login page as a person would (every test user has TEST_PASSWORD)."""
    from django.urls import reverse

    from tests.factories import TEST_PASSWORD

    page.goto(reverse("login"))
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/")


NBSP = "\u00a0"
NNBSP = "\u202f"


def xpf(francs: int) -> str:
    """An amount as the `xpf` filter writes it: `-1 234 567 F CFP` (narrow no-break
    spaces between the thousands, no-break spaces around F CFP)."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"
