"""The demo's procurement (procurement.demo): a year of purchasing through the services.

Slow but necessary (what `make run` shows, and the only check that the services work
together over a year): seeded once for the module, after the demo budget, as on Thursday
15 October 2026 at 10:00 in Noumea (time_machine): nine and a half months of events, some
thirty seconds; every test below reads that same seeded year. By the end of November the same plan holds about
300 requests, 260 orders and 580 invoices.
"""

import io
import time
from collections import Counter
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from budgets.demo import seed_demo_budget
from budgets.models import BudgetLine, FiscalYear, LedgerEntry
from dsi_finance.roles import Role
from procurement.demo import procurement_plan, seed_demo_procurement
from procurement.models import (
    Commitment,
    CommitmentLine,
    Invoice,
    InvoiceLine,
    PurchaseOrder,
    PurchaseRequest,
    Receipt,
    Supplier,
)
from tests.factories import UserFactory
from tests.procurement.french_subjects import faults

pytestmark = pytest.mark.slow  # seeds the demo budget and a year of purchasing

# 14 October 2026 at 23:00 UTC is 15 October at 10:00 in Noumea.
SEEDED_AT = datetime(2026, 10, 14, 23, 0, tzinfo=UTC)
TODAY = date(2026, 10, 15)

CAST = (
    ("chef", Role.PILOTAGE),
    ("acheteur", Role.ACHAT),
    ("comptable", Role.COMPTABILITE),
    ("directeur", Role.DIRECTION),
)


def counts() -> dict[str, int]:
    models = (
        Supplier,
        PurchaseRequest,
        Commitment,
        PurchaseOrder,
        Receipt,
        Invoice,
        InvoiceLine,
        LedgerEntry,
    )
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo budget and the demo procurement, seeded once, rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(SEEDED_AT, tick=True):
            users = {name: UserFactory(username=name, roles=[role]) for name, role in CAST}
            seed_demo_budget(preparer=users["chef"], director=users["directeur"], today=TODAY)
            year = FiscalYear.objects.get(year=TODAY.year)
            plans = [repr(procurement_plan(year)) for _ in range(2)]
            planned = len(procurement_plan(year).requests)
            started = time.perf_counter()
            result = seed_demo_procurement()
            seconds = time.perf_counter() - started
        print(f"\nseed_demo_procurement: {seconds:.1f} s, {result}")
        yield {"result": result, "users": users, "plans": plans, "planned": planned}
        transaction.set_rollback(True)


@pytest.fixture
def year(seeded, db) -> FiscalYear:
    return FiscalYear.objects.get(year=2026)


def test_the_seed_plays_about_a_year_of_purchasing(seeded, year):
    result = seeded["result"]
    assert result.skipped == ""
    assert 40 <= Supplier.objects.count() <= 45
    # Nine and a half months of a year that plans about 310 requests.
    assert 245 <= PurchaseRequest.objects.filter(fiscal_year=year).count() <= 300
    assert 205 <= PurchaseOrder.objects.filter(fiscal_year=year).count() <= 265
    assert 205 <= Receipt.objects.filter(commitment__fiscal_year=year).count() <= 290
    assert 460 <= Invoice.objects.filter(fiscal_year=year).count() <= 580
    kinds = Counter(Commitment.objects.filter(fiscal_year=year).values_list("kind", flat=True))
    assert kinds[Commitment.Kind.RECURRING] >= 20
    assert kinds[Commitment.Kind.DIRECT] >= 20
    assert kinds[Commitment.Kind.REQUEST] >= 210
    # Suppliers of New Caledonia: RIDETs, payment terms, bank details.
    for supplier in Supplier.objects.all():
        assert len(supplier.ridet) == 11 and supplier.ridet[7] == "."
        assert supplier.payment_terms_days in (15, 30, 45, 60)
        assert supplier.bank_account


def test_every_state_of_every_document_is_present(seeded, year):
    def states(model, **filters):
        return set(model.objects.filter(**filters).values_list("state", flat=True))

    assert states(PurchaseRequest, fiscal_year=year) == set(PurchaseRequest.State.values)
    assert states(Commitment, fiscal_year=year) == set(Commitment.State.values)
    assert states(PurchaseOrder, fiscal_year=year) == set(PurchaseOrder.State.values)
    assert states(Invoice, fiscal_year=year) == set(Invoice.State.values)
    requests = PurchaseRequest.objects.filter(fiscal_year=year)
    assert not requests.filter(state="rejected", decision_reason="").exists()
    assert not requests.filter(state="cancelled", cancel_reason="").exists()
    # A draft the buyer cannot submit yet: a line without its budget line.
    assert requests.filter(state="draft", lines__budget_line__isnull=True).exists()
    receipts = Receipt.objects.filter(commitment__fiscal_year=year)
    assert receipts.filter(cancelled_at__isnull=False).exclude(cancel_reason="").exists()


def test_the_director_approves_above_the_threshold_and_overrides_with_a_reason_made_good(
    seeded, year
):
    directeur = seeded["users"]["directeur"]
    over = PurchaseRequest.objects.filter(
        fiscal_year=year, amount_ht__gt=5_000_000, decided_by=directeur
    )
    assert over.count() >= 3
    assert not PurchaseRequest.objects.filter(
        fiscal_year=year, amount_ht__gt=5_000_000, decided_by=seeded["users"]["chef"]
    ).exists()
    overrides = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.OVERRIDE, budget_line__fiscal_year=year
    )
    assert overrides.count() >= 2
    assert all(entry.user == directeur and entry.reason for entry in overrides)
    # No line stays below zero: the section head made each override good by a transfer.
    assert not BudgetLine.objects.filter(fiscal_year=year, committed__gt=F("opened")).exists()
    made_good = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.TRANSFER_IN, reason__startswith="Régularisation"
    )
    overridden = set(overrides.values_list("budget_line_id", flat=True))
    assert set(made_good.values_list("budget_line_id", flat=True)) == overridden


def test_invoices_show_the_life_of_a_year(seeded, year):
    invoices = Invoice.objects.filter(fiscal_year=year)
    assert invoices.filter(currency="EUR", state="liquidated").count() >= 3
    assert invoices.filter(commitment__kind="recurring").count() >= 200
    assert invoices.filter(commitment__kind="direct").count() >= 20
    assert invoices.filter(validated_by=seeded["users"]["chef"]).count() >= 20
    paid = invoices.filter(payment_date__isnull=False)
    assert paid.count() >= 300
    assert paid.filter(payment_date__gt=F("due_on")).exists()  # paid late
    assert paid.filter(payment_date__lte=F("due_on")).exists()  # paid in time
    late = invoices.filter(state="liquidated", payment_date__isnull=True, due_on__lt=TODAY).count()
    assert 5 <= late <= 80
    # A commitment invoiced in two parts, and closed ones with their remainder released.
    assert (
        Commitment.objects.filter(fiscal_year=year, kind="request")
        .annotate(n=Count("invoices", filter=~Q(invoices__state="cancelled")))
        .filter(n__gte=2)
        .exists()
    )
    closed = Commitment.objects.filter(fiscal_year=year, state="closed", released__gt=0)
    assert closed.count() >= 3
    # Recurring contracts are invoiced month by month: January to September by now.
    monthly = (
        Commitment.objects.filter(fiscal_year=year, kind="recurring")
        .annotate(months=Count("invoices__received_on__month", distinct=True))
        .order_by("-months")
        .first()
    )
    assert monthly.months >= 9


def test_dates_spread_over_the_year_up_to_today(seeded, year):
    requests = PurchaseRequest.objects.filter(fiscal_year=year)
    months = {created.month for created in requests.values_list("created_at", flat=True)}
    assert len(months) >= 10
    assert max(requests.values_list("created_at", flat=True)) <= SEEDED_AT
    entries = LedgerEntry.objects.filter(
        budget_line__fiscal_year=year, kind__in=("commit", "liquidate", "release")
    )
    entry_months = {at.month for at in entries.values_list("created_at", flat=True)}
    assert len(entry_months) >= 10
    invoices = Invoice.objects.filter(fiscal_year=year)
    assert max(invoices.values_list("received_on", flat=True)) <= TODAY
    assert not invoices.filter(payment_date__gt=TODAY).exists()


def test_check_ledger_is_clean_after_the_seed(seeded, year):
    out = io.StringIO()
    call_command("check_ledger", stdout=out)  # raises CommandError (exit code 1) on a difference
    assert "Grand livre conforme" in out.getvalue()


def test_procurement_caches_agree_with_the_ledger_on_every_line(seeded, year):
    live = ~Q(invoice__state=Invoice.State.CANCELLED)
    for line in BudgetLine.objects.filter(fiscal_year=year):
        commitments = CommitmentLine.objects.filter(budget_line=line).aggregate(
            committed=Coalesce(Sum("amount"), 0) - Coalesce(Sum("released"), 0)
        )
        liquidated = InvoiceLine.objects.filter(
            budget_line=line, invoice__state=Invoice.State.LIQUIDATED
        ).aggregate(total=Coalesce(Sum("amount_ht"), 0))
        assert line.committed == commitments["committed"], line.code
        assert line.liquidated == liquidated["total"], line.code
    for commitment_line in CommitmentLine.objects.filter(commitment__fiscal_year=year):
        invoice_lines = InvoiceLine.objects.filter(commitment_line=commitment_line)
        sums = invoice_lines.aggregate(
            invoiced=Coalesce(Sum("amount_ht", filter=live), 0),
            liquidated=Coalesce(
                Sum("amount_ht", filter=Q(invoice__state=Invoice.State.LIQUIDATED)), 0
            ),
        )
        assert commitment_line.invoiced == sums["invoiced"], commitment_line
        assert commitment_line.liquidated == sums["liquidated"], commitment_line
    for commitment in Commitment.objects.filter(fiscal_year=year):
        sums = commitment.lines.aggregate(
            amount=Sum("amount"), liquidated=Sum("liquidated"), released=Sum("released")
        )
        assert (commitment.amount, commitment.liquidated, commitment.released) == (
            sums["amount"],
            sums["liquidated"],
            sums["released"],
        ), commitment.number


def test_a_second_run_changes_nothing(seeded, year):
    before = counts()
    with time_machine.travel(SEEDED_AT, tick=True):
        again = seed_demo_procurement()
    assert again.skipped == "existing"
    assert counts() == before


def test_the_plan_is_the_same_on_every_run(seeded, year):
    first, second = seeded["plans"]
    assert first == second
    assert 290 <= seeded["planned"] <= 330


def test_every_request_subject_of_the_seeded_demo_reads_as_french(seeded, year):
    """What the buyer sees in the list (tests/procurement/test_demo_subjects.py checks
    every subject the builder can write, without seeding)."""
    subjects = set(PurchaseRequest.objects.values_list("subject", flat=True))
    assert len(subjects) > 100
    assert {subject: faults(subject) for subject in subjects if faults(subject)} == {}


def test_a_lower_volume_plans_fewer_requests_for_as_much_money(seeded, year):
    """Last year's purchasing (dsi_finance.demo) is played at half the volume: half as many
    requests, each larger, and fewer unhappy fates."""
    full, half = procurement_plan(year), procurement_plan(year, volume=0.5)

    def bought(plan) -> int:
        return sum(item.amount for request in plan.requests for item in request.items)

    assert 0.4 <= len(half.requests) / len(full.requests) <= 0.65
    assert 0.9 <= bought(half) / bought(full) <= 1.1
    rejected = Counter(request.fate for request in half.requests)["rejected"]
    assert rejected == 7  # 14 at full volume
    assert [c.yearly for c in half.contracts] == [c.yearly for c in full.contracts]


@pytest.mark.parametrize("username", ["acheteur", "comptable", "chef", "directeur"])
def test_each_roles_home_counts_are_those_of_the_lists_it_links_to(seeded, year, username, client):
    """On the demo's year: every queue of the home page, followed to its list, holds as
    many rows as the home says (dsi_finance.home: one selector for both)."""
    from tests.dsi_finance.home_pages import assert_home_counts_are_the_lists_counts

    client.force_login(seeded["users"][username])
    counts = assert_home_counts_are_the_lists_counts(client)
    if username in ("acheteur", "comptable", "chef"):
        assert counts, f"the demo gives {username} some work"
