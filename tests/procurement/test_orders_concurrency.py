"""Order numbers under concurrency, on PostgreSQL: sixteen buyers issue sixteen orders at
the same instant (threads behind a barrier, each with its own connection); the numbers
are BC-2026-00001 … 00016, none twice, none missing. A creation that fails after taking
its number gives it back: the next order takes it, so no gap is left either."""

import threading

import pytest
from django.db import connection, transaction

from procurement.models import DocumentSequence, PurchaseOrder, PurchaseRequest
from procurement.services import orders
from procurement.services.common import ProcurementError
from tests.factories import UserFactory
from tests.procurement.factories import (
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKERS = 16


def run_together(jobs) -> tuple[list, list[BaseException]]:
    """Run each job in its own thread, all released by one barrier; (results, errors)."""
    barrier = threading.Barrier(len(jobs))
    results, errors, lock = [], [], threading.Lock()

    def work(job):
        try:
            barrier.wait(timeout=30)
            result = job()
            with lock:
                results.append(result)
        except BaseException as error:  # reported to the test
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (lock wait?)"
    return results, errors


@pytest.fixture
def commitments(postgres_only):
    ensure_tax_rates()
    chef = UserFactory(username="chef", roles=["pilotage"])
    line = funded_line(500_000_000, code="I-2183-INFRA")
    return [
        request_commitment(chef, [ordered_goods(line, "2", 10_000 + n, "22", f"Article {n}")])
        for n in range(WORKERS)
    ]


def test_sixteen_concurrent_orders_get_sixteen_gapless_numbers(commitments):
    buyers = [UserFactory(username=f"acheteur{n}", roles=["achat"]) for n in range(WORKERS)]

    def issue(buyer, commitment):
        return lambda: orders.purchase_order_create(user=buyer, commitment=commitment).number

    numbers, errors = run_together(
        [issue(buyer, commitment) for buyer, commitment in zip(buyers, commitments, strict=True)]
    )
    assert errors == []
    expected = [f"BC-2026-{n:05d}" for n in range(1, WORKERS + 1)]
    assert sorted(numbers) == expected
    assert sorted(PurchaseOrder.objects.values_list("number", flat=True)) == expected
    assert DocumentSequence.objects.get(kind="BC", year=2026).last == WORKERS
    # Each order belongs to its own commitment, with that commitment's amounts.
    for order in PurchaseOrder.objects.select_related("commitment"):
        assert order.amount_ht == order.commitment.amount
    assert set(PurchaseRequest.objects.values_list("state", flat=True)) == {"ordered"}


def test_two_buyers_ordering_one_commitment_at_once_make_one_order(commitments):
    commitment = commitments[0]
    buyers = [UserFactory(username=f"acheteur{n}", roles=["achat"]) for n in range(2)]
    results, errors = run_together(
        [
            lambda buyer=buyer: orders.purchase_order_create(user=buyer, commitment=commitment)
            for buyer in buyers
        ]
    )
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], ProcurementError)
    assert errors[0].code == "already_ordered"
    assert PurchaseOrder.objects.count() == 1
    assert DocumentSequence.objects.get(kind="BC", year=2026).last == 1


def test_a_rolled_back_creation_leaves_no_gap_among_concurrent_ones(commitments):
    buyers = [UserFactory(username=f"acheteur{n}", roles=["achat"]) for n in range(WORKERS)]

    def issue(buyer, commitment, fail: bool):
        def job():
            with transaction.atomic():
                number = orders.purchase_order_create(user=buyer, commitment=commitment).number
                if fail:
                    raise RuntimeError(f"the caller failed after taking {number}")
            return number

        return job

    jobs = [
        issue(buyer, commitment, fail=index % 5 == 0)  # 0, 5, 10, 15 roll back
        for index, (buyer, commitment) in enumerate(zip(buyers, commitments, strict=True))
    ]
    numbers, errors = run_together(jobs)
    assert len(errors) == 4 and all(isinstance(error, RuntimeError) for error in errors)
    expected = [f"BC-2026-{n:05d}" for n in range(1, WORKERS - 4 + 1)]
    assert sorted(numbers) == expected
    assert sorted(PurchaseOrder.objects.values_list("number", flat=True)) == expected
    # The commitments whose creation rolled back are still orderable, and take the next number.
    failed = [commitments[index] for index in (0, 5, 10, 15)]
    later = [
        orders.purchase_order_create(user=buyers[0], commitment=commitment).number
        for commitment in failed
    ]
    assert later == [f"BC-2026-{n:05d}" for n in range(WORKERS - 3, WORKERS + 1)]
