"""The dashboard tests' books (tests/reporting/test_dashboard.py, test_dashboard_api.py and
tests/browser/test_dashboard.py): a small hand-built ledger whose entries are dated with
the services' clock patched, this year and last year, in Noumea time."""

from contextlib import contextmanager
from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from budgets import services
from procurement.services.invoices import (
    invoice_create,
)
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    invoice_line,
    purchase_request,
    request_line,
)

NOUMEA = ZoneInfo("Pacific/Noumea")
TODAY = date(2026, 6, 15)


@contextmanager
def clock(year, month, day, hour=12, minute=0):
    """The services' clock set to that moment, Nouméa time."""
    moment = datetime(year, month, day, hour, minute, tzinfo=NOUMEA)
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


def commit(user, line, amount):
    services.credits_commit(user=user, document=line, amounts={line: amount})


def liquidate(user, line, amount):
    services.credits_liquidate(user=user, document=line, line=line, amount=amount)


@pytest.fixture
def books(chef, acheteur, comptable):
    """Two years of a small ledger.

    2026 (current, open): A (operating, 011) 1 000 000 opened, 950 000 committed,
    300 000 liquidated in February and 200 000 in April; B (investment, 21) 2 000 000
    opened, 500 000 committed, 100 000 liquidated on 1 April at 00:30 in Nouméa (still
    31 March in UTC), forecast 2 500 000; C (011) 500 000 opened, nothing spent,
    forecast 400 000.
    2025: P (011) 800 000 opened, 600 000 committed, liquidated 200 000 in May,
    100 000 on 15 June at 23:00, 50 000 on 16 June at 00:30, 150 000 in September.
    """
    ensure_tax_rates()
    operating = ChapterFactory(code="011", section="F")
    investment = ChapterFactory(code="21", label="Immobilisations corporelles", section="I")

    last = FiscalYearFactory(year=2025, state="open")
    p = BudgetLineFactory(
        fiscal_year=last, code="F-P", nature_account=NatureAccountFactory(chapter=operating)
    )
    with clock(2025, 1, 15):
        fund({p: 800_000})
    with clock(2025, 3, 1):
        commit(chef, p, 600_000)
    with clock(2025, 5, 10):
        liquidate(chef, p, 200_000)
    with clock(2025, 6, 15, 23, 0):
        liquidate(chef, p, 100_000)
    with clock(2025, 6, 16, 0, 30):
        liquidate(chef, p, 50_000)
    with clock(2025, 9, 1):
        liquidate(chef, p, 150_000)

    year = FiscalYearFactory(year=2026, state="open")
    a = BudgetLineFactory(
        fiscal_year=year,
        code="F-A",
        label="Licences",
        nature_account=NatureAccountFactory(chapter=operating),
    )
    b = BudgetLineFactory(
        fiscal_year=year,
        code="I-B",
        label="Serveurs",
        nature_account=NatureAccountFactory(chapter=investment),
    )
    c = BudgetLineFactory(
        fiscal_year=year,
        code="F-C",
        label="Formations",
        nature_account=NatureAccountFactory(chapter=operating),
    )
    with clock(2026, 1, 15):
        fund({a: 1_000_000, b: 2_000_000, c: 500_000})
    with clock(2026, 2, 10):
        commit(chef, a, 950_000)
    with clock(2026, 2, 20):
        liquidate(chef, a, 300_000)
    with clock(2026, 3, 3):
        commit(chef, b, 500_000)
    with clock(2026, 4, 1, 0, 30):
        liquidate(chef, b, 100_000)
    with clock(2026, 4, 5):
        liquidate(chef, a, 200_000)
    services.forecast_set(user=chef, budget_line=b, month=3, amount=100)
    services.forecast_set(user=chef, budget_line=b, month=5, amount=2_500_000)
    services.forecast_set(user=chef, budget_line=c, month=5, amount=400_000)

    # Requests: one submitted (waiting), one draft (not waiting).
    supplier = SupplierFactory(payment_terms_days=30)
    waiting = purchase_request(
        user=acheteur,
        lines=[request_line(budget_line=c, quantity="2", unit_price=60_000)],
        supplier=supplier,
        subject="Formation Django",
        submit=True,
    )
    purchase_request(user=acheteur, lines=[request_line(budget_line=c)], supplier=supplier)

    # Invoices entered, not liquidated (no ledger entry): two past due on 15 June.
    def enter(number, received, amount):
        return invoice_create(
            user=comptable,
            supplier=supplier,
            supplier_number=number,
            invoice_date=received,
            received_on=received,
            lines=[invoice_line(budget_line=c, amount_ht=str(amount))],
        )

    late_1 = enter("F-1", date(2026, 4, 1), 10_000)  # due 1 May
    late_2 = enter("F-2", date(2026, 3, 1), 20_000)  # due 31 March
    enter("F-3", date(2026, 6, 1), 40_000)  # due 1 July: not late
    for line in (a, b, c, p):
        line.refresh_from_db()
    return {
        "a": a,
        "b": b,
        "c": c,
        "p": p,
        "year": year,
        "last": last,
        "waiting": waiting,
        "late": [late_2, late_1],
    }
