"""Approvals racing for the last credits of a line, on PostgreSQL (DESIGN.md, rule 2).

Each thread has its own database connection and waits at a barrier, so that the
approvals really run together: exactly the requests that fit win, the others are
refused with the clean `credits_short` error, nothing goes over, and the ledger,
the cached totals and the commitments agree.
"""

import threading
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import translation

from budgets.models import BudgetLine, LedgerEntry
from budgets.selectors import broken_balances, ledger_differences
from budgets.services import CreditsShortError
from procurement.models import Commitment, PurchaseRequest
from procurement.services import requests as services
from procurement.services.common import ProcurementError
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    purchase_request,
    request_line,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def race(jobs) -> list:
    """Run the callables together, one thread (and connection) each; their outcomes:
    the result, or the exception raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def work(index, job):
        try:
            with translation.override("fr"):
                barrier.wait(timeout=30)
                outcomes[index] = job()
        except BaseException as error:  # every outcome is inspected by the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(i, job), daemon=True) for i, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (lock wait?)"
    return outcomes


def test_approvals_racing_for_the_last_credits_only_take_what_fits(postgres_only, acheteur, chef):
    ensure_tax_rates()
    line = funded_line(550_000, code="F-6156-INFRA")
    supplier = SupplierFactory()
    requests = [
        purchase_request(
            user=acheteur,
            lines=[request_line(line, unit_price=100_000, description=f"Poste {n}")],
            supplier=supplier,
            submit=True,
        )
        for n in range(12)
    ]

    outcomes = race(
        [
            (lambda pr=pr: services.purchase_request_approve(user=chef, request=pr))
            for pr in requests
        ]
    )

    won = [o for o in outcomes if isinstance(o, Commitment)]
    short = [o for o in outcomes if isinstance(o, CreditsShortError)]
    other = [o for o in outcomes if not isinstance(o, Commitment | CreditsShortError)]
    assert other == []
    assert (len(won), len(short)) == (5, 7)
    for error in short:
        assert error.code == "credits_short"
        assert error.can_override is False
        assert error.shortages[0].requested == 100_000
        assert error.shortages[0].available == 50_000

    line = BudgetLine.objects.get(pk=line.pk)
    assert (line.opened, line.committed, line.available) == (550_000, 500_000, 50_000)
    states = Counter(PurchaseRequest.objects.values_list("state", flat=True))
    assert states == {"approved": 5, "submitted": 7}
    # One commitment per approved request, numbered without gap, each in the ledger once.
    commitments = Commitment.objects.order_by("number")
    assert [c.number for c in commitments] == [f"EJ-2026-{n:05d}" for n in range(1, 6)]
    assert {c.purchase_request.state for c in commitments} == {"approved"}
    commits = LedgerEntry.objects.filter(budget_line=line, kind="commit")
    assert sorted(commits.values_list("document_id", flat=True)) == sorted(
        c.pk for c in commitments
    )
    assert set(commits.values_list("amount", flat=True)) == {100_000}
    assert not LedgerEntry.objects.filter(kind="override").exists()
    assert ledger_differences() == []
    assert broken_balances() == []


def test_two_approvers_clicking_together_commit_once(postgres_only, acheteur, chef, directeur):
    ensure_tax_rates()
    line = funded_line(1_000_000)
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=300_000)],
        supplier=SupplierFactory(),
        submit=True,
    )

    outcomes = race(
        [
            lambda: services.purchase_request_approve(user=chef, request=pr),
            lambda: services.purchase_request_approve(user=directeur, request=pr),
            lambda: services.purchase_request_approve(user=chef, request=pr),
        ]
    )

    won = [o for o in outcomes if isinstance(o, Commitment)]
    refused = [o for o in outcomes if isinstance(o, ProcurementError)]
    assert len(won) == 1 and len(refused) == 2
    assert all(error.code == "state" for error in refused)
    assert Commitment.objects.count() == 1
    line = BudgetLine.objects.get(pk=line.pk)
    assert (line.committed, line.available) == (300_000, 700_000)
    assert LedgerEntry.objects.filter(kind="commit").count() == 1
    assert ledger_differences() == []


def test_an_approval_and_a_cancellation_racing_leave_the_credits_consistent(
    postgres_only, acheteur, chef
):
    ensure_tax_rates()
    line = funded_line(1_000_000)
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=400_000)],
        supplier=SupplierFactory(),
        submit=True,
    )

    outcomes = race(
        [
            lambda: services.purchase_request_approve(user=chef, request=pr),
            lambda: services.purchase_request_cancel(user=acheteur, request=pr, reason="Doublon"),
        ]
    )

    unexpected = [
        o
        for o in outcomes
        if isinstance(o, BaseException) and not isinstance(o, ProcurementError | PermissionDenied)
    ]
    assert unexpected == []
    pr.refresh_from_db()
    line = BudgetLine.objects.get(pk=line.pk)
    if pr.state == PurchaseRequest.State.APPROVED:
        # The approval went first: the cancellation found it approved, which only the
        # approvers may cancel.
        assert isinstance(outcomes[1], PermissionDenied)
        assert line.committed == 400_000
    else:
        # The cancellation went first: nothing was committed.
        assert pr.state == PurchaseRequest.State.CANCELLED
        assert isinstance(outcomes[0], ProcurementError)
        assert line.committed == 0
        assert not Commitment.objects.exists()
    assert ledger_differences() == []
