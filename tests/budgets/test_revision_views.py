"""BP, DM1 and DM2 screens: the list, the editor (save all, changed lines only), new lines,
submit, return, vote."""

import datetime
import html
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from budgets import services
from budgets.models import BudgetLine, BudgetRevision, LedgerEntry, RevisionItem
from budgets.selectors import ledger_differences
from dsi_finance.money import parse_francs
from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    CostCentreFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    ProjectFactory,
    fund,
)

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"
LIST_URL = reverse("budgets:revision-list")


def xpf(francs: int) -> str:
    """How the pages print an amount: 1 234 567 F CFP (narrow and plain no-break spaces)."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + "\u00a0F\u00a0CFP"


def parse_error(typed: str, label: str = "Le montant") -> str:
    """What the one parser of typed amounts answers to `typed` (dsi_finance.money)."""
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("fr"):
        try:
            parse_francs(typed, label=label)
        except ValidationError as error:
            return error.messages[0]
    raise AssertionError(f"{typed!r} is read as an amount")


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def make_budget(year: int = 2026, state: str = "open") -> SimpleNamespace:
    """A small DSI nomenclature and four lines of `year`, with no credits yet."""
    fiscal_year = FiscalYearFactory(year=year, state=state)
    opex = ChapterFactory(code="011", label="Charges à caractère général", section="F")
    capex = ChapterFactory(code="21", label="Immobilisations corporelles", section="I")
    maintenance = NatureAccountFactory(number="6156", label="Maintenance", chapter=opex)
    telecom = NatureAccountFactory(number="6262", label="Frais de télécommunications", chapter=opex)
    hardware = NatureAccountFactory(number="2183", label="Matériel informatique", chapter=capex)
    infra = CostCentreFactory(code="INFRA", label="Infrastructures")
    appli = CostCentreFactory(code="APPLI", label="Applications")
    erp = ProjectFactory(code="PRJ-ERP", label="Nouvel ERP")

    def line(code, label, account, centre, project=None):
        return BudgetLineFactory(
            fiscal_year=fiscal_year,
            code=code,
            label=label,
            nature_account=account,
            cost_centre=centre,
            project=project,
        )

    return SimpleNamespace(
        year=fiscal_year,
        opex=opex,
        capex=capex,
        maintenance=maintenance,
        telecom=telecom,
        hardware=hardware,
        infra=infra,
        appli=appli,
        erp=erp,
        maint=line("F-MAINT", "Maintenance des serveurs", maintenance, infra),
        tel=line("F-TEL", "Liaisons télécom", telecom, infra),
        postes=line("I-POSTES", "Renouvellement des postes", hardware, appli),
        erp_line=line("I-ERP", "Matériel du projet ERP", hardware, appli, erp),
    )


@pytest.fixture
def budget(db) -> SimpleNamespace:
    return make_budget()


def draft(budget, kind="BP", items=None, user=None) -> BudgetRevision:
    """A draft revision of the budget's year with {line: amount} items, through the services."""
    user = user or _admin()
    revision = services.revision_create(user=user, fiscal_year=budget.year, kind=kind)
    for line, amount in (items or {}).items():
        services.revision_item_set(
            user=user,
            revision=revision,
            budget_line=line,
            amount=amount,
            justification=f"Justification {line.code}",
        )
    return revision


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username="fund-admin").first() or (
        get_user_model().objects.create_superuser("fund-admin", "fund@example.nc", "x")
    )


def detail_url(revision) -> str:
    return reverse("budgets:revision-detail", args=[revision.pk])


def items_of(revision) -> dict[str, tuple[int, str]]:
    return {
        item.budget_line.code: (item.amount, item.justification)
        for item in RevisionItem.objects.filter(revision=revision).select_related("budget_line")
    }


# ---------------------------------------------------------------------------
# The list


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.DIRECTION, Role.CONTROLE])
def test_readers_see_each_year_with_its_revisions_states_votes_lines_and_totals(
    role, cast, budget, client_as
):
    fund({budget.maint: 12_000_000, budget.tel: 4_500_000}, vote_reference="Délib. 2026-003")
    draft(budget, "DM1", {budget.maint: -2_000_000, budget.postes: 3_000_000})
    response = client_as(cast[role]).get(LIST_URL)
    assert response.status_code == 200
    (entry,) = response.context["years"]
    rows = {row["kind"]: row["revision"] for row in entry["rows"]}
    assert (rows["BP"].state, rows["BP"].item_count, rows["BP"].total) == ("voted", 2, 16_500_000)
    assert (rows["DM1"].state, rows["DM1"].item_count, rows["DM1"].total) == (
        "draft",
        2,
        1_000_000,
    )
    assert rows["DM2"] is None
    text = page_text(response)
    assert "Délib. 2026-003" in text and "15/01/2026" in text
    assert xpf(16_500_000) in text and xpf(1_000_000) in text
    assert "Voté" in text and "Brouillon" in text


def test_only_the_section_head_is_offered_to_create_the_next_revision(
    chef, directeur, budget, client_as
):
    fund({budget.maint: 1_000_000})
    chef_page = page_text(client_as(chef).get(LIST_URL))
    assert "Créer le projet de DM1" in chef_page
    assert "Créer le projet de DM1" not in page_text(client_as(directeur).get(LIST_URL))


@pytest.mark.parametrize("role", [Role.ACHAT, Role.COMPTABILITE])
def test_the_list_refuses_buyers_and_accountants(role, cast, budget, client_as):
    assert client_as(cast[role]).get(LIST_URL).status_code == 403


def test_the_list_sends_an_anonymous_visitor_to_login(client):
    assert_sends_to_login(client.get(LIST_URL))


def test_the_section_head_creates_a_draft_and_lands_in_its_editor(chef, budget, client_as):
    response = client_as(chef).post(
        reverse("budgets:revision-create"),
        {"fiscal_year": budget.year.pk, "kind": "BP"},
        follow=True,
    )
    revision = BudgetRevision.objects.get(fiscal_year=budget.year, kind="BP")
    assert revision.state == "draft" and revision.created_by == chef
    assert response.redirect_chain[-1][0] == detail_url(revision)
    assert "BP 2026 : projet créé ; saisissez ses montants." in messages_of(response)


def test_a_second_bp_for_the_same_year_is_refused_with_a_message(chef, budget, client_as):
    draft(budget, "BP")
    response = client_as(chef).post(
        reverse("budgets:revision-create"),
        {"fiscal_year": budget.year.pk, "kind": "BP"},
        follow=True,
    )
    assert BudgetRevision.objects.filter(fiscal_year=budget.year).count() == 1
    (message,) = messages_of(response)
    assert "BP" in message and "2026" in message and "existe déjà" in message


def test_a_revision_of_an_unknown_kind_is_refused(chef, budget, client_as):
    response = client_as(chef).post(
        reverse("budgets:revision-create"),
        {"fiscal_year": budget.year.pk, "kind": "DM3"},
        follow=True,
    )
    assert not BudgetRevision.objects.exists()
    assert messages_of(response) == ["Choisissez un exercice et un type de révision."]


@pytest.mark.parametrize("role", [Role.DIRECTION, Role.CONTROLE, Role.ACHAT])
def test_creating_a_revision_is_refused_to_other_roles(role, cast, budget, client_as):
    response = client_as(cast[role]).post(
        reverse("budgets:revision-create"), {"fiscal_year": budget.year.pk, "kind": "BP"}
    )
    assert response.status_code == 403
    assert not BudgetRevision.objects.exists()


def test_creating_a_revision_answers_get_with_405(chef, client_as):
    assert client_as(chef).get(reverse("budgets:revision-create")).status_code == 405


def test_creating_a_revision_sends_an_anonymous_visitor_to_login(client):
    assert_sends_to_login(client.post(reverse("budgets:revision-create")))


# ---------------------------------------------------------------------------
# The editor


def test_the_editor_shows_every_line_with_previous_change_new_and_section_totals(
    chef, budget, client_as
):
    fund({budget.maint: 12_000_000, budget.tel: 4_500_000, budget.postes: 8_000_000})
    dm1 = draft(budget, "DM1", {budget.maint: -2_000_000, budget.postes: 3_000_000})
    response = client_as(chef).get(detail_url(dm1))
    assert response.status_code == 200
    sections = {section["code"]: section for section in response.context["sections"]}
    rows = {row.line.code: row for section in sections.values() for row in section["rows"]}
    assert set(rows) == {"F-MAINT", "F-TEL", "I-POSTES", "I-ERP"}
    assert (rows["F-MAINT"].previous, rows["F-MAINT"].change, rows["F-MAINT"].new_amount) == (
        12_000_000,
        -2_000_000,
        10_000_000,
    )
    assert (rows["F-TEL"].change, rows["F-TEL"].new_amount) == (None, 4_500_000)
    assert sections["F"]["totals"] == {
        "previous": 16_500_000,
        "change": -2_000_000,
        "new": 14_500_000,
    }
    assert sections["I"]["totals"] == {
        "previous": 8_000_000,
        "change": 3_000_000,
        "new": 11_000_000,
    }
    assert response.context["grand"] == {
        "previous": 24_500_000,
        "change": 1_000_000,
        "new": 25_500_000,
    }
    text = page_text(response)
    assert "Justification F-MAINT" in text
    assert xpf(25_500_000) in text and xpf(14_500_000) in text
    # The section head edits a draft: every line has its amount field.
    assert len(re.findall(r'name="line-\d+-amount"', text)) == 4
    assert text.count('name="amount"') == 1  # the new-line form


@pytest.mark.parametrize("role", [Role.DIRECTION, Role.CONTROLE])
def test_readers_who_may_not_prepare_see_the_draft_without_forms(role, cast, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    response = client_as(cast[role]).get(detail_url(bp))
    assert response.status_code == 200
    text = page_text(response)
    assert not re.search(r'name="line-\d+-amount"', text) and 'name="amount"' not in text
    assert 'id="revision-items"' not in text and "budgets/revisions.js" not in text
    assert xpf(5_000_000) in text


@pytest.mark.parametrize("role", [Role.ACHAT, Role.COMPTABILITE])
def test_the_editor_refuses_buyers_and_accountants(role, cast, budget, client_as):
    bp = draft(budget, "BP")
    assert client_as(cast[role]).get(detail_url(bp)).status_code == 403


def test_the_editor_sends_an_anonymous_visitor_to_login(budget, client):
    assert_sends_to_login(client.get(detail_url(draft(budget, "BP"))))


def test_an_unknown_revision_is_404(chef, client_as):
    assert client_as(chef).get(reverse("budgets:revision-detail", args=[999])).status_code == 404


def test_the_editor_warns_of_each_dm_cut_below_what_is_committed(chef, budget, client_as):
    fund({budget.maint: 10_000_000})
    services.credits_commit(user=chef, document=budget.maint, amounts={budget.maint: 7_000_000})
    dm1 = draft(budget, "DM1", {budget.maint: -4_000_000})
    response = client_as(chef).get(detail_url(dm1))
    assert response.context["warnings"] == [
        f"Ligne F-MAINT : réduire de {xpf(4_000_000)} laisserait {xpf(6_000_000)} de crédits "
        f"ouverts, moins que les {xpf(7_000_000)} déjà engagés."
    ]
    assert "F-MAINT" in page_text(response).split('data-testid="warnings"')[1]


def test_in_a_year_controlled_by_chapter_the_editor_warns_of_a_chapter_cut_too(
    chef, budget, client_as
):
    budget.year.control_level = "chapter"
    budget.year.save()
    fund({budget.maint: 10_000_000, budget.tel: 2_000_000})
    # By chapter, F-TEL may commit beyond its own credits: chapter 011 holds 12 000 000.
    services.credits_commit(user=chef, document=budget.tel, amounts={budget.tel: 3_000_000})
    services.credits_commit(user=chef, document=budget.maint, amounts={budget.maint: 8_000_000})
    dm1 = draft(budget, "DM1", {budget.maint: -1_500_000})
    (warning,) = client_as(chef).get(detail_url(dm1)).context["warnings"]
    # F-MAINT keeps 8 500 000 for 8 000 000 committed, but the chapter falls below its 11 000 000.
    assert "011" in warning and "F-MAINT" not in warning
    assert xpf(10_500_000) in warning and xpf(11_000_000) in warning


def test_a_voted_revision_reads_the_same_frozen_with_its_vote_and_ledger(chef, budget, client_as):
    bp = fund({budget.maint: 12_000_000, budget.postes: 8_000_000}, vote_reference="Délib. 14")
    response = client_as(chef).get(detail_url(bp))
    rows = {row.line.code: row for s in response.context["sections"] for row in s["rows"]}
    # "Previous" leaves out the revision's own entries: the page reads as before the vote.
    assert (rows["F-MAINT"].previous, rows["F-MAINT"].change, rows["F-MAINT"].new_amount) == (
        0,
        12_000_000,
        12_000_000,
    )
    assert response.context["ledger"] == {"count": 2, "total": 20_000_000}
    assert not response.context["may_edit"]
    text = page_text(response)
    assert not re.search(r'name="line-\d+-amount"', text)
    assert "Vote du 15/01/2026, référence Délib. 14 : cette révision est figée." in text
    assert "2 écritures" in text and xpf(20_000_000) in text


# ---------------------------------------------------------------------------
# Saving all the edited rows at once


def save_url(revision) -> str:
    return reverse("budgets:revision-items-save", args=[revision.pk])


def rows_data(*rows, token: str | None = None, **extra) -> dict:
    """The "save all" form: (line, amount, justification) per edited row."""
    data = {}
    for line, amount, justification in rows:
        data[f"line-{line.pk}-amount"] = amount
        data[f"line-{line.pk}-justification"] = justification
    if token is not None:
        data["form_token"] = token
    data.update(extra)
    return data


def row_html(text: str, line) -> str:
    """The editor's <tr> of a line in a page's text."""
    return text.split(f'<tr id="line-{line.pk}"')[1].split("</tr>")[0]


def test_the_draft_editor_is_one_form_with_a_token_the_script_and_a_field_pair_per_line(
    chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.maint: 12_000_000})
    text = page_text(client_as(chef).get(detail_url(bp)))
    form = text.split('id="revision-items"')[1].split("</form>")[0]
    assert f'action="{save_url(bp)}"' in text.split('id="revision-items"')[0].rsplit("<form", 1)[1]
    assert 'name="form_token"' in form and "Enregistrer tout" in form
    for line in (budget.maint, budget.tel, budget.postes, budget.erp_line):
        assert f'name="line-{line.pk}-amount"' in form
        assert f'name="line-{line.pk}-justification"' in form
    # No row saves on its own any more, and no inline script (CSP).
    assert "hx-post" not in form and "<script>" not in text
    assert "budgets/revisions.js" in text
    maint = row_html(text, budget.maint)
    assert 'value="12 000 000" data-amount data-saved="12 000 000"' in maint
    assert 'data-previous="0"' in maint


def test_saving_all_saves_every_edited_row_in_one_post_and_keeps_their_history(
    chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.tel: 4_500_000, budget.postes: 1_000})
    response = client_as(chef).post(
        save_url(bp),
        rows_data(
            (budget.maint, "12 000 000", "Contrats de maintenance 2026"),
            (budget.postes, "8000000", "Renouvellement du parc"),
            (budget.tel, "", ""),  # emptied: the line leaves the draft
            token="jeton-1",
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail_url(bp)
    assert items_of(bp) == {
        "F-MAINT": (12_000_000, "Contrats de maintenance 2026"),
        "I-POSTES": (8_000_000, "Renouvellement du parc"),
    }
    assert messages_of(response) == [
        "BP 2026 : 3 lignes enregistrées (ajouts : 1, modifications : 1, retraits : 1)."
    ]
    assert response.context["grand"]["new"] == 20_000_000
    # Every change kept: who, and what before.
    postes = RevisionItem.objects.get(revision=bp, budget_line=budget.postes)
    assert [(h.history_type, h.amount, h.history_user) for h in postes.history.all()] == [
        ("~", 8_000_000, chef),
        ("+", 1_000, _admin()),  # the services record who, also outside a request
    ]
    removed = RevisionItem.history.filter(budget_line=budget.tel, history_type="-").get()
    assert (removed.amount, removed.history_user) == (4_500_000, chef)


def test_one_bad_row_saves_nothing_and_every_faulty_row_shows_its_message_with_what_was_typed(
    chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    before = items_of(bp)
    response = client_as(chef).post(
        save_url(bp),
        rows_data(
            (budget.maint, "12 000 000", "Hausse des contrats"),  # good
            (budget.tel, "12,50", "Liaisons"),  # not whole francs (read by the form)
            (budget.postes, "0", "Rien"),  # zero (the service's rule)
            (budget.erp_line, "", "Un motif sans montant"),
        ),
    )
    assert response.status_code == 200
    assert items_of(bp) == before  # nothing at all was saved
    text = page_text(response)
    alert = text.split('data-testid="save-errors"')[1].split("</div>")[0]
    assert "Rien n’a été enregistré : 3 lignes sont erronées." in alert
    assert "F-TEL" in alert and "I-POSTES" in alert and "I-ERP" in alert
    assert "F-MAINT" not in alert
    tel, postes, erp = (
        row_html(text, line) for line in (budget.tel, budget.postes, budget.erp_line)
    )
    assert parse_error("12,50") in tel.split("row-errors")[1]
    assert 'value="12,50"' in tel and "Liaisons</textarea>" in tel
    assert "Le montant ne peut pas être nul." in postes.split("row-errors")[1]
    assert 'value="0"' in postes
    assert "Saisissez un montant, ou effacez aussi la justification" in erp
    # The good row is kept as typed too, still to save (its saved value differs).
    maint = row_html(text, budget.maint)
    assert 'value="12 000 000" data-amount data-saved="5 000 000"' in maint
    assert "Hausse des contrats</textarea>" in maint and "row-errors" not in maint


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Le montant ne peut pas être nul."),
        ("-5000", "Le montant doit être positif."),
        ("2 000 000 000 000", "Le montant dépasse 1\u202f000\u202f000\u202f000\u202f000"),
        ("12,50", None),  # None: the parser's own message (dsi_finance.money)
        ("250.5", None),
        ("douze mille", None),
    ],
)
def test_a_bad_bp_amount_among_good_rows_is_answered_in_its_row_and_saves_nothing(
    typed, message, chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    response = client_as(chef).post(
        save_url(bp),
        rows_data((budget.maint, typed, "x"), (budget.tel, "1 000 000", "Liaisons")),
    )
    row = row_html(page_text(response), budget.maint)
    assert (message or parse_error(typed)) in row.split('data-testid="row-errors"')[1]
    assert f'value="{typed}"' in row
    assert items_of(bp) == {"F-MAINT": (5_000_000, "Justification F-MAINT")}


def test_a_dm_takes_signed_changes_and_refuses_a_zero_one(chef, budget, client_as):
    fund({budget.maint: 12_000_000, budget.tel: 2_000_000})
    dm1 = draft(budget, "DM1")
    client = client_as(chef)
    response = client.post(
        save_url(dm1),
        rows_data((budget.maint, "-1 500 000", "Fin d'un contrat"), (budget.tel, "0", "")),
    )
    assert "Le montant de la variation ne peut pas être nul" in row_html(
        page_text(response), budget.tel
    )
    assert items_of(dm1) == {}
    client.post(
        save_url(dm1),
        rows_data((budget.maint, "-1 500 000", "Fin d'un contrat"), (budget.tel, "+300 000", "")),
    )
    assert items_of(dm1) == {"F-MAINT": (-1_500_000, "Fin d'un contrat"), "F-TEL": (300_000, "")}


def test_rows_equal_to_what_is_saved_change_nothing_and_say_so(chef, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    response = client_as(chef).post(
        save_url(bp),
        rows_data((budget.maint, "5 000 000", "Justification F-MAINT"), (budget.tel, "", "")),
        follow=True,
    )
    assert messages_of(response) == ["Aucune ligne n’a été modifiée : rien à enregistrer."]
    item = RevisionItem.objects.get(revision=bp)
    assert item.history.count() == 1  # no empty change recorded


def test_the_same_form_sent_twice_records_once(chef, budget, client_as):
    bp = draft(budget, "BP")
    client = client_as(chef)
    first = rows_data((budget.maint, "12 000 000", "Contrats"), token="jeton-double")
    client.post(save_url(bp), first, follow=True)
    # Meanwhile the line is changed again, with a new form.
    client.post(
        save_url(bp), rows_data((budget.maint, "9 000 000", "Revu"), token="jeton-2"), follow=True
    )
    response = client.post(save_url(bp), first, follow=True)  # the first form, again
    assert items_of(bp) == {"F-MAINT": (9_000_000, "Revu")}
    item = RevisionItem.objects.get(revision=bp)
    assert item.history.count() == 2  # created, then changed once: the replay recorded nothing
    (message,) = messages_of(response)
    assert "déjà été envoyé" in message and "rien n’a été enregistré en double" in message


def test_a_refused_save_leaves_its_token_usable_for_the_corrected_form(chef, budget, client_as):
    bp = draft(budget, "BP")
    client = client_as(chef)
    refused = client.post(save_url(bp), rows_data((budget.maint, "0", ""), token="jeton-3"))
    assert "Le montant ne peut pas être nul." in row_html(page_text(refused), budget.maint)
    assert items_of(bp) == {}
    response = client.post(
        save_url(bp), rows_data((budget.maint, "7 000", ""), token="jeton-3"), follow=True
    )
    assert items_of(bp) == {"F-MAINT": (7_000, "")}
    assert messages_of(response)[0].startswith("BP 2026 : 1 ligne enregistrée")


def test_saving_into_a_voted_revision_is_refused_and_changes_nothing(chef, budget, client_as):
    bp = fund({budget.maint: 12_000_000})
    response = client_as(chef).post(
        save_url(bp), rows_data((budget.maint, "1", ""), (budget.tel, "abc", "")), follow=True
    )
    (message,) = messages_of(response)
    assert (
        "BP 2026" in message and "« voté »" in message and "ne peut plus être modifiée" in message
    )
    assert items_of(bp) == {"F-MAINT": (12_000_000, "")}
    budget.maint.refresh_from_db()
    assert budget.maint.opened == 12_000_000


def test_a_line_of_another_year_in_the_rows_is_a_bad_request_and_saves_nothing(
    chef, budget, client_as
):
    bp = draft(budget, "BP")
    other = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2027), code="X-2027")
    response = client_as(chef).post(
        save_url(bp), rows_data((budget.maint, "1000", ""), (other, "1000", ""))
    )
    assert response.status_code == 400
    assert items_of(bp) == {}


@pytest.mark.parametrize("role", [Role.DIRECTION, Role.CONTROLE, Role.ACHAT, Role.COMPTABILITE])
def test_saving_all_is_refused_to_other_roles(role, cast, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(cast[role]).post(save_url(bp), rows_data((budget.maint, "1000", "")))
    assert response.status_code == 403
    assert items_of(bp) == {}


def test_saving_all_answers_get_with_405(chef, budget, client_as):
    bp = draft(budget, "BP")
    assert client_as(chef).get(save_url(bp)).status_code == 405


def test_saving_all_sends_an_anonymous_visitor_to_login(budget, client):
    bp = draft(budget, "BP")
    assert_sends_to_login(client.post(save_url(bp), rows_data((budget.maint, "1000", ""))))
    assert items_of(bp) == {}


# ---------------------------------------------------------------------------
# "Changed lines only"


def shown_codes(response) -> list[str]:
    return [row.line.code for section in response.context["sections"] for row in section["rows"]]


def test_a_draft_lists_every_line_by_default_and_filters_to_its_changed_lines(
    chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.maint: 5_000_000, budget.postes: 2_000_000})
    client = client_as(chef)
    response = client.get(detail_url(bp))
    assert response.context["show"] == "all"
    assert shown_codes(response) == ["F-MAINT", "F-TEL", "I-ERP", "I-POSTES"]
    text = page_text(response)
    assert "Toutes les lignes (4)" in text and "Lignes modifiées seulement (2)" in text

    response = client.get(detail_url(bp) + "?show=changed")
    assert shown_codes(response) == ["F-MAINT", "I-POSTES"]
    assert "2 lignes affichées sur 4 ; les totaux portent sur toutes les lignes." in page_text(
        response
    )
    # The totals are still the whole revision's.
    assert response.context["grand"] == {"previous": 0, "change": 7_000_000, "new": 7_000_000}


def test_a_voted_revision_lists_only_its_changed_lines_by_default_with_a_toggle_to_all(
    chef, budget, client_as
):
    fund({budget.maint: 12_000_000, budget.tel: 4_500_000, budget.postes: 8_000_000})
    dm1 = fund({budget.maint: -2_000_000}, kind="DM1")
    client = client_as(chef)
    response = client.get(detail_url(dm1))
    assert response.context["show"] == "changed"
    assert shown_codes(response) == ["F-MAINT"]
    assert (response.context["shown_count"], response.context["line_count"]) == (1, 4)
    assert response.context["grand"] == {
        "previous": 24_500_000,
        "change": -2_000_000,
        "new": 22_500_000,
    }
    text = page_text(response)
    assert "1 ligne affichée sur 4" in text
    assert 'href="?show=all"' in text and "Toutes les lignes (4)" in text
    assert "Aucune ligne modifiée dans cette section." in text  # investment: none changed

    response = client.get(detail_url(dm1) + "?show=all")
    assert shown_codes(response) == ["F-MAINT", "F-TEL", "I-ERP", "I-POSTES"]


def test_a_submitted_revision_also_lists_its_changed_lines_by_default(directeur, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 5_000_000, budget.tel: 1_000_000})
    services.revision_submit(user=directeur, revision=bp)
    response = client_as(directeur).get(detail_url(bp))
    assert response.context["show"] == "changed"
    assert shown_codes(response) == ["F-MAINT", "F-TEL"]
    assert "2 lignes affichées sur 4" in page_text(response)


def test_an_unknown_filter_falls_back_to_the_revisions_default(chef, budget, client_as):
    bp = fund({budget.maint: 1_000_000})
    response = client_as(chef).get(detail_url(bp) + "?show=nimporte")
    assert response.context["show"] == "changed"
    assert shown_codes(response) == ["F-MAINT"]


def test_a_refused_save_under_the_filter_still_shows_the_typed_rows_it_would_hide(
    chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    response = client_as(chef).post(
        save_url(bp), rows_data((budget.tel, "abc", ""), show="changed")
    )
    assert shown_codes(response) == ["F-MAINT", "F-TEL"]
    assert 'value="abc"' in row_html(page_text(response), budget.tel)


def test_saving_all_returns_to_the_same_filter(chef, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(chef).post(
        save_url(bp), rows_data((budget.tel, "1 000", ""), show="changed"), follow=True
    )
    assert response.redirect_chain[-1][0] == detail_url(bp) + "?show=changed"
    assert shown_codes(response) == ["F-TEL"]


# ---------------------------------------------------------------------------
# A new line in the draft


def new_line_data(budget, **changes) -> dict:
    data = {
        "code": "F-CLOUD",
        "label": "Hébergement cloud",
        "nature_account": budget.maintenance.pk,
        "cost_centre": budget.appli.pk,
        "project": "",
        "amount": "3 600 000",
        "justification": "Migration de la messagerie",
    }
    data.update(changes)
    return data


def test_the_section_head_adds_a_new_line_with_its_amount(chef, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(chef).post(
        reverse("budgets:revision-line-create", args=[bp.pk]),
        new_line_data(budget, project=budget.erp.pk),
        follow=True,
    )
    line = BudgetLine.objects.get(fiscal_year=budget.year, code="F-CLOUD")
    assert (line.section, line.nature_account, line.cost_centre, line.project) == (
        "F",
        budget.maintenance,
        budget.appli,
        budget.erp,
    )
    assert line.opened == 0  # credits open only at the vote
    assert items_of(bp)["F-CLOUD"] == (3_600_000, "Migration de la messagerie")
    assert response.redirect_chain[-1][0] == detail_url(bp) + f"#line-{line.pk}"
    assert messages_of(response) == [f"Ligne F-CLOUD créée avec {xpf(3_600_000)} (BP 2026)."]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "F-MAINT"}, "Le code de ligne F-MAINT est déjà utilisé en 2026."),
        ({"label": ""}, "Ce champ est obligatoire."),
        ({"amount": "0"}, "Le montant ne peut pas être nul."),
        ({"amount": "-100"}, "Le montant doit être positif."),
        ({"amount": "10,5"}, None),  # None: the parser's own message (dsi_finance.money)
        (
            {"nature_account": "__maintenance__", "cost_centre": "__infra__"},
            "La ligne F-MAINT a déjà ce compte, ce centre de coûts et ce projet",
        ),
    ],
)
def test_a_bad_new_line_is_refused_with_its_message_and_nothing_is_created(
    changes, message, chef, budget, client_as
):
    bp = draft(budget, "BP")
    replacements = {"__maintenance__": budget.maintenance.pk, "__infra__": budget.infra.pk}
    changes = {key: replacements.get(value, value) for key, value in changes.items()}
    response = client_as(chef).post(
        reverse("budgets:revision-line-create", args=[bp.pk]), new_line_data(budget, **changes)
    )
    assert response.status_code == 200
    message = message or parse_error(changes["amount"])
    assert message in page_text(response).split('data-testid="new-line-form"')[1]
    assert BudgetLine.objects.filter(fiscal_year=budget.year).count() == 4
    assert items_of(bp) == {}


def test_a_new_line_in_a_dm_cannot_start_with_a_cut(chef, budget, client_as):
    fund({budget.maint: 1_000_000})
    dm1 = draft(budget, "DM1")
    response = client_as(chef).post(
        reverse("budgets:revision-line-create", args=[dm1.pk]),
        new_line_data(budget, amount="-50 000"),
    )
    assert "La nouvelle ligne F-CLOUD ne peut pas commencer par une réduction." in page_text(
        response
    )
    assert not BudgetLine.objects.filter(code="F-CLOUD").exists()


def test_a_new_line_in_a_voted_revision_is_refused_and_not_created(chef, budget, client_as):
    bp = fund({budget.maint: 1_000_000})
    response = client_as(chef).post(
        reverse("budgets:revision-line-create", args=[bp.pk]), new_line_data(budget), follow=True
    )
    (message,) = messages_of(response)
    assert "BP 2026" in message and "« voté »" in message
    # The line and its item are one transaction: the refused item takes the line back.
    assert not BudgetLine.objects.filter(code="F-CLOUD").exists()


def test_adding_a_line_is_refused_to_the_director(directeur, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(directeur).post(
        reverse("budgets:revision-line-create", args=[bp.pk]), new_line_data(budget)
    )
    assert response.status_code == 403
    assert not BudgetLine.objects.filter(code="F-CLOUD").exists()


def test_adding_a_line_answers_get_with_405(chef, budget, client_as):
    bp = draft(budget, "BP")
    url = reverse("budgets:revision-line-create", args=[bp.pk])
    assert client_as(chef).get(url).status_code == 405


# ---------------------------------------------------------------------------
# Submit, return to draft, vote


def action(name, revision) -> str:
    return reverse(f"budgets:revision-{name}", args=[revision.pk])


# Typed day first as in the form: 12 February, never 2 December.
VOTE = {"vote_date": "12/02/2026", "vote_reference": "Délibération n° 2026-014"}


def test_the_full_life_of_a_bp_then_a_dm1_with_figures(chef, directeur, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 12_000_000, budget.tel: 4_500_000})
    client = client_as(directeur)
    response = client.post(action("submit", bp), follow=True)
    bp.refresh_from_db()
    assert bp.state == "submitted" and bp.submitted_by == directeur
    assert messages_of(response) == ["BP 2026 : soumission enregistrée."]

    response = client.post(action("vote", bp), VOTE, follow=True)
    bp.refresh_from_db()
    assert (bp.state, bp.vote_date, bp.vote_reference) == (
        "voted",
        datetime.date(2026, 2, 12),
        "Délibération n° 2026-014",
    )
    assert messages_of(response) == [
        f"BP 2026 : vote enregistré, 2 lignes passées au grand livre, {xpf(16_500_000)} au total."
    ]
    budget.maint.refresh_from_db()
    budget.tel.refresh_from_db()
    assert (budget.maint.opened, budget.tel.opened) == (12_000_000, 4_500_000)
    entries = LedgerEntry.objects.filter(document_id=bp.pk, document_type__model="budgetrevision")
    assert sorted((e.budget_line.code, e.kind, e.amount) for e in entries) == [
        ("F-MAINT", "open", 12_000_000),
        ("F-TEL", "open", 4_500_000),
    ]

    dm1 = draft(budget, "DM1", {budget.maint: -2_000_000, budget.postes: 3_000_000})
    client.post(action("submit", dm1))
    client.post(action("vote", dm1), {**VOTE, "vote_date": "30/06/2026"})
    dm1.refresh_from_db()
    assert dm1.state == "voted"
    for line, expected in (
        (budget.maint, 10_000_000),
        (budget.tel, 4_500_000),
        (budget.postes, 3_000_000),
    ):
        line.refresh_from_db()
        assert line.opened == expected  # previous + change
    dm_entries = LedgerEntry.objects.filter(
        document_id=dm1.pk, document_type__model="budgetrevision"
    )
    assert dm_entries.count() == 2  # one open entry per item
    assert ledger_differences() == []

    # Frozen: the section head can no longer change it.
    client_as(chef).post(save_url(dm1), {f"line-{budget.tel.pk}-amount": "1000"})
    assert RevisionItem.objects.filter(revision=dm1).count() == 2


def test_the_director_sends_a_submitted_revision_back_to_draft(directeur, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 1_000_000})
    services.revision_submit(user=directeur, revision=bp)
    response = client_as(directeur).post(action("return", bp), follow=True)
    bp.refresh_from_db()
    assert bp.state == "draft"
    assert messages_of(response) == ["BP 2026 : renvoi en brouillon enregistré."]


def test_submitting_an_empty_revision_is_refused_with_a_message(directeur, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(directeur).post(action("submit", bp), follow=True)
    bp.refresh_from_db()
    assert bp.state == "draft"
    (message,) = messages_of(response)
    assert "aucune ligne" in message


def test_voting_dm1_before_the_bp_is_refused_and_posts_nothing(directeur, budget, client_as):
    draft(budget, "BP", {budget.maint: 1_000_000})
    dm1 = draft(budget, "DM1", {budget.tel: 500_000})
    services.revision_submit(user=directeur, revision=dm1)
    response = client_as(directeur).post(action("vote", dm1), VOTE, follow=True)
    dm1.refresh_from_db()
    assert dm1.state == "submitted"
    (message,) = messages_of(response)
    assert "DM1" in message and "BP" in message
    assert not LedgerEntry.objects.exists()
    budget.tel.refresh_from_db()
    assert budget.tel.opened == 0


def test_a_dm_cut_below_committed_is_refused_at_the_vote_naming_line_and_figures(
    chef, directeur, budget, client_as
):
    fund({budget.maint: 10_000_000})
    dm1 = draft(budget, "DM1", {budget.maint: -4_000_000})
    services.revision_submit(user=directeur, revision=dm1)
    # Committed after the submission: the vote checks again, under the line's lock.
    services.credits_commit(user=chef, document=budget.maint, amounts={budget.maint: 7_000_000})
    response = client_as(directeur).post(action("vote", dm1), VOTE, follow=True)
    dm1.refresh_from_db()
    assert dm1.state == "submitted"
    (message,) = messages_of(response)
    assert "F-MAINT" in message
    assert xpf(4_000_000) in message and xpf(6_000_000) in message and xpf(7_000_000) in message
    budget.maint.refresh_from_db()
    assert budget.maint.opened == 10_000_000


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"vote_date": "", "vote_reference": "Délib. 1"}, "Date du vote : "),
        ({"vote_date": "12/02/2026", "vote_reference": ""}, "Référence de la délibération : "),
        ({"vote_date": "pas une date", "vote_reference": "Délib. 1"}, "Date du vote : "),
        (
            {"vote_date": "02/31/2026", "vote_reference": "Délib. 1"},
            "Date du vote : « 02/31/2026 » n’est pas une date",
        ),
    ],
)
def test_a_vote_without_its_date_or_reference_is_refused(
    data, fragment, directeur, budget, client_as
):
    bp = draft(budget, "BP", {budget.maint: 1_000_000})
    services.revision_submit(user=directeur, revision=bp)
    response = client_as(directeur).post(action("vote", bp), data, follow=True)
    bp.refresh_from_db()
    assert bp.state == "submitted"
    assert any(message.startswith(fragment) for message in messages_of(response))
    assert not LedgerEntry.objects.exists()


def test_voting_twice_is_refused(directeur, budget, client_as):
    bp = fund({budget.maint: 1_000_000})
    response = client_as(directeur).post(action("vote", bp), VOTE, follow=True)
    (message,) = messages_of(response)
    assert "déjà voté" in message
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("name", ["submit", "return", "vote"])
@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.CONTROLE, Role.ACHAT])
def test_the_steps_of_the_vote_are_refused_to_other_roles(name, role, cast, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 1_000_000})
    response = client_as(cast[role]).post(action(name, bp), VOTE)
    assert response.status_code == 403
    bp.refresh_from_db()
    assert bp.state == "draft"


@pytest.mark.parametrize("name", ["submit", "return", "vote"])
def test_the_steps_of_the_vote_answer_get_with_405(name, directeur, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 1_000_000})
    assert client_as(directeur).get(action(name, bp)).status_code == 405
    bp.refresh_from_db()
    assert bp.state == "draft"


@pytest.mark.parametrize("name", ["submit", "return", "vote"])
def test_the_steps_of_the_vote_send_an_anonymous_visitor_to_login(name, budget, client):
    bp = draft(budget, "BP", {budget.maint: 1_000_000})
    assert_sends_to_login(client.post(action(name, bp), VOTE))


def test_the_editor_costs_the_same_queries_for_4_or_40_lines(
    chef, budget, client_as, django_assert_max_num_queries
):
    bp = draft(budget, "BP", {budget.maint: 1_000_000})
    client = client_as(chef)
    client.get(detail_url(bp))
    for index in range(36):
        line = BudgetLineFactory(
            fiscal_year=budget.year,
            code=f"F-X{index:02d}",
            nature_account=NatureAccountFactory(chapter=budget.opex),
            cost_centre=budget.infra,
        )
        services.revision_item_set(user=chef, revision=bp, budget_line=line, amount=1000 + index)
    with django_assert_max_num_queries(25):
        response = client.get(detail_url(bp))
    assert response.context["item_count"] == 37


def test_a_voted_bp_still_reads_as_voted_after_a_dm1_and_a_transfer(
    chef, directeur, budget, client_as
):
    bp = fund({budget.maint: 12_000_000, budget.tel: 4_500_000})
    fund({budget.maint: -2_000_000, budget.postes: 3_000_000}, kind="DM1")
    transfer = services.transfer_request(
        user=chef, source=budget.tel, target=budget.maint, amount=500_000, reason="Ajustement"
    )
    services.transfer_approve(user=directeur, transfer=transfer)
    rows = {
        row.line.code: row
        for section in client_as(chef).get(detail_url(bp) + "?show=all").context["sections"]
        for row in section["rows"]
    }
    # What the BP page shows does not move with what came after its vote.
    assert [(rows[c].previous, rows[c].change, rows[c].new_amount) for c in rows] == [
        (0, 12_000_000, 12_000_000),
        (0, 4_500_000, 4_500_000),
        (0, None, 0),
        (0, None, 0),
    ]
    dm1_rows = {
        row.line.code: row
        for section in client_as(chef)
        .get(detail_url(BudgetRevision.objects.get(kind="DM1")))
        .context["sections"]
        for row in section["rows"]
    }
    assert (dm1_rows["F-MAINT"].previous, dm1_rows["F-MAINT"].new_amount) == (
        12_000_000,
        10_000_000,
    )
    budget.maint.refresh_from_db()
    assert budget.maint.opened == 10_500_000  # the transfer came after both votes
