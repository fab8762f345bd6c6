"""The budget services: exact figures on the happy paths, and every refusal answered
with a message that names what is wrong while nothing at all changes.

"Nothing changed" is checked on the whole budget state: every line's totals, the
number of ledger entries, the transfers, the revisions and their items, the years.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from budgets import services
from budgets.models import (
    BudgetLine,
    BudgetRevision,
    FiscalYear,
    LedgerEntry,
    RevisionItem,
    Transfer,
)
from budgets.selectors import broken_balances, ledger_differences
from budgets.services import CreditsShortError
from dsi_finance.errors import ServiceError
from dsi_finance.money import MAX_AMOUNT, format_xpf, validate_amount
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    CostCentreFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)

pytestmark = pytest.mark.django_db

VOTED_ON = datetime.date(2026, 1, 15)


# --- Fixtures and helpers ------------------------------------------------------------


def make_line(code: str, *, chapter: str = "011", section: str = "F", year=None) -> BudgetLine:
    return BudgetLineFactory(
        code=code,
        fiscal_year=year or FiscalYearFactory(),
        nature_account=NatureAccountFactory(
            chapter=ChapterFactory(code=chapter, label=f"Chapitre {chapter}", section=section)
        ),
        cost_centre=CostCentreFactory(),
    )


@pytest.fixture
def lines(db):
    """Three lines of 2026 with no credits yet: two operating lines of chapter 011,
    one investment line of chapter 21."""
    return {
        "licences": make_line("F-LICENCES"),
        "maintenance": make_line("F-MAINT"),
        "serveurs": make_line("I-SERVEURS", chapter="21", section="I"),
    }


@pytest.fixture
def funded(lines):
    """The same lines once the BP is voted: 1 000 000, 500 000 and 2 000 000 F CFP."""
    fund(
        {lines["licences"]: 1_000_000, lines["maintenance"]: 500_000, lines["serveurs"]: 2_000_000}
    )
    return lines


def state() -> tuple:
    """Everything a budget service may write."""
    return (
        list(BudgetLine.objects.order_by("pk").values_list("opened", "committed", "liquidated")),
        LedgerEntry.objects.count(),
        list(Transfer.objects.order_by("pk").values_list("state", "amount", "decided_by")),
        list(BudgetRevision.objects.order_by("pk").values_list("kind", "state", "vote_reference")),
        list(RevisionItem.objects.order_by("pk").values_list("budget_line", "amount")),
        list(FiscalYear.objects.order_by("pk").values_list("year", "state")),
    )


@contextmanager
def changes_nothing():
    before = state()
    yield
    assert state() == before


def refused(call, error=ServiceError):
    """Run a call, in French, that must be refused with `error`; nothing may change.
    -> the error, whose messages the test reads."""
    with changes_nothing(), translation.override("fr"), pytest.raises(error) as raised:
        call()
    if isinstance(raised.value, ServiceError):
        assert raised.value.messages and all(m.strip() for m in raised.value.messages)
    return raised.value


def figures(line: BudgetLine) -> tuple[int, int, int]:
    line.refresh_from_db()
    return line.opened, line.committed, line.liquidated


def prepare(year, kind, items: dict, *, chef) -> BudgetRevision:
    """A draft revision of `kind` with these {line: amount} items, entered by the section head."""
    rev = services.revision_create(user=chef, fiscal_year=year, kind=kind)
    for line, amount in items.items():
        services.revision_item_set(user=chef, revision=rev, budget_line=line, amount=amount)
    return rev


def vote(rev, directeur, reference="Délibération 2026-12") -> BudgetRevision:
    return services.revision_vote(
        user=directeur, revision=rev, vote_date=VOTED_ON, vote_reference=reference
    )


# --- Amounts -----------------------------------------------------------------------

NOT_WHOLE = [12.5, 100.0, Decimal("100"), "100", True, None]
BAD_POSITIVE = [0, -1, -250_000, MAX_AMOUNT + 1, *NOT_WHOLE]


def assert_each_refused(call, amounts) -> None:
    """call(amount) is refused for each amount, with code "amount", changing nothing."""
    for amount in amounts:
        error = refused(lambda amount=amount: call(amount))
        assert error.code == "amount", repr(amount)


def test_a_commitment_of_a_bad_amount_is_refused(funded, directeur):
    line = funded["licences"]
    assert_each_refused(
        lambda amount: services.credits_commit(
            user=directeur, document=line, amounts={line: amount}, override_reason="Forcé"
        ),
        BAD_POSITIVE,
    )


def test_a_commitment_with_one_bad_amount_among_good_ones_is_refused_whole(funded, chef):
    licences, maintenance = funded["licences"], funded["maintenance"]
    assert_each_refused(
        lambda amount: services.credits_commit(
            user=chef, document=licences, amounts={licences: 1_000, maintenance: amount}
        ),
        BAD_POSITIVE,
    )


def test_a_transfer_of_a_bad_amount_is_refused(funded, chef):
    assert_each_refused(
        lambda amount: services.transfer_request(
            user=chef,
            source=funded["licences"],
            target=funded["maintenance"],
            amount=amount,
            reason="Réallocation",
        ),
        BAD_POSITIVE,
    )


def test_a_bad_amount_in_the_initial_budget_is_refused(lines, chef):
    bp = services.revision_create(user=chef, fiscal_year=lines["licences"].fiscal_year, kind="BP")
    assert_each_refused(
        lambda amount: services.revision_item_set(
            user=chef, revision=bp, budget_line=lines["licences"], amount=amount
        ),
        BAD_POSITIVE,
    )


def test_a_bad_change_in_an_amending_decision_is_refused(funded, chef):
    dm1 = services.revision_create(
        user=chef, fiscal_year=funded["licences"].fiscal_year, kind="DM1"
    )
    assert_each_refused(
        lambda amount: services.revision_item_set(
            user=chef, revision=dm1, budget_line=funded["licences"], amount=amount
        ),
        [0, MAX_AMOUNT + 1, -(MAX_AMOUNT + 1), *NOT_WHOLE],
    )


@pytest.mark.parametrize("operation", ["release", "liquidate", "unliquidate"])
def test_releasing_or_liquidating_a_bad_amount_is_refused(funded, chef, operation):
    line = funded["licences"]
    services.credits_commit(user=chef, document=line, amounts={line: 1_000})
    services.credits_liquidate(user=chef, document=line, line=line, amount=500)
    call = getattr(services, f"credits_{operation}")
    kwargs = {"reason": "Facture annulée"} if operation == "unliquidate" else {}
    assert_each_refused(
        lambda amount: call(user=chef, document=line, line=line, amount=amount, **kwargs),
        BAD_POSITIVE,
    )


def test_the_amount_messages_say_what_is_wrong(funded, chef):
    def message(amount):
        with translation.override("fr"), pytest.raises(ServiceError) as raised:
            validate_amount(amount)
        (text,) = raised.value.messages
        return text

    assert message(12.5) == "Le montant doit être un nombre entier de francs."
    assert message("12") == "Le montant doit être un nombre entier de francs."
    assert message(0) == "Le montant ne peut pas être nul."
    assert message(-3) == "Le montant doit être positif."
    assert message(MAX_AMOUNT + 1) == (
        f"Le montant dépasse {format_xpf(MAX_AMOUNT)} : vérifiez le chiffre."
    )


def test_the_largest_sensible_amount_is_accepted(lines, chef, directeur):
    fund({lines["licences"]: MAX_AMOUNT})
    assert figures(lines["licences"]) == (MAX_AMOUNT, 0, 0)


# --- Revisions: order, freezing, and cuts below what is committed --------------------


def test_the_initial_budget_opens_exactly_the_voted_credits(lines, chef, directeur):
    year = lines["licences"].fiscal_year
    bp = prepare(
        year, "BP", {lines["licences"]: 1_000_000, lines["serveurs"]: 2_000_000}, chef=chef
    )
    services.revision_submit(user=directeur, revision=bp)

    vote(bp, directeur)

    assert figures(lines["licences"]) == (1_000_000, 0, 0)
    assert figures(lines["serveurs"]) == (2_000_000, 0, 0)
    assert figures(lines["maintenance"]) == (0, 0, 0)
    bp.refresh_from_db()
    assert (bp.state, bp.vote_date, bp.vote_reference, bp.voted_by) == (
        BudgetRevision.State.VOTED,
        VOTED_ON,
        "Délibération 2026-12",
        directeur,
    )
    entries = LedgerEntry.objects.order_by("budget_line__code")
    assert [(e.budget_line.code, e.kind, e.amount, e.available_after) for e in entries] == [
        ("F-LICENCES", "open", 1_000_000, 1_000_000),
        ("I-SERVEURS", "open", 2_000_000, 2_000_000),
    ]
    for entry in entries:
        assert entry.document == bp
        assert entry.user == directeur
        assert entry.created_at is not None


def test_an_amending_decision_adds_and_cuts_exactly(funded, chef, directeur):
    year = funded["licences"].fiscal_year
    dm1 = prepare(
        year, "DM1", {funded["licences"]: -100_000, funded["maintenance"]: 250_000}, chef=chef
    )
    services.revision_submit(user=directeur, revision=dm1)

    vote(dm1, directeur, reference="Délibération DM1")

    assert figures(funded["licences"]) == (900_000, 0, 0)
    assert figures(funded["maintenance"]) == (750_000, 0, 0)
    assert figures(funded["serveurs"]) == (2_000_000, 0, 0)
    cut = LedgerEntry.objects.get(document_id=dm1.pk, budget_line=funded["licences"])
    assert (cut.kind, cut.amount, cut.available_after, cut.document) == (
        "open",
        -100_000,
        900_000,
        dm1,
    )


def test_the_first_amending_decision_waits_for_the_initial_budget(lines, chef, directeur):
    year = lines["licences"].fiscal_year
    dm1 = prepare(year, "DM1", {lines["licences"]: 100_000}, chef=chef)
    services.revision_submit(user=directeur, revision=dm1)

    error = refused(lambda: vote(dm1, directeur))

    assert error.code == "vote_order"
    assert error.messages == [
        "Ordre des votes non respecté : le vote de BP doit précéder celui de DM1."
    ]


def test_the_second_amending_decision_waits_for_the_first(funded, chef, directeur):
    year = funded["licences"].fiscal_year
    prepare(year, "DM1", {funded["licences"]: 5_000}, chef=chef)  # drafted, never voted
    dm2 = prepare(year, "DM2", {funded["licences"]: 100_000}, chef=chef)
    services.revision_submit(user=directeur, revision=dm2)

    error = refused(lambda: vote(dm2, directeur))

    assert error.code == "vote_order"
    assert error.messages == [
        "Ordre des votes non respecté : le vote de DM1 doit précéder celui de DM2."
    ]


def test_a_revision_is_voted_once(funded, directeur):
    bp = BudgetRevision.objects.get(kind="BP")

    error = refused(lambda: vote(bp, directeur, reference="Deuxième vote"))

    assert error.code == "revision_frozen"
    assert error.messages == ["La révision BP 2026 est déjà votée : elle est figée."]


def test_a_draft_is_not_voted_before_it_is_submitted(lines, chef, directeur):
    bp = prepare(lines["licences"].fiscal_year, "BP", {lines["licences"]: 1_000}, chef=chef)
    error = refused(lambda: vote(bp, directeur))
    assert error.messages == ["La révision BP 2026 doit être soumise avant d’être votée."]


def test_a_vote_needs_its_reference(lines, chef, directeur):
    bp = prepare(lines["licences"].fiscal_year, "BP", {lines["licences"]: 1_000}, chef=chef)
    services.revision_submit(user=directeur, revision=bp)
    error = refused(lambda: vote(bp, directeur, reference="   "))
    assert error.messages == ["Le vote doit être enregistré avec sa date et sa référence."]


def test_a_year_has_one_revision_of_each_kind(funded, chef):
    error = refused(
        lambda: services.revision_create(
            user=chef, fiscal_year=funded["licences"].fiscal_year, kind="BP"
        )
    )
    assert error.messages == ["La révision BP 2026 existe déjà."]


@pytest.mark.parametrize("when", ["submitted", "voted"])
def test_a_submitted_or_voted_revision_can_no_longer_be_edited(funded, chef, directeur, when):
    year = funded["licences"].fiscal_year
    dm1 = prepare(year, "DM1", {funded["licences"]: 10_000}, chef=chef)
    services.revision_submit(user=directeur, revision=dm1)
    if when == "voted":
        vote(dm1, directeur)

    error = refused(
        lambda: services.revision_item_set(
            user=chef, revision=dm1, budget_line=funded["licences"], amount=99_000
        )
    )
    assert error.code == "revision_frozen"
    refused(
        lambda: services.revision_item_set(
            user=chef, revision=dm1, budget_line=funded["maintenance"], amount=1_000
        )
    )
    refused(
        lambda: services.revision_item_remove(
            user=chef, revision=dm1, budget_line=funded["licences"]
        )
    )


def test_a_revision_takes_only_lines_of_its_year(funded, chef):
    other_year = make_line("F-2027", year=FiscalYearFactory(year=2027, state="preparation"))
    dm1 = services.revision_create(
        user=chef, fiscal_year=funded["licences"].fiscal_year, kind="DM1"
    )
    error = refused(
        lambda: services.revision_item_set(
            user=chef, revision=dm1, budget_line=other_year, amount=1_000
        )
    )
    assert error.messages == ["La ligne F-2027 appartient à un autre exercice."]


def test_a_cut_below_what_is_committed_is_refused_at_submission_for_the_whole_decision(
    funded, chef, directeur
):
    licences = funded["licences"]
    services.credits_commit(user=chef, document=licences, amounts={licences: 200_000})
    dm1 = prepare(
        licences.fiscal_year,
        "DM1",
        {licences: -900_000, funded["maintenance"]: 50_000},
        chef=chef,
    )

    error = refused(lambda: services.revision_submit(user=directeur, revision=dm1))

    assert error.code == "below_committed"
    assert error.messages == [
        f"Ligne F-LICENCES : réduire de {format_xpf(900_000)} laisserait "
        f"{format_xpf(100_000)} de crédits ouverts, moins que les {format_xpf(200_000)} "
        "déjà engagés."
    ]
    assert dm1.items.count() == 2


def test_a_cut_that_commitments_overtook_before_the_vote_posts_nothing_for_any_line(
    funded, chef, directeur
):
    licences, maintenance = funded["licences"], funded["maintenance"]
    services.credits_commit(user=chef, document=licences, amounts={licences: 200_000})
    dm1 = prepare(licences.fiscal_year, "DM1", {licences: -700_000, maintenance: 50_000}, chef=chef)
    services.revision_submit(user=directeur, revision=dm1)  # 300 000 left ≥ 200 000: fine
    services.credits_commit(user=chef, document=licences, amounts={licences: 150_000})

    error = refused(lambda: vote(dm1, directeur))

    assert error.code == "below_committed"
    assert error.messages == [
        f"Ligne F-LICENCES : réduire de {format_xpf(700_000)} laisserait "
        f"{format_xpf(300_000)} de crédits ouverts, moins que les {format_xpf(350_000)} "
        "déjà engagés."
    ]
    assert not LedgerEntry.objects.filter(
        document_id=dm1.pk, document_type__model="budgetrevision"
    ).exists()
    dm1.refresh_from_db()
    assert dm1.state == BudgetRevision.State.SUBMITTED


def test_a_cut_down_to_exactly_what_is_committed_is_accepted(funded, chef, directeur):
    licences = funded["licences"]
    services.credits_commit(user=chef, document=licences, amounts={licences: 200_000})
    dm1 = prepare(licences.fiscal_year, "DM1", {licences: -800_000}, chef=chef)
    services.revision_submit(user=directeur, revision=dm1)
    vote(dm1, directeur)
    assert figures(licences) == (200_000, 200_000, 0)


# --- Revisions: several rows saved at once (the editor's "save all") -------------------


def change(line, amount, justification=""):
    return services.RevisionItemChange(budget_line=line, amount=amount, justification=justification)


def items(rev) -> dict[str, tuple[int, str]]:
    return {
        item.budget_line.code: (item.amount, item.justification)
        for item in rev.items.select_related("budget_line")
    }


def test_several_rows_are_saved_together_with_their_history(funded, chef):
    licences, maintenance, serveurs = (funded[k] for k in ("licences", "maintenance", "serveurs"))
    dm1 = prepare(licences.fiscal_year, "DM1", {licences: 10_000, serveurs: 5_000}, chef=chef)

    result = services.revision_items_set(
        user=chef,
        revision=dm1,
        items=[
            change(licences, -200_000, "  Fin du contrat  "),
            change(maintenance, 75_000, "Nouveau contrat"),
            change(serveurs, None),
        ],
    )

    assert result == services.RevisionItemsResult(created=1, changed=1, removed=1, unchanged=0)
    assert result.touched == 3
    assert items(dm1) == {
        "F-LICENCES": (-200_000, "Fin du contrat"),
        "F-MAINT": (75_000, "Nouveau contrat"),
    }
    history = RevisionItem.history.filter(revision=dm1).order_by("history_id")
    assert [(h.budget_line.code, h.history_type, h.amount, h.history_user) for h in history] == [
        ("F-LICENCES", "+", 10_000, chef),
        ("I-SERVEURS", "+", 5_000, chef),
        ("F-LICENCES", "~", -200_000, chef),
        ("F-MAINT", "+", 75_000, chef),
        ("I-SERVEURS", "-", 5_000, chef),
    ]


def test_rows_equal_to_the_saved_ones_are_left_alone(funded, chef):
    licences, maintenance = funded["licences"], funded["maintenance"]
    dm1 = prepare(licences.fiscal_year, "DM1", {licences: 10_000}, chef=chef)
    services.revision_item_set(
        user=chef, revision=dm1, budget_line=licences, amount=10_000, justification="Motif"
    )
    before = RevisionItem.history.count()

    result = services.revision_items_set(
        user=chef,
        revision=dm1,
        items=[change(licences, 10_000, "Motif "), change(maintenance, None)],
    )

    assert result == services.RevisionItemsResult(unchanged=2)
    assert RevisionItem.history.count() == before


def test_one_faulty_row_refuses_them_all_naming_every_faulty_row(funded, chef):
    licences, maintenance, serveurs = (funded[k] for k in ("licences", "maintenance", "serveurs"))
    other_year = make_line("F-2027", year=FiscalYearFactory(year=2027, state="preparation"))
    dm1 = prepare(licences.fiscal_year, "DM1", {licences: 10_000}, chef=chef)

    error = refused(
        lambda: services.revision_items_set(
            user=chef,
            revision=dm1,
            items=[
                change(licences, 20_000),  # good, and not saved either
                change(maintenance, 0),
                change(serveurs, MAX_AMOUNT + 1),
                change(other_year, 1_000),
            ],
        ),
        services.RevisionItemsError,
    )

    assert error.code == "revision_items"
    assert error.by_line == {
        maintenance.pk: ["Le montant de la variation ne peut pas être nul."],
        serveurs.pk: [
            f"Le montant de la variation dépasse {format_xpf(MAX_AMOUNT)} : vérifiez le chiffre."
        ],
        other_year.pk: ["La ligne F-2027 appartient à un autre exercice."],
    }
    assert error.messages == [
        "F-MAINT : Le montant de la variation ne peut pas être nul.",
        f"I-SERVEURS : Le montant de la variation dépasse {format_xpf(MAX_AMOUNT)} : "
        "vérifiez le chiffre.",
        "F-2027 : La ligne F-2027 appartient à un autre exercice.",
    ]
    assert items(dm1) == {"F-LICENCES": (10_000, "")}


def test_the_rows_follow_the_same_rules_as_one_row(lines, chef):
    """A BP amount refused by revision_item_set is refused by revision_items_set too,
    with the same message: the rule is written once (check_revision_item)."""
    bp = services.revision_create(user=chef, fiscal_year=lines["licences"].fiscal_year, kind="BP")
    for amount in BAD_POSITIVE:
        if amount is None:
            continue  # None takes the line out of the draft, in the bulk service
        one = refused(
            lambda amount=amount: services.revision_item_set(
                user=chef, revision=bp, budget_line=lines["licences"], amount=amount
            )
        )
        several = refused(
            lambda amount=amount: services.revision_items_set(
                user=chef, revision=bp, items=[change(lines["licences"], amount)]
            ),
            services.RevisionItemsError,
        )
        assert several.by_line == {lines["licences"].pk: one.messages}, repr(amount)


def test_a_line_given_twice_is_refused(funded, chef):
    licences = funded["licences"]
    dm1 = prepare(licences.fiscal_year, "DM1", {}, chef=chef)
    error = refused(
        lambda: services.revision_items_set(
            user=chef, revision=dm1, items=[change(licences, 1_000), change(licences, 2_000)]
        ),
        services.RevisionItemsError,
    )
    assert error.by_line == {licences.pk: ["La ligne F-LICENCES figure deux fois."]}


@pytest.mark.parametrize("when", ["submitted", "voted"])
def test_several_rows_cannot_enter_a_submitted_or_voted_revision(funded, chef, directeur, when):
    licences = funded["licences"]
    dm1 = prepare(licences.fiscal_year, "DM1", {licences: 10_000}, chef=chef)
    services.revision_submit(user=directeur, revision=dm1)
    if when == "voted":
        vote(dm1, directeur)
    error = refused(
        lambda: services.revision_items_set(
            user=chef, revision=dm1, items=[change(funded["maintenance"], 1_000)]
        )
    )
    assert error.code == "revision_frozen"


# --- Transfers -----------------------------------------------------------------------


def request(chef, source, target, amount, reason="Renfort de la maintenance"):
    return services.transfer_request(
        user=chef, source=source, target=target, amount=amount, reason=reason
    )


def test_an_approved_transfer_moves_exactly_its_amount(funded, chef, directeur):
    source, target = funded["licences"], funded["maintenance"]
    transfer = request(chef, source, target, 300_000)

    services.transfer_approve(user=directeur, transfer=transfer, note="D’accord")

    assert figures(source) == (700_000, 0, 0)
    assert figures(target) == (800_000, 0, 0)
    transfer.refresh_from_db()
    assert (transfer.state, transfer.decided_by, transfer.decision_note) == (
        Transfer.State.APPROVED,
        directeur,
        "D’accord",
    )
    entries = LedgerEntry.objects.filter(kind__in=["transfer_in", "transfer_out"]).order_by("pk")
    assert [(e.budget_line_id, e.kind, e.amount, e.available_after) for e in entries] == [
        (source.pk, "transfer_out", -300_000, 700_000),
        (target.pk, "transfer_in", 300_000, 800_000),
    ]
    for entry in entries:
        assert entry.document == transfer
        assert entry.user == directeur
        assert entry.reason == "Renfort de la maintenance"
    assert ledger_differences() == [] and broken_balances() == []


def test_a_transfer_stays_within_its_year(funded, chef):
    later = make_line("F-2027", year=FiscalYearFactory(year=2027))
    error = refused(lambda: request(chef, funded["licences"], later, 1_000))
    assert error.code == "transfer_scope"
    assert error.messages == [
        "Un virement reste dans un même exercice : F-LICENCES et F-2027 appartiennent "
        "à des exercices différents."
    ]


def test_a_transfer_stays_within_its_section(funded, chef):
    error = refused(lambda: request(chef, funded["licences"], funded["serveurs"], 1_000))
    assert error.code == "transfer_scope"
    assert error.messages == [
        "Un virement reste dans une même section : crédits de fonctionnement "
        "et d’investissement ne se mélangent pas."
    ]


def test_a_transfer_needs_two_different_lines_and_a_reason(funded, chef):
    error = refused(lambda: request(chef, funded["licences"], funded["licences"], 1_000))
    assert error.messages == ["Un virement déplace des crédits entre deux lignes différentes."]
    error = refused(
        lambda: request(chef, funded["licences"], funded["maintenance"], 1_000, reason="  ")
    )
    assert error.messages == ["Un virement doit être motivé."]


def test_a_transfer_above_the_available_amount_is_refused_at_request(funded, chef):
    licences = funded["licences"]
    services.credits_commit(user=chef, document=licences, amounts={licences: 600_000})
    licences.refresh_from_db()

    error = refused(lambda: request(chef, licences, funded["maintenance"], 400_001))

    assert error.code == "credits_short"
    (message,) = error.messages
    assert message == (
        f"La ligne F-LICENCES a {format_xpf(400_000)} de disponible : "
        f"elle ne peut pas céder {format_xpf(400_001)}."
    )


def test_a_transfer_is_refused_at_approval_when_the_source_was_spent_meanwhile(
    funded, chef, directeur
):
    licences = funded["licences"]
    transfer = request(chef, licences, funded["maintenance"], 500_000)
    services.credits_commit(user=chef, document=licences, amounts={licences: 600_000})

    error = refused(lambda: services.transfer_approve(user=directeur, transfer=transfer))

    assert error.code == "credits_short"
    assert error.messages == [
        f"La ligne F-LICENCES a {format_xpf(400_000)} de disponible : "
        f"elle ne peut pas céder {format_xpf(500_000)}."
    ]
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.REQUESTED


def test_a_transfer_is_decided_once(funded, chef, directeur):
    transfer = request(chef, funded["licences"], funded["maintenance"], 100_000)
    services.transfer_approve(user=directeur, transfer=transfer)

    for call in (
        lambda: services.transfer_approve(user=directeur, transfer=transfer),
        lambda: services.transfer_reject(user=directeur, transfer=transfer, note="Non"),
        lambda: services.transfer_cancel(user=chef, transfer=transfer),
    ):
        error = refused(call)
        assert error.messages == ["Ce virement est déjà à l’état « approuvé »."]
    assert figures(funded["licences"]) == (900_000, 0, 0)


def test_a_rejection_needs_a_note_and_posts_nothing(funded, chef, directeur):
    transfer = request(chef, funded["licences"], funded["maintenance"], 100_000)
    error = refused(lambda: services.transfer_reject(user=directeur, transfer=transfer, note=" "))
    assert error.messages == ["Indiquez pourquoi le virement est rejeté."]

    before = LedgerEntry.objects.count()
    services.transfer_reject(user=directeur, transfer=transfer, note="Pas prioritaire")
    transfer.refresh_from_db()
    assert (transfer.state, transfer.decision_note) == (Transfer.State.REJECTED, "Pas prioritaire")
    assert LedgerEntry.objects.count() == before
    refused(lambda: services.transfer_approve(user=directeur, transfer=transfer))


def test_a_cancelled_transfer_cannot_be_approved(funded, chef, directeur):
    transfer = request(chef, funded["licences"], funded["maintenance"], 100_000)
    services.transfer_cancel(user=chef, transfer=transfer)
    refused(lambda: services.transfer_approve(user=directeur, transfer=transfer))
    assert figures(funded["maintenance"]) == (500_000, 0, 0)


# --- Who may do what -------------------------------------------------------------------

ACTIONS = {
    "fiscal_year_create": lambda f: services.fiscal_year_create(user=f.user, year=2030),
    "fiscal_year_open": lambda f: services.fiscal_year_open(user=f.user, fiscal_year=f.next_year),
    "budget_line_create": lambda f: services.budget_line_create(
        user=f.user,
        fiscal_year=f.lines["licences"].fiscal_year,
        code="F-NOUVELLE",
        label="Nouvelle ligne",
        nature_account=NatureAccountFactory(),
        cost_centre=CostCentreFactory(),
    ),
    "revision_create": lambda f: services.revision_create(
        user=f.user, fiscal_year=f.lines["licences"].fiscal_year, kind="DM1"
    ),
    "revision_item_set": lambda f: services.revision_item_set(
        user=f.user, revision=f.dm1, budget_line=f.lines["licences"], amount=5_000
    ),
    "revision_item_remove": lambda f: services.revision_item_remove(
        user=f.user, revision=f.dm1, budget_line=f.lines["maintenance"]
    ),
    "revision_items_set": lambda f: services.revision_items_set(
        user=f.user,
        revision=f.dm1,
        items=[services.RevisionItemChange(budget_line=f.lines["licences"], amount=5_000)],
    ),
    "revision_submit": lambda f: services.revision_submit(user=f.user, revision=f.dm1),
    "revision_vote": lambda f: vote(f.submitted_dm1(), f.user),
    "transfer_request": lambda f: request(
        f.user, f.lines["licences"], f.lines["maintenance"], 1_000
    ),
    "transfer_approve": lambda f: services.transfer_approve(user=f.user, transfer=f.transfer),
    "transfer_reject": lambda f: services.transfer_reject(
        user=f.user, transfer=f.transfer, note="Non"
    ),
    "transfer_cancel": lambda f: services.transfer_cancel(user=f.user, transfer=f.transfer),
}

# Who may not do each action (every role except the one that holds the capability).
REFUSED = {
    "fiscal_year_create": ["acheteur", "comptable", "directeur", "controleur"],
    "fiscal_year_open": ["chef", "acheteur", "comptable", "controleur"],
    "budget_line_create": ["acheteur", "comptable", "directeur", "controleur"],
    "revision_create": ["acheteur", "comptable", "directeur", "controleur"],
    "revision_item_set": ["acheteur", "comptable", "directeur", "controleur"],
    "revision_item_remove": ["acheteur", "comptable", "directeur", "controleur"],
    "revision_items_set": ["acheteur", "comptable", "directeur", "controleur"],
    "revision_submit": ["chef", "acheteur", "comptable", "controleur"],
    "revision_vote": ["chef", "acheteur", "comptable", "controleur"],
    "transfer_request": ["acheteur", "comptable", "directeur", "controleur"],
    "transfer_approve": ["chef", "acheteur", "comptable", "controleur"],
    "transfer_reject": ["chef", "acheteur", "comptable", "controleur"],
    "transfer_cancel": ["acheteur", "comptable", "directeur", "controleur"],
}


class Scene:
    """The objects an action needs, made by those allowed to make them."""

    def __init__(self, lines, chef, directeur, user):
        self.lines, self.chef, self.directeur, self.user = lines, chef, directeur, user
        self.dm1 = prepare(
            lines["licences"].fiscal_year, "DM1", {lines["maintenance"]: 20_000}, chef=chef
        )
        self.transfer = request(chef, lines["licences"], lines["maintenance"], 10_000)
        self.next_year = FiscalYearFactory(year=2027, state="preparation")

    def submitted_dm1(self):
        if self.dm1.state == BudgetRevision.State.DRAFT:
            self.dm1 = services.revision_submit(user=self.directeur, revision=self.dm1)
        return self.dm1


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_role_that_may_not_do_it_is_refused(funded, cast, sans_role, chef, directeur, action):
    scene = Scene(funded, chef, directeur, user=None)
    if action == "revision_vote":
        scene.submitted_dm1()
    users = {user.username: user for user in [*cast.values(), sans_role]}

    for who in [*REFUSED[action], "sansrole"]:
        scene.user = users[who]
        error = refused(lambda: ACTIONS[action](scene), PermissionDenied)
        assert str(error) == "Votre rôle ne permet pas cette action.", who


# --- Commitments -----------------------------------------------------------------------


def commit(user, amounts, reason=""):
    document = next(iter(amounts)).fiscal_year
    return services.credits_commit(
        user=user, document=document, amounts=amounts, override_reason=reason
    )


def test_a_commitment_takes_exactly_its_amount(funded, comptable):
    licences, maintenance = funded["licences"], funded["maintenance"]

    result = commit(comptable, {licences: 250_000, maintenance.pk: 500_000})

    assert figures(licences) == (1_000_000, 250_000, 0)
    assert figures(maintenance) == (500_000, 500_000, 0)
    assert result.overridden == []
    assert [(e.budget_line_id, e.kind, e.amount, e.available_after) for e in result.entries] == [
        (licences.pk, "commit", 250_000, 750_000),
        (maintenance.pk, "commit", 500_000, 0),
    ]
    assert all(e.user == comptable and e.document == licences.fiscal_year for e in result.entries)
    assert all(e.reason == "" for e in result.entries)


def test_a_short_line_refuses_the_whole_commitment(funded, chef):
    licences, maintenance = funded["licences"], funded["maintenance"]

    error = refused(
        lambda: commit(chef, {licences: 10_000, maintenance: 500_001}), CreditsShortError
    )

    assert error.code == "credits_short"
    assert error.can_override is False
    assert [(s.requested, s.available) for s in error.shortages] == [(500_001, 500_000)]
    (message,) = error.messages
    assert message == (
        f"Le disponible est insuffisant (ligne F-MAINT : {format_xpf(500_001)} demandés, "
        f"{format_xpf(500_000)} disponibles). Seul le DSI peut passer outre, avec un motif écrit."
    )


@pytest.mark.parametrize("year_state", ["preparation", "closed"])
def test_no_commitment_outside_an_open_year(lines, chef, directeur, year_state):
    fund({lines["licences"]: 1_000})
    FiscalYear.objects.update(state=year_state)
    lines["licences"].refresh_from_db()

    error = refused(lambda: commit(directeur, {lines["licences"]: 10}, reason="Urgent"))

    assert error.code == "year_state"
    assert error.messages[0].startswith("L’exercice 2026 est à l’état")
    assert error.messages[0].endswith(": un engagement n’est pas possible.")


def test_a_commitment_names_existing_lines_of_one_year(funded, chef):
    refused(lambda: services.credits_commit(user=chef, document=funded["licences"], amounts={}))
    refused(
        lambda: services.credits_commit(
            user=chef, document=funded["licences"], amounts={funded["licences"].pk + 1000: 5}
        )
    )
    later = make_line("F-2027", year=FiscalYearFactory(year=2027))
    fund({later: 1_000})
    refused(lambda: commit(chef, {funded["licences"]: 5, later: 5}))


def test_the_section_head_cannot_override_a_short_line(funded, chef):
    error = refused(
        lambda: commit(chef, {funded["maintenance"]: 600_000}, reason="Urgence"), CreditsShortError
    )
    assert error.can_override is False
    assert error.messages[0].endswith("Seul le DSI peut passer outre, avec un motif écrit.")


def test_the_director_must_give_a_reason_to_override(funded, directeur):
    error = refused(
        lambda: commit(directeur, {funded["maintenance"]: 600_000}, reason="   "),
        CreditsShortError,
    )
    assert error.can_override is True
    assert error.messages[0].endswith(
        "En tant que DSI, vous pouvez passer outre avec un motif écrit."
    )


def test_the_director_overrides_with_a_reason_kept_in_the_ledger(funded, directeur, chef):
    maintenance, licences = funded["maintenance"], funded["licences"]

    result = commit(
        directeur, {maintenance: 600_000, licences: 1_000}, reason="Panne du cœur de réseau"
    )

    assert figures(maintenance) == (500_000, 600_000, 0)
    assert [
        (e.budget_line_id, e.kind, e.amount, e.available_after, e.reason) for e in result.entries
    ] == [
        (licences.pk, "commit", 1_000, 999_000, "Panne du cœur de réseau"),
        (maintenance.pk, "override", 600_000, -100_000, "Panne du cœur de réseau"),
    ]
    assert [(s.requested, s.available) for s in result.overridden] == [(600_000, 500_000)]
    assert ledger_differences() == [] and broken_balances() == []


def test_a_warning_year_lets_whoever_commits_go_on_with_a_reason(funded, chef):
    FiscalYear.objects.update(control_mode=FiscalYear.ControlMode.WARN)
    maintenance = funded["maintenance"]

    error = refused(lambda: commit(chef, {maintenance: 500_001}), CreditsShortError)
    assert error.can_override is True
    assert error.messages[0].endswith("Confirmez avec un motif pour engager malgré tout.")

    (entry,) = commit(chef, {maintenance: 500_001}, reason="Renouvellement urgent").entries
    assert (entry.kind, entry.amount, entry.reason, entry.user) == (
        "override",
        500_001,
        "Renouvellement urgent",
        chef,
    )
    assert figures(maintenance) == (500_000, 500_001, 0)


@pytest.fixture
def chapter_year(funded):
    """The lines of chapter 011 share their credits (1 500 000), and chapter 65 has its own."""
    FiscalYear.objects.update(control_level=FiscalYear.ControlLevel.CHAPTER)
    other = make_line("F-65", chapter="65")
    fund({other: 100_000}, kind="DM1")
    return funded | {"other": other}


def test_a_line_may_go_below_zero_while_its_chapter_has_room(chapter_year, chef):
    maintenance = chapter_year["maintenance"]

    (entry,) = commit(chef, {maintenance: 1_200_000}).entries

    assert (entry.kind, entry.available_after) == ("commit", -700_000)
    assert figures(maintenance) == (500_000, 1_200_000, 0)


def test_a_chapter_without_room_refuses_naming_the_chapter_and_its_figures(chapter_year, chef):
    licences, maintenance = chapter_year["licences"], chapter_year["maintenance"]
    commit(chef, {maintenance: 1_200_000})

    error = refused(
        lambda: commit(chef, {licences: 200_000, maintenance: 100_001}), CreditsShortError
    )

    assert error.messages[0].startswith(
        f"Le disponible est insuffisant (chapitre 011 : {format_xpf(300_001)} demandés, "
        f"{format_xpf(300_000)} disponibles)."
    )
    assert {(s.requested, s.available) for s in error.shortages} == {(300_001, 300_000)}
    # The other chapter is not pooled with 011.
    refused(lambda: commit(chef, {chapter_year["other"]: 100_001}), CreditsShortError)
    commit(chef, {licences: 300_000})
    assert figures(licences) == (1_000_000, 300_000, 0)


def test_a_transfer_cannot_empty_a_chapter_below_its_commitments(chapter_year, chef, directeur):
    licences, maintenance = chapter_year["licences"], chapter_year["maintenance"]
    commit(chef, {maintenance: 1_200_000})  # chapter 011: 1 500 000 opened, 300 000 left
    transfer = request(chef, licences, chapter_year["other"], 400_000)

    error = refused(lambda: services.transfer_approve(user=directeur, transfer=transfer))

    assert error.code == "credits_short"
    assert error.messages == [
        f"Le chapitre 011 a {format_xpf(300_000)} de disponible : "
        f"il ne peut pas céder {format_xpf(400_000)}."
    ]
    # Within the chapter, or within its room, a transfer goes through.
    services.transfer_approve(
        user=directeur, transfer=request(chef, licences, maintenance, 400_000)
    )
    services.transfer_approve(
        user=directeur, transfer=request(chef, licences, chapter_year["other"], 300_000)
    )
    assert figures(licences) == (300_000, 0, 0)


def test_an_amending_decision_cannot_cut_a_chapter_below_its_commitments(
    chapter_year, chef, directeur
):
    licences, maintenance = chapter_year["licences"], chapter_year["maintenance"]
    commit(chef, {maintenance: 1_200_000})  # chapter 011: 300 000 left
    dm2 = prepare(licences.fiscal_year, "DM2", {licences: -400_000, maintenance: 50_000}, chef=chef)
    services.revision_submit(user=directeur, revision=dm2)

    error = refused(lambda: vote(dm2, directeur))

    assert error.code == "below_committed"
    assert error.messages == [
        f"Chapitre 011 : cette décision laisserait {format_xpf(1_150_000)} de crédits ouverts, "
        f"moins que les {format_xpf(1_200_000)} déjà engagés."
    ]
    # Down to exactly what is committed on the chapter: accepted.
    services.revision_return_to_draft(user=directeur, revision=dm2)
    services.revision_item_set(user=chef, revision=dm2, budget_line=licences, amount=-350_000)
    services.revision_submit(user=directeur, revision=dm2)
    vote(dm2, directeur)
    assert figures(licences) == (650_000, 0, 0)


# --- Releasing and liquidating ------------------------------------------------------------


@pytest.fixture
def committed(funded, chef):
    """F-LICENCES with 300 000 committed and 100 000 of it liquidated."""
    line = funded["licences"]
    commit(chef, {line: 300_000})
    services.credits_liquidate(user=chef, document=line, line=line, amount=100_000)
    return line


def test_release_liquidation_and_its_reversal_move_exactly_their_amounts(committed, comptable):
    line = committed
    assert figures(line) == (1_000_000, 300_000, 100_000)

    released = services.credits_release(
        user=comptable, document=line, line=line, amount=50_000, reason="Commande soldée"
    )
    assert figures(line) == (1_000_000, 250_000, 100_000)
    assert (released.kind, released.amount, released.available_after, released.reason) == (
        "release",
        -50_000,
        750_000,
        "Commande soldée",
    )

    reversed_ = services.credits_unliquidate(
        user=comptable, document=line, line=line.pk, amount=40_000, reason="Facture annulée"
    )
    assert figures(line) == (1_000_000, 250_000, 60_000)
    assert (reversed_.kind, reversed_.amount, reversed_.available_after) == (
        "unliquidate",
        -40_000,
        750_000,
    )
    liquidated = services.credits_liquidate(
        user=comptable, document=line, line=line, amount=190_000
    )
    assert figures(line) == (1_000_000, 250_000, 250_000)
    assert (liquidated.kind, liquidated.amount, liquidated.user) == (
        "liquidate",
        190_000,
        comptable,
    )
    assert ledger_differences() == [] and broken_balances() == []


def test_releasing_more_than_remains_to_liquidate_is_refused(committed, chef):
    error = refused(
        lambda: services.credits_release(
            user=chef, document=committed, line=committed, amount=200_001
        )
    )
    assert error.messages == [
        f"Ligne F-LICENCES : il ne reste que {format_xpf(200_000)} engagés à liquider ; "
        f"{format_xpf(200_001)} ne peuvent pas être dégagés."
    ]


def test_liquidating_more_than_remains_to_liquidate_is_refused(committed, chef):
    error = refused(
        lambda: services.credits_liquidate(
            user=chef, document=committed, line=committed, amount=200_001
        )
    )
    assert error.code == "over_committed"
    assert error.messages == [
        f"Ligne F-LICENCES : {format_xpf(200_001)} à liquider, mais seulement "
        f"{format_xpf(200_000)} engagés restent à liquider."
    ]


def test_reversing_a_liquidation_needs_a_reason_and_a_liquidated_amount(committed, chef):
    error = refused(
        lambda: services.credits_unliquidate(
            user=chef, document=committed, line=committed, amount=1_000, reason="  "
        )
    )
    assert error.messages == ["L’annulation d’une liquidation doit être motivée."]
    error = refused(
        lambda: services.credits_unliquidate(
            user=chef, document=committed, line=committed, amount=100_001, reason="Erreur"
        )
    )
    assert error.messages == [f"Ligne F-LICENCES : seulement {format_xpf(100_000)} sont liquidés."]
