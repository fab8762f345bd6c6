"""Purchase request pages: the list and its tabs, the entry form with its lines and their
live availability, the detail page, its decisions and attachments."""

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from budgets.models import BudgetLine, LedgerEntry
from dsi_finance.idempotency import FORM_TOKEN_FIELD
from procurement.models import Attachment, Commitment, PurchaseRequest
from procurement.services import requests as services
from tests.assertions import assert_sends_to_login
from tests.factories import BudgetLineFactory, FiscalYearFactory
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    purchase_request,
    request_line,
)
from tests.procurement.request_forms import form_data, page_text, rate, row, xpf

pytestmark = pytest.mark.django_db

State = PurchaseRequest.State
LIST_URL = reverse("procurement:request-list")
CREATE_URL = reverse("procurement:request-create")
AVAILABILITY_URL = reverse("procurement:request-availability")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def url(name: str, pr, *extra) -> str:
    return reverse(f"procurement:{name}", args=[pr.pk, *extra])


def figures(line) -> tuple[int, int]:
    line = BudgetLine.objects.get(pk=line.pk)
    return line.committed, line.available


def entries_of(document) -> list[tuple[str, int, str]]:
    return list(
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(document), document_id=document.pk
        )
        .order_by("pk")
        .values_list("kind", "amount", "reason")
    )


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def line():
    return funded_line(1_000_000, code="F-6156-INFRA", label="Maintenance des serveurs")


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cipac Informatique")


# --- The list -------------------------------------------------------------------------


def test_the_list_sends_an_anonymous_visitor_to_the_login_page(client):
    assert_sends_to_login(client.get(LIST_URL))


def test_the_list_is_refused_to_a_role_without_requests(client_as, sans_role):
    assert client_as(sans_role).get(LIST_URL).status_code == 403


def test_the_accounting_assistant_reads_the_requests_in_the_all_tab_only(client_as, comptable):
    response = client_as(comptable).get(LIST_URL)
    assert response.status_code == 200
    assert client_as(comptable).get(LIST_URL, {"tab": "mine"}).status_code == 403


def test_each_role_sees_its_tabs_and_is_refused_the_others(
    client_as, acheteur, chef, directeur, controleur
):
    expected = {
        acheteur: (["mine", "all"], "mine"),
        chef: (["to_approve", "all"], "to_approve"),
        directeur: (["to_approve", "all"], "to_approve"),
        controleur: (["all"], "all"),
    }
    for user, (tabs, default) in expected.items():
        client = client_as(user)
        response = client.get(LIST_URL)
        assert response.status_code == 200
        assert re.findall(r'data-tab="(\w+)"', response.content.decode()) == tabs
        assert response.context["tab"] == default
        for tab in {"mine", "to_approve", "all"} - set(tabs):
            assert client.get(LIST_URL, {"tab": tab}).status_code == 403
    assert client_as(controleur).get(LIST_URL, {"tab": "nothing"}).status_code == 404


def test_my_requests_are_the_buyers_own(client_as, acheteur, line, supplier):
    from tests.factories import UserFactory

    colleague = UserFactory(username="acheteur2", roles=["achat"])
    mine = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    theirs = purchase_request(user=colleague, lines=[request_line(line)], supplier=supplier)
    client = client_as(acheteur)
    numbers = [r.number for r in client.get(LIST_URL, {"tab": "mine"}).context["table"].data]
    assert numbers == [mine.number]
    everything = [r.number for r in client.get(LIST_URL, {"tab": "all"}).context["table"].data]
    assert sorted(everything) == sorted([mine.number, theirs.number])


def test_to_approve_lists_the_submitted_ones_the_approvers_own_first(
    client_as, acheteur, chef, directeur, supplier, settings
):
    settings.PROCUREMENT_APPROVAL_THRESHOLD = 1_000_000
    big = funded_line(50_000_000)
    small = purchase_request(
        user=acheteur, lines=[request_line(big, unit_price=200_000)], supplier=supplier, submit=True
    )
    large = purchase_request(
        user=acheteur,
        lines=[request_line(big, unit_price=3_000_000)],
        supplier=supplier,
        submit=True,
    )
    purchase_request(user=acheteur, lines=[request_line(big)], supplier=supplier)  # a draft

    def numbers(user):
        response = client_as(user).get(LIST_URL, {"tab": "to_approve"})
        return [r.number for r in response.context["table"].data], page_text(response)

    for_chef, text = numbers(chef)
    assert for_chef == [small.number, large.number]
    assert 'data-testid="over-threshold"' in text
    assert numbers(directeur)[0] == [large.number, small.number]


def test_the_list_filters_by_state_supplier_and_text_and_htmx_gets_the_table_only(
    client_as, acheteur, chef, line, supplier
):
    other = SupplierFactory(name="Nautile Réseaux")
    draft = purchase_request(
        user=acheteur, lines=[request_line(line)], supplier=supplier, subject="Onduleurs"
    )
    sent = purchase_request(
        user=acheteur,
        lines=[request_line(line)],
        supplier=other,
        subject="Commutateurs",
        submit=True,
    )
    client = client_as(chef)

    def numbers(**params):
        response = client.get(LIST_URL, {"tab": "all", **params})
        return sorted(r.number for r in response.context["table"].data)

    assert numbers() == sorted([draft.number, sent.number])
    assert numbers(state="draft") == [draft.number]
    assert numbers(supplier=other.pk) == [sent.number]
    assert numbers(q="commut") == [sent.number]
    assert numbers(q="nautile") == [sent.number]
    assert numbers(year="2026") == sorted([draft.number, sent.number])
    fragment = client.get(
        LIST_URL, {"tab": "all"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region"
    )
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert draft.number in fragment.content.decode()


# --- The entry form ---------------------------------------------------------------------


def test_the_form_is_the_buyers(client, client_as, acheteur, chef, controleur):
    assert_sends_to_login(client.get(CREATE_URL))
    assert client_as(chef).get(CREATE_URL).status_code == 403
    assert client_as(controleur).post(CREATE_URL, {}).status_code == 403
    response = client_as(acheteur).get(CREATE_URL)
    assert response.status_code == 200
    text = response.content.decode()
    assert f'name="{FORM_TOKEN_FIELD}"' in text
    assert text.count('data-testid="request-line"') == 2  # one row and the template
    assert 'id="availability-lines-0"' in text
    assert "lines-__prefix__-description" in text
    assert 'src="/static/procurement/requests.js"' in text


def test_the_buyer_creates_a_request_with_two_lines(client_as, acheteur, line, supplier):
    second = funded_line(500_000, code="F-6161-APPLI")
    response = client_as(acheteur).post(
        CREATE_URL,
        form_data(
            supplier,
            [
                row(line, quantity="2", unit_price="450 000"),
                row(second, quantity="2,5", unit_price="10 001", tax="11"),
            ],
            token="jeton-1",
        ),
    )
    pr = PurchaseRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == pr.get_absolute_url()
    assert pr.number == "DA-2026-00001"
    assert pr.requested_by == acheteur
    assert pr.amount_ht == 900_000 + 25_003
    assert [(x.budget_line, x.amount_ht) for x in pr.lines.order_by("position")] == [
        (line, 900_000),
        (second, 25_003),
    ]
    assert figures(line) == (0, 1_000_000)


def test_a_form_posted_twice_records_once(client_as, acheteur, line, supplier):
    client = client_as(acheteur)
    data = form_data(supplier, [row(line)], token="jeton-double-clic")
    first = client.post(CREATE_URL, data)
    second = client.post(CREATE_URL, data, follow=True)
    assert PurchaseRequest.objects.count() == 1
    pr = PurchaseRequest.objects.get()
    assert first["Location"] == pr.get_absolute_url()
    assert second.redirect_chain[-1][0] == pr.get_absolute_url()
    assert any(pr.number in message for message in messages_of(second))


def test_removed_and_blank_rows_are_left_out(client_as, acheteur, line, supplier):
    data = form_data(
        supplier,
        [
            row(line, unit_price="1 000"),
            row(line, quantity="-3", unit_price="abc") | {"DELETE": "on"},
            row(line, unit_price="2 000"),
        ],
    )
    response = client_as(acheteur).post(CREATE_URL, data)
    assert response.status_code == 302
    pr = PurchaseRequest.objects.get()
    assert [x.amount_ht for x in pr.lines.order_by("position")] == [1_000, 2_000]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "-2"}, "quantity"),
        ({"quantity": "deux"}, "quantity"),
        ({"unit_price": "0"}, "unit_price"),
        ({"unit_price": "12,5"}, "unit_price"),
        ({"tax_rate": "999999"}, "tax_rate"),
        ({"description": ""}, "description"),
    ],
)
def test_bad_lines_come_back_with_a_message_beside_the_field_and_nothing_recorded(
    client_as, acheteur, line, supplier, change, field
):
    response = client_as(acheteur).post(CREATE_URL, form_data(supplier, [row(line) | change]))
    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.forms[0].errors[field]
    assert PurchaseRequest.objects.count() == 0
    # What the buyer typed is kept.
    assert f'name="lines-0-{field}"' in response.content.decode()


def test_a_refusal_of_the_service_is_shown_in_the_form(client_as, acheteur, line, supplier):
    FiscalYearFactory(year=2025, state="open")
    old = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2025))
    response = client_as(acheteur).post(CREATE_URL, form_data(supplier, [row(line), row(old)]))
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors and "2025" in errors[0] and "2026" in errors[0]
    assert 'data-testid="form-errors"' in response.content.decode()
    assert PurchaseRequest.objects.count() == 0


def test_a_request_needs_a_line(client_as, acheteur, supplier):
    data = form_data(supplier, [{"tax_rate": rate("22").pk}], total=1)
    response = client_as(acheteur).post(CREATE_URL, data)
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["description"]
    assert PurchaseRequest.objects.count() == 0
    # Every row removed: the request has no line left.
    data = form_data(supplier, [row() | {"DELETE": "on"}])
    response = client_as(acheteur).post(CREATE_URL, data)
    assert response.context["formset"].non_form_errors()
    assert PurchaseRequest.objects.count() == 0


def test_editing_a_draft_shows_its_lines_and_replaces_them(client_as, acheteur, line, supplier):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, quantity="2.5", unit_price=1_000)],
        supplier=supplier,
    )
    client = client_as(acheteur)
    page = client.get(url("request-update", pr))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'value="2,5"' in text
    assert f'name="{FORM_TOKEN_FIELD}"' not in text
    data = form_data(supplier, [row(line, unit_price="3 000"), row(None, unit_price="500")])
    data["lines-INITIAL_FORMS"] = "1"
    response = client.post(url("request-update", pr), data)
    assert response.status_code == 302
    pr.refresh_from_db()
    assert [x.amount_ht for x in pr.lines.order_by("position")] == [3_000, 500]
    assert pr.amount_ht == 3_500


def test_editing_only_the_subject_keeps_the_lines(client_as, acheteur, line, supplier):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, quantity="2.5", unit_price=1_000), request_line(None)],
        supplier=supplier,
    )
    client = client_as(acheteur)
    form = client.get(url("request-update", pr)).context["formset"]
    data = form_data(supplier, [], subject="Objet corrigé", total=2)
    data["lines-INITIAL_FORMS"] = "2"
    for sub in form.forms:
        for name in sub.fields:
            value = sub[name].value()
            if value is not None and name != "DELETE":
                data[f"{sub.prefix}-{name}"] = value
    response = client.post(url("request-update", pr), data)
    assert response.status_code == 302
    pr.refresh_from_db()
    assert pr.subject == "Objet corrigé"
    assert [(x.quantity, x.amount_ht, x.budget_line) for x in pr.lines.order_by("position")] == [
        (Decimal("2.500"), 2_500, line),
        (Decimal("1.000"), 100_000, None),
    ]


def test_editing_an_approved_request_is_refused_with_a_message(
    client_as, acheteur, chef, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=100_000)],
        supplier=supplier,
        submit=True,
    )
    services.purchase_request_approve(user=chef, request=pr)
    client = client_as(acheteur)
    page = client.get(url("request-update", pr), follow=True)
    assert page.redirect_chain[-1][0] == pr.get_absolute_url()
    assert any(pr.number in m for m in messages_of(page))
    response = client.post(
        url("request-update", pr), form_data(supplier, [row(line, unit_price="900 000")])
    )
    assert response.status_code == 302
    pr.refresh_from_db()
    assert pr.amount_ht == 100_000
    assert client_as(chef).get(url("request-update", pr)).status_code == 403


# --- Live availability ------------------------------------------------------------------


def test_the_availability_of_one_budget_line(client, client_as, acheteur, sans_role, line):
    assert_sends_to_login(client.get(AVAILABILITY_URL))
    assert client_as(sans_role).get(AVAILABILITY_URL).status_code == 403
    response = client_as(acheteur).get(
        AVAILABILITY_URL, {"budget_line": line.pk, "amount": "1200000"}
    )
    text = page_text(response)
    assert 'data-fits="false"' in text
    assert xpf(1_000_000) in text
    assert xpf(200_000) in text  # short by
    fits = page_text(
        client_as(acheteur).get(AVAILABILITY_URL, {"budget_line": line.pk, "amount": "50000"})
    )
    assert 'data-fits="true"' in fits


def test_the_form_rows_get_their_availability_out_of_band(client_as, acheteur, line, supplier):
    other = funded_line(300_000, code="F-6161-APPLI")
    data = form_data(
        supplier,
        [
            row(line, quantity="3", unit_price="300 000"),
            row(line, quantity="1", unit_price="200 000"),  # together 1 100 000 > 1 000 000
            row(other, quantity="1", unit_price="100 000", tax="11"),
            row(None, quantity="2", unit_price="5 000"),
            row(other, quantity="1", unit_price="900 000") | {"DELETE": "on"},
        ],
    )
    response = client_as(acheteur).get(AVAILABILITY_URL, data)
    assert response.status_code == 200
    text = page_text(response)
    boxes = dict(
        re.findall(
            r'<div id="availability-(lines-\d)" hx-swap-oob="innerHTML">(.*?)</div>\s*(?=<div id=|$)',
            text,
            re.S,
        )
    )
    assert set(boxes) == {"lines-0", "lines-1", "lines-2", "lines-3"}
    assert 'data-fits="false"' in boxes["lines-0"] and 'data-fits="false"' in boxes["lines-1"]
    assert xpf(1_100_000) in boxes["lines-0"]
    assert 'data-fits="true"' in boxes["lines-2"]
    assert "data-fits" not in boxes["lines-3"]
    assert xpf(10_000) in boxes["lines-3"]
    # The totals: 1 210 000 before tax, TGC 22 % on 1 110 000 and 11 % on 100 000.
    totals = text.split('id="request-totals" hx-swap-oob="innerHTML"')[1]
    assert re.search(r'data-testid="amount-ht">' + xpf(1_210_000), totals)
    assert re.search(r'data-testid="amount-tax">' + xpf(244_200 + 11_000), totals)
    assert re.search(r'data-testid="amount-ttc">' + xpf(1_465_200), totals)


# --- The detail page and its decisions --------------------------------------------------


def test_the_detail_page_shows_the_request_to_those_who_may_see_it(
    client, client_as, acheteur, chef, sans_role, controleur, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, quantity="2", unit_price=300_000), request_line(None)],
        supplier=supplier,
    )
    assert_sends_to_login(client.get(pr.get_absolute_url()))
    assert client_as(sans_role).get(pr.get_absolute_url()).status_code == 403
    response = client_as(acheteur).get(pr.get_absolute_url())
    text = page_text(response)
    assert response.status_code == 200
    assert pr.number in text and "Cipac Informatique" in text
    assert 'data-state="draft"' in text
    assert xpf(700_000) in text and xpf(154_000) in text and xpf(854_000) in text
    assert 'data-testid="no-budget-line"' in text
    assert 'data-testid="submit"' in text and 'data-testid="edit"' in text
    assert 'data-testid="attachment-form"' in text
    assert 'data-testid="history"' in text
    assert 'data-testid="approve"' not in text
    reader = page_text(client_as(controleur).get(pr.get_absolute_url()))
    assert 'data-testid="actions"' not in reader
    assert 'data-testid="attachment-form"' not in reader
    assert client_as(chef).get(pr.get_absolute_url()).status_code == 200


def test_submitting_warns_when_a_line_is_short(client_as, acheteur, line, supplier):
    pr = purchase_request(
        user=acheteur, lines=[request_line(line, unit_price=1_500_000)], supplier=supplier
    )
    text = page_text(client_as(acheteur).get(pr.get_absolute_url()))
    assert 'data-testid="submit-warning"' in text
    assert re.search(r'action="[^"]*/soumettre/"[^>]*data-confirm=', text)
    assert 'data-fits="false"' in text


def test_actions_refuse_get_anonymous_and_the_wrong_role(
    client, client_as, acheteur, chef, comptable, controleur, line, supplier
):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier, submit=True)
    allowed = {
        "request-submit": acheteur,
        "request-approve": chef,
        "request-reject": chef,
        "request-cancel": acheteur,
        "request-reopen": acheteur,
    }
    for name, user in allowed.items():
        assert client_as(user).get(url(name, pr)).status_code == 405
        client.logout()
        assert_sends_to_login(client.post(url(name, pr)))
        assert client_as(comptable).post(url(name, pr), {"reason": "x"}).status_code == 403
        assert client_as(controleur).post(url(name, pr), {"reason": "x"}).status_code == 403
    assert client_as(acheteur).post(url("request-approve", pr)).status_code == 403
    pr.refresh_from_db()
    assert pr.state == State.SUBMITTED
    assert not Commitment.objects.exists()


def test_the_journey_submit_approve_and_the_ledger_on_the_page(
    client_as, acheteur, chef, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, quantity="4", unit_price=62_500, description="Disques SSD")],
        supplier=supplier,
    )
    buyer = client_as(acheteur)
    response = buyer.post(url("request-submit", pr), follow=True)
    assert any(pr.number in m for m in messages_of(response))
    pr.refresh_from_db()
    assert pr.state == State.SUBMITTED

    approver = client_as(chef)
    page = page_text(approver.get(pr.get_absolute_url()))
    assert 'data-testid="approve"' in page and 'data-testid="reject"' in page
    assert xpf(750_000) in page  # available after approval
    response = approver.post(url("request-approve", pr), {"reason": ""}, follow=True)
    pr.refresh_from_db()
    commitment = Commitment.objects.get(purchase_request=pr)
    assert pr.state == State.APPROVED
    assert figures(line) == (250_000, 750_000)
    assert entries_of(commitment) == [("commit", 250_000, "")]
    assert any(commitment.number in m for m in messages_of(response))
    text = page_text(response)
    assert 'data-testid="commitment"' in text and commitment.number in text
    assert 'data-kind="commit"' in text
    assert 'data-testid="history-item"' in text


def test_over_the_threshold_the_section_head_is_told_and_nothing_changes(
    client_as, acheteur, chef, directeur, supplier, settings
):
    settings.PROCUREMENT_APPROVAL_THRESHOLD = 500_000
    line = funded_line(5_000_000)
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=600_000)],
        supplier=supplier,
        submit=True,
    )
    page = page_text(client_as(chef).get(pr.get_absolute_url()))
    assert 'data-testid="needs-director"' in page
    assert 'data-testid="approve"' not in page
    response = client_as(chef).post(url("request-approve", pr), follow=True)
    assert response.redirect_chain[-1][0] == pr.get_absolute_url()
    assert any(pr.number in m for m in messages_of(response))
    pr.refresh_from_db()
    assert pr.state == State.SUBMITTED
    assert figures(line) == (0, 5_000_000)
    client_as(directeur).post(url("request-approve", pr))
    pr.refresh_from_db()
    assert pr.state == State.APPROVED
    assert figures(line) == (600_000, 4_400_000)


def test_short_credits_refuse_the_section_head_and_let_the_director_override_with_a_reason(
    client_as, acheteur, chef, directeur, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=1_250_000)],
        supplier=supplier,
        submit=True,
    )
    response = client_as(chef).post(url("request-approve", pr), follow=True)
    assert response.redirect_chain[-1][0] == pr.get_absolute_url()
    assert any(xpf(1_000_000) in m for m in messages_of(response))
    assert 'data-testid="override-help"' not in page_text(response)
    assert not Commitment.objects.exists()

    director = client_as(directeur)
    assert 'data-testid="override-help"' in page_text(director.get(pr.get_absolute_url()))
    response = director.post(url("request-approve", pr), {"reason": ""})
    assert response["Location"].endswith("?override=1#approve")
    assert not Commitment.objects.exists()
    director.post(url("request-approve", pr), {"reason": "Remplacement urgent du pare-feu"})
    pr.refresh_from_db()
    commitment = Commitment.objects.get(purchase_request=pr)
    assert pr.state == State.APPROVED
    assert entries_of(commitment) == [("override", 1_250_000, "Remplacement urgent du pare-feu")]
    assert figures(line) == (1_250_000, -250_000)
    text = page_text(director.get(pr.get_absolute_url()))
    assert "Remplacement urgent du pare-feu" in text
    assert 'data-kind="override"' in text


def test_the_buyer_reads_the_rejection_reason_and_reopens(
    client_as, acheteur, chef, line, supplier
):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier, submit=True)
    approver = client_as(chef)
    response = approver.post(url("request-reject", pr), {"reason": "  "}, follow=True)
    assert messages_of(response)
    pr.refresh_from_db()
    assert pr.state == State.SUBMITTED
    approver.post(url("request-reject", pr), {"reason": "Joindre trois devis"})
    pr.refresh_from_db()
    assert pr.state == State.REJECTED

    buyer = client_as(acheteur)
    text = page_text(buyer.get(pr.get_absolute_url()))
    assert 'data-testid="rejection"' in text and "Joindre trois devis" in text
    assert 'data-testid="reopen"' in text
    buyer.post(url("request-reopen", pr))
    pr.refresh_from_db()
    assert pr.state == State.DRAFT


def test_cancelling_an_approved_request_gives_the_credits_back(
    client_as, acheteur, chef, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=400_000)],
        supplier=supplier,
        submit=True,
    )
    commitment = services.purchase_request_approve(user=chef, request=pr)
    assert figures(line) == (400_000, 600_000)
    buyer_page = page_text(client_as(acheteur).get(pr.get_absolute_url()))
    assert 'data-testid="cancel"' not in buyer_page
    assert client_as(acheteur).post(url("request-cancel", pr), {"reason": "x"}).status_code == 302
    pr.refresh_from_db()
    assert pr.state == State.APPROVED  # refused with a message: credits are the approvers'
    response = client_as(chef).post(url("request-cancel", pr), {"reason": ""}, follow=True)
    assert messages_of(response)
    assert figures(line) == (400_000, 600_000)
    client_as(chef).post(url("request-cancel", pr), {"reason": "Achat reporté"})
    pr.refresh_from_db()
    assert pr.state == State.CANCELLED
    assert figures(line) == (0, 1_000_000)
    assert entries_of(commitment) == [
        ("commit", 400_000, ""),
        ("release", -400_000, "Achat reporté"),
    ]
    text = page_text(client_as(chef).get(pr.get_absolute_url()))
    assert 'data-testid="cancellation"' in text and "Achat reporté" in text
    assert 'data-kind="release"' in text


# --- Attachments ------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_buyer_attaches_a_quote_that_readers_download(
    client_as, acheteur, chef, sans_role, line, supplier, media
):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    upload_url = url("request-attachment-add", pr)
    assert client_as(acheteur).get(upload_url).status_code == 405
    assert (
        client_as(chef)
        .post(upload_url, {"file": SimpleUploadedFile("devis.pdf", b"%PDF-1.4")})
        .status_code
        == 403
    )
    response = client_as(acheteur).post(
        upload_url, {"file": SimpleUploadedFile("devis.pdf", b"%PDF-1.4 devis")}, follow=True
    )
    attachment = Attachment.objects.get()
    assert "devis.pdf" in page_text(response)
    download = client_as(chef).get(url("request-attachment", pr, attachment.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 devis"
    assert "attachment" in download["Content-Disposition"]
    assert client_as(sans_role).get(url("request-attachment", pr, attachment.pk)).status_code == 403
    other = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    assert client_as(chef).get(url("request-attachment", other, attachment.pk)).status_code == 404


def test_a_bad_file_is_refused_with_a_message(client_as, acheteur, line, supplier, media):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    response = client_as(acheteur).post(
        url("request-attachment-add", pr),
        {"file": SimpleUploadedFile("virus.exe", b"MZ")},
        follow=True,
    )
    assert any("virus.exe" in m for m in messages_of(response))
    assert not Attachment.objects.exists()


def _queries(client, path, params=None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params or {}).status_code == 200
    return len(queries)


def test_the_list_and_the_detail_page_do_not_query_per_row(client_as, chef, acheteur, supplier):
    lines = [funded_line(1_000_000) for _ in range(3)]
    client = client_as(chef)

    def make(count):
        for _ in range(count):
            pr = purchase_request(
                user=acheteur,
                lines=[request_line(line, unit_price=1_000) for line in lines],
                supplier=SupplierFactory(),
                submit=True,
            )
            services.purchase_request_approve(user=chef, request=pr)
        return pr

    make(2)
    few = _queries(client, LIST_URL, {"tab": "all"})
    last = make(8)
    assert _queries(client, LIST_URL, {"tab": "all"}) == few
    assert _queries(client, LIST_URL, {"tab": "to_approve"}) <= few
    detail = _queries(client, last.get_absolute_url())
    assert detail <= 25, detail


# ---------------------------------------------------------------------------
# Short credits: what the section head can do instead of a refused approval


@pytest.fixture
def short_request(acheteur, line, supplier):
    """Submitted, 1 250 000 on a line with 1 000 000 available: short by 250 000."""
    return purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=1_250_000)],
        supplier=supplier,
        submit=True,
    )


def test_a_section_head_on_a_short_request_sees_what_can_succeed_not_approve(
    client_as, chef, short_request, line
):
    page = page_text(client_as(chef).get(short_request.get_absolute_url()))
    assert 'data-testid="approve"' not in page
    assert "Approuver et engager" not in page
    assert 'data-testid="transmit"' in page and "Transmettre au DSI" in page
    assert 'data-testid="send-back"' in page and "Renvoyer à l’acheteur" in page
    proposal = re.search(r'<a class="[^"]*" href="([^"]+)" data-testid="propose-transfer"', page)
    assert proposal is not None
    assert f"target={line.pk}" in proposal[1] and "amount=250000" in proposal[1]
    assert f"Proposer un virement vers F-6156-INFRA ({xpf(250_000)})" in page


def test_a_section_head_on_a_covered_request_approves_as_before(
    client_as, acheteur, chef, line, supplier
):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier, submit=True)
    page = page_text(client_as(chef).get(pr.get_absolute_url()))
    assert "Approuver et engager" in page
    assert 'data-testid="transmit"' not in page and 'data-testid="propose-transfer"' not in page


def test_transmit_marks_the_request_and_the_directors_home_shows_it(
    client_as, chef, directeur, short_request
):
    response = client_as(chef).post(
        url("request-transmit", short_request), {"reason": "Renouvellement urgent"}, follow=True
    )
    assert any("transmise au DSI" in m for m in messages_of(response))
    short_request.refresh_from_db()
    assert short_request.state == State.SUBMITTED
    assert short_request.transmitted_by == chef
    assert short_request.transmit_note == "Renouvellement urgent"
    page = page_text(response)
    assert 'data-testid="transmitted"' in page and "Renouvellement urgent" in page
    assert 'data-testid="transmit"' not in page  # once
    assert short_request.history.first().history_change_reason == "Transmise au DSI"
    # The director's home: the request is in his queue, and its list holds it.
    director = client_as(directeur)
    home = director.get(reverse("home")).content.decode()
    assert re.search(r'data-queue="requests-transmitted" data-count="1"', home)
    listed = director.get(f"{LIST_URL}?queue=requests-transmitted&tab=to_approve&year=")
    assert [row.record.pk for row in listed.context["table"].rows] == [short_request.pk]
    # Nor is it in the section head's queue any more.
    chef_home = client_as(chef).get(reverse("home")).content.decode()
    assert 'data-queue="requests-to-approve" data-count' not in chef_home


def test_the_director_sees_the_override_reason_field_directly(
    client_as, chef, directeur, short_request
):
    client_as(chef).post(url("request-transmit", short_request))
    page = page_text(client_as(directeur).get(short_request.get_absolute_url()))
    assert 'data-testid="override-help"' in page
    assert "Approuver au-delà du disponible" in page
    assert 'data-testid="transmit"' not in page


def test_send_back_returns_the_request_to_the_buyer_with_the_reason(
    client_as, chef, acheteur, short_request
):
    client_as(chef).post(url("request-reject", short_request), {"reason": "Attendre la DM2"})
    short_request.refresh_from_db()
    assert short_request.state == State.REJECTED
    home = client_as(acheteur).get(reverse("home")).content.decode()
    assert re.search(r'data-queue="requests-returned" data-count="1"', home)


def test_transmit_refuses_the_wrong_roles(
    client_as, acheteur, directeur, controleur, short_request
):
    target = url("request-transmit", short_request)
    for user in (acheteur, directeur, controleur):
        assert client_as(user).post(target).status_code == 403
    short_request.refresh_from_db()
    assert short_request.transmitted_at is None


def test_transmit_answers_get_with_405(client_as, chef, short_request):
    assert client_as(chef).get(url("request-transmit", short_request)).status_code == 405


def test_transmit_sends_an_anonymous_visitor_to_the_login_page(client, short_request):
    assert_sends_to_login(client.post(url("request-transmit", short_request)))
