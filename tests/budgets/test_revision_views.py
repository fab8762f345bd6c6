"""BP, DM1 and DM2 screens: the list, the editor (in place), new lines, submit, return, vote."""

import datetime
import html
from types import SimpleNamespace

import pytest
from django.urls import reverse

from budgets import services
from budgets.models import BudgetLine, BudgetRevision, LedgerEntry, RevisionItem
from budgets.selectors import ledger_differences
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
HTMX = {"HX-Request": "true", "HX-Target": "line-0"}


def xpf(francs: int) -> str:
    """How the pages print an amount: 1 234 567 F CFP (narrow and plain no-break spaces)."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + "\u00a0F\u00a0CFP"


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


def item_url(revision, line) -> str:
    return reverse("budgets:revision-item-set", args=[revision.pk, line.pk])


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
    # The section head edits a draft: every line has its form.
    assert text.count('name="amount"') == 4 + 1  # four rows and the new-line form


@pytest.mark.parametrize("role", [Role.DIRECTION, Role.CONTROLE])
def test_readers_who_may_not_prepare_see_the_draft_without_forms(role, cast, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    response = client_as(cast[role]).get(detail_url(bp))
    assert response.status_code == 200
    text = page_text(response)
    assert 'name="amount"' not in text
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
    assert 'name="amount"' not in text
    assert "Vote du 15/01/2026, référence Délib. 14 : cette révision est figée." in text
    assert "2 écritures" in text and xpf(20_000_000) in text


# ---------------------------------------------------------------------------
# Editing a row in place


def test_saving_a_row_with_htmx_answers_the_row_and_the_refreshed_totals(chef, budget, client_as):
    bp = draft(budget, "BP", {budget.tel: 4_500_000})
    response = client_as(chef).post(
        item_url(bp, budget.maint),
        {"amount": "12 000 000", "justification": "Contrats de maintenance 2026"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert items_of(bp)["F-MAINT"] == (12_000_000, "Contrats de maintenance 2026")
    fragment = page_text(response)
    assert fragment.lstrip().startswith(f'<tr id="line-{budget.maint.pk}"')
    assert "<html" not in fragment
    assert 'value="12 000 000"' in fragment and "Enregistré" in fragment
    # The out-of-band parts come each in a <template>, so that a <div> after a <tr> parses.
    assert '<template><tr id="section-total-F"' in fragment
    assert '<template><div id="revision-summary"' in fragment
    assert fragment.count('hx-swap-oob="true"') == 2
    assert xpf(16_500_000) in fragment  # the operating section and the grand total


def test_saving_a_row_without_htmx_redirects_to_the_row_with_a_message(chef, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(chef).post(
        item_url(bp, budget.postes), {"amount": "8000000", "justification": ""}, follow=True
    )
    assert response.redirect_chain[-1][0] == detail_url(bp) + f"#line-{budget.postes.pk}"
    assert items_of(bp) == {"I-POSTES": (8_000_000, "")}
    assert messages_of(response) == ["Ligne I-POSTES enregistrée."]


def test_a_dm_row_takes_a_signed_change(chef, budget, client_as):
    fund({budget.maint: 12_000_000})
    dm1 = draft(budget, "DM1")
    client_as(chef).post(
        item_url(dm1, budget.maint),
        {"amount": "-1 500 000", "justification": "Fin d'un contrat"},
        headers=HTMX,
    )
    assert items_of(dm1) == {"F-MAINT": (-1_500_000, "Fin d'un contrat")}


def test_emptying_the_amount_takes_the_line_out_of_the_draft(chef, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 5_000_000, budget.tel: 1_000_000})
    response = client_as(chef).post(
        item_url(bp, budget.maint), {"amount": "", "justification": ""}, headers=HTMX
    )
    assert response.status_code == 200
    assert items_of(bp) == {"F-TEL": (1_000_000, "Justification F-TEL")}
    assert xpf(1_000_000) in page_text(response).split('id="revision-summary"')[1]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Le montant ne peut pas être nul."),
        ("-5000", "Le montant doit être positif."),
        ("2 000 000 000 000", "Le montant dépasse 1\u202f000\u202f000\u202f000\u202f000"),
        ("12,50", "Le montant doit être un nombre entier de francs."),
        ("1234.5", "Le montant doit être un nombre entier de francs."),
        ("douze mille", "Le montant n’est pas un nombre : « douze mille »."),
    ],
)
def test_a_bad_bp_amount_is_answered_in_the_row_and_changes_nothing(
    typed, message, chef, budget, client_as
):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    response = client_as(chef).post(
        item_url(bp, budget.maint), {"amount": typed, "justification": "x"}, headers=HTMX
    )
    assert response.status_code == 200
    fragment = page_text(response)
    errors = fragment.split('data-testid="row-errors"')[1]
    assert message in errors
    assert f'value="{typed}"' in fragment  # what was typed is kept for correction
    assert "hx-swap-oob" not in fragment
    assert items_of(bp) == {"F-MAINT": (5_000_000, "Justification F-MAINT")}


def test_a_zero_dm_change_is_refused(chef, budget, client_as):
    fund({budget.maint: 1_000_000})
    dm1 = draft(budget, "DM1")
    response = client_as(chef).post(
        item_url(dm1, budget.maint), {"amount": "0"}, headers=HTMX, follow=True
    )
    assert "Le montant de la variation ne peut pas être nul" in page_text(response)
    assert items_of(dm1) == {}


def test_a_justification_without_amount_is_not_silently_dropped(chef, budget, client_as):
    bp = draft(budget, "BP", {budget.maint: 5_000_000})
    response = client_as(chef).post(
        item_url(bp, budget.maint), {"amount": "", "justification": "Nouveau motif"}, headers=HTMX
    )
    assert "Saisissez un montant, ou effacez aussi la justification" in page_text(response)
    assert items_of(bp) == {"F-MAINT": (5_000_000, "Justification F-MAINT")}


def test_a_bad_amount_without_htmx_comes_back_as_a_message(chef, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(chef).post(item_url(bp, budget.maint), {"amount": "abc"}, follow=True)
    (message,) = messages_of(response)
    assert message.startswith("F-MAINT : Le montant n’est pas un nombre")
    assert items_of(bp) == {}


def test_editing_a_voted_revision_is_refused_and_changes_nothing(chef, budget, client_as):
    bp = fund({budget.maint: 12_000_000})
    response = client_as(chef).post(item_url(bp, budget.maint), {"amount": "1"}, headers=HTMX)
    errors = page_text(response).split('data-testid="row-errors"')[1]
    assert "BP 2026" in errors and "« voté »" in errors and "ne peut plus être modifiée" in errors
    assert items_of(bp) == {"F-MAINT": (12_000_000, "")}
    budget.maint.refresh_from_db()
    assert budget.maint.opened == 12_000_000


def test_a_line_of_another_year_is_404_in_the_editor(chef, budget, client_as):
    bp = draft(budget, "BP")
    other = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2027), code="X-2027")
    response = client_as(chef).post(item_url(bp, other), {"amount": "1000"})
    assert response.status_code == 404
    assert items_of(bp) == {}


@pytest.mark.parametrize("role", [Role.DIRECTION, Role.CONTROLE, Role.ACHAT, Role.COMPTABILITE])
def test_editing_a_row_is_refused_to_other_roles(role, cast, budget, client_as):
    bp = draft(budget, "BP")
    response = client_as(cast[role]).post(item_url(bp, budget.maint), {"amount": "1000"})
    assert response.status_code == 403
    assert items_of(bp) == {}


def test_editing_a_row_answers_get_with_405(chef, budget, client_as):
    bp = draft(budget, "BP")
    assert client_as(chef).get(item_url(bp, budget.maint)).status_code == 405


def test_editing_a_row_sends_an_anonymous_visitor_to_login(budget, client):
    bp = draft(budget, "BP")
    assert_sends_to_login(client.post(item_url(bp, budget.maint), {"amount": "1000"}))


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
        ({"amount": "10,5"}, "Le montant doit être un nombre entier de francs."),
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


VOTE = {"vote_date": "2026-02-12", "vote_reference": "Délibération n° 2026-014"}


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
    client.post(action("vote", dm1), {**VOTE, "vote_date": "2026-06-30"})
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
    client_as(chef).post(item_url(dm1, budget.tel), {"amount": "1000"}, headers=HTMX)
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
        ({"vote_date": "2026-02-12", "vote_reference": ""}, "Référence de la délibération : "),
        ({"vote_date": "pas une date", "vote_reference": "Délib. 1"}, "Date du vote : "),
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
        for section in client_as(chef).get(detail_url(bp)).context["sections"]
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
