"""The kernel's safe XLSX reader (dsi_finance.xlsx), which every import uses: size and
zip-bomb limits, a file that is no workbook, headers in any language, case or accent,
typed cells, and every row's error kept with its row number, in French."""

import zipfile
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from dsi_finance import xlsx

COLUMNS = (
    xlsx.Column("code", gettext_lazy("Line code")),
    xlsx.Column("amount", gettext_lazy("Amount or change"), kind=xlsx.FRANCS),
    xlsx.Column(
        "paid_on",
        gettext_lazy("Payment date"),
        kind=xlsx.DATE,
        label=gettext_lazy("The payment date"),
    ),
    xlsx.Column("quantity", gettext_lazy("Quantity"), kind=xlsx.DECIMAL),
    xlsx.Column("raw", gettext_lazy("Justification"), kind=xlsx.RAW),
)
HEADER = ["Code ligne", "Montant ou variation", "Date de paiement", "Quantité", "Justification"]


def workbook(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def header_error() -> xlsx.ImportFileError:
    return xlsx.ImportFileError("En-tête attendu.", code="header")


def read(content, **options):
    return xlsx.read_sheet(content, COLUMNS, header_error=header_error, **options)


def refused(content, **options) -> xlsx.ImportFileError:
    with pytest.raises(xlsx.ImportFileError) as error:
        read(content, **options)
    return error.value


# --- Files that cannot be used ------------------------------------------------------


def test_a_file_above_the_size_limit_is_refused_before_it_is_opened():
    error = refused(workbook([]), max_bytes=100)
    assert error.code == "too_large" and error.messages[0].startswith("Le fichier dépasse ")
    assert len(read(workbook([]), max_bytes=1024 * 1024)) == 0  # the same file, a larger limit


def test_an_upload_above_the_size_limit_is_not_even_read():
    upload = SimpleUploadedFile("gros.xlsx", b"x" * (2 * 1024 * 1024))
    with pytest.raises(xlsx.ImportFileError) as error:
        xlsx.upload_content(upload, max_bytes=1024 * 1024)
    assert error.value.code == "too_large"
    assert error.value.messages == ["Le fichier dépasse 1\u00a0Mo."]


def test_an_empty_upload_is_refused_and_a_small_one_read_whole():
    with pytest.raises(xlsx.ImportFileError) as error:
        xlsx.upload_content(SimpleUploadedFile("vide.xlsx", b""))
    assert (error.value.code, error.value.messages) == ("empty", ["Le fichier est vide."])
    content = workbook([])
    assert xlsx.upload_content(SimpleUploadedFile("ok.xlsx", content)) == content


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", "0" * 50_000)  # a few hundred bytes, 50 kB inflated
    error = refused(buffer.getvalue(), max_uncompressed=10_000)
    assert error.code == "too_large"
    assert "trop volumineux une fois ouvert" in error.messages[0]


@pytest.mark.parametrize(
    "content",
    [b"code;montant\nF-MAINT;1000\n", b"%PDF-1.4", b"PK\x03\x04 broken zip", b""],
)
def test_a_file_that_is_not_an_xlsx_is_refused_in_french(content):
    error = refused(content)
    assert error.code == "not_xlsx"
    assert error.messages == [
        "Ce fichier n’est pas un classeur XLSX lisible : enregistrez-le depuis votre "
        "tableur au format « .xlsx »."
    ]


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "pas un classeur")
    assert refused(buffer.getvalue()).code == "not_xlsx"


def test_more_rows_than_the_limit_are_refused_blank_rows_not_counted():
    rows = [["A", 1, None, None, None], [None] * 5, ["B", 2, None, None, None]]
    assert len(read(workbook(rows), max_rows=2)) == 2
    error = refused(workbook([*rows, ["C", 3, None, None, None]]), max_rows=2)
    assert error.code == "too_many_rows"
    assert error.messages == ["Le fichier dépasse 2 lignes : découpez-le."]


# --- Headers -------------------------------------------------------------------------


def test_a_sheet_without_the_header_gets_the_imports_own_message():
    error = refused(workbook([["A", 1, None, None, None]], header=None))
    assert (error.code, error.messages) == ("header", ["En-tête attendu."])
    assert refused(workbook([], header=[])).code == "header"  # an empty sheet


@pytest.mark.parametrize(
    "header",
    [
        HEADER,
        ["Line code", "Amount or change", "Payment date", "Quantity", "Justification"],
        [
            "  CODE   LIGNE ",
            "montant ou VARIATION",
            "date de paiement",
            "QUANTITE",
            "justification",
        ],
    ],
)
def test_the_header_may_be_french_english_without_accents_case_or_spacing(header):
    (row,) = read(workbook([["A", 1, None, None, None]], header=header))
    assert row["code"] == "A"


def test_in_order_the_columns_must_stand_in_their_order():
    shuffled = [HEADER[1], HEADER[0], *HEADER[2:]]
    assert refused(workbook([], header=shuffled)).code == "header"


def test_by_header_the_columns_are_found_anywhere_and_the_import_says_what_is_enough():
    header = ["Remarque", "Date de paiement", "Code ligne"]
    rows = read(
        workbook([["x", "31/12/2026", "A"]], header=header),
        in_order=False,
        header_ok=lambda found: {"code", "paid_on"} <= found,
    )
    assert [(row["code"], row["paid_on"], row["amount"]) for row in rows] == [
        ("A", date(2026, 12, 31), None)
    ]
    error = refused(
        workbook([], header=["Code ligne"]),
        in_order=False,
        header_ok=lambda found: {"code", "paid_on"} <= found,
    )
    assert error.code == "header"


def test_the_typographic_apostrophe_matches_the_straight_one():
    column = xlsx.Column("supplier_number", gettext_lazy("Supplier's invoice number"))
    titles = xlsx.header_titles(column)
    assert xlsx.normalise_header("Supplier’s INVOICE number") in titles
    assert xlsx.normalise_header("Supplier invoice number") not in titles


# --- Cells ---------------------------------------------------------------------------


def test_cells_are_typed_by_their_column():
    (first, second) = read(
        workbook(
            [
                ["'=A1", "1 234 567", datetime(2026, 3, 31, 0, 0), 2.5, "  brut  "],
                [42.0, 250_000, "2026-04-01", "1,125", None],
            ]
        )
    )
    # Text trimmed, the export's neutralising quote taken off, a float's integer as text.
    assert first["code"] == "=A1" and second["code"] == "42"
    # Whole francs through dsi_finance.money.parse_francs.
    assert (first["amount"], second["amount"]) == (1_234_567, 250_000)
    assert (first["paid_on"], second["paid_on"]) == (date(2026, 3, 31), date(2026, 4, 1))
    assert (first["quantity"], second["quantity"]) == (Decimal("2.5"), Decimal("1.125"))
    assert isinstance(first["quantity"], Decimal)
    assert (first["raw"], second["raw"]) == ("  brut  ", None)  # raw: as the sheet holds it
    assert not first.errors and not second.errors


@pytest.mark.parametrize("typed", ["31/12/2026", "2026-12-31", "31-12-2026", "31.12.2026"])
def test_a_date_is_read_in_every_usual_spelling(typed):
    (row,) = read(workbook([["A", None, typed, None, None]]))
    assert row["paid_on"] == date(2026, 12, 31)


def test_every_rows_errors_are_kept_with_the_sheet_row_number_in_french():
    rows = read(
        workbook(
            [
                ["A", "250.5", "demain", "beaucoup", None],  # row 2: three bad cells
                [None] * 5,  # row 3: blank, skipped
                ["B", 1000, "31/12/2026", 3, None],  # row 4: right
                ["C", "12,5", None, None, None],  # row 5: a fraction of a franc
            ]
        )
    )
    assert [row.number for row in rows] == [2, 4, 5]
    bad, right, fraction = rows
    assert right.errors == {}
    assert set(bad.errors) == {"amount", "paid_on", "quantity"}
    assert bad.values["amount"] is None and bad.values["paid_on"] is None
    assert bad.errors["paid_on"] == (
        "La date de paiement «\u00a0demain\u00a0» n’est pas une date (attendu\u00a0: 31/12/2026)."
    )
    assert bad.errors["quantity"] == "Quantité doit être un nombre."
    assert "250,5 francs" in bad.errors["amount"]
    assert list(fraction.errors) == ["amount"] and "12,5" in fraction.errors["amount"]


def test_an_empty_typed_cell_is_none_not_an_error():
    (row,) = read(workbook([["A", None, None, "", None]]))
    assert (row["amount"], row["paid_on"], row["quantity"], row.errors) == (None, None, None, {})
