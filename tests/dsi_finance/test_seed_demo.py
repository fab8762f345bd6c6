"""seed_demo: one user per role, idempotent, refused outside DEBUG unless forced."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from dsi_finance.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

EXPECTED = {
    "chef": "pilotage",
    "acheteur": "achat",
    "comptable": "comptabilite",
    "directeur": "direction",
    "controleur": "controle",
}


def seed(*args, **settings_overrides) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_one_user_per_role_with_the_documented_password(settings):
    settings.DEBUG = True
    seed()
    users = get_user_model().objects.filter(username__in=EXPECTED)
    assert {u.username: [g.name for g in u.groups.all()] for u in users} == {
        name: [role] for name, role in EXPECTED.items()
    }
    for user in users:
        assert user.check_password(settings.DEMO_PASSWORD)
        assert user.is_active and not user.is_staff


def test_seed_demo_twice_creates_nothing_twice(settings):
    settings.DEBUG = True
    seed()
    second = seed()
    User = get_user_model()
    assert User.objects.count() == len(DEMO_USERS)
    for user in User.objects.all():
        assert user.groups.count() == 1
    assert "Utilisateur créé" not in second
    assert "Utilisateur déjà présent : chef" in second


def test_seed_demo_keeps_a_password_that_was_changed(settings):
    settings.DEBUG = True
    seed()
    chef = get_user_model().objects.get(username="chef")
    chef.set_password("choisi-par-marie-2026")
    chef.save()
    seed()
    chef.refresh_from_db()
    assert chef.check_password("choisi-par-marie-2026")


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuse de tourner avec DEBUG désactivé"):
        seed()
    assert not get_user_model().objects.exists()


def test_seed_demo_runs_with_debug_off_when_forced(settings):
    settings.DEBUG = False
    seed("--force")
    assert get_user_model().objects.filter(username__in=EXPECTED).count() == 5


def test_seed_demo_if_empty_leaves_a_used_database_alone(settings, chef):
    settings.DEBUG = True
    output = seed("--if-empty")
    assert "non chargées" in output
    assert not get_user_model().objects.filter(username="directeur").exists()
