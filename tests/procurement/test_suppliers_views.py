"""Supplier pages: the list (filters, htmx), the detail (figures, documents, history),
create (a double submit records once), edit, deactivate and reactivate; the TGC rates."""

import html

import pytest
from django.urls import reverse

from dsi_finance.idempotency import FORM_TOKEN_FIELD, new_form_token
from dsi_finance.models import IdempotencyKey
from dsi_finance.roles import Role
from procurement.models import Commitment, Supplier, TaxRate
from procurement.services import suppliers as services
from procurement.services.commitments import LineSpec, commitment_create
from tests.assertions import assert_sends_to_login
from tests.procurement.factories import ensure_tax_rates, funded_line

pytestmark = pytest.mark.django_db

LIST_URL = reverse("procurement:supplier-list")
CREATE_URL = reverse("procurement:supplier-create")
RATES_URL = reverse("procurement:tax-rate-list")
NBSP = "\u00a0"
NNBSP = "\u202f"
VALID_RIB = "17499 00010 12345678901 02"


def page(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def url(name: str, supplier) -> str:
    return reverse(f"procurement:{name}", args=[supplier.pk])


def form_data(**fields) -> dict:
    return {
        "name": "Nouméa Informatique SARL",
        "ridet": "1 234 567.001",
        "address": "12 rue de Sébastopol\r\n98800 Nouméa",
        "contact_name": "Marie Wamytan",
        "email": "marie@ni.nc",
        "phone": "+687 27 00 00",
        "payment_terms_days": "45",
        "bank_name": "BCI",
        "bank_account": VALID_RIB,
    } | fields


@pytest.fixture
def suppliers(acheteur):
    active = services.supplier_create(
        user=acheteur, name="Calédonie Réseaux", ridet="7654321.001", bank_account=VALID_RIB
    )
    other = services.supplier_create(user=acheteur, name="Bureau Vallée", ridet="1111111.001")
    inactive = services.supplier_create(
        user=acheteur, name="Ancien Prestataire", ridet="2222222.001"
    )
    services.supplier_deactivate(user=acheteur, supplier=inactive)
    return {"active": active, "other": other, "inactive": inactive}


# --- List ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_list_of_active_suppliers_by_default(client_as, cast, suppliers, role):
    response = client_as(cast[role]).get(LIST_URL)
    assert response.status_code == 200
    names = [row.record.name for row in response.context["table"].rows]
    assert names == ["Bureau Vallée", "Calédonie Réseaux"]
    assert 'data-testid="count"' in page(response)
    # Only the buyers see the creation button.
    assert ('data-testid="create-link"' in page(response)) is (role == Role.ACHAT)
    assert 'data-testid="tax-rates-link"' in page(response)


def test_the_list_filters_deactivated_or_all_suppliers_and_searches(client_as, chef, suppliers):
    client = client_as(chef)

    def names(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        return [row.record.name for row in response.context["table"].rows]

    assert names(active="no") == ["Ancien Prestataire"]
    assert names(active="all") == ["Ancien Prestataire", "Bureau Vallée", "Calédonie Réseaux"]
    assert names(active="all", q="réseaux") == ["Calédonie Réseaux"]
    assert names(active="all", q="2222222") == ["Ancien Prestataire"]
    assert names(q="2222222") == []
    assert names(active="all", sort="-name")[0] == "Calédonie Réseaux"


def test_htmx_gets_only_the_table_region(client_as, chef, suppliers):
    response = client_as(chef).get(
        LIST_URL, {"q": "bureau"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region"
    )
    assert response.status_code == 200
    body = page(response)
    assert body.lstrip().startswith('<div id="table-region"')
    assert "Bureau Vallée" in body and "Calédonie Réseaux" not in body
    assert "<nav" not in body.split('id="table-region"')[0]


def test_the_list_sends_an_anonymous_visitor_to_login(client):
    assert_sends_to_login(client.get(LIST_URL))


def test_the_list_refuses_an_account_without_role(client_as, sans_role):
    assert client_as(sans_role).get(LIST_URL).status_code == 403


# --- Detail --------------------------------------------------------------------------


def test_the_detail_shows_the_fields_figures_documents_and_history(
    client_as, acheteur, chef, controleur, suppliers
):
    from procurement.services.requests import purchase_request_create

    supplier = suppliers["active"]
    services.supplier_update(user=acheteur, supplier=supplier, payment_terms_days=60)
    line = funded_line(5_000_000)
    rates = ensure_tax_rates()
    request = purchase_request_create(
        user=acheteur,
        supplier=supplier,
        subject="Commutateurs",
        lines=[
            {
                "description": "Commutateur 48 ports",
                "quantity": "2",
                "unit_price": 150_000,
                "tax_rate": rates["22"],
                "budget_line": line,
            }
        ],
    )
    commitment = commitment_create(
        user=chef,
        kind=Commitment.Kind.RECURRING,
        supplier=supplier,
        subject="Liaisons",
        lines=[LineSpec(budget_line=line, description="Liaisons", amount=400_000)],
    )
    response = client_as(controleur).get(supplier.get_absolute_url())
    assert response.status_code == 200
    body = page(response)
    assert response.context["figures"].requests == 1
    assert response.context["figures"].open_remainder == 400_000
    assert f'data-testid="figure-open-remainder">400{NNBSP}000{NBSP}F{NBSP}CFP<' in body
    assert 'data-testid="figure-requests">1<' in body
    assert 'data-testid="ridet">7654321.001<' in body
    assert 'data-testid="bank-account">17499 00010 12345678901 02<' in body
    assert request.get_absolute_url() in body
    assert commitment.get_absolute_url() in body
    # The history: created, then the terms changed by the buyer.
    assert body.count('data-testid="history-item"') == 2
    assert 'data-field="payment_terms_days"' in body
    assert acheteur.get_full_name() in body
    # A reader has no action buttons.
    assert 'data-testid="actions"' not in body


def test_the_buyer_sees_edit_and_deactivate_and_on_a_deactivated_supplier_reactivate(
    client_as, acheteur, suppliers
):
    client = client_as(acheteur)
    body = page(client.get(suppliers["active"].get_absolute_url()))
    assert 'data-testid="edit-link"' in body and 'data-testid="deactivate"' in body
    body = page(client.get(suppliers["inactive"].get_absolute_url()))
    assert 'data-testid="reactivate"' in body and 'data-testid="deactivate"' not in body
    assert 'data-active="no"' in body


def test_the_detail_answers_404_for_an_unknown_supplier(client_as, chef):
    assert (
        client_as(chef).get(reverse("procurement:supplier-detail", args=[999])).status_code == 404
    )


def test_the_detail_sends_an_anonymous_visitor_to_login(client, suppliers):
    assert_sends_to_login(client.get(suppliers["active"].get_absolute_url()))


def test_the_detail_refuses_an_account_without_role(client_as, sans_role, suppliers):
    assert client_as(sans_role).get(suppliers["active"].get_absolute_url()).status_code == 403


def test_the_detail_reads_in_a_bounded_number_of_queries(
    client_as, chef, suppliers, django_assert_max_num_queries
):
    client = client_as(chef)
    client.get(suppliers["active"].get_absolute_url())  # warm the session and caches
    with django_assert_max_num_queries(16):
        assert client.get(suppliers["active"].get_absolute_url()).status_code == 200


# --- Create --------------------------------------------------------------------------


def test_the_buyer_creates_a_supplier_and_lands_on_its_page(client_as, acheteur):
    client = client_as(acheteur)
    form = client.get(CREATE_URL)
    assert form.status_code == 200
    assert f'name="{FORM_TOKEN_FIELD}"' in page(form)
    response = client.post(CREATE_URL, form_data(**{FORM_TOKEN_FIELD: new_form_token()}))
    supplier = Supplier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == supplier.get_absolute_url()
    assert (supplier.ridet, supplier.payment_terms_days, supplier.bank_account) == (
        "1234567.001",
        45,
        "17499000101234567890102",
    )
    assert supplier.history.get().history_user == acheteur
    landing = client.get(response["Location"])
    assert [level for level, _text in messages_of(landing)] == ["success"]


def test_a_create_form_posted_twice_records_once_and_shows_the_first_supplier(client_as, acheteur):
    client = client_as(acheteur)
    data = form_data(**{FORM_TOKEN_FIELD: new_form_token()})
    first = client.post(CREATE_URL, data, follow=True)
    second = client.post(CREATE_URL, data)
    assert Supplier.objects.count() == 1
    supplier = Supplier.objects.get()
    assert first.redirect_chain[-1][0] == supplier.get_absolute_url()
    assert second.status_code == 302
    assert second["Location"] == supplier.get_absolute_url()
    notes = messages_of(client.get(second["Location"]))
    assert [level for level, _text in notes] == ["info"]
    assert IdempotencyKey.objects.count() == 1


def test_two_forms_with_two_tokens_are_two_creations(client_as, acheteur):
    client = client_as(acheteur)
    client.post(CREATE_URL, form_data(**{FORM_TOKEN_FIELD: new_form_token()}))
    client.post(
        CREATE_URL,
        form_data(
            name="Agence de Koné", ridet="1234567.002", **{FORM_TOKEN_FIELD: new_form_token()}
        ),
    )
    assert Supplier.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ridet": "1234567"}, "ridet"),
        ({"ridet": "12-34"}, "ridet"),
        ({"bank_account": "17499 00010 12345678901 42"}, "bank_account"),
        ({"bank_account": "FR76 3000 6000 0112 3456 7890 188"}, "bank_account"),
        ({"payment_terms_days": "-5"}, "payment_terms_days"),
        ({"payment_terms_days": "400"}, "payment_terms_days"),
        ({"payment_terms_days": "trente"}, "payment_terms_days"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_comes_back_on_its_field_and_creates_nothing(client_as, acheteur, fields, field):
    token = new_form_token()
    response = client_as(acheteur).post(
        CREATE_URL, form_data(**fields, **{FORM_TOKEN_FIELD: token})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'data-testid="form-errors"' in page(response)
    assert Supplier.objects.count() == 0
    # The token was not spent: the corrected form goes through.
    fixed = client_as(acheteur).post(CREATE_URL, form_data(**{FORM_TOKEN_FIELD: token}))
    assert fixed.status_code == 302
    assert Supplier.objects.count() == 1


def test_a_duplicate_ridet_is_refused_naming_the_supplier_that_has_it(
    client_as, acheteur, suppliers
):
    response = client_as(acheteur).post(
        CREATE_URL,
        form_data(name="Doublon", ridet="7654321001", **{FORM_TOKEN_FIELD: new_form_token()}),
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["ridet"])
    assert "Calédonie Réseaux" in errors and "7654321.001" in errors
    assert not Supplier.objects.filter(name="Doublon").exists()


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.COMPTABILITE, Role.DIRECTION, Role.CONTROLE])
def test_only_the_buyers_open_the_creation(client_as, cast, role):
    client = client_as(cast[role])
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, form_data()).status_code == 403
    assert Supplier.objects.count() == 0


def test_the_creation_sends_an_anonymous_visitor_to_login(client):
    assert_sends_to_login(client.post(CREATE_URL, form_data()))
    assert Supplier.objects.count() == 0


# --- Edit ----------------------------------------------------------------------------


def test_the_buyer_edits_a_supplier_from_its_current_values(client_as, acheteur, suppliers):
    supplier = suppliers["active"]
    client = client_as(acheteur)
    form = client.get(url("supplier-update", supplier))
    assert form.status_code == 200
    assert form.context["form"].initial["ridet"] == "7654321.001"
    data = {name: value for name, value in form.context["form"].initial.items()}
    data.update(payment_terms_days="15", contact_name="Jean Tein")
    response = client.post(url("supplier-update", supplier), data)
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.payment_terms_days, supplier.contact_name) == (15, "Jean Tein")
    assert supplier.bank_account == "17499000101234567890102"


def test_an_edit_with_a_bad_rib_key_changes_nothing(client_as, acheteur, suppliers):
    supplier = suppliers["active"]
    response = client_as(acheteur).post(
        url("supplier-update", supplier),
        form_data(
            name="Nouveau nom", ridet="7654321.001", bank_account="17499 00010 12345678901 43"
        ),
    )
    assert response.status_code == 200
    assert "bank_account" in response.context["form"].errors
    supplier.refresh_from_db()
    assert supplier.name == "Calédonie Réseaux"
    assert supplier.history.count() == 1


def test_an_edit_to_another_suppliers_ridet_is_refused(client_as, acheteur, suppliers):
    supplier = suppliers["active"]
    response = client_as(acheteur).post(
        url("supplier-update", supplier), form_data(name="Calédonie Réseaux", ridet="1111111.001")
    )
    assert "Bureau Vallée" in " ".join(response.context["form"].errors["ridet"])
    supplier.refresh_from_db()
    assert supplier.ridet == "7654321.001"


def test_only_the_buyers_edit(client_as, chef, suppliers):
    supplier = suppliers["active"]
    client = client_as(chef)
    assert client.get(url("supplier-update", supplier)).status_code == 403
    assert client.post(url("supplier-update", supplier), form_data()).status_code == 403
    supplier.refresh_from_db()
    assert supplier.name == "Calédonie Réseaux"


def test_the_edit_answers_404_for_an_unknown_supplier(client_as, acheteur):
    response = client_as(acheteur).get(reverse("procurement:supplier-update", args=[999]))
    assert response.status_code == 404


# --- Deactivate and reactivate -----------------------------------------------------------


def test_the_buyer_deactivates_then_reactivates_a_supplier(client_as, acheteur, suppliers):
    supplier = suppliers["active"]
    client = client_as(acheteur)
    response = client.post(url("supplier-deactivate", supplier))
    assert response.status_code == 302
    assert response["Location"] == supplier.get_absolute_url()
    supplier.refresh_from_db()
    assert supplier.is_active is False
    assert supplier not in Supplier.objects.filter(is_active=True)
    assert [level for level, _text in messages_of(client.get(response["Location"]))] == ["success"]
    client.post(url("supplier-reactivate", supplier))
    supplier.refresh_from_db()
    assert supplier.is_active is True


def test_deactivating_a_deactivated_supplier_says_so_and_changes_nothing(
    client_as, acheteur, suppliers
):
    supplier = suppliers["inactive"]
    client = client_as(acheteur)
    response = client.post(url("supplier-deactivate", supplier), follow=True)
    assert [level for level, _text in messages_of(response)] == ["error"]
    supplier.refresh_from_db()
    assert supplier.is_active is False
    assert supplier.history.count() == 2


@pytest.mark.parametrize("action", ["supplier-deactivate", "supplier-reactivate"])
def test_state_changes_refuse_get(client_as, acheteur, suppliers, action):
    assert client_as(acheteur).get(url(action, suppliers["active"])).status_code == 405


@pytest.mark.parametrize("action", ["supplier-deactivate", "supplier-reactivate"])
def test_state_changes_refuse_other_roles_and_anonymous(client, client_as, chef, suppliers, action):
    target = suppliers["active"] if action == "supplier-deactivate" else suppliers["inactive"]
    assert_sends_to_login(client.post(url(action, target)))
    assert client_as(chef).post(url(action, target)).status_code == 403
    target.refresh_from_db()
    assert target.is_active is (action == "supplier-deactivate")


# --- TGC rates ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_tgc_rates_and_sees_which_are_in_force(client_as, cast, role):
    ensure_tax_rates()
    TaxRate.objects.create(rate="25", label="Taux futur", valid_from="2099-01-01")
    response = client_as(cast[role]).get(RATES_URL)
    assert response.status_code == 200
    body = page(response)
    for percent in ("22", "11", "6", "3", "0", "25"):
        assert f'data-rate="{percent}"' in body
    assert body.count('data-in-force="yes"') == 5
    assert body.count('data-in-force="no"') == 1


def test_the_tgc_rates_send_an_anonymous_visitor_to_login(client):
    assert_sends_to_login(client.get(RATES_URL))


def test_the_tgc_rates_refuse_an_account_without_role(client_as, sans_role):
    assert client_as(sans_role).get(RATES_URL).status_code == 403
