"""The procurement journeys' shared figures (tests/procurement/test_journeys.py through
the screens, test_journeys_api.py through the API): three funded budget lines, the
figures and ledger entries checked to the franc, and the snapshot of everything a
refused action must leave as it was."""

import io

from django.core.management import call_command
from django.utils import timezone, translation

from budgets.models import BudgetLine, LedgerEntry
from budgets.selectors import document_entries, line_availability
from dsi_finance.money import format_xpf
from procurement.models import (
    Commitment,
    CommitmentLine,
    Invoice,
    PurchaseOrder,
    PurchaseRequest,
    Receipt,
    Supplier,
)
from tests.factories import BudgetLineFactory, NatureAccountFactory, fund
from tests.pages import Browser, Form, Page, french


def shortage_message(line, requested: int, available: int) -> str:
    """The French refusal of budgets.services.credits_commit for one short line."""
    with translation.override("fr"):
        details = translation.gettext(
            "%(scope)s: %(requested)s requested, %(available)s available"
        ) % {
            "scope": translation.gettext("line %(code)s") % {"code": line.code},
            "requested": format_xpf(requested),
            "available": format_xpf(available),
        }
    return french("The available amount is short (%(details)s).", details=details)


def figures(line: BudgetLine) -> dict:
    row = line_availability().get(pk=line.pk)
    return {
        "opened": row.opened,
        "committed": row.committed,
        "liquidated": row.liquidated,
        "available": row.available_amount,
    }


def entry_kinds(page: "Page") -> list[str]:
    """The kinds of the ledger entries the page's entries table lists, in order."""
    return [row.get("data-kind") for row in page.testid("entries").find_all("tr", data_kind=True)]


def shown_figures(browser: "Browser", line: BudgetLine) -> dict:
    """The figures the budget line's own page shows (its DISCO cards)."""
    page = browser.open(line.get_absolute_url())
    return {
        name: int(page.testid(f"figure-{name}").find(data_amount=True).get("data-amount"))
        for name in ("opened", "committed", "liquidated", "available")
    }


def moved(before: dict, **changes) -> dict:
    return {name: value + changes.get(name, 0) for name, value in before.items()}


def entries(document) -> list[tuple]:
    return [
        (entry.kind, entry.budget_line_id, entry.amount, entry.reason)
        for entry in document_entries(document=document)
    ]


def snapshot() -> dict:
    """Everything a refused action must leave as it was."""
    return {
        "lines": list(line_availability().values_list("pk", "opened", "committed", "liquidated")),
        "entries": LedgerEntry.objects.count(),
        "suppliers": list(Supplier.objects.order_by("pk").values_list("pk", "is_active")),
        "requests": list(PurchaseRequest.objects.order_by("pk").values_list("pk", "state")),
        "commitments": list(
            Commitment.objects.order_by("pk").values_list(
                "pk", "state", "amount", "liquidated", "released"
            )
        ),
        "commitment_lines": list(
            CommitmentLine.objects.order_by("pk").values_list(
                "pk", "amount", "liquidated", "released", "received_quantity", "invoiced"
            )
        ),
        "orders": list(PurchaseOrder.objects.order_by("pk").values_list("pk", "state")),
        "receipts": list(Receipt.objects.order_by("pk").values_list("pk", "cancelled_at")),
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "state")),
    }


def assert_recorded_once(browser: "Browser", form: "Form", obj) -> None:
    """The same form posted again (a double click, a resent page) records nothing more
    and lands on what the first post recorded."""
    before = snapshot()
    response = browser.client.post(form.action(), form.fields)
    assert response.status_code == 302, response.status_code
    assert response["Location"] == obj.get_absolute_url()
    assert snapshot() == before


def assert_ledger_clean() -> None:
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "Grand livre conforme" in out.getvalue()


def today():
    return timezone.localdate()


def budget_lines() -> dict:
    """Three lines of the open 2026 year, voted in one BP: maintenance 10 000 000 (a),
    licences 2 000 000 (b), telecom links 500 000 (c)."""
    accounts = {
        "a": NatureAccountFactory(number="6156", label="Maintenance"),
        "b": NatureAccountFactory(number="6161", label="Licences"),
        "c": NatureAccountFactory(number="6262", label="Frais de télécommunications"),
    }
    made = {
        "a": BudgetLineFactory(
            code="F-6156-INFRA", label="Maintenance des serveurs", nature_account=accounts["a"]
        ),
        "b": BudgetLineFactory(
            code="F-6161-APPS", label="Licences logicielles", nature_account=accounts["b"]
        ),
        "c": BudgetLineFactory(
            code="F-6262-TELECOM", label="Liaisons télécoms", nature_account=accounts["c"]
        ),
    }
    fund({made["a"]: 10_000_000, made["b"]: 2_000_000, made["c"]: 500_000})
    return made
