"""In a real browser: log in as `chef`, see the French shell and the role's menu, log out."""

import pytest
from django.urls import reverse

from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    page.goto(reverse("home"))
    assert page.url.endswith(f"{reverse('login')}?next=/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/")


def test_chef_logs_in_sees_the_french_shell_and_the_pilotage_menu_then_logs_out(page):
    UserFactory(username="chef", first_name="Marie", roles=["pilotage"])

    log_in(page, "chef")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Bonjour Marie").is_visible()
    menu = page.get_by_test_id("menu")
    assert menu.get_by_role("link", name="Accueil").is_visible()
    assert menu.get_by_role("link", name="Documentation de l’API").count() == 1
    assert menu.get_by_text("Administration").count() == 0  # not staff
    # The home page shows the work waiting first: none yet.
    assert page.get_by_test_id("home-queues").get_by_text("Rien en attente").is_visible()
    assert page.get_by_test_id("capabilities").count() == 0
    # Bootstrap, htmx and Chart.js load from our own static files, with no CSP violation.
    assert page.evaluate("typeof htmx !== 'undefined' && typeof Chart !== 'undefined'")
    assert page.evaluate("typeof bootstrap !== 'undefined'")
    screenshot(page, "chef-home")

    # What the roles allow is in the user menu, « Mes droits ».
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("my-rights").click()
    page.wait_for_url("**/mes-droits/")
    capabilities = page.get_by_test_id("capabilities")
    assert capabilities.get_by_text("Approuver les demandes d’achat").is_visible()
    assert capabilities.get_by_text("Saisir les factures fournisseurs").count() == 0
    assert capabilities.get_by_text("Gérer la refacturation").count() == 0  # no screen yet

    page.get_by_test_id("user-menu").click()
    assert page.get_by_test_id("role").inner_text() == "Pilotage (chef de section)"
    page.get_by_test_id("logout").click()
    page.wait_for_url(f"**{reverse('login')}")
    assert page.get_by_text("Vous êtes déconnecté").is_visible()
    screenshot(page, "chef-logged-out")
    assert page.errors == []

    page.goto(reverse("home"))
    assert reverse("login") in page.url  # the session is really over


def test_the_buyer_sees_his_own_capabilities_not_the_section_heads(page):
    UserFactory(username="acheteur", first_name="Jean", roles=["achat"])
    log_in(page, "acheteur")
    page.goto(reverse("my-rights"))
    capabilities = page.get_by_test_id("capabilities")
    assert capabilities.get_by_text("Saisir les demandes d’achat").is_visible()
    assert capabilities.get_by_text("Approuver les demandes d’achat").count() == 0
    assert page.errors == []


def test_the_director_filters_people_by_role_and_htmx_swaps_the_table_in_place(page):
    UserFactory(username="directeur", first_name="Paul", roles=["direction"])
    UserFactory(username="acheteur", first_name="Jean", last_name="Tein", roles=["achat"])
    log_in(page, "directeur")
    page.get_by_test_id("menu").get_by_role("link", name="Personnes et rôles").click()
    page.wait_for_url("**/personnes/")
    assert page.get_by_test_id("count").inner_text() == "2 personnes"

    page.evaluate("window.sameDocument = true")  # lost if the whole page reloads
    page.get_by_label("Rôle").select_option("achat")
    page.wait_for_url("**/personnes/?*role=achat*")
    page.wait_for_function(
        "document.querySelector('[data-testid=count]').innerText === '1 personne'"
    )
    assert page.evaluate("window.sameDocument === true")
    assert page.locator("#table-region tbody tr").count() == 1
    assert page.locator("#table-region tbody").inner_text().startswith("Jean Tein")
    screenshot(page, "directeur-people-filtered")
    assert page.errors == []
