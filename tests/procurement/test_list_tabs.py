"""The lists' tabs agree in gender in French: « Toutes » (les demandes, les factures),
through a pgettext context per list, while the masculine lists keep « Tous »."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import pgettext

pytestmark = pytest.mark.django_db


def tab_labels(response) -> dict[str, str]:
    page = response.content.decode()
    tabs = page.split('data-testid="tabs"')[1].split("</ul>")[0]
    return {
        key: label.strip() for key, label in re.findall(r'data-tab="(\w+)"[^>]*>([^<]+)<', tabs)
    }


def test_the_request_list_tab_of_every_request_reads_toutes(chef, client_as):
    response = client_as(chef).get(reverse("procurement:request-list"))
    assert tab_labels(response) == {"to_approve": "À approuver", "all": "Toutes"}


def test_the_invoice_list_tab_of_every_invoice_reads_toutes(comptable, client_as):
    response = client_as(comptable).get(reverse("procurement:invoice-list"))
    assert tab_labels(response)["all"] == "Toutes"


def test_each_list_has_its_own_context_for_all():
    with translation.override("fr"):
        assert pgettext("purchase requests tab", "All") == "Toutes"
        assert pgettext("invoices tab", "All") == "Toutes"
        assert translation.gettext("All") == "Tous"  # the masculine default stays
    with translation.override("en"):
        assert pgettext("purchase requests tab", "All") == "All"
