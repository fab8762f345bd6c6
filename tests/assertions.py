"""Assertions shared by the page tests."""

from django.urls import reverse


def assert_sends_to_login(response) -> None:
    """The page answered an anonymous visitor by sending them to the login page."""
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
