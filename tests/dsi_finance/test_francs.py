"""The francs field, its API twin and the live echo beside every amount input: all read
what is typed through dsi_finance.money.parse_francs, the one reader of typed amounts."""

import pytest
from django import forms
from django.urls import reverse
from rest_framework import serializers

from dsi_finance.forms import FrancsField
from dsi_finance.serializers import FrancsSerializerField
from tests.assertions import assert_sends_to_login

NB = "\u00a0"
NNBSP = "\u202f"
ECHO_URL = reverse("francs-echo")


class AmountForm(forms.Form):
    amount = FrancsField(label="Montant", amount_label="Le montant du virement")
    optional = FrancsField(label="Autre", required=False)


class AmountSerializer(serializers.Serializer):
    amount = FrancsSerializerField()


@pytest.mark.parametrize(
    ("typed", "francs"),
    [("250.000", 250_000), ("250 000", 250_000), ("250'000", 250_000), ("-1.500", -1_500)],
)
def test_the_form_field_reads_francs_grouped_any_way(typed, francs):
    form = AmountForm({"amount": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"amount": francs, "optional": None}


def test_the_form_field_refuses_decimals_naming_the_amount():
    form = AmountForm({"amount": "250.5"})
    assert not form.is_valid()
    assert form.errors["amount"] == [
        f"Le montant du virement «{NB}250.5{NB}»{NB}: 250,5 francs{NB}? Le franc CFP n’a pas "
        f"de décimales{NB}; tapez 250 ou 250{NNBSP}000 (milliers séparés par des espaces, des "
        "points ou des apostrophes)."
    ]


def test_the_form_field_is_required_unless_told_otherwise():
    form = AmountForm({"amount": "  "})
    assert not form.is_valid()
    assert form.errors["amount"] == ["Ce champ est obligatoire."]


def test_the_input_asks_for_digits_without_autocomplete_and_carries_the_echo_url():
    html = str(AmountForm(initial={"amount": 1_250_000})["amount"])
    assert 'inputmode="numeric"' in html
    assert 'autocomplete="off"' in html
    assert f'data-francs="{ECHO_URL}"' in html
    assert 'value="1 250 000"' in html


@pytest.mark.parametrize(
    ("data", "francs"),
    [(250_000, 250_000), ("250.000", 250_000), ("250 000", 250_000), (250_000.0, 250_000)],
)
def test_the_api_field_takes_integers_and_strings_never_reading_250_000_as_250(data, francs):
    body = AmountSerializer(data={"amount": data})
    assert body.is_valid(), body.errors
    assert body.validated_data["amount"] == francs


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("250.5", "250,5 francs"),
        (250.5, "250,5 francs"),
        ("1.000.00", "1\u202f000,00 francs"),
        (True, "Un montant en francs est un entier"),
        ([250], "Un montant en francs est un entier"),
        ("", "Indiquez un montant en francs."),
    ],
)
def test_the_api_field_refuses_decimals_booleans_and_blanks_in_french(data, message):
    body = AmountSerializer(data={"amount": data})
    assert not body.is_valid()
    assert message in str(body.errors["amount"][0])


def test_the_schema_says_an_amount_is_an_integer_or_a_string(client_as, chef):
    schema = client_as(chef).get(reverse("api-schema"), {"format": "json"}).json()
    line = schema["components"]["schemas"]["PurchaseRequestLine"]["properties"]["unit_price"]
    assert [choice["type"] for choice in line["oneOf"]] == ["integer", "string"]


# --- The live echo -------------------------------------------------------------------


def test_the_echo_is_for_logged_in_users_and_get_only(client, client_as, acheteur):
    assert_sends_to_login(client.get(ECHO_URL, {"value": "250.000"}))
    assert client_as(acheteur).post(ECHO_URL, {"value": "250.000"}).status_code == 405


@pytest.mark.parametrize(
    ("typed", "shown", "figure"),
    [
        ("250.000", f"= 250{NNBSP}000{NB}F{NB}CFP", "250000"),
        ("250 000", f"= 250{NNBSP}000{NB}F{NB}CFP", "250000"),
        ("250'000", f"= 250{NNBSP}000{NB}F{NB}CFP", "250000"),
        ("-1.500", f"= -1{NNBSP}500{NB}F{NB}CFP", "-1500"),
    ],
)
def test_the_echo_shows_the_amount_understood(typed, shown, figure, client_as, acheteur):
    response = client_as(acheteur).get(ECHO_URL, {"value": typed})
    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="francs-understood"' in text and shown in text
    assert response["X-Francs-Value"] == figure


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("250.5", "250,5 francs"),
        ("1 000,50", "1\u202f000,50 francs"),
        ("1.000.00", "1\u202f000,00 francs"),
        ("abc", "n’est pas un nombre"),
    ],
)
def test_the_echo_shows_why_an_amount_is_refused(typed, reason, client_as, acheteur):
    response = client_as(acheteur).get(ECHO_URL, {"value": typed})
    text = response.content.decode()
    assert 'data-testid="francs-refused"' in text and reason in text
    assert "francs-understood" not in text
    assert response["X-Francs-Value"] == ""


def test_the_echo_of_nothing_is_empty(client_as, acheteur):
    response = client_as(acheteur).get(ECHO_URL, {"value": "  "})
    assert "francs-" not in response.content.decode()
