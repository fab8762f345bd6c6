"""The provisions of the closing (received, not invoiced): the selector, the report
files, the page and the arguments pilotage writes beside them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from dsi_finance.xlsx import XPF_NUMBER_FORMAT
from reporting.models import ProvisionArgument
from reporting.reports import builder_for, clean_parameters
from reporting.selectors.provisions import provisions, provisions_total
from reporting.services.provisions import provision_argument_set
from tests.assertions import assert_sends_to_login
from tests.reporting import provisions_closing
from tests.reporting.provisions_closing import D, at
from tests.reporting.report_helpers import normalise, pdf_text

pytestmark = pytest.mark.django_db

closing = provisions_closing.closing  # the fixture


def test_provisions_value_what_was_received_and_not_invoiced_at_the_unit_price(closing):
    c1, c2, _c3, c4 = closing["commitments"]
    rows = provisions(fiscal_year=2026)
    assert [(row.budget_line.code, row.supplier.name, row.amount) for row in rows] == [
        ("F-6156-RES", "Pacific Réseaux SARL", 20_000),  # 3 of 5 still to come: 2 × 10 000
        # 2 × 123 457 + 2.5 × 100 001 (250 002.5, half rounded up)
        ("I-2183-SERV", "=Evil SARL", 246_914 + 250_003),
    ]
    assert rows[1].commitments == [c1.number, c2.number]
    assert rows[0].commitments == [c4.number]
    assert provisions_total(rows) == 516_917


def test_provisions_at_a_past_date_count_only_receipts_and_invoices_received_by_then(closing):
    rows = provisions(fiscal_year=2026, as_of=D(2026, 11, 12))
    # c1's invoice came on 15 November: all 3 received are owed on the 12th.
    assert [(row.budget_line.code, row.amount) for row in rows] == [
        ("F-6156-RES", 20_000),
        ("I-2183-SERV", 370_371 + 250_003),
    ]
    assert provisions(fiscal_year=2026, as_of=D(2026, 11, 5)) and not provisions(
        fiscal_year=2026, as_of=D(2026, 11, 4)
    )


def test_pilotage_writes_an_argument_and_its_history_is_kept(closing, chef):
    servers, evil = closing["servers"], closing["evil"]
    provision_argument_set(user=chef, budget_line=servers, supplier=evil, text=" Livré le 5/11 ")
    argument = provision_argument_set(
        user=chef, budget_line=servers, supplier=evil, text="Facture attendue en janvier"
    )
    assert argument.text == "Facture attendue en janvier" and argument.updated_by == chef
    assert [h.text for h in argument.history.order_by("history_id")] == [
        "Livré le 5/11",
        "Facture attendue en janvier",
    ]
    row = next(row for row in provisions(fiscal_year=2026) if row.supplier == evil)
    assert row.argument_text == "Facture attendue en janvier"


def test_an_argument_is_refused_to_other_roles_and_on_bad_input(closing, chef, directeur):
    servers, evil, pacific = closing["servers"], closing["evil"], closing["pacific"]
    with pytest.raises(PermissionDenied):
        provision_argument_set(user=directeur, budget_line=servers, supplier=evil, text="x")
    with pytest.raises(ValidationError) as caught:
        provision_argument_set(user=chef, budget_line=servers, supplier=evil, text="x" * 2001)
    assert caught.value.messages == ["L’argument est trop long : 2000 caractères au plus."]
    with pytest.raises(ValidationError) as caught:
        provision_argument_set(user=chef, budget_line=servers, supplier=pacific, text="x")
    assert caught.value.messages == [
        "Aucun engagement de Pacific Réseaux SARL n’est imputé sur la ligne I-2183-SERV."
    ]
    assert not ProvisionArgument.objects.exists()


def build(fmt):
    with at(2026, 11, 29, 9, 0):
        return builder_for("provisions", fmt)(
            parameters=clean_parameters("provisions", {"year": "2026"}), progress=None
        )


def test_the_xlsx_lists_the_provisions_with_their_arguments_and_the_total(closing, chef):
    provision_argument_set(
        user=chef,
        budget_line=closing["servers"],
        supplier=closing["evil"],
        text="=Livré, facture attendue",
    )
    built = build("xlsx")
    assert built.filename == "synthese-provisions-2026_2026-11-29.xlsx"
    workbook = load_workbook(built.path)
    assert workbook.sheetnames == ["Provisions", "Par ligne budgétaire"]
    sheet = workbook["Provisions"]
    assert sheet.freeze_panes == "A2"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "Ligne budgétaire",
        "Libellé",
        "Fournisseur",
        "Engagements",
        "Montant HT",
        "Arguments",
    ]
    assert rows[2][2] == "'=Evil SARL" and rows[2][5] == "'=Livré, facture attendue"
    assert [row[4] for row in rows[1:]] == [20_000, 496_917, 516_917]
    assert rows[-1][0] == "Total"
    assert sheet["E2"].number_format == XPF_NUMBER_FORMAT
    by_line = [list(row) for row in workbook["Par ligne budgétaire"].iter_rows(values_only=True)]
    assert by_line[-1] == ["Total", None, 516_917]
    built.path.unlink()


def test_the_pdf_shows_the_provisions_the_total_and_the_header(closing, chef):
    provision_argument_set(
        user=chef, budget_line=closing["servers"], supplier=closing["evil"], text="Livré le 5/11"
    )
    built = build("pdf")
    assert built.filename == "synthese-provisions-2026_2026-11-29.pdf"
    text = normalise(pdf_text(built.path))
    assert "Synthèse des provisions" in text
    assert "Direction des systèmes d’information" in text
    assert "rapport du 29/11/2026" in text
    assert "Page 1 / 1" in text
    assert "516 917 F CFP" in text
    assert "496 917" in text and "=Evil SARL" in text and "Livré le 5/11" in text
    built.path.unlink()


# --- The page --------------------------------------------------------------------


def page(client, year=2026):
    return client.get(reverse("reporting:provisions"), {"year": year})


def test_the_roles_that_read_everything_see_the_provisions(closing, client_as, directeur):
    response = page(client_as(directeur))
    assert response.status_code == 200
    content = normalise(response.content.decode())
    assert "516 917 F CFP" in content and "=Evil SARL" in content
    assert "<textarea" not in content  # reading only


def test_pilotage_gets_a_form_per_row(closing, client_as, chef, controleur):
    content = page(client_as(chef)).content.decode()
    assert content.count("<textarea") == 2
    assert page(client_as(controleur)).status_code == 200


def test_other_roles_are_refused_and_anonymous_sent_to_login(
    closing, client, client_as, acheteur, comptable, sans_role
):
    assert_sends_to_login(page(client))
    for user in (acheteur, comptable, sans_role):
        assert page(client_as(user)).status_code == 403


def test_a_bad_year_gets_a_french_message(closing, client_as, chef):
    response = page(client_as(chef), year=1999)
    assert response.status_code == 400
    assert "L’exercice « 1999 » n’existe pas." in response.content.decode()


def post_argument(client, closing, text, **headers):
    return client.post(
        reverse("reporting:provision-argument"),
        {
            "budget_line": closing["servers"].pk,
            "supplier": closing["evil"].pk,
            "text": text,
        },
        **headers,
    )


def test_pilotage_saves_an_argument_in_place_with_htmx(closing, client_as, chef):
    response = post_argument(client_as(chef), closing, "Facture en retard", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Facture en retard" in response.content.decode()
    assert "<html" not in response.content.decode()  # the row only
    assert ProvisionArgument.objects.get().text == "Facture en retard"


def test_pilotage_saves_an_argument_with_the_plain_form(closing, client_as, chef):
    response = post_argument(client_as(chef), closing, "Livré")
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:provisions") + "?year=2026"
    assert ProvisionArgument.objects.get().text == "Livré"


def test_a_too_long_argument_is_refused_in_french_and_nothing_changes(closing, client_as, chef):
    response = post_argument(client_as(chef), closing, "x" * 2001, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "L’argument est trop long" in response.content.decode()
    assert not ProvisionArgument.objects.exists()


def test_writing_an_argument_is_refused_to_readers_get_and_anonymous(
    closing, client, client_as, directeur
):
    url = reverse("reporting:provision-argument")
    assert_sends_to_login(post_argument(client, closing, "x"))
    assert post_argument(client_as(directeur), closing, "x").status_code == 403
    assert client_as(directeur).get(url).status_code == 403
    assert not ProvisionArgument.objects.exists()


def test_writing_an_argument_refuses_get(closing, client_as, chef):
    assert client_as(chef).get(reverse("reporting:provision-argument")).status_code == 405


def test_the_page_exports_its_rows_in_the_reports_layout(closing, client_as, controleur):
    import io

    response = client_as(controleur).get(
        reverse("reporting:provisions"), {"year": 2026, "export": "xlsx"}
    )
    assert response.status_code == 200
    assert 'filename="pilotage-provisions-2026' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(row[0], row[2], row[4]) for row in rows] == [
        ("F-6156-RES", "Pacific Réseaux SARL", 20_000),
        ("I-2183-SERV", "'=Evil SARL", 496_917),  # neutralised: never a formula
        ("Total", None, 516_917),
    ]
