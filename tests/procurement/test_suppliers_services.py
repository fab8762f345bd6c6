"""Suppliers through their services: created, updated, deactivated and reactivated by the
buyers, every bad input refused in French with nothing changed; and their selectors
(active suppliers, figures, the TGC rates in force)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from procurement.models import Commitment, Invoice, Supplier, TaxRate
from procurement.selectors import suppliers as selectors
from procurement.services import suppliers as services
from procurement.services.commitments import LineSpec, commitment_create
from procurement.services.common import ProcurementError
from tests.procurement.factories import SupplierFactory, funded_line, tax_rate

pytestmark = pytest.mark.django_db

VALID_RIB = "17499 00010 12345678901 02"
VALID_RIB_WITH_LETTER = "30002 00550 0000157841Z 25"
VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"
VALID_NC_IBAN = "NC49 1749 9000 1012 3456 7890 102"


def create(user, **fields) -> Supplier:
    values = {"name": "Nouméa Informatique SARL", "ridet": "1234567.001"} | fields
    return services.supplier_create(user=user, **values)


def refusal(call) -> ProcurementError:
    """The ProcurementError a call raises, its messages read in English (the French
    catalogue is merged later); nothing may have been written."""
    before = list(Supplier.objects.order_by("pk").values())
    with translation.override("en"), pytest.raises(ProcurementError) as raised:
        call()
    assert list(Supplier.objects.order_by("pk").values()) == before
    return raised.value


# --- Creation ------------------------------------------------------------------------


def test_the_buyer_creates_an_active_supplier_with_everything_normalised(acheteur):
    supplier = create(
        acheteur,
        name="  Nouméa Informatique SARL ",
        ridet="1 234 567.001",
        address="12 rue de Sébastopol\n98800 Nouméa",
        contact_name="Marie Wamytan",
        email="marie@ni.nc",
        phone="+687 27 00 00",
        payment_terms_days=45,
        bank_name="BCI",
        bank_account=VALID_RIB,
    )
    supplier.refresh_from_db()
    assert supplier.name == "Nouméa Informatique SARL"
    assert supplier.ridet == "1234567.001"
    assert supplier.payment_terms_days == 45
    assert supplier.bank_account == "17499000101234567890102"
    assert supplier.is_active is True
    record = supplier.history.get()
    assert (record.history_type, record.history_user) == ("+", acheteur)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1234567.001", "1234567.001"),
        ("1234567001", "1234567.001"),
        ("1 234 567.001", "1234567.001"),
        ("1234567-001", "1234567.001"),
        ("1234567/002", "1234567.002"),
        ("1234567.1", "1234567.001"),
        ("0123456.12", "0123456.012"),
        ("\u202f1\u00a0234\u00a0567.001 ", "1234567.001"),
    ],
)
def test_a_ridet_is_accepted_as_people_type_it_and_stored_as_rid_dot_et(acheteur, typed, stored):
    assert create(acheteur, ridet=typed).ridet == stored


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("1234567", "lacks its establishment"),
        ("123456.001", "not valid"),
        ("12345678", "not valid"),
        ("1234567.0001", "not valid"),
        ("ABC4567.001", "not valid"),
        ("0000000.001", "cannot be zero"),
        ("", "required"),
    ],
)
def test_a_malformed_ridet_is_refused_on_its_field(acheteur, typed, words):
    error = refusal(lambda: create(acheteur, ridet=typed))
    assert list(error.error_dict) == ["ridet"]
    assert words in error.messages[0]


def test_a_ridet_already_taken_is_refused_naming_the_supplier_that_has_it(acheteur):
    create(acheteur, name="Calédonie Réseaux", ridet="7654321.001")
    error = refusal(lambda: create(acheteur, name="Autre", ridet="7654321001"))
    assert error.code == "ridet_taken"
    assert "7654321.001" in error.messages[0]
    assert "Calédonie Réseaux" in error.messages[0]


def test_a_ridet_of_a_deactivated_supplier_says_to_reactivate_it(acheteur):
    old = create(acheteur, name="Ancien Prestataire", ridet="7654321.001")
    services.supplier_deactivate(user=acheteur, supplier=old)
    error = refusal(lambda: create(acheteur, name="Nouveau", ridet="7654321.001"))
    assert "Ancien Prestataire" in error.messages[0]
    assert "reactivate" in error.messages[0]


def test_another_establishment_of_the_same_company_is_another_supplier(acheteur):
    create(acheteur, ridet="7654321.001")
    assert create(acheteur, name="Agence de Koné", ridet="7654321.002").ridet == "7654321.002"


@pytest.mark.parametrize("account", [VALID_RIB, VALID_RIB_WITH_LETTER, VALID_IBAN, VALID_NC_IBAN])
def test_a_rib_or_an_iban_with_the_right_key_is_accepted(acheteur, account):
    supplier = create(acheteur, bank_account=account)
    assert supplier.bank_account == "".join(account.split()).upper()


def test_a_rib_with_a_wrong_key_is_refused_giving_the_expected_key(acheteur):
    error = refusal(lambda: create(acheteur, bank_account="17499 00010 12345678901 42"))
    assert list(error.error_dict) == ["bank_account"]
    assert "42" in error.messages[0] and "02" in error.messages[0]


@pytest.mark.parametrize(
    "account",
    [
        "FR76 3000 6000 0112 3456 7890 188",  # check digits wrong
        "FR76 3000",  # too short
        "17499 00010 1234567890",  # a RIB missing characters
        "1749900010123456789010",
    ],
)
def test_a_bad_iban_or_a_malformed_rib_is_refused(acheteur, account):
    error = refusal(lambda: create(acheteur, bank_account=account))
    assert list(error.error_dict) == ["bank_account"]


@pytest.mark.parametrize("terms", [-1, 366, 10_000, "abc", "12.5", True, None])
def test_payment_terms_outside_0_to_365_days_are_refused(acheteur, terms):
    error = refusal(lambda: create(acheteur, payment_terms_days=terms))
    assert list(error.error_dict) == ["payment_terms_days"]
    assert "0 to 365" in error.messages[0]


@pytest.mark.parametrize("terms", [0, 365, "60"])
def test_payment_terms_of_0_to_365_days_are_accepted(acheteur, terms):
    assert create(acheteur, payment_terms_days=terms).payment_terms_days == int(terms)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "   "),
        ("name", "x" * 201),
        ("email", "pas-une-adresse"),
        ("phone", "appelez-moi"),
        ("contact_name", "x" * 121),
    ],
)
def test_other_bad_fields_are_refused_on_their_field(acheteur, field, value):
    error = refusal(lambda: create(acheteur, **{field: value}))
    assert list(error.error_dict) == [field]


def test_only_the_buyers_keep_suppliers(cast):
    from dsi_finance.roles import Role

    for role, user in cast.items():
        if role == Role.ACHAT:
            continue
        with pytest.raises(PermissionDenied):
            create(user)
    assert Supplier.objects.count() == 0


# --- Update --------------------------------------------------------------------------


def test_an_update_changes_the_given_fields_and_records_who_and_what(acheteur):
    supplier = create(acheteur, payment_terms_days=30)
    updated = services.supplier_update(
        user=acheteur, supplier=supplier, payment_terms_days=60, ridet="1234567.002"
    )
    supplier.refresh_from_db()
    assert (supplier.payment_terms_days, supplier.ridet) == (60, "1234567.002")
    assert updated.name == "Nouméa Informatique SARL"
    latest = supplier.history.first()
    assert latest.history_user == acheteur
    assert {change.field for change in latest.diff_against(latest.prev_record).changes} == {
        "ridet",
        "payment_terms_days",
    }


def test_an_update_that_changes_nothing_writes_no_history(acheteur):
    supplier = create(acheteur)
    services.supplier_update(
        user=acheteur, supplier=supplier, name=supplier.name, ridet="1234567001"
    )
    assert supplier.history.count() == 1


def test_an_update_to_a_taken_ridet_is_refused_and_changes_nothing(acheteur):
    create(acheteur, name="Premier", ridet="1111111.001")
    second = create(acheteur, name="Second", ridet="2222222.001")
    error = refusal(
        lambda: services.supplier_update(
            user=acheteur, supplier=second, ridet="1111111.001", payment_terms_days=10
        )
    )
    assert "Premier" in error.messages[0]


def test_a_stored_value_is_not_judged_again_when_it_does_not_change(acheteur):
    # An account entered before the checks (the factory's RIB key is wrong).
    supplier = SupplierFactory(bank_account="17499 00010 12345678901 42")
    services.supplier_update(
        user=acheteur,
        supplier=supplier,
        bank_account="17499 00010 12345678901 42",
        phone="+687 28 00 00",
    )
    supplier.refresh_from_db()
    assert supplier.phone == "+687 28 00 00"


def test_an_unknown_field_is_a_programming_error(acheteur):
    supplier = create(acheteur)
    with pytest.raises(TypeError):
        services.supplier_update(user=acheteur, supplier=supplier, is_active=False)


def test_a_reader_cannot_update(acheteur, controleur):
    supplier = create(acheteur)
    with pytest.raises(PermissionDenied):
        services.supplier_update(user=controleur, supplier=supplier, name="Autre")
    supplier.refresh_from_db()
    assert supplier.name == "Nouméa Informatique SARL"


# --- Deactivation ---------------------------------------------------------------------


def test_a_deactivated_supplier_keeps_everything_and_leaves_the_active_list(acheteur):
    kept = create(acheteur, name="Actif", ridet="1111111.001")
    gone = create(acheteur, name="Inactif", ridet="2222222.001", bank_account=VALID_RIB)
    services.supplier_deactivate(user=acheteur, supplier=gone)
    gone.refresh_from_db()
    assert gone.is_active is False
    assert gone.bank_account == "17499000101234567890102"
    assert list(selectors.active_suppliers()) == [kept]
    assert set(selectors.suppliers(active=False)) == {gone}
    assert set(selectors.suppliers()) == {kept, gone}
    assert gone.history.first().history_user == acheteur


def test_deactivating_twice_or_reactivating_an_active_supplier_is_refused(acheteur):
    supplier = create(acheteur)
    refusal(lambda: services.supplier_reactivate(user=acheteur, supplier=supplier))
    services.supplier_deactivate(user=acheteur, supplier=supplier)
    refusal(lambda: services.supplier_deactivate(user=acheteur, supplier=supplier))
    services.supplier_reactivate(user=acheteur, supplier=supplier)
    supplier.refresh_from_db()
    assert supplier.is_active is True
    assert list(selectors.active_suppliers()) == [supplier]


def test_only_the_buyers_deactivate(acheteur, chef):
    supplier = create(acheteur)
    with pytest.raises(PermissionDenied):
        services.supplier_deactivate(user=chef, supplier=supplier)
    supplier.refresh_from_db()
    assert supplier.is_active is True


def test_a_deactivated_supplier_cannot_be_committed_to(acheteur, chef):
    supplier = create(acheteur)
    services.supplier_deactivate(user=acheteur, supplier=supplier)
    line = funded_line(1_000_000)
    with pytest.raises(ProcurementError):
        commitment_create(
            user=chef,
            kind=Commitment.Kind.RECURRING,
            supplier=supplier,
            subject="Maintenance",
            lines=[LineSpec(budget_line=line, description="Maintenance", amount=100_000)],
        )
    assert Commitment.objects.count() == 0


# --- Selectors ----------------------------------------------------------------------------


def test_the_search_finds_a_supplier_by_words_of_its_name_or_its_ridet_as_typed(acheteur):
    one = create(acheteur, name="Nouméa Informatique SARL", ridet="1234567.001")
    two = create(acheteur, name="Calédonie Réseaux", ridet="7654321.002")
    assert list(selectors.suppliers(search="informatique nouméa")) == [one]
    assert list(selectors.suppliers(search="1 234 567")) == [one]
    assert list(selectors.suppliers(search="7654321002")) == [two]
    assert list(selectors.suppliers(search="7654321.002")) == [two]
    assert list(selectors.suppliers(search="rien")) == []


def test_the_supplier_figures_sum_its_documents_in_three_queries(acheteur, chef, comptable):
    supplier = create(acheteur)
    other = create(acheteur, name="Autre", ridet="7654321.001")
    line = funded_line(10_000_000)
    first = commitment_create(
        user=chef,
        kind=Commitment.Kind.RECURRING,
        supplier=supplier,
        subject="Maintenance annuelle",
        lines=[LineSpec(budget_line=line, description="Maintenance", amount=1_200_000)],
    )
    Commitment.objects.filter(pk=first.pk).update(liquidated=200_000, released=100_000)
    commitment_create(
        user=chef,
        kind=Commitment.Kind.RECURRING,
        supplier=supplier,
        subject="Liaisons",
        lines=[LineSpec(budget_line=line, description="Liaisons", amount=300_000)],
    )
    closed = commitment_create(
        user=chef,
        kind=Commitment.Kind.RECURRING,
        supplier=supplier,
        subject="Ancien contrat",
        lines=[LineSpec(budget_line=line, description="Ancien", amount=50_000)],
    )
    Commitment.objects.filter(pk=closed.pk).update(state=Commitment.State.CLOSED)
    commitment_create(
        user=chef,
        kind=Commitment.Kind.RECURRING,
        supplier=other,
        subject="Autre",
        lines=[LineSpec(budget_line=line, description="Autre", amount=70_000)],
    )
    today = date(2026, 6, 30)
    rate = tax_rate("22")

    def invoice(number, *, invoice_date, received_on, paid_after=None, state="entered", ttc=122):
        made = Invoice.objects.create(
            fiscal_year=line.fiscal_year,
            number=f"FA-2026-{number:05d}",
            supplier=supplier,
            supplier_number=f"F{number}",
            supplier_number_key=f"f{number}",
            invoice_date=invoice_date,
            received_on=received_on,
            due_on=received_on + timedelta(days=30),
            amount_ht=100,
            amount_tax=22,
            amount_ttc=ttc,
            amount_ht_currency=100,
            amount_tax_currency=22,
            amount_ttc_currency=ttc,
            state=state,
            payment_date=received_on + timedelta(days=paid_after)
            if paid_after is not None
            else None,
            entered_by=comptable,
        )
        made.lines.create(
            position=1,
            description="Ligne",
            budget_line=line,
            tax_rate=rate,
            amount_ht_currency=100,
            amount_ht=100,
        )
        return made

    invoice(
        1,
        invoice_date=date(2026, 2, 1),
        received_on=date(2026, 2, 3),
        paid_after=20,
        state="liquidated",
        ttc=122_000,
    )
    invoice(
        2,
        invoice_date=date(2026, 3, 1),
        received_on=date(2026, 3, 2),
        paid_after=35,
        state="liquidated",
        ttc=244_000,
    )
    invoice(3, invoice_date=date(2026, 4, 1), received_on=date(2026, 4, 2), ttc=1_000)
    invoice(
        4,
        invoice_date=date(2026, 5, 1),
        received_on=date(2026, 5, 2),
        state="cancelled",
        ttc=9_999_999,
    )
    invoice(
        5,
        invoice_date=date(2025, 12, 20),
        received_on=date(2026, 1, 5),
        paid_after=10,
        state="liquidated",
        ttc=50_000,
    )

    with CaptureQueriesContext(connection) as queries:
        figures = selectors.supplier_figures(supplier=supplier, today=today)
    assert len(queries) == 3
    assert figures.requests == 0
    assert figures.open_commitments == 2
    assert figures.open_remainder == (1_200_000 - 200_000 - 100_000) + 300_000
    assert figures.invoices_this_year == 3
    assert figures.invoiced_this_year == 122_000 + 244_000 + 1_000
    assert figures.paid_invoices == 3
    assert figures.average_payment_days == Decimal("21.7")


def test_a_supplier_without_documents_has_empty_figures(acheteur):
    figures = selectors.supplier_figures(supplier=create(acheteur))
    assert (figures.requests, figures.open_commitments, figures.open_remainder) == (0, 0, 0)
    assert (figures.invoices_this_year, figures.invoiced_this_year) == (0, 0)
    assert figures.average_payment_days is None


def test_the_tgc_rates_in_force_follow_their_validity_dates():
    current = tax_rate("22")
    old = TaxRate.objects.create(
        rate=Decimal("22"),
        label="Ancien",
        valid_from=date(2017, 1, 1),
        valid_until=date(2018, 9, 30),
    )
    future = TaxRate.objects.create(rate=Decimal("25"), label="Futur", valid_from=date(2030, 1, 1))
    in_2026 = set(selectors.tax_rates_in_force(on=date(2026, 6, 1)))
    assert current in in_2026 and old not in in_2026 and future not in in_2026
    assert set(selectors.tax_rates_in_force(on=date(2018, 1, 1))) == {old}
    assert future in set(selectors.tax_rates_in_force(on=date(2030, 1, 1)))
    rates = [rate.rate for rate in selectors.tax_rates_in_force(on=date(2026, 6, 1))]
    assert rates == sorted(rates, reverse=True)


def test_bank_accounts_are_shown_in_their_usual_groups():
    assert selectors.bank_account_display("17499000101234567890102") == "17499 00010 12345678901 02"
    assert (
        selectors.bank_account_display("FR7630006000011234567890189")
        == "FR76 3000 6000 0112 3456 7890 189"
    )
    assert selectors.bank_account_display("") == ""
