"""Transfers (virements): the list, the request form with both lines' availability, the
detail page and its approve / reject / cancel actions."""

import html
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from budgets import services
from budgets.models import BudgetLine, LedgerEntry, Transfer
from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    CostCentreFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("budgets:transfer-list")
CREATE_URL = reverse("budgets:transfer-create")
AVAILABILITY_URL = reverse("budgets:transfer-line-availability")
NBSP = "\u00a0"
NNBSP = "\u202f"
READERS = [Role.PILOTAGE, Role.DIRECTION, Role.CONTROLE]
NOT_READERS = [Role.ACHAT, Role.COMPTABILITE]


def figure(francs: int) -> str:
    """How a list cell writes an amount (its header names the currency): `1 234 567`."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP)


def xpf(francs: int) -> str:
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def lines(chef):
    """Two operating lines of 2026 (open) with 1 000 000 and 300 000 opened, 100 000
    committed on the first; an investment line; and a line of 2027 (in preparation)."""
    infra = CostCentreFactory(code="INFRA", label="Infrastructures")
    appli = CostCentreFactory(code="APPLI", label="Applications")
    maintenance = NatureAccountFactory(number="6156", label="Maintenance")
    source = BudgetLineFactory(
        code="F-6156-INFRA",
        label="Maintenance des serveurs",
        nature_account=maintenance,
        cost_centre=infra,
    )
    target = BudgetLineFactory(
        code="F-6156-APPLI",
        label="Maintenance applicative",
        nature_account=maintenance,
        cost_centre=appli,
    )
    capex = BudgetLineFactory(
        code="I-2183-INFRA",
        label="Postes de travail",
        nature_account=NatureAccountFactory(
            number="2183",
            label="Matériel informatique",
            chapter=ChapterFactory(code="21", label="Immobilisations", section="I"),
        ),
        cost_centre=infra,
    )
    revision = fund({source: 1_000_000, target: 300_000, capex: 2_000_000})
    services.credits_commit(user=chef, document=revision, amounts={source: 100_000})
    next_year = BudgetLineFactory(
        fiscal_year=FiscalYearFactory(year=2027, state="preparation"),
        code="F-6156-APPLI",
        label="Maintenance applicative 2027",
        nature_account=maintenance,
        cost_centre=appli,
    )
    for line in (source, target):
        line.refresh_from_db()
    return {"source": source, "target": target, "capex": capex, "next_year": next_year}


def figures(line) -> tuple[int, int, int]:
    line = BudgetLine.objects.get(pk=line.pk)
    return line.opened, line.committed, line.available


@pytest.fixture
def requested(chef, lines):
    return services.transfer_request(
        user=chef,
        source=lines["source"],
        target=lines["target"],
        amount=250_000,
        reason="Renfort de la maintenance applicative",
    )


def transfer_url(name: str, transfer) -> str:
    return reverse(f"budgets:{name}", args=[transfer.pk])


def ledger_of(transfer) -> list[tuple[str, str, int, int]]:
    return list(
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(Transfer), document_id=transfer.pk
        )
        .order_by("pk")
        .values_list("budget_line__code", "kind", "amount", "available_after")
    )


# --- The list ------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_readers_of_everything_see_the_transfers_of_the_current_year(
    role, cast, requested, client_as
):
    response = client_as(cast[role]).get(LIST_URL)
    assert response.status_code == 200
    rows = list(response.context["table"].paginated_rows.data)
    assert [transfer.pk for transfer in rows] == [requested.pk]
    text = page_text(response)
    assert "Virements" in text
    assert f">{figure(250_000)}<" in text  # the currency is in the header
    assert "Demandé" in text


@pytest.mark.parametrize("role", NOT_READERS)
def test_buyers_and_accountants_may_not_list_transfers(role, cast, requested, client_as):
    assert client_as(cast[role]).get(LIST_URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_login_from_every_transfer_page(client, requested):
    assert_sends_to_login(client.get(LIST_URL))
    assert_sends_to_login(client.get(CREATE_URL))
    assert_sends_to_login(client.get(AVAILABILITY_URL))
    assert_sends_to_login(client.get(transfer_url("transfer-detail", requested)))
    for action in ("transfer-approve", "transfer-reject", "transfer-cancel"):
        assert_sends_to_login(client.post(transfer_url(action, requested)))
    assert Transfer.objects.get().state == Transfer.State.REQUESTED


def test_the_list_filters_by_state_and_by_year(chef, directeur, lines, requested, client_as):
    rejected = services.transfer_request(
        user=chef, source=lines["target"], target=lines["source"], amount=1_000, reason="Essai"
    )
    services.transfer_reject(user=directeur, transfer=rejected, note="Inutile")
    client = client_as(chef)

    def shown(**filters):
        response = client.get(LIST_URL, filters)
        return [transfer.pk for transfer in response.context["table"].paginated_rows.data]

    assert sorted(shown()) == sorted([requested.pk, rejected.pk])
    assert shown(state="rejected") == [rejected.pk]
    assert shown(state="requested") == [requested.pk]
    assert shown(year="2027") == []
    assert sorted(shown(year="")) == sorted([requested.pk, rejected.pk])


def test_the_list_answers_htmx_with_its_table_only(chef, requested, client_as):
    response = client_as(chef).get(
        LIST_URL,
        {"state": "requested"},
        headers={"HX-Request": "true", "HX-Target": "table-region"},
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="table-region"')
    assert "<html" not in text


# --- The request form ----------------------------------------------------------------


def post_request(client, source, target, amount="250 000", reason="Renfort"):
    return client.post(
        CREATE_URL,
        {
            "source": source.pk if source else "",
            "target": target.pk if target else "",
            "amount": amount,
            "reason": reason,
        },
    )


def test_the_section_head_requests_a_transfer_and_nothing_moves_until_it_is_approved(
    chef, lines, client_as
):
    before = {name: figures(line) for name, line in lines.items()}
    response = post_request(
        client_as(chef), lines["source"], lines["target"], amount="1 234", reason="Renfort"
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == transfer.get_absolute_url()
    assert (transfer.source, transfer.target, transfer.amount, transfer.reason) == (
        lines["source"],
        lines["target"],
        1_234,
        "Renfort",
    )
    assert transfer.state == Transfer.State.REQUESTED
    assert transfer.requested_by == chef
    assert {name: figures(line) for name, line in lines.items()} == before
    assert ledger_of(transfer) == []


def test_a_success_message_in_french_says_what_awaits_approval(chef, lines, client_as):
    response = client_as(chef).post(
        CREATE_URL,
        {
            "source": lines["source"].pk,
            "target": lines["target"].pk,
            "amount": "654 321",
            "reason": "Renfort",
        },
        follow=True,
    )
    assert Transfer.objects.get().amount == 654_321
    assert messages_of(response) == [
        f"Virement de {xpf(654_321)} de F-6156-INFRA vers F-6156-APPLI demandé : "
        "il attend l’approbation du DSI."
    ]


@pytest.mark.parametrize(
    "amount", ["250000", "250 000", f"250{NNBSP}000", "250000,00", "250.000", "250'000"]
)
def test_whole_amounts_are_accepted_with_spaces_or_zero_decimals(amount, chef, lines, client_as):
    post_request(client_as(chef), lines["source"], lines["target"], amount=amount)
    assert Transfer.objects.get().amount == 250_000


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (
            "12,5",
            "Le montant «\u00a012,5\u00a0»\u00a0: 12,5 francs\u00a0? Le franc CFP n’a pas "
            "de décimales\u00a0; tapez 12.",
        ),
        (
            "250.5",
            "Le montant «\u00a0250.5\u00a0»\u00a0: 250,5 francs\u00a0? Le franc CFP n’a "
            "pas de décimales\u00a0; tapez 250 ou 250\u202f000 (milliers séparés par des "
            "espaces, des points ou des apostrophes).",
        ),
        ("douze mille", "Le montant n’est pas un nombre : « douze mille »."),
        ("1e6", "Le montant n’est pas un nombre : « 1e6 »."),
        ("", "Ce champ est obligatoire."),
        ("0", "Le montant ne peut pas être nul."),
        ("-5000", "Le montant doit être positif."),
        ("5000000000000", "Le montant dépasse"),
    ],
)
def test_a_bad_amount_is_refused_in_french_and_nothing_is_recorded(
    amount, message, chef, lines, client_as
):
    response = post_request(client_as(chef), lines["source"], lines["target"], amount=amount)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        (
            "source",
            "source",
            "Un virement déplace des crédits entre deux lignes différentes.",
        ),
        (
            "target",
            "next_year",
            "Un virement reste dans un même exercice : F-6156-APPLI et F-6156-APPLI "
            "appartiennent à des exercices différents.",
        ),
        (
            "source",
            "capex",
            "Un virement reste dans une même section : crédits de fonctionnement et "
            "d’investissement ne se mélangent pas.",
        ),
    ],
)
def test_a_transfer_outside_one_year_and_one_section_is_refused(
    source, target, message, chef, lines, client_as
):
    response = post_request(client_as(chef), lines[source], lines[target])
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Transfer.objects.exists()


def test_a_transfer_of_more_than_the_available_amount_is_refused(chef, lines, client_as):
    response = post_request(client_as(chef), lines["source"], lines["target"], amount="900 001")
    assert (
        f"La ligne F-6156-INFRA a {xpf(900_000)} de disponible : elle ne peut pas céder "
        f"{xpf(900_001)}." in page_text(response)
    )
    assert not Transfer.objects.exists()


def test_a_transfer_without_a_reason_is_refused(chef, lines, client_as):
    response = post_request(client_as(chef), lines["source"], lines["target"], reason="  ")
    assert "Ce champ est obligatoire." in page_text(response)
    assert not Transfer.objects.exists()


def test_a_line_of_a_closed_year_cannot_be_chosen(chef, lines, client_as):
    services.fiscal_year_close(user=chef, fiscal_year=lines["source"].fiscal_year)
    response = post_request(client_as(chef), lines["source"], lines["target"])
    assert "Sélectionnez un choix valide" in page_text(response)
    assert not Transfer.objects.exists()


def test_the_form_offers_only_lines_of_open_or_preparing_years_grouped_by_year_and_section(
    chef, lines, client_as
):
    closed = BudgetLineFactory(
        fiscal_year=FiscalYearFactory(year=2024, state="closed"), code="VIEILLE"
    )
    text = page_text(client_as(chef).get(CREATE_URL))
    select = text.split('name="source"')[1].split("</select>")[0]
    assert '<optgroup label="2027 — Fonctionnement (OPEX)">' in select
    assert '<optgroup label="2026 — Investissement (CAPEX)">' in select
    assert "F-6156-INFRA — Maintenance des serveurs" in select
    assert "VIEILLE" not in select
    assert f'value="{closed.pk}"' not in select


def test_after_a_refusal_the_form_still_shows_both_lines_availability(chef, lines, client_as):
    response = post_request(client_as(chef), lines["source"], lines["target"], amount="2 000 000")
    text = page_text(response)
    source_box = text.split('id="source-availability"')[1].split("</dl>")[0]
    target_box = text.split('id="target-availability"')[1].split("</dl>")[0]
    assert xpf(900_000) in source_box
    assert xpf(300_000) in target_box


@pytest.mark.parametrize("role", [Role.DIRECTION, Role.CONTROLE, Role.ACHAT, Role.COMPTABILITE])
def test_only_the_section_head_may_request_a_transfer(role, cast, lines, client_as):
    client = client_as(cast[role])
    assert client.get(CREATE_URL).status_code == 403
    assert post_request(client, lines["source"], lines["target"]).status_code == 403
    assert not Transfer.objects.exists()


def test_choosing_a_line_loads_its_availability_beside_the_select(chef, lines, client_as):
    client = client_as(chef)
    response = client.get(
        AVAILABILITY_URL,
        {"source": lines["source"].pk},
        headers={"HX-Request": "true", "HX-Trigger-Name": "source"},
    )
    text = page_text(response)
    assert "<html" not in text
    assert text.split('data-figure="available">')[1].split("<")[0] == xpf(900_000)
    target = page_text(client.get(AVAILABILITY_URL, {"target": lines["target"].pk}))
    assert target.split('data-figure="available">')[1].split("<")[0] == xpf(300_000)
    nothing = page_text(client.get(AVAILABILITY_URL, {"source": ""}))
    assert "Choisissez une ligne pour voir son disponible." in nothing
    assert "Choisissez une ligne" in page_text(client.get(AVAILABILITY_URL, {"source": "x"}))


def test_the_form_selects_ask_htmx_for_the_availability(chef, lines, client_as):
    text = page_text(client_as(chef).get(CREATE_URL, {"source": lines["source"].pk}))
    assert f'hx-get="{AVAILABILITY_URL}"' in text
    assert 'hx-target="#source-availability"' in text
    assert 'hx-target="#target-availability"' in text
    # Proposed from a line's page: that line is chosen and its availability shown.
    source_box = text.split('id="source-availability"')[1].split("</dl>")[0]
    assert xpf(900_000) in source_box


def test_the_availability_fragment_is_for_those_who_request_transfers(acheteur, lines, client_as):
    response = client_as(acheteur).get(AVAILABILITY_URL, {"source": lines["source"].pk})
    assert response.status_code == 403


# --- The detail page ---------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_the_detail_shows_both_lines_their_availability_and_what_approval_would_leave(
    role, cast, requested, client_as
):
    response = client_as(cast[role]).get(transfer_url("transfer-detail", requested))
    assert response.status_code == 200
    text = page_text(response)
    assert f"Virement n° {requested.pk}" in text
    assert "Renfort de la maintenance applicative" in text
    source = text.split('data-testid="source"')[1].split("</section>")[0]
    target = text.split('data-testid="target"')[1].split("</section>")[0]
    assert xpf(900_000) in source and xpf(650_000) in source
    assert xpf(300_000) in target and xpf(550_000) in target
    assert cast[Role.PILOTAGE].get_full_name() in text


@pytest.mark.parametrize("role", NOT_READERS)
def test_the_detail_is_refused_to_buyers_and_accountants(role, cast, requested, client_as):
    assert client_as(cast[role]).get(transfer_url("transfer-detail", requested)).status_code == 403


def test_the_director_sees_approve_and_reject_the_section_head_sees_cancel(
    chef, directeur, controleur, requested, client_as
):
    director_page = page_text(client_as(directeur).get(transfer_url("transfer-detail", requested)))
    assert transfer_url("transfer-approve", requested) in director_page
    assert transfer_url("transfer-reject", requested) in director_page
    assert transfer_url("transfer-cancel", requested) not in director_page
    chef_page = page_text(client_as(chef).get(transfer_url("transfer-detail", requested)))
    assert transfer_url("transfer-cancel", requested) in chef_page
    assert transfer_url("transfer-approve", requested) not in chef_page
    control_page = page_text(client_as(controleur).get(transfer_url("transfer-detail", requested)))
    assert 'data-testid="actions"' not in control_page


# --- Approve, reject, cancel ---------------------------------------------------------


def test_approving_moves_exactly_the_amount_and_posts_two_ledger_entries(
    directeur, lines, requested, client_as
):
    source_before, target_before = figures(lines["source"]), figures(lines["target"])
    response = client_as(directeur).post(
        transfer_url("transfer-approve", requested), {"note": "Accordé"}, follow=True
    )
    requested.refresh_from_db()
    assert requested.state == Transfer.State.APPROVED
    assert requested.decided_by == directeur
    assert requested.decision_note == "Accordé"
    source_after, target_after = figures(lines["source"]), figures(lines["target"])
    assert source_after[2] == source_before[2] - 250_000 == 650_000
    assert target_after[2] == target_before[2] + 250_000 == 550_000
    assert source_after[0] == source_before[0] - 250_000
    assert target_after[0] == target_before[0] + 250_000
    assert ledger_of(requested) == [
        ("F-6156-INFRA", "transfer_out", -250_000, 650_000),
        ("F-6156-APPLI", "transfer_in", 250_000, 550_000),
    ]
    assert messages_of(response) == [
        f"Virement approuvé : {xpf(250_000)} passés de F-6156-INFRA à F-6156-APPLI."
    ]
    entries = page_text(response).split('data-testid="entries"')[1]
    assert 'data-kind="transfer_out"' in entries and 'data-kind="transfer_in"' in entries


def test_approval_is_refused_in_french_when_the_source_no_longer_has_the_credits(
    directeur, lines, requested, client_as
):
    # Meanwhile, a commitment takes most of the source line.
    services.credits_commit(
        user=directeur, document=lines["target"], amounts={lines["source"]: 800_000}
    )
    before = figures(lines["source"]), figures(lines["target"])
    response = client_as(directeur).post(transfer_url("transfer-approve", requested), follow=True)
    requested.refresh_from_db()
    assert requested.state == Transfer.State.REQUESTED
    assert (figures(lines["source"]), figures(lines["target"])) == before
    assert ledger_of(requested) == []
    assert messages_of(response) == [
        f"La ligne F-6156-INFRA a {xpf(100_000)} de disponible : elle ne peut pas céder "
        f"{xpf(250_000)}."
    ]


def test_a_decided_transfer_cannot_be_approved_again(directeur, requested, client_as):
    client = client_as(directeur)
    client.post(transfer_url("transfer-approve", requested), follow=True)
    response = client.post(transfer_url("transfer-approve", requested), follow=True)
    assert messages_of(response) == ["Ce virement est déjà à l’état « approuvé »."]
    assert len(ledger_of(requested)) == 2


def test_rejecting_needs_a_note_and_keeps_it(directeur, lines, requested, client_as):
    client = client_as(directeur)
    refused = client.post(transfer_url("transfer-reject", requested), {"note": " "}, follow=True)
    assert messages_of(refused) == ["Indiquez pourquoi le virement est rejeté."]
    requested.refresh_from_db()
    assert requested.state == Transfer.State.REQUESTED

    before = figures(lines["source"]), figures(lines["target"])
    response = client.post(
        transfer_url("transfer-reject", requested), {"note": "Pas prioritaire"}, follow=True
    )
    requested.refresh_from_db()
    assert requested.state == Transfer.State.REJECTED
    assert requested.decision_note == "Pas prioritaire"
    assert (figures(lines["source"]), figures(lines["target"])) == before
    assert ledger_of(requested) == []
    assert messages_of(response) == ["Virement rejeté."]
    assert "Pas prioritaire" in page_text(response)


def test_the_section_head_cancels_a_pending_request(chef, requested, client_as):
    response = client_as(chef).post(transfer_url("transfer-cancel", requested), follow=True)
    requested.refresh_from_db()
    assert requested.state == Transfer.State.CANCELLED
    assert messages_of(response) == ["Virement annulé."]
    assert ledger_of(requested) == []


@pytest.mark.parametrize(
    ("action", "role"),
    [
        ("transfer-approve", Role.PILOTAGE),
        ("transfer-approve", Role.CONTROLE),
        ("transfer-reject", Role.PILOTAGE),
        ("transfer-reject", Role.ACHAT),
        ("transfer-cancel", Role.DIRECTION),
        ("transfer-cancel", Role.COMPTABILITE),
    ],
)
def test_a_role_that_may_not_do_an_action_is_refused_and_nothing_changes(
    action, role, cast, requested, client_as
):
    response = client_as(cast[role]).post(transfer_url(action, requested), {"note": "Non"})
    assert response.status_code == 403
    requested.refresh_from_db()
    assert requested.state == Transfer.State.REQUESTED
    assert ledger_of(requested) == []


@pytest.mark.parametrize("action", ["transfer-approve", "transfer-reject", "transfer-cancel"])
def test_actions_refuse_get(action, chef, directeur, requested, client_as):
    user = chef if action == "transfer-cancel" else directeur
    response = client_as(user).get(transfer_url(action, requested))
    assert response.status_code == 405
    requested.refresh_from_db()
    assert requested.state == Transfer.State.REQUESTED


def test_an_action_on_an_unknown_transfer_is_not_found(directeur, client_as):
    response = client_as(directeur).post(reverse("budgets:transfer-approve", args=[999_999]))
    assert response.status_code == 404


def test_the_detail_shows_the_history_of_the_transfer(chef, directeur, requested, client_as):
    client = client_as(directeur)
    client.post(transfer_url("transfer-approve", requested), {"note": "Accord"})
    text = page_text(client.get(transfer_url("transfer-detail", requested)))
    history = text.split('data-testid="history"')[1].split("</section>")[0]
    assert history.count('data-testid="history-item"') == 2  # requested, then approved
    assert 'data-field="state"' in history
    assert "Demandé" in history and "Approuvé" in history
    assert directeur.get_full_name() in history.split('data-kind="created"')[0]


def test_the_form_proposed_for_a_short_line_is_prefilled_and_lists_the_lines_that_can_give(
    chef, lines, client_as
):
    """What a short purchase request links to: this line receives the shortage; the lines
    of the same year and section with something available are listed, the most first."""
    target = lines["target"]
    client = client_as(chef)
    response = client.get(
        CREATE_URL, {"target": target.pk, "amount": "250000", "reason": "Pour couvrir DA-2026-1"}
    )
    form = response.context["form"]
    assert form["target"].value() == target.pk
    assert re.sub(r"\D", "", str(form["amount"].value())) == "250000"
    assert form["reason"].value() == "Pour couvrir DA-2026-1"
    sources = [(s["line"].code, s["line"].available_amount) for s in response.context["sources"]]
    # Not the target itself, not the investment line, not 2027's.
    assert sources == [("F-6156-INFRA", 900_000)]
    page = page_text(response)
    assert 'data-testid="transfer-source" data-line="F-6156-INFRA"' in page
    assert figure(900_000) in page  # a list cell: the currency is in the column header
    # Choosing a giving line keeps the target, the amount and the reason.
    choose = response.context["sources"][0]["url"]
    response = client.get(CREATE_URL + choose)
    form = response.context["form"]
    assert form["source"].value() == lines["source"].pk
    assert form["target"].value() == target.pk
    assert form["reason"].value() == "Pour couvrir DA-2026-1"


def test_the_request_page_links_to_the_prefilled_transfer_form(chef, acheteur, client_as):
    from procurement.models import PurchaseRequest
    from tests.procurement.factories import funded_line, purchase_request, request_line

    short_line = funded_line(100_000, code="F-6156-SHORT")
    giver = funded_line(5_000_000, code="F-6156-GIVER")
    pr = purchase_request(
        user=acheteur, lines=[request_line(short_line, unit_price=400_000)], submit=True
    )
    assert pr.state == PurchaseRequest.State.SUBMITTED
    client = client_as(chef)
    page = client.get(pr.get_absolute_url()).content.decode()
    link = html.unescape(page.split('data-testid="propose-transfer"')[0].rsplit('href="', 1)[1])
    response = client.get(link.split('"')[0])
    assert response.context["form"]["target"].value() == short_line.pk
    assert re.sub(r"\D", "", str(response.context["form"]["amount"].value())) == "300000"
    assert [s["line"].code for s in response.context["sources"]] == [giver.code]
    assert pr.number in response.context["form"]["reason"].value()
