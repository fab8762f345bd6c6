"""XLSX pages of a revision: export, and import through upload, preview and confirmation."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from budgets import services
from budgets.models import BudgetLine
from budgets.views.imports import SESSION_KEY
from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.budgets.test_revision_views import (
    draft,
    items_of,
    make_budget,
    messages_of,
    page_text,
    parse_error,
    xpf,
)
from tests.budgets.test_revision_xlsx import HEADER, workbook_bytes
from tests.factories import fund

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    """Uploaded files wait in a folder of this test only."""
    settings.VAR_DIR = tmp_path


@pytest.fixture
def budget(db):
    return make_budget()


def url(name, revision) -> str:
    return reverse(f"budgets:revision-{name}", args=[revision.pk])


def upload(client, revision, content: bytes, name="proposition.xlsx", mode="replace"):
    return client.post(
        url("import", revision),
        {"file": SimpleUploadedFile(name, content, content_type=XLSX), "mode": mode},
    )


def waiting_files(tmp_path) -> list:
    folder = tmp_path / "imports"
    return sorted(folder.glob("*.xlsx")) if folder.exists() else []


def token_of(client, revision) -> str:
    return client.session[SESSION_KEY][str(revision.pk)]["token"]


GOOD_ROWS = [
    ["F-MAINT", "", "F", "6156", "INFRA", "", "12 000 000", "Contrats de maintenance"],
    ["F-CLOUD", "Hébergement cloud", "F", "6156", "APPLI", "", 3_600_000, "Messagerie"],
]


# ---------------------------------------------------------------------------
# Export


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.DIRECTION, Role.CONTROLE])
def test_readers_download_any_revision_as_xlsx(role, cast, budget, client_as):
    bp = fund({budget.maint: 12_000_000})
    response = client_as(cast[role]).get(url("export", bp))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="BP-2026.xlsx"'
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    assert [tuple(row) for row in sheet.iter_rows(values_only=True)] == [
        tuple(HEADER),
        ("F-MAINT", "Maintenance des serveurs", "F", "6156", "INFRA", None, 12_000_000, None),
    ]


@pytest.mark.parametrize("role", [Role.ACHAT, Role.COMPTABILITE])
def test_the_export_is_refused_to_buyers_and_accountants(role, cast, budget, client_as):
    bp = draft(budget, "BP")
    assert client_as(cast[role]).get(url("export", bp)).status_code == 403


def test_the_export_sends_an_anonymous_visitor_to_login(budget, client):
    assert_sends_to_login(client.get(url("export", draft(budget, "BP"))))


# ---------------------------------------------------------------------------
# Who may import, and into what


def test_the_section_head_opens_the_upload_form_of_a_draft(chef, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(chef).get(url("import", bp))
    assert response.status_code == 200
    text = page_text(response)
    assert 'type="file"' in text and 'accept=".xlsx' in text
    for header in HEADER:
        assert f"<li>{header}</li>" in text


@pytest.mark.parametrize("role", [Role.DIRECTION, Role.CONTROLE, Role.ACHAT, Role.COMPTABILITE])
def test_importing_is_refused_to_other_roles(role, cast, budget, client_as, tmp_path):
    bp = draft(budget, "BP")
    client = client_as(cast[role])
    assert client.get(url("import", bp)).status_code == 403
    assert upload(client, bp, workbook_bytes(GOOD_ROWS)).status_code == 403
    assert client.post(url("import-confirm", bp), {"token": "x" * 32}).status_code == 403
    assert waiting_files(tmp_path) == []
    assert items_of(bp) == {}


def test_importing_sends_an_anonymous_visitor_to_login(budget, client):
    bp = draft(budget, "BP")
    assert_sends_to_login(client.get(url("import", bp)))
    assert_sends_to_login(client.get(url("import-preview", bp)))
    assert_sends_to_login(client.post(url("import-confirm", bp)))


def test_the_confirmation_answers_get_with_405(chef, budget, client_as):
    bp = draft(budget, "BP")
    assert client_as(chef).get(url("import-confirm", bp)).status_code == 405


def test_a_voted_revision_cannot_be_imported_into(chef, budget, client_as, tmp_path):
    bp = fund({budget.maint: 1000})
    client = client_as(chef)
    response = upload(client, bp, workbook_bytes(GOOD_ROWS))
    assert response.status_code == 302 and response["Location"] == url("detail", bp)
    assert waiting_files(tmp_path) == []
    for name in ("import", "import-preview"):
        response = client.get(url(name, bp), follow=True)
        assert response.redirect_chain[-1][0] == url("detail", bp)
        message = messages_of(response)[-1]
        assert "BP 2026" in message and "ne peut plus être modifiée" in message


# ---------------------------------------------------------------------------
# Bad files


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "budget.csv",
            b"code;montant\nF-MAINT;1000\n",
            "Seuls les classeurs XLSX (.xlsx) peuvent être importés, pas « budget.csv ».",
        ),
        (
            "budget.xlsx",
            b"code;montant\nF-MAINT;1000\n",
            "Ce fichier n’est pas un classeur XLSX lisible : enregistrez-le depuis votre tableur "
            "au format « .xlsx ».",
        ),
        (
            "sans-entete.xlsx",
            workbook_bytes(GOOD_ROWS, header=None),
            "La première ligne de la feuille doit être l’en-tête : Code ligne, Libellé, "
            "Section (F/I), Compte de nature, Centre de coûts, Projet, Montant ou variation, "
            "Justification. Partez de l’export d’une révision.",
        ),
    ],
)
def test_a_file_that_is_not_a_usable_xlsx_is_refused_and_nothing_kept(
    name, content, message, chef, budget, client_as, tmp_path
):
    bp = draft(budget, "BP")
    client = client_as(chef)
    response = upload(client, bp, content, name=name)
    assert response.status_code == 200
    assert message in page_text(response).split('data-testid="file-error"')[1]
    assert waiting_files(tmp_path) == []
    assert SESSION_KEY not in client.session
    assert items_of(bp) == {}


def test_an_oversized_file_is_refused(chef, budget, client_as, tmp_path):
    bp = draft(budget, "BP")
    content = workbook_bytes(GOOD_ROWS) + b"\0" * (5 * 1024 * 1024)
    response = upload(client_as(chef), bp, content)
    assert response.status_code == 200
    errors = page_text(response).split('data-testid="file-error"')[1]
    assert "Le fichier pèse 5,0\xa0Mo : la limite est de 5\xa0Mo." in errors  # not Mio
    assert waiting_files(tmp_path) == []


def test_an_upload_without_file_is_refused(chef, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(chef).post(url("import", bp), {"mode": "replace"})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in page_text(response)


# ---------------------------------------------------------------------------
# Preview and confirmation


def test_the_preview_lists_every_row_and_saves_nothing(chef, budget, client_as, tmp_path):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    client = client_as(chef)
    response = upload(client, bp, workbook_bytes(GOOD_ROWS))
    assert response.status_code == 302 and response["Location"] == url("import-preview", bp)
    assert len(waiting_files(tmp_path)) == 1

    response = client.get(url("import-preview", bp))
    assert response.status_code == 200
    check = response.context["check"]
    assert check.ok
    assert [(row.sheet.number, row.status) for row in check.rows] == [(2, "added"), (3, "new_line")]
    assert [item.budget_line.code for item in check.removed] == ["F-TEL"]
    text = page_text(response)
    assert "Nouvelle ligne budgétaire" in text and "Ajoutée à la révision" in text
    assert xpf(15_600_000) in text
    assert 'data-testid="confirm-form"' in text
    # Nothing is saved by looking.
    assert items_of(bp) == {"F-TEL": (4_500_000, "Justification F-TEL")}
    assert not BudgetLine.objects.filter(code="F-CLOUD").exists()


def test_confirming_saves_every_row_at_once_and_forgets_the_file(chef, budget, client_as, tmp_path):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    client = client_as(chef)
    upload(client, bp, workbook_bytes(GOOD_ROWS), mode="merge")
    response = client.post(url("import-confirm", bp), {"token": token_of(client, bp)}, follow=True)
    assert response.redirect_chain[-1][0] == url("detail", bp)
    assert items_of(bp) == {
        "F-TEL": (4_500_000, "Justification F-TEL"),  # merge: kept
        "F-MAINT": (12_000_000, "Contrats de maintenance"),
        "F-CLOUD": (3_600_000, "Messagerie"),
    }
    assert messages_of(response) == [
        "BP 2026 : 2 lignes du fichier enregistrées (nouvelles lignes budgétaires : 1 ; "
        "montants saisis ou modifiés : 2 ; inchangés : 0 ; retirées du brouillon : 0)."
    ]
    assert waiting_files(tmp_path) == []
    assert str(bp.pk) not in client.session[SESSION_KEY]


def test_replacing_takes_the_missing_lines_out_of_the_draft(chef, budget, client_as):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    client = client_as(chef)
    upload(client, bp, workbook_bytes(GOOD_ROWS), mode="replace")
    client.post(url("import-confirm", bp), {"token": token_of(client, bp)})
    assert set(items_of(bp)) == {"F-MAINT", "F-CLOUD"}


def test_a_file_with_broken_rows_lists_every_error_with_its_row_and_cannot_be_saved(
    chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    client = client_as(chef)
    upload(
        client,
        bp,
        workbook_bytes(
            [
                ["F-MAINT", "", "F", "6156", "INFRA", "", 12_000_000, ""],
                ["F-BAD", "Mauvais", "F", "6999", "INFRA", "", "12,5", ""],
                ["F-MAINT", "", "F", "6156", "INFRA", "", "texte", ""],
                ["F-ZERO", "Zéro", "I", "2183", "INFRA", "", 0, ""],
            ]
        ),
    )
    response = client.get(url("import-preview", bp))
    text = page_text(response)
    listed = text.split('data-testid="all-errors"')[1].split("</ul>")[0]
    for message in [
        "Ligne 2 du fichier : Le code de ligne F-MAINT figure sur plusieurs lignes du fichier : 2, 4.",
        "Ligne 2 du fichier : Le même compte, centre de coûts et projet figurent sur plusieurs "
        "lignes du fichier : 2, 4.",
        "Ligne 3 du fichier : Compte de nature 6999 inconnu.",
        f"Ligne 3 du fichier : {parse_error('12,5')}",
        "Ligne 4 du fichier : Le montant n’est pas un nombre : « texte ».",
        "Ligne 5 du fichier : Le montant ne peut pas être nul",
    ]:
        assert message in listed
    assert response.context["check"].error_count == 8
    assert 'data-testid="confirm-form"' not in text
    assert 'data-testid="blocked"' in text

    # Even a hand-made confirmation saves nothing: the file is checked again.
    response = client.post(url("import-confirm", bp), {"token": token_of(client, bp)})
    assert response.status_code == 200
    confirm_errors = page_text(response).split('data-testid="confirm-errors"')[1]
    assert "Ligne 3 du fichier : Compte de nature 6999 inconnu." in confirm_errors
    assert items_of(bp) == {"F-TEL": (4_500_000, "Justification F-TEL")}
    assert not BudgetLine.objects.filter(code__in=["F-BAD", "F-ZERO"]).exists()


def test_the_confirmation_checks_the_file_again_against_what_changed_since_the_preview(
    chef, budget, client_as
):
    fund({budget.maint: 10_000_000})
    dm1 = draft(budget, "DM1")
    client = client_as(chef)
    upload(
        client,
        dm1,
        workbook_bytes(
            [
                ["F-MAINT", "", "F", "6156", "INFRA", "", -4_000_000, "Fin de contrat"],
                ["F-CLOUD", "Hébergement cloud", "F", "6156", "APPLI", "", 1_000_000, ""],
            ]
        ),
    )
    assert client.get(url("import-preview", dm1)).context["check"].ok
    # Meanwhile 7 000 000 are committed on F-MAINT: the cut would now go below it.
    services.credits_commit(user=chef, document=budget.maint, amounts={budget.maint: 7_000_000})
    response = client.post(url("import-confirm", dm1), {"token": token_of(client, dm1)})
    assert response.status_code == 200
    errors = page_text(response).split('data-testid="confirm-errors"')[1]
    assert (
        f"Ligne 2 du fichier : Ligne F-MAINT : réduire de {xpf(4_000_000)} laisserait "
        f"{xpf(6_000_000)} de crédits ouverts, moins que les {xpf(7_000_000)} déjà engagés."
    ) in errors
    assert items_of(dm1) == {}
    assert not BudgetLine.objects.filter(code="F-CLOUD").exists()


def test_a_confirmation_for_another_upload_is_refused(chef, budget, client_as):
    bp = draft(budget, "BP")
    client = client_as(chef)
    upload(client, bp, workbook_bytes(GOOD_ROWS))
    response = client.post(url("import-confirm", bp), {"token": "A" * 32}, follow=True)
    assert messages_of(response) == [
        "Le fichier à importer a changé ou a expiré : vérifiez de nouveau l’aperçu."
    ]
    assert items_of(bp) == {}


def test_confirming_twice_saves_once(chef, budget, client_as):
    bp = draft(budget, "BP")
    client = client_as(chef)
    upload(client, bp, workbook_bytes(GOOD_ROWS))
    token = token_of(client, bp)
    client.post(url("import-confirm", bp), {"token": token})
    response = client.post(url("import-confirm", bp), {"token": token}, follow=True)
    assert messages_of(response)[-1] == (
        "Le fichier à importer a changé ou a expiré : vérifiez de nouveau l’aperçu."
    )
    assert BudgetLine.objects.filter(code="F-CLOUD").count() == 1
    assert items_of(bp) == {
        "F-MAINT": (12_000_000, "Contrats de maintenance"),
        "F-CLOUD": (3_600_000, "Messagerie"),
    }


def test_a_waiting_file_that_vanished_is_treated_as_expired(chef, budget, client_as, tmp_path):
    bp = draft(budget, "BP")
    client = client_as(chef)
    upload(client, bp, workbook_bytes(GOOD_ROWS))
    token = token_of(client, bp)
    for path in waiting_files(tmp_path):
        path.unlink()
    response = client.post(url("import-confirm", bp), {"token": token}, follow=True)
    assert response.redirect_chain[-1][0] == url("import", bp)
    assert items_of(bp) == {}


def test_the_preview_without_an_upload_sends_back_to_the_form(chef, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(chef).get(url("import-preview", bp), follow=True)
    assert response.redirect_chain[-1][0] == url("import", bp)
    assert messages_of(response) == ["Choisissez d’abord le fichier à importer."]


def test_a_new_upload_replaces_the_waiting_file(chef, budget, client_as, tmp_path):
    bp = draft(budget, "BP")
    client = client_as(chef)
    upload(client, bp, workbook_bytes(GOOD_ROWS))
    first = token_of(client, bp)
    upload(client, bp, workbook_bytes(GOOD_ROWS[:1]))
    assert token_of(client, bp) != first
    assert [path.stem for path in waiting_files(tmp_path)] == [token_of(client, bp)]


# ---------------------------------------------------------------------------
# Round trip through the pages


def test_a_revision_exported_then_imported_into_the_emptied_draft_is_the_same(
    chef, budget, client_as
):
    fund({budget.maint: 12_000_000, budget.tel: 4_500_000})
    dm1 = draft(
        budget, "DM1", {budget.maint: -2_000_000, budget.tel: 500_000, budget.postes: 3_000_000}
    )
    services.revision_item_set(
        user=chef,
        revision=dm1,
        budget_line=budget.erp_line,
        amount=25_000_000,
        justification="-10 % négocié ; =à revoir",
    )
    before = items_of(dm1)
    client = client_as(chef)
    exported = client.get(url("export", dm1)).content
    for line in (budget.maint, budget.tel, budget.postes, budget.erp_line):
        services.revision_item_remove(user=chef, revision=dm1, budget_line=line)
    assert items_of(dm1) == {}

    upload(client, dm1, exported, name="DM1-2026.xlsx")
    preview = client.get(url("import-preview", dm1))
    assert preview.context["check"].ok
    assert [row.status for row in preview.context["check"].rows] == ["added"] * 4
    client.post(url("import-confirm", dm1), {"token": token_of(client, dm1)})
    assert items_of(dm1) == before
    assert client.get(url("export", dm1)).content != b""
    again = load_workbook(BytesIO(client.get(url("export", dm1)).content)).worksheets[0]
    first = load_workbook(BytesIO(exported)).worksheets[0]
    assert list(again.iter_rows(values_only=True)) == list(first.iter_rows(values_only=True))
