"""Login throttling: repeated failures lock the account from that address, for a while."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib import auth
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def fail_login(client, times: int, username: str = "chef"):
    for _ in range(times):
        response = client.post(reverse("login"), {"username": username, "password": "faux"})
    return response


def test_the_limit_is_five_failures_with_a_quarter_hour_cool_off():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert dt.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME


def test_failures_below_the_limit_still_let_the_user_in(chef, client):
    fail_login(client, settings.AXES_FAILURE_LIMIT - 1)
    client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
    assert auth.get_user(client).is_authenticated


def test_the_account_is_locked_after_repeated_failures_even_with_the_right_password(chef, client):
    response = fail_login(client, settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    assert "Compte temporairement bloqué" in response.content.decode()
    response = client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "15 minutes" in response.content.decode()
    assert not auth.get_user(client).is_authenticated


def test_the_lock_lifts_by_itself_after_the_cool_off(chef, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_login(client, settings.AXES_FAILURE_LIMIT)
    # A try one minute before the end is refused, and does not extend the lock.
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)):
        response = client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
        assert response.status_code == 429
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=5)):
        response = client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
        assert response.status_code == 302
        assert auth.get_user(client).is_authenticated


def test_a_success_resets_the_failure_count(chef, client):
    fail_login(client, settings.AXES_FAILURE_LIMIT - 1)
    client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
    client.post(reverse("logout"))
    fail_login(client, settings.AXES_FAILURE_LIMIT - 1)
    client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
    assert auth.get_user(client).is_authenticated


def test_one_locked_account_does_not_lock_another(chef, acheteur, client):
    fail_login(client, settings.AXES_FAILURE_LIMIT, username="chef")
    client.post(reverse("login"), {"username": "acheteur", "password": TEST_PASSWORD})
    assert auth.get_user(client).username == "acheteur"


def test_the_api_token_endpoint_is_locked_the_same_way(chef):
    api = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post(reverse("api:token"), {"username": "chef", "password": "faux"}, format="json")
    response = api.post(
        reverse("api:token"), {"username": "chef", "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.json()["detail"]
    assert "token" not in response.json()


def test_the_lockout_message_agrees_with_a_one_minute_cool_off(chef, settings):
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=1)
    api = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = api.post(
            reverse("api:token"), {"username": "chef", "password": "faux"}, format="json"
        )
    assert response.status_code == 429
    assert "bloqué pendant 1 minute depuis" in response.json()["detail"]
