"""A document's history for its detail page: who changed what, when
(dsi_finance.history.document_changes and templates/partials/document_history.html)."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from budgets import services
from budgets.models import Transfer
from dsi_finance.history import document_changes
from tests.factories import BudgetLineFactory, CostCentreFactory, NatureAccountFactory, fund

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.fixture
def lines():
    account = NatureAccountFactory(number="6156", label="Maintenance")

    def line(code: str, label: str):
        centre = CostCentreFactory(code=code.rsplit("-", 1)[1], label=label)
        return BudgetLineFactory(code=code, label=label, nature_account=account, cost_centre=centre)

    source = line("F-6156-INFRA", "Serveurs")
    target = line("F-6156-APPLI", "Applicatif")
    other = line("F-6156-RESEAU", "Réseau")
    fund({source: 1_000_000, target: 100_000, other: 100_000})
    return source, target, other


@pytest.fixture
def transfer(chef, lines):
    source, target, _other = lines
    return services.transfer_request(
        user=chef, source=source, target=target, amount=250_000, reason="Renfort"
    )


def test_a_new_document_has_one_item_created_by_the_system_when_no_one_is_known(transfer):
    with translation.override("en"):
        changes = document_changes(transfer)
        what = changes[0].what
    assert len(changes) == 1
    assert changes[0].kind == "created"
    assert what == "Created"
    assert changes[0].who == "system"
    assert changes[0].fields == ()


def test_a_decision_through_the_page_names_its_author_and_the_changed_fields(
    client_as, directeur, transfer
):
    response = client_as(directeur).post(
        reverse("budgets:transfer-approve", args=[transfer.pk]), {"note": "D’accord"}
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.APPROVED
    with translation.override("en"):
        changes = document_changes(transfer)
    assert [change.kind for change in changes] == ["changed", "created"]
    latest = changes[0]
    assert latest.who == directeur.get_full_name()
    fields = {field.name: field for field in latest.fields}
    assert set(fields) == {"state", "decided_by", "decided_at", "decision_note"}
    # Choices by their label, users by their name, empty values as a dash.
    assert (fields["state"].label, fields["state"].old, fields["state"].new) == (
        "State",
        "Requested",
        "Approved",
    )
    assert (fields["decided_by"].old, fields["decided_by"].new) == ("—", directeur.get_full_name())
    assert fields["decision_note"].new == "D’accord"
    assert fields["decided_at"].new == latest.when_display
    # In the model's field order.
    assert [field.name for field in latest.fields] == [
        "state",
        "decided_by",
        "decided_at",
        "decision_note",
    ]


def test_amounts_are_shown_in_francs_foreign_keys_by_name_and_the_reason_is_kept(
    transfer, lines, chef
):
    _source, _target, other = lines
    transfer.amount = 300_000
    transfer.target = other
    transfer._change_reason = "Erreur de ligne"
    transfer._history_user = chef
    transfer.save()
    with translation.override("en"):
        latest = document_changes(transfer)[0]
    fields = {field.name: field for field in latest.fields}
    assert (fields["amount"].old, fields["amount"].new) == (
        f"250{NNBSP}000{NBSP}F{NBSP}CFP",
        f"300{NNBSP}000{NBSP}F{NBSP}CFP",
    )
    assert (fields["target"].label, fields["target"].old, fields["target"].new) == (
        "To",
        "F-6156-APPLI Applicatif",
        "F-6156-RESEAU Réseau",
    )
    assert latest.reason == "Erreur de ligne"
    assert latest.who == chef.get_full_name()


def test_a_save_that_changes_nothing_is_left_out(transfer):
    transfer.save()
    assert transfer.history.count() == 2
    assert len(document_changes(transfer)) == 1


def test_the_history_is_read_in_one_query_per_table(transfer, lines, django_assert_num_queries):
    _source, _target, other = lines
    for amount in (260_000, 270_000, 280_000):
        transfer.amount = amount
        transfer.save()
    transfer.target = other
    transfer.save()
    # The history records with their users, then the budget lines a foreign key names.
    with django_assert_num_queries(2):
        changes = document_changes(transfer)
    assert len(changes) == 5
    assert [change.kind for change in changes][-1] == "created"
    assert changes[1].fields[0].new == f"280{NNBSP}000{NBSP}F{NBSP}CFP"


def test_the_partial_lists_the_items_newest_first(transfer):
    transfer.amount = 260_000
    transfer.save()
    with translation.override("en"):
        html = render_to_string(
            "partials/document_history.html", {"changes": document_changes(transfer)}
        )
    assert 'data-testid="history"' in html
    assert html.count('data-testid="history-item"') == 2
    assert html.index('data-kind="changed"') < html.index('data-kind="created"')
    assert 'data-field="amount"' in html
    assert f"260{NNBSP}000{NBSP}F{NBSP}CFP" in html


def test_the_partial_says_when_nothing_is_recorded():
    with translation.override("en"):
        html = render_to_string("partials/document_history.html", {"changes": []})
    assert "No change recorded." in html
    assert 'data-testid="history-item"' not in html


# --- The ledger entries partial (templates/partials/document_entries.html) -------------


def test_the_entries_partial_lists_each_entry_with_its_kind(directeur, transfer):
    from budgets.selectors import document_entries

    services.transfer_approve(user=directeur, transfer=transfer)
    entries = document_entries(actor=directeur, document=transfer)
    html = render_to_string("partials/document_entries.html", {"entries": entries})
    assert 'data-testid="entries"' in html
    kinds = sorted(entry.kind for entry in entries)
    assert len(kinds) == 2
    for kind in kinds:
        assert f'data-kind="{kind}"' in html
    assert html.count(f"250{NNBSP}000{NBSP}F{NBSP}CFP") == 2
    assert "F-6156-INFRA" in html and "F-6156-APPLI" in html


def test_the_entries_partial_shows_the_given_empty_text(transfer):
    html = render_to_string(
        "partials/document_entries.html", {"entries": [], "empty_text": "Rien encore."}
    )
    assert "Rien encore." in html
    assert "data-kind" not in html
