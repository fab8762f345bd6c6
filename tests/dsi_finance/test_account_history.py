"""Every change to an account, its roles included, is kept: who, when, what."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from dsi_finance.roles import Role
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_giving_a_role_records_the_new_set_of_roles(acheteur):
    acheteur.groups.add(Group.objects.get(name=Role.COMPTABILITE))
    latest = acheteur.history.latest()
    assert latest.history_type == "~"
    assert sorted(g.group.name for g in latest.groups.all()) == ["achat", "comptabilite"]


def test_removing_a_role_is_recorded_too(chef):
    before = chef.history.count()
    chef.groups.remove(Group.objects.get(name=Role.PILOTAGE))
    assert chef.history.count() == before + 1
    assert list(chef.history.latest().groups.all()) == []


def test_the_history_never_keeps_the_password(chef):
    chef.set_password("un-autre-mot-de-passe-2026")
    chef.save()
    field_names = {field.name for field in chef.history.model._meta.fields}
    assert "password" not in field_names
    assert "last_login" not in field_names


def test_a_login_adds_no_history_row(client):
    user = UserFactory(username="chef", roles=[Role.PILOTAGE])
    before = user.history.count()
    client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
    user.refresh_from_db()
    assert user.last_login is not None
    assert user.history.count() == before


def test_a_change_made_in_the_admin_records_who_made_it(admin_client, admin_user, acheteur):
    url = reverse("admin:auth_user_change", args=[acheteur.pk])
    form = {
        "username": "acheteur",
        "first_name": "Jean",
        "last_name": "Tein",
        "email": "jean.tein@example.nc",
        "is_active": "on",
        "groups": [
            Group.objects.get(name=Role.ACHAT).pk,
            Group.objects.get(name=Role.DIRECTION).pk,
        ],
        "date_joined_0": "01/01/2026",
        "date_joined_1": "08:00:00",
        "initial-date_joined_0": "01/01/2026",
        "initial-date_joined_1": "08:00:00",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = acheteur.history.latest()
    assert latest.history_user == admin_user
    assert latest.email == "jean.tein@example.nc"
    assert sorted(g.group.name for g in latest.groups.all()) == ["achat", "direction"]


def test_the_admin_shows_an_accounts_history(admin_client, chef):
    response = admin_client.get(reverse("admin:auth_user_history", args=[chef.pk]))
    assert response.status_code == 200
    assert "chef" in response.content.decode()
