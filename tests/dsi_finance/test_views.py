"""The shell's pages: home, login, logout, password change and the error pages."""

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib import auth
from django.urls import reverse
from django.views.defaults import server_error

from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ROLE_LABELS_FR = {
    Role.PILOTAGE: "Pilotage (chef de section)",
    Role.ACHAT: "Achats (acheteur)",
    Role.COMPTABILITE: "Comptabilité (assistant comptable)",
    Role.DIRECTION: "Direction (directeur de la DSI)",
    Role.CONTROLE: "Contrôle de gestion (lecture seule)",
}


@pytest.mark.parametrize("role", list(Role))
def test_home_greets_each_role_in_french_with_its_roles_and_capabilities(role, cast, client_as):
    user = cast[role]
    response = client_as(user).get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert f"Bonjour {user.first_name}" in page
    assert ROLE_LABELS_FR[role] in page
    assert "Se déconnecter" in page


def test_my_rights_lists_only_the_capabilities_of_the_role(chef, controleur, client_as):
    chef_page = html.unescape(client_as(chef).get(reverse("my-rights")).content.decode())
    assert "Approuver les demandes d’achat" in chef_page
    control_page = html.unescape(client_as(controleur).get(reverse("my-rights")).content.decode())
    assert "Approuver les demandes d’achat" not in control_page
    assert "Télécharger les rapports" in control_page


def test_my_rights_shows_only_what_has_a_screen_and_links_to_it(chef, client_as):
    response = client_as(chef).get(reverse("my-rights"))
    codes = [right.code for right in response.context["capabilities"]]
    # The section head holds chargeback, conventions and archive checks: no screen yet.
    assert chef.has_perm("dsi_finance.manage_chargeback")
    for code in ("manage_chargeback", "manage_convention", "check_archive"):
        assert code not in codes
    assert "approve_purchase_request" in codes and "request_transfer" in codes
    page = html.unescape(response.content.decode())
    assert "Gérer la refacturation" not in page
    transfers = next(r for r in response.context["capabilities"] if r.code == "request_transfer")
    assert [page.url for page in transfers.pages] == [reverse("budgets:transfer-list")]


def test_my_rights_follows_the_menu_not_a_list(chef):
    from dsi_finance.menu import MenuItem, MenuSection, capabilities_with_screen

    menu = (
        MenuSection("Budget", (MenuItem("Virements", "budgets:transfer-list", "x", "view_all"),)),
    )
    assert [r.code for r in capabilities_with_screen(chef, menu=menu)] == ["view_all"]
    menu = (
        MenuSection(
            "Budget",
            (
                MenuItem(
                    "Virements",
                    "budgets:transfer-list",
                    "x",
                    "view_all",
                    serves=("request_transfer", "manage_chargeback"),
                ),
            ),
        ),
    )
    codes = [r.code for r in capabilities_with_screen(chef, menu=menu)]
    assert codes == ["view_all", "request_transfer", "manage_chargeback"]


def test_my_rights_is_in_the_user_menu(acheteur, client_as):
    page = client_as(acheteur).get(reverse("home")).content.decode()
    assert f'href="{reverse("my-rights")}" data-testid="my-rights"' in page
    assert "Mes droits" in page


def test_my_rights_sends_an_anonymous_visitor_to_the_login_page(client):
    assert_sends_to_login(client.get(reverse("my-rights")))


def test_home_sends_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_home_refuses_an_account_without_a_role_with_a_french_403(sans_role, client_as):
    response = client_as(sans_role).get(reverse("home"))
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_login_page_is_french_and_open_to_anonymous_visitors(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nom d’utilisateur" in page
    assert "Mot de passe" in page


def test_login_with_the_right_password_opens_the_home_page(chef, client):
    response = client.post(reverse("login"), {"username": "chef", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert auth.get_user(client).username == "chef"


def test_login_with_a_wrong_password_says_so_in_french_and_logs_nobody_in(chef, client):
    response = client.post(reverse("login"), {"username": "chef", "password": "faux"})
    assert response.status_code == 200
    assert "Saisissez un nom d’utilisateur et un mot de passe valides" in response.content.decode()
    assert not auth.get_user(client).is_authenticated


def test_login_follows_next_but_never_to_another_site(chef, client):
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "chef", "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("home")


def test_logout_is_a_post_that_ends_the_session_with_a_french_message(chef, client_as):
    client = client_as(chef)
    response = client.post(reverse("logout"), follow=True)
    assert not auth.get_user(client).is_authenticated
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "Vous êtes déconnecté" in response.content.decode()


def test_logout_refuses_get(chef, client_as):
    client = client_as(chef)
    assert client.get(reverse("logout")).status_code == 405
    assert auth.get_user(client).is_authenticated


def test_password_change_takes_the_new_password(chef, client_as):
    client = client_as(chef)
    new = "un-nouveau-mot-de-passe-solide"
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    chef.refresh_from_db()
    assert chef.check_password(new)


def test_password_change_refuses_a_wrong_old_password_in_french(chef, client_as):
    response = client_as(chef).post(
        reverse("password_change"),
        {
            "old_password": "faux",
            "new_password1": "abcdefghijkl9",
            "new_password2": "abcdefghijkl9",
        },
    )
    assert response.status_code == 200
    assert "Votre ancien mot de passe est incorrect" in response.content.decode()
    chef.refresh_from_db()
    assert chef.check_password(TEST_PASSWORD)


def test_password_change_refuses_a_too_short_password_in_french(chef, client_as):
    response = client_as(chef).post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "court1", "new_password2": "court1"},
    )
    assert "Ce mot de passe est trop court" in response.content.decode()
    chef.refresh_from_db()
    assert chef.check_password(TEST_PASSWORD)


def test_password_change_sends_an_anonymous_visitor_to_the_login_page(client):
    assert_sends_to_login(client.get(reverse("password_change")))


def test_password_change_done_page_is_french(chef, client_as):
    response = client_as(chef).get(reverse("password_change_done"))
    assert "Mot de passe modifié" in response.content.decode()


def test_an_unknown_page_gets_the_french_404(chef, client_as):
    response = client_as(chef).get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


@pytest.mark.urls("tests.dsi_finance.urls_failing")
def test_a_failing_page_answers_with_the_french_500_page(chef, client_as):
    client = client_as(chef)
    client.raise_request_exception = False
    response = client.get("/panne/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur du serveur" in page
    assert "simulated failure" not in page  # no detail leaks to the user


def test_the_500_page_is_french_and_stands_alone(rf):
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur du serveur" in page
    assert "Rien n'a été enregistré" in page


class LinkedUrls(HTMLParser):
    """Every (tag, attribute, value) of the src, href and action attributes of a page,
    and the number of script tags without src (inline scripts)."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.urls += [
            (tag, name, value or "") for name, value in attrs if name in ("src", "href", "action")
        ]
        if tag == "script" and not attributes.get("src"):
            self.inline_scripts += 1


def test_the_shell_loads_its_assets_from_our_own_origin(chef, client_as):
    """The attributes that load or link, not the whole page (a random CSRF token once
    held "cdn"): each is relative or on our host, and none names a CDN."""
    parser = LinkedUrls()
    parser.feed(client_as(chef).get(reverse("home")).content.decode())
    paths = {urlsplit(value).path for _, _, value in parser.urls}
    for asset in (
        "/static/vendor/bootstrap/bootstrap.min.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/chartjs/chart.umd.min.js",
        "/static/vendor/bootstrap/bootstrap.bundle.min.js",
    ):
        assert asset in paths, asset
    for tag, name, value in parser.urls:
        url = urlsplit(value)
        assert (url.scheme, url.netloc) in {
            ("", ""),
            ("http", "testserver"),
            ("https", "testserver"),
        }, (tag, name, value)
        assert not re.search(r"cdn|jsdelivr|unpkg|googleapis|cloudflare", value, re.I), value
    assert parser.inline_scripts == 0  # no inline script: the CSP forbids them


def test_pages_carry_a_strict_content_security_policy(chef, client_as):
    policy = client_as(chef).get(reverse("home"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_an_english_browser_still_gets_french_until_the_person_chooses(chef, client_as):
    response = client_as(chef).get(reverse("home"), headers={"accept-language": "en-US,en"})
    assert "Bonjour" in response.content.decode()
    assert response["Content-Language"] == "fr"


def test_an_unknown_language_in_the_cookie_falls_back_to_french(chef, client_as):
    client = client_as(chef)
    client.cookies["django_language"] = "xx"
    assert "Bonjour" in client.get(reverse("home")).content.decode()


_BUDGET_READ = ["Disponible (DISCO)", "Exercices"]
_BUDGET_ALL = ["Disponible (DISCO)", "BP et DM", "Virements", "Exercices"]
_PURCHASING_ALL = [
    "Demandes d’achat",
    "Engagements",
    "Bons de commande",
    "Services faits",
    "Factures",
    "Fournisseurs",
]
_STEERING_READ = [
    "Tableau de bord",
    "Atterrissage",
    "Analyse des écarts",
    "Provisions de clôture",
    "Rapports",
]
_READER = [
    "Accueil",
    *_BUDGET_ALL,
    *_PURCHASING_ALL,
    *_STEERING_READ,
    "Personnes et rôles",
    "Documentation de l’API",
]
MENUS = {
    # The section head alone runs the closing and its ledger checks.
    Role.PILOTAGE: [
        "Accueil",
        *_BUDGET_ALL,
        *_PURCHASING_ALL,
        *_STEERING_READ,
        "Contrôles du grand livre",
        "Personnes et rôles",
        "Documentation de l’API",
    ],
    # The buyer and the accounting assistant read the whole purchasing chain.
    Role.ACHAT: ["Accueil", *_BUDGET_READ, *_PURCHASING_ALL, "Documentation de l’API"],
    Role.COMPTABILITE: ["Accueil", *_BUDGET_READ, *_PURCHASING_ALL, "Documentation de l’API"],
    Role.DIRECTION: _READER,
    Role.CONTROLE: _READER,
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_its_own_menu(role, cast, client_as):
    response = client_as(cast[role]).get(reverse("home"))
    labels = [item.label for section in response.context["menu"] for item in section.items]
    assert labels == MENUS[role]


def test_an_account_without_a_role_gets_no_menu(sans_role, client_as):
    response = client_as(sans_role).get(reverse("home"))
    assert response.context["menu"] == []


def test_the_user_menu_switches_the_interface_to_english_and_back(chef, client_as):
    client = client_as(chef)
    page = client.get(reverse("home")).content.decode()
    assert 'value="en"' in page and "English" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Hello" in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert "Bonjour" in client.get(reverse("home")).content.decode()
