"""The shared XLSX export: neutralised text, real numbers and dates, frozen header,
totals, constant memory, the file name; and the user directory's export."""

import io
import tempfile
import tracemalloc
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dsi_finance.exports import (
    AMOUNT,
    DATE,
    DATETIME,
    PERCENT,
    QUANTITY,
    ExportColumn,
    column_letter,
    export_filename,
    sheet_name,
    write_xlsx,
)
from dsi_finance.roles import Role
from dsi_finance.xlsx import DATE_NUMBER_FORMAT, PERCENT_NUMBER_FORMAT, XPF_NUMBER_FORMAT
from tests.assertions import assert_sends_to_login
from tests.factories import UserFactory

COLUMNS = [
    ExportColumn("Libellé"),
    ExportColumn("Date", kind=DATE),
    ExportColumn("Montant", kind=AMOUNT),
    ExportColumn("Taux", kind=PERCENT),
    ExportColumn("Quantité", kind=QUANTITY),
]


def workbook_of(rows, columns=COLUMNS, **kwargs):
    output = io.BytesIO()
    count = write_xlsx(rows, columns, output, title="Factures", **kwargs)
    output.seek(0)
    return count, load_workbook(output).active


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_text_starting_with_a_formula_prefix_is_neutralised(prefix):
    _count, sheet = workbook_of([[f'{prefix}HYPERLINK("http://x")', None, 1, None, None]])
    cell = sheet["A2"]
    assert cell.data_type == "s"
    assert cell.value == f'\'{prefix}HYPERLINK("http://x")'


def test_negative_amounts_stay_numbers_with_the_xpf_format():
    _count, sheet = workbook_of([["Avoir", None, -1500, -2.5, -3]])
    assert sheet["C2"].value == -1500
    assert sheet["C2"].data_type == "n"
    assert sheet["C2"].number_format == XPF_NUMBER_FORMAT
    # A rate in percent is stored as a fraction in a percent format: -2.5 % is -0.025.
    assert sheet["D2"].value == pytest.approx(-0.025)
    assert sheet["D2"].number_format == PERCENT_NUMBER_FORMAT == "0.0%"
    assert sheet["E2"].value == -3


def test_text_is_escaped_and_loses_the_characters_xml_forbids():
    _count, sheet = workbook_of([["Dupont & fils <SARL>\x01", None, 0, None, None]])
    assert sheet["A2"].value == "Dupont & fils <SARL>"


def test_dates_are_date_cells_shown_day_month_year_in_noumea_time():
    columns = [ExportColumn("Jour", kind=DATE), ExportColumn("Quand", kind=DATETIME)]
    late_utc = datetime(2026, 11, 29, 13, 45, tzinfo=UTC)  # 30/11 00:45 in Nouméa
    _count, sheet = workbook_of([[date(2026, 12, 31), late_utc], [late_utc, None]], columns)
    assert sheet["A2"].value == datetime(2026, 12, 31)
    assert sheet["A2"].number_format == DATE_NUMBER_FORMAT
    assert sheet["B2"].value == datetime(2026, 11, 30, 0, 45)
    assert sheet["A3"].value == datetime(2026, 11, 30)


def test_header_is_frozen_bold_and_filtered_over_the_data_rows():
    count, sheet = workbook_of([["a", None, 1, None, None], ["b", None, 2, None, None]])
    assert count == 2
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == ["Libellé", "Date", "Montant", "Taux", "Quantité"]
    assert sheet["A1"].font.b
    assert sheet.auto_filter.ref == "A1:E3"
    assert sheet.title == "Factures"
    assert sheet.column_dimensions["A"].width == 18


def test_amount_columns_get_a_totals_row_and_the_others_do_not():
    columns = [*COLUMNS, ExportColumn("Solde", kind=AMOUNT, total=False)]
    rows = [["a", None, 1000, 10, 2, 7], ["b", None, -250, 20, 3, 8], ["c", None, None, 5, 1, 9]]
    _count, sheet = workbook_of(rows, columns)
    total = [cell.value for cell in sheet[5]]
    assert total == ["Total", None, 750, None, None, None]
    assert sheet["C5"].font.b
    assert sheet["C5"].number_format == XPF_NUMBER_FORMAT


def test_a_list_without_amounts_has_no_totals_row_and_an_empty_one_only_its_header():
    count, sheet = workbook_of([], [ExportColumn("Nom")])
    assert count == 0
    assert sheet.max_row == 1
    assert sheet.auto_filter.ref == "A1:A1"


def test_twenty_thousand_rows_are_written_in_bounded_memory():
    def rows():
        for number in range(20_000):
            yield [f"FA-2026-{number:05d}", date(2026, 1, 1), number, 11, 1]

    with tempfile.TemporaryFile() as output:  # on disk, as the views do: not counted below
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            count = write_xlsx(rows(), COLUMNS, output)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        output.seek(0)
        sheet = load_workbook(output, read_only=True).active
        written = sum(1 for _row in sheet.iter_rows(values_only=True))
    assert count == 20_000
    assert written == 20_002  # with the header and the totals
    # The rows are formatted and compressed as they come: a few hundred kilobytes of
    # buffers, not the ~2 MB of XML (nor the ~20 MB of cell objects) of 20 000 rows.
    assert peak < 3_000_000


def test_the_file_name_is_the_lists_french_name_and_the_date():
    assert export_filename("achats-factures", date(2026, 11, 29)) == (
        "achats-factures-2026-11-29.xlsx"
    )


def test_sheet_names_and_column_letters_follow_excels_rules():
    assert sheet_name("Factures [2026]: à payer?") == "Factures  2026   à payer"
    assert len(sheet_name("x" * 40)) == 31
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]


def test_an_unknown_column_kind_is_refused():
    with pytest.raises(ValueError):
        ExportColumn("x", kind="money")


# --- The user directory --------------------------------------------------------


def directory_export(client, **params):
    return client.get(reverse("user-directory"), {**params, "export": "xlsx"})


def read(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_the_user_directory_exports_the_filtered_people_with_their_roles(client_as, directeur):
    UserFactory(username="achat1", first_name="=Jean", last_name="Dupont", roles=[Role.ACHAT])
    UserFactory(username="achat2", first_name="Marie", last_name="Wamytan", roles=[Role.ACHAT])
    UserFactory(username="compta", roles=[Role.COMPTABILITE])
    response = directory_export(client_as(directeur), role=Role.ACHAT)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="personnes-')
    sheet = read(response)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[1] for row in rows] == ["achat1", "achat2"]  # the page's order, by name
    assert rows[0][0] == "'=Jean Dupont"
    assert rows[0][3] == str(Role.ACHAT.label)


def test_the_user_directory_export_has_the_pages_permission(client, client_as, acheteur):
    assert directory_export(client_as(acheteur)).status_code == 403
    client.logout()
    assert_sends_to_login(directory_export(client))


def test_the_export_button_keeps_the_filters_and_drops_the_page(client_as, directeur):
    response = client_as(directeur).get(reverse("user-directory"), {"role": "achat", "page": 2})
    assert response.context["export_url"] == "/personnes/?role=achat&export=xlsx"
    assert b'data-testid="export-xlsx"' in response.content
