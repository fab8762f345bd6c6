"""XLSX of revisions: the export layout, reading a proposal, every row error, and the
all-or-nothing import service, with the export → import round trip."""

import zipfile
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook, load_workbook

from budgets import services
from budgets.models import BudgetLine, RevisionItem
from budgets.revision_import import revision_import
from budgets.xlsx import (
    ADDED,
    CHANGED,
    ERROR,
    NEW_LINE,
    UNCHANGED,
    check_revision_rows,
    read_revision_sheet,
    revision_workbook,
)
from dsi_finance.xlsx import XPF_NUMBER_FORMAT, ImportFileError
from tests.budgets.test_revision_views import draft, items_of, make_budget, xpf
from tests.factories import FiscalYearFactory, fund

pytestmark = pytest.mark.django_db

HEADER = [
    "Code ligne",
    "Libellé",
    "Section (F/I)",
    "Compte de nature",
    "Centre de coûts",
    "Projet",
    "Montant ou variation",
    "Justification",
]


@pytest.fixture
def budget(db):
    return make_budget()


def workbook_bytes(rows, header=HEADER) -> bytes:
    """An XLSX as a person would make it: the header, then the given rows."""
    workbook = Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_values(content: bytes) -> list[tuple]:
    sheet = load_workbook(BytesIO(content)).worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


# ---------------------------------------------------------------------------
# Amounts


# ---------------------------------------------------------------------------
# Export


def test_the_export_has_one_sheet_a_header_and_one_row_per_item_in_the_import_layout(budget):
    bp = draft(budget, "BP", {budget.maint: 12_000_000, budget.erp_line: 25_000_000})
    content = revision_workbook(bp)
    workbook = load_workbook(BytesIO(content))
    assert len(workbook.worksheets) == 1
    sheet = workbook.worksheets[0]
    assert sheet.title == "BP 2026"
    assert sheet.freeze_panes == "A2"
    assert sheet_values(content) == [
        tuple(HEADER),
        (
            "F-MAINT",
            "Maintenance des serveurs",
            "F",
            "6156",
            "INFRA",
            None,
            12_000_000,
            "Justification F-MAINT",
        ),
        (
            "I-ERP",
            "Matériel du projet ERP",
            "I",
            "2183",
            "APPLI",
            "PRJ-ERP",
            25_000_000,
            "Justification I-ERP",
        ),
    ]
    assert sheet["G2"].number_format == XPF_NUMBER_FORMAT
    assert sheet["G2"].data_type == "n"  # a number, not text


def test_the_export_neutralises_text_that_a_spreadsheet_would_run(budget, chef):
    bp = draft(budget, "BP")
    services.revision_item_set(
        user=chef,
        revision=bp,
        budget_line=budget.maint,
        amount=1000,
        justification='=HYPERLINK("http://example.com")',
    )
    ((*_, justification),) = sheet_values(revision_workbook(bp))[1:]
    assert justification == '\'=HYPERLINK("http://example.com")'
    cell = load_workbook(BytesIO(revision_workbook(bp))).worksheets[0]["H2"]
    assert cell.data_type == "s"  # text, never a formula


def test_a_dm_exports_its_signed_changes(budget):
    fund({budget.maint: 12_000_000, budget.tel: 4_500_000})
    dm1 = draft(budget, "DM1", {budget.maint: -2_000_000, budget.tel: 500_000})
    values = sheet_values(revision_workbook(dm1))[1:]
    assert [(row[0], row[6]) for row in values] == [("F-MAINT", -2_000_000), ("F-TEL", 500_000)]


# ---------------------------------------------------------------------------
# Reading a file


def test_a_file_that_is_not_an_xlsx_is_refused_with_a_french_message():
    for content in (b"code;montant\nF-MAINT;1000\n", b"PK\x03\x04 broken zip", b""):
        with pytest.raises(ImportFileError) as error:
            read_revision_sheet(content)
        assert error.value.messages == [
            "Ce fichier n’est pas un classeur XLSX lisible : enregistrez-le depuis votre "
            "tableur au format « .xlsx »."
        ]


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "pas un classeur")
    with pytest.raises(ImportFileError) as error:
        read_revision_sheet(buffer.getvalue())
    assert "n’est pas un classeur XLSX lisible" in error.value.messages[0]


def test_a_zip_bomb_is_refused_before_it_is_opened(monkeypatch):
    import budgets.xlsx

    monkeypatch.setattr(budgets.xlsx, "IMPORT_MAX_UNCOMPRESSED", 1000)
    with pytest.raises(ImportFileError) as error:
        read_revision_sheet(workbook_bytes([["F-MAINT", "x", "F", "6156", "INFRA", "", 1, ""]]))
    assert "trop volumineux une fois ouvert" in error.value.messages[0]


def test_a_sheet_without_the_header_is_refused_naming_the_columns():
    with pytest.raises(ImportFileError) as error:
        read_revision_sheet(
            workbook_bytes([["F-MAINT", "x", "F", "6156", "INFRA", "", 1, ""]], header=None)
        )
    (message,) = error.value.messages
    assert message.startswith("La première ligne de la feuille doit être l’en-tête : Code ligne, ")


def test_the_header_may_be_in_english_or_without_accents():
    english = [
        "Line code",
        "Label",
        "Section (F/I)",
        "Account",
        "Cost centre",
        "Project",
        "Amount or change",
        "Justification",
    ]
    rows = read_revision_sheet(workbook_bytes([["A", "", "F", "6156", "X", "", 1, ""]], english))
    assert [row.code for row in rows] == ["A"]
    plain = [header.replace("é", "e").replace("û", "u").upper() for header in HEADER]
    assert (
        len(read_revision_sheet(workbook_bytes([["A", "", "", "1", "X", "", 1, ""]], plain))) == 1
    )


def test_rows_keep_their_sheet_numbers_and_blank_rows_are_skipped():
    content = workbook_bytes(
        [
            ["F-MAINT", "Maintenance", "F", 6156, "INFRA", None, 1000, "  motif  "],
            [None] * 8,
            ["F-TEL", "Télécom", "F", "6262", "INFRA", None, "2 000", "'=urgent"],
        ]
    )
    first, second = read_revision_sheet(content)
    assert (first.number, first.account, first.amount, first.justification) == (
        2,
        "6156",
        1000,
        "motif",
    )
    # The export's neutralising apostrophe is taken off again.
    assert (second.number, second.amount, second.justification) == (4, "2 000", "=urgent")


# ---------------------------------------------------------------------------
# Checking rows


def check(revision, rows, replace=False):
    return check_revision_rows(revision, read_revision_sheet(workbook_bytes(rows)), replace=replace)


def test_a_clean_file_gets_a_status_per_row(budget):
    bp = draft(budget, "BP", {budget.maint: 12_000_000, budget.tel: 4_500_000})
    result = check(
        bp,
        [
            ["F-MAINT", "", "F", "6156", "INFRA", "", 12_000_000, "Justification F-MAINT"],
            ["F-TEL", "", "F", "6262", "INFRA", "", 5_000_000, "Hausse des débits"],
            ["I-POSTES", "", "I", "2183", "APPLI", "", 8_000_000, ""],
            ["F-CLOUD", "Hébergement cloud", "F", "6156", "APPLI", "", 3_600_000, ""],
        ],
    )
    assert result.ok and result.error_count == 0
    assert [row.status for row in result.rows] == [UNCHANGED, CHANGED, ADDED, NEW_LINE]
    assert [row.current for row in result.rows] == [12_000_000, 4_500_000, None, None]
    assert result.total == 12_000_000 + 5_000_000 + 8_000_000 + 3_600_000


def test_every_error_of_every_row_is_reported_with_its_row_number(budget):
    fund({budget.maint: 10_000_000})
    services.credits_commit(
        user=services_user(), document=budget.maint, amounts={budget.maint: 7_000_000}
    )
    dm1 = draft(budget, "DM1")
    result = check(
        dm1,
        [
            # 2: unknown account, unknown cost centre, unknown project, text amount
            ["F-NEW1", "Nouveau", "F", "9999", "NOPE", "PRJ-X", "beaucoup", ""],
            # 3: section does not match the account's chapter, decimal amount
            ["F-NEW2", "Nouveau 2", "I", "6262", "APPLI", "PRJ-ERP", 10.5, ""],
            # 4 and 5: the same code twice
            ["F-TEL", "", "F", "6262", "INFRA", "", 1000, ""],
            ["F-TEL", "", "F", "6262", "APPLI", "", 2000, ""],
            # 6: an existing line with another account, cost centre and project; empty amount
            ["I-POSTES", "", "", "6262", "INFRA", "PRJ-ERP", None, ""],
            # 7: new line without label; zero change
            ["F-NEW3", "", "F", "6156", "APPLI", "PRJ-ERP", 0, ""],
            # 8: a cut below what is committed
            ["F-MAINT", "", "F", "6156", "INFRA", "", -4_000_000, ""],
            # 9: an absurd amount, bad section letter
            ["F-NEW4", "Énorme", "X", "6156", "APPLI", "", 10**13, ""],
            # 10 and 11: the same axes on two new codes
            ["I-NEW5", "Serveurs", "I", "2183", "INFRA", "", 100, ""],
            ["I-NEW6", "Serveurs bis", "I", "2183", "INFRA", "", 100, ""],
            # 12: a new line taking the axes of an existing one; a new line starting with a cut
            ["I-NEW7", "Doublon", "I", "2183", "APPLI", "", -5, ""],
        ],
    )
    assert not result.ok
    errors = {row.sheet.number: row.errors for row in result.rows}
    assert errors[2] == [
        "Compte de nature 9999 inconnu.",
        "Centre de coûts NOPE inconnu.",
        "Projet PRJ-X inconnu.",
        "Le montant de la variation n’est pas un nombre : « beaucoup ».",
    ]
    assert errors[3] == [
        "La section I ne correspond pas au compte 6262, dont le chapitre 011 relève de la "
        "section Fonctionnement (OPEX).",
        "Le montant de la variation «\u00a010.5\u00a0»\u00a0: 10,5 francs\u00a0? Le franc "
        "CFP n’a pas de décimales\u00a0; tapez 10.",
    ]
    assert errors[4] == ["Le code de ligne F-TEL figure sur plusieurs lignes du fichier : 4, 5."]
    assert errors[5] == [
        "Le code de ligne F-TEL figure sur plusieurs lignes du fichier : 4, 5.",
        "La ligne F-TEL existe avec le centre de coûts INFRA, pas APPLI.",
    ]
    assert errors[6] == [
        "La ligne I-POSTES existe avec le compte 2183, pas 6262.",
        "La ligne I-POSTES existe avec le centre de coûts APPLI, pas INFRA.",
        "La ligne I-POSTES existe avec le projet (aucun), pas PRJ-ERP.",
        "Le montant de la variation manque.",
    ]
    assert errors[7][0] == "Le libellé manque : F-NEW3 est une nouvelle ligne."
    assert errors[7][1].startswith("Le montant de la variation ne peut pas être nul")
    assert errors[8] == [
        f"Ligne F-MAINT : réduire de {xpf(4_000_000)} laisserait {xpf(6_000_000)} de crédits "
        f"ouverts, moins que les {xpf(7_000_000)} déjà engagés."
    ]
    assert errors[9] == [
        "La section doit être F (fonctionnement) ou I (investissement), pas « X ».",
        f"Le montant de la variation dépasse {xpf(10**12)} : vérifiez le chiffre.",
    ]
    same_axes = (
        "Le même compte, centre de coûts et projet figurent sur plusieurs lignes du fichier : "
        "10, 11."
    )
    assert errors[10] == errors[11] == [same_axes]
    assert errors[12] == [
        "La ligne I-POSTES a déjà ce compte, ce centre de coûts et ce projet : utilisez son code.",
        "La nouvelle ligne I-NEW7 ne peut pas commencer par une réduction.",
    ]
    assert all(row.status == ERROR for row in result.rows)
    messages = result.error_messages()
    assert messages[0] == "Ligne 2 du fichier : Compte de nature 9999 inconnu."
    assert len(messages) == result.error_count == sum(len(e) for e in errors.values())


def test_a_bp_refuses_negative_and_zero_amounts(budget):
    bp = draft(budget, "BP")
    result = check(
        bp,
        [
            ["F-MAINT", "", "F", "6156", "INFRA", "", -1000, ""],
            ["F-TEL", "", "F", "6262", "INFRA", "", "0", ""],
        ],
    )
    assert [row.errors for row in result.rows] == [
        ["Le montant doit être positif."],
        [result.rows[1].errors[0]],
    ]
    assert result.rows[1].errors[0].startswith("Le montant ne peut pas être nul")


def test_a_file_without_rows_cannot_be_saved(budget):
    bp = draft(budget, "BP")
    result = check(bp, [])
    assert not result.ok
    assert result.error_messages() == ["Le fichier ne contient aucune ligne à importer."]


def test_a_different_label_on_an_existing_line_is_a_note_not_an_error(budget):
    bp = draft(budget, "BP")
    result = check(bp, [["F-MAINT", "Autre libellé", "F", "6156", "INFRA", "", 1000, ""]])
    (row,) = result.rows
    assert row.errors == []
    assert row.notes == ["La ligne garde son libellé « Maintenance des serveurs »."]


def test_replacing_lists_the_draft_lines_the_file_leaves_out(budget):
    bp = draft(budget, "BP", {budget.maint: 1000, budget.tel: 2000})
    rows = [["F-MAINT", "", "F", "6156", "INFRA", "", 1000, ""]]
    assert [item.budget_line.code for item in check(bp, rows, replace=True).removed] == ["F-TEL"]
    assert check(bp, rows, replace=False).removed == []


def test_checking_a_file_costs_a_few_queries_whatever_its_size(
    budget, django_assert_max_num_queries
):
    bp = draft(budget, "BP")
    rows = read_revision_sheet(
        workbook_bytes(
            [
                [f"F-N{i:03d}", f"Ligne {i}", "F", "6156", "APPLI", "", 1000 + i, ""]
                for i in range(300)
            ]
        )
    )
    with django_assert_max_num_queries(8):
        result = check_revision_rows(bp, rows)
    assert result.count(NEW_LINE) == 0  # same axes on every row: all refused
    assert result.error_count == 300


# ---------------------------------------------------------------------------
# The import service


def services_user():
    from tests.budgets.test_revision_views import _admin

    return _admin()


def test_the_import_creates_new_lines_and_sets_every_item_in_one_go(budget, chef):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    rows = read_revision_sheet(
        workbook_bytes(
            [
                ["F-MAINT", "", "F", "6156", "INFRA", "", "12 000 000", "Contrats"],
                [
                    "F-CLOUD",
                    "Hébergement cloud",
                    "F",
                    "6156",
                    "APPLI",
                    "PRJ-ERP",
                    3_600_000,
                    "'-20 %",
                ],
            ]
        )
    )
    outcome = revision_import(user=chef, revision=bp, rows=rows, replace=True)
    assert (outcome.lines_created, outcome.items_set, outcome.unchanged, outcome.removed) == (
        1,
        2,
        0,
        1,
    )
    assert items_of(bp) == {"F-MAINT": (12_000_000, "Contrats"), "F-CLOUD": (3_600_000, "-20 %")}
    cloud = BudgetLine.objects.get(code="F-CLOUD")
    assert (cloud.section, cloud.project.code, cloud.label, cloud.opened) == (
        "F",
        "PRJ-ERP",
        "Hébergement cloud",
        0,
    )


def test_an_import_with_one_broken_row_saves_nothing_and_lists_every_error(budget, chef):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    rows = read_revision_sheet(
        workbook_bytes(
            [
                ["F-CLOUD", "Hébergement cloud", "F", "6156", "APPLI", "", 3_600_000, ""],
                ["F-MAINT", "", "F", "6156", "INFRA", "", "12,5", ""],
                ["F-XX", "", "F", "0000", "INFRA", "", 100, ""],
            ]
        )
    )
    with pytest.raises(ValidationError) as error:
        revision_import(user=chef, revision=bp, rows=rows, replace=True)
    assert error.value.messages == [
        "Ligne 3 du fichier : Le montant «\u00a012,5\u00a0»\u00a0: 12,5 francs\u00a0? Le franc "
        "CFP n’a pas de décimales\u00a0; tapez 12.",
        "Ligne 4 du fichier : Compte de nature 0000 inconnu.",
        "Ligne 4 du fichier : Le libellé manque : F-XX est une nouvelle ligne.",
    ]
    assert not BudgetLine.objects.filter(code="F-CLOUD").exists()
    assert items_of(bp) == {"F-TEL": (4_500_000, "Justification F-TEL")}


def test_importing_into_a_voted_revision_is_refused(budget, chef):
    bp = fund({budget.maint: 1000})
    rows = read_revision_sheet(workbook_bytes([["F-MAINT", "", "F", "6156", "INFRA", "", 5, ""]]))
    with pytest.raises(ValidationError) as error:
        revision_import(user=chef, revision=bp, rows=rows)
    assert "ne peut plus être modifiée" in error.value.messages[0]
    assert RevisionItem.objects.get(revision=bp).amount == 1000


@pytest.mark.parametrize("username", ["directeur", "controleur", "acheteur"])
def test_importing_needs_the_right_to_prepare_the_budget(username, budget, cast):
    user = next(u for u in cast.values() if u.username == username)
    bp = draft(budget, "BP")
    rows = read_revision_sheet(workbook_bytes([["F-MAINT", "", "F", "6156", "INFRA", "", 5, ""]]))
    with pytest.raises(PermissionDenied):
        revision_import(user=user, revision=bp, rows=rows)
    assert items_of(bp) == {}


# ---------------------------------------------------------------------------
# Round trip


def test_a_bp_exported_then_imported_into_an_empty_draft_gives_the_same_revision(budget, chef):
    bp = draft(budget, "BP")
    tricky = {
        budget.maint: (12_000_000, "=SUM(A1:A3) n’est pas une formule"),
        budget.tel: (4_500_000, "+15 % de débit\nsur deux lignes"),
        budget.postes: (8_000_000, "@agents"),
        budget.erp_line: (25_000_000, ""),
    }
    for line, (amount, justification) in tricky.items():
        services.revision_item_set(
            user=chef, revision=bp, budget_line=line, amount=amount, justification=justification
        )
    before = items_of(bp)
    content = revision_workbook(bp)
    for line in tricky:
        services.revision_item_remove(user=chef, revision=bp, budget_line=line)
    assert items_of(bp) == {}

    revision_import(user=chef, revision=bp, rows=read_revision_sheet(content))
    assert items_of(bp) == before
    assert revision_workbook(bp) != b"" and sheet_values(revision_workbook(bp)) == sheet_values(
        content
    )


def test_a_dm_exported_then_imported_gives_the_same_signed_changes(budget, chef):
    fund({budget.maint: 12_000_000, budget.tel: 4_500_000})
    dm1 = draft(budget, "DM1", {budget.maint: -2_000_000, budget.postes: 3_000_000})
    before = items_of(dm1)
    content = revision_workbook(dm1)
    for line in (budget.maint, budget.postes):
        services.revision_item_remove(user=chef, revision=dm1, budget_line=line)
    revision_import(user=chef, revision=dm1, rows=read_revision_sheet(content))
    assert items_of(dm1) == before


def test_last_years_bp_imported_into_this_years_empty_bp_recreates_its_lines(budget, chef):
    last_year = fund({budget.maint: 12_000_000, budget.erp_line: 25_000_000})
    next_year = FiscalYearFactory(year=2027, state="preparation")
    bp_2027 = services.revision_create(user=chef, fiscal_year=next_year, kind="BP")
    outcome = revision_import(
        user=chef, revision=bp_2027, rows=read_revision_sheet(revision_workbook(last_year))
    )
    assert outcome.lines_created == 2
    lines = {line.code: line for line in BudgetLine.objects.filter(fiscal_year=next_year)}
    assert set(lines) == {"F-MAINT", "I-ERP"}
    assert (lines["I-ERP"].nature_account, lines["I-ERP"].cost_centre, lines["I-ERP"].project) == (
        budget.hardware,
        budget.appli,
        budget.erp,
    )
    assert {code: amount for code, (amount, _j) in items_of(bp_2027).items()} == {
        "F-MAINT": 12_000_000,
        "I-ERP": 25_000_000,
    }


def test_uploaded_workbooks_are_parsed_by_defusedxml():
    """openpyxl uses defusedxml when it is installed: an uploaded file cannot carry an
    XML bomb or reach an external entity."""
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


# --- Amounts typed as text in the cells (issue 11) ------------------------------------


def test_a_text_cell_grouped_by_dots_is_read_as_thousands_never_as_decimals(budget, chef):
    bp = draft(budget, "BP")
    rows = read_revision_sheet(
        workbook_bytes(
            [
                ["F-MAINT", "", "F", "6156", "INFRA", "", "250.000", "Texte avec points"],
                ["F-TEL", "", "F", "6262", "INFRA", "", "1'500'000", "Apostrophes"],
                ["I-POSTES", "", "I", "2183", "APPLI", "", 8_000_000.0, "Nombre"],
            ]
        )
    )
    result = check_revision_rows(bp, rows, replace=True)
    assert result.ok
    assert [row.amount for row in result.rows] == [250_000, 1_500_000, 8_000_000]
    revision_import(user=chef, revision=bp, rows=rows, replace=True)
    assert items_of(bp) == {
        "F-MAINT": (250_000, "Texte avec points"),
        "F-TEL": (1_500_000, "Apostrophes"),
        "I-POSTES": (8_000_000, "Nombre"),
    }


def test_a_fractional_or_ambiguous_text_cell_is_refused_and_nothing_is_saved(budget, chef):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    cells = [
        ["F-MAINT", "", "F", "6156", "INFRA", "", "250.5", ""],
        ["F-TEL", "", "F", "6262", "INFRA", "", "1 000.000", ""],
    ]
    result = check(bp, cells)
    assert not result.ok
    errors = {row.sheet.number: row.errors for row in result.rows}
    assert errors[2] == [
        "Le montant «\u00a0250.5\u00a0»\u00a0: 250,5 francs\u00a0? Le franc CFP n’a pas "
        "de décimales\u00a0; tapez 250 ou 250\u202f000 (milliers séparés par des espaces, des "
        "points ou des apostrophes)."
    ]
    assert "séparateurs de milliers (espace, point)" in errors[3][0]
    with pytest.raises(ValidationError):
        revision_import(
            user=chef, revision=bp, rows=read_revision_sheet(workbook_bytes(cells)), replace=True
        )
    assert set(items_of(bp)) == {"F-TEL"}
    assert items_of(bp)["F-TEL"][0] == 4_500_000
