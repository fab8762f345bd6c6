"""People and roles: who holds which role, for those who read everything."""

import html

import pytest
from django.urls import reverse

from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("user-directory")


def rows(response) -> list[str]:
    """The usernames shown by the table, in order."""
    return [record.username for record in response.context["table"].paginated_rows.data]


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.DIRECTION, Role.CONTROLE])
def test_readers_of_everything_see_every_account_and_its_roles(role, cast, sans_role, client_as):
    response = client_as(cast[role]).get(URL)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Personnes et rôles" in page
    assert sorted(rows(response)) == sorted(
        ["chef", "acheteur", "comptable", "directeur", "controleur", "sansrole"]
    )
    assert "Comptabilité (assistant comptable)" in page
    assert "Aucun rôle" in page  # the account without a role stands out


@pytest.mark.parametrize("role", [Role.ACHAT, Role.COMPTABILITE])
def test_other_roles_are_refused_with_403(role, cast, client_as):
    response = client_as(cast[role]).get(URL)
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_the_menu_offers_the_page_only_to_those_who_may_open_it(chef, acheteur, client_as):
    assert URL in client_as(chef).get(reverse("home")).content.decode()
    assert URL not in client_as(acheteur).get(reverse("home")).content.decode()


def test_an_anonymous_visitor_is_sent_to_login(client):
    assert_sends_to_login(client.get(URL))


def test_filtering_by_role_keeps_exactly_the_holders(cast, directeur, client_as):
    UserFactory(username="second_acheteur", roles=[Role.ACHAT])
    response = client_as(directeur).get(URL, {"role": "achat"})
    assert sorted(rows(response)) == ["acheteur", "second_acheteur"]


def test_search_matches_every_word_in_names_and_usernames(directeur, client_as):
    UserFactory(username="mwamytan", first_name="Marie", last_name="Wamytan")
    UserFactory(username="mtein", first_name="Marie", last_name="Tein")
    response = client_as(directeur).get(URL, {"q": "marie wamy"})
    assert rows(response) == ["mwamytan"]


def test_inactive_accounts_can_be_listed_apart(directeur, client_as):
    UserFactory(username="parti", is_active=False)
    assert rows(client_as(directeur).get(URL, {"is_active": "false"})) == ["parti"]
    assert "parti" not in rows(client_as(directeur).get(URL, {"is_active": "true"}))


def test_an_unknown_role_in_the_url_is_reported_not_ignored(directeur, client_as):
    response = client_as(directeur).get(URL, {"role": "tresorier"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Sélectionnez un choix valide" in page
    assert "Rôle\u00a0: Sélectionnez" in page
    assert rows(response) == []


def test_sorting_by_username_descending(cast, directeur, client_as):
    response = client_as(directeur).get(URL, {"sort": "-username"})
    names = rows(response)
    assert names == sorted(names, reverse=True)


def test_an_htmx_request_for_the_table_gets_only_the_table(directeur, client_as):
    response = client_as(directeur).get(
        URL, {"role": "direction"}, headers={"HX-Request": "true", "HX-Target": "table-region"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="table-region"')
    assert "<html" not in page
    assert rows(response) == ["directeur"]


def test_the_page_costs_the_same_queries_for_1_or_56_people(
    directeur, client_as, django_assert_max_num_queries
):
    client = client_as(directeur)
    client.get(URL)  # warm the session
    for index in range(55):
        UserFactory(username=f"agent{index:02d}", roles=[Role.ACHAT, Role.COMPTABILITE])
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    assert response.context["table"].paginator.count == 56
