"""Each role's work on its home page (dsi_finance.home): every queue's count, its oldest
age, and the list its link opens, which holds exactly the rows counted."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from budgets import services as budget_services
from budgets.models import BudgetRevision, FiscalYear
from dsi_finance.home import get_queue
from dsi_finance.roles import Role
from procurement.models import Invoice, PurchaseOrder, PurchaseRequest
from procurement.services import orders as order_services
from procurement.services import receipts as receipt_services
from procurement.services import requests as request_services
from tests.dsi_finance.home_pages import assert_home_counts_are_the_lists_counts, home_queues
from tests.factories import FiscalYearFactory, UserFactory
from tests.procurement.factories import (
    funded_line,
    invoice_commitment,
    invoice_line,
    ordered_goods,
    purchase_request,
    request_commitment,
    request_line,
)

pytestmark = pytest.mark.django_db

# 7 December 2026 at 23:00 UTC is 8 December at 10:00 in Noumea.
NOW = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
TODAY = date(2026, 12, 8)


@pytest.fixture(autouse=True)
def december():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def work(chef, acheteur, comptable, directeur):
    """Some of every kind of work, and some that is not theirs."""
    line = funded_line(50_000_000, code="F-611-WEB")
    small = funded_line(100_000, code="F-612-SMALL")
    other_buyer = UserFactory(username="acheteur2", roles=[Role.ACHAT])
    # The buyer: two drafts of his own (another buyer's is not his), one rejected.
    purchase_request(user=acheteur, lines=[request_line(line)])
    purchase_request(user=acheteur, lines=[request_line(line)])
    purchase_request(user=other_buyer, lines=[request_line(line)])
    rejected = purchase_request(user=acheteur, lines=[request_line(line)], submit=True)
    request_services.purchase_request_reject(user=chef, request=rejected, reason="Devis manquant")
    # The section head: one request within the threshold; the director: one above it,
    # one transmitted for lack of credits.
    purchase_request(user=acheteur, lines=[request_line(line)], submit=True)
    purchase_request(user=acheteur, lines=[request_line(line, unit_price=6_000_000)], submit=True)
    short = purchase_request(
        user=acheteur, lines=[request_line(small, unit_price=900_000)], submit=True
    )
    request_services.purchase_request_transmit(user=chef, request=short, note="Urgent")
    # Approved without an order; another ordered, late, half received.
    request_commitment(acheteur, [ordered_goods(line, quantity="2")])
    ordered = request_commitment(acheteur, [ordered_goods(line, quantity="4")])
    order = order_services.purchase_order_create(
        user=acheteur, commitment=ordered, delivery_date=TODAY + timedelta(days=1)
    )
    # Expected 12 days ago (ordered back then: the service refuses a past date today).
    PurchaseOrder.objects.filter(pk=order.pk).update(delivery_date=TODAY - timedelta(days=12))
    receipt_services.receipt_create(
        user=acheteur,
        commitment=ordered,
        received_on=TODAY,
        quantities={ordered.lines.get(): Decimal("2")},
    )
    # Invoices: one entered, one to validate, one entered and late, one liquidated and
    # late with no payment date, one paid.
    commitment = invoice_commitment(comptable, [(line, 5_000_000, None)])
    supplier = commitment.supplier
    from procurement.services.invoices import invoice_create

    invoices = [
        invoice_create(
            user=comptable,
            supplier=supplier,
            supplier_number=f"F-{n}",
            invoice_date=TODAY - timedelta(days=60),
            received_on=TODAY - timedelta(days=50),
            commitment=commitment,
            lines=[invoice_line(commitment.lines.get(), amount_ht="100000")],
        )
        for n in range(5)
    ]
    future, past = TODAY + timedelta(days=10), TODAY - timedelta(days=20)
    states = [
        ("entered", future, None),
        ("to_validate", future, None),
        ("entered", past, None),
        ("liquidated", past, None),
        ("liquidated", past, TODAY - timedelta(days=1)),
    ]
    for invoice, (state, due_on, paid) in zip(invoices, states, strict=True):
        Invoice.objects.filter(pk=invoice.pk).update(
            state=state, due_on=due_on, payment_date=paid, liquidated_at=NOW
        )
    # A transfer requested; a revision to submit and one to vote, of next year.
    budget_services.transfer_request(
        user=chef, source=line, target=small, amount=500_000, reason="Renfort"
    )
    next_year = FiscalYearFactory(year=2027, state=FiscalYear.State.PREPARATION)
    BudgetRevision.objects.create(fiscal_year=next_year, kind="BP", created_by=chef)
    FiscalYearFactory(year=2028, state=FiscalYear.State.PREPARATION)
    BudgetRevision.objects.create(
        fiscal_year=FiscalYear.objects.get(year=2028),
        kind="BP",
        created_by=chef,
        state=BudgetRevision.State.SUBMITTED,
        submitted_by=directeur,
        submitted_at=NOW,
    )
    # Forecasts: one line refreshed this month, the other not.
    budget_services.forecast_set(user=chef, budget_line=line, month=12, amount=1_000_000)
    return {"line": line, "small": small}


EXPECTED = {
    Role.ACHAT: {
        "requests-drafts": 2,
        "requests-returned": 1,
        "requests-to-order": 1,
        "orders-late": 1,
    },
    Role.COMPTABILITE: {
        "receipts-to-invoice": 1,
        "invoices-to-liquidate": 2,
        "invoices-waiting-validation": 1,
        "invoices-late": 1,
        "invoices-payment-unrecorded": 1,
    },
    Role.PILOTAGE: {
        "requests-to-approve": 1,
        "invoices-to-validate": 1,
        "transfers-requested": 1,
        "forecasts-due": 1,
    },
    Role.DIRECTION: {
        "requests-over-threshold": 1,
        "requests-transmitted": 1,
        "transfers-to-approve": 1,
        "revisions-to-submit": 1,
        "revisions-to-vote": 1,
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_roles_home_counts_its_queues_and_each_link_lists_as_many_rows(
    role, work, cast, client_as
):
    counts = assert_home_counts_are_the_lists_counts(client_as(cast[role]))
    assert counts == EXPECTED[role]


def test_the_home_says_how_old_the_oldest_item_is(work, acheteur, client_as):
    page = client_as(acheteur).get(reverse("home")).content.decode()
    # The order expected 12 days ago is the oldest (and only) late one.
    late = page[page.index('data-queue="orders-late"') :]
    assert "le plus ancien : 12 jours" in late[: late.index("</li>")]


def test_a_person_with_two_roles_sees_both_sets_of_queues(work, client_as):
    both = UserFactory(username="polyvalent", roles=[Role.ACHAT, Role.COMPTABILITE])
    page = client_as(both).get(reverse("home")).content.decode()
    assert page.count('data-testid="queue-group"') == 2
    assert 'data-role="achat"' in page and 'data-role="comptabilite"' in page
    assert 'data-queue="orders-late"' in page and 'data-queue="receipts-to-invoice"' in page


def test_a_user_with_no_work_sees_nothing_waiting(acheteur, controleur, client_as):
    for user in (acheteur, controleur):
        page = client_as(user).get(reverse("home")).content.decode()
        assert "Rien en attente" in page
        assert home_queues(client_as(user)) == {}


def test_the_home_no_longer_lists_capabilities(chef, client_as):
    page = client_as(chef).get(reverse("home")).content.decode()
    assert 'data-testid="capabilities"' not in page
    assert "Gérer la refacturation" not in page


def test_a_queue_of_another_role_or_another_list_is_refused(work, acheteur, chef, client_as):
    url = reverse("procurement:request-list")
    assert client_as(acheteur).get(url, {"queue": "requests-transmitted"}).status_code == 403
    assert client_as(chef).get(url, {"queue": "orders-late"}).status_code == 404
    assert client_as(chef).get(url, {"queue": "nothing-like-it"}).status_code == 404


def test_the_queue_keeps_narrowing_the_list_when_filtered(work, acheteur, client_as):
    queue = get_queue("requests-drafts")
    client = client_as(acheteur)
    response = client.get(queue.url(), {"q": "rien-de-tel"})
    assert len(response.context["table"].data) == 0
    response = client.get(queue.url())
    assert len(response.context["table"].data) == 2
    assert all(
        row.record.state == PurchaseRequest.State.DRAFT for row in response.context["table"].rows
    )


def test_forecasts_saved_from_the_queue_leave_it(work, chef, client_as):
    client = client_as(chef)
    small = work["small"]
    queue = get_queue("forecasts-due")
    response = client.get(queue.url())
    assert [row.line.code for row in response.context["rows"]] == ["F-612-SMALL"]
    response = client.post(
        reverse("reporting:forecast-entry"),
        {"year": "2026", "month": "12", "queue": queue.code, f"forecast-{small.pk}": "90000"},
    )
    assert response.status_code == 302 and "queue=forecasts-due" in response["Location"]
    assert "forecasts-due" not in home_queues(client)


def test_the_directors_home_shows_his_queues_above_the_dashboard(work, directeur, client_as):
    page = client_as(directeur).get(reverse("home")).content.decode()
    assert page.index('data-testid="home-queues"') < page.index('id="chart-months"')
    # Only what waits for him: not the section head's nor the clerks' queues.
    assert set(home_queues(client_as(directeur))) == set(EXPECTED[Role.DIRECTION])


def test_the_shell_imports_no_app_for_its_home_page():
    """The kernel's home page reads the registry the apps fill (issue 12 forbids the
    shell to import apps): neither dsi_finance/home.py nor its views import one."""
    import ast
    from pathlib import Path

    import dsi_finance

    root = Path(dsi_finance.__file__).parent
    for name in ("home.py", "views.py"):
        tree = ast.parse((root / name).read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
        assert not imported & {"budgets", "procurement", "reporting", "archive"}, name
