"""The closing of the provisions tests (tests/reporting/test_report_provisions.py and
tests/browser/test_provisions.py): two lines, two suppliers, four orders in November
2026, received and invoiced in part, with the clock set by time_machine."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from procurement.services import orders, receipts
from procurement.services.invoices import invoice_create
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    invoice_line,
    ordered_goods,
    request_commitment,
)

NOUMEA = ZoneInfo("Pacific/Noumea")
D = datetime.date


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=NOUMEA), tick=True)


@pytest.fixture
def closing(chef, acheteur, comptable):
    """Two lines, two suppliers, four orders in November 2026: two received and partly or
    not invoiced (=Evil SARL on the servers line), one received and invoiced in full, one
    half received (Pacific Réseaux on the network line)."""
    with at(2026, 11, 1, 9, 0):
        ensure_tax_rates()
        servers = funded_line(50_000_000, code="I-2183-SERV", label="Serveurs")
        network = funded_line(20_000_000, code="F-6156-RES", label="Réseau")
        evil = SupplierFactory(name="=Evil SARL")
        pacific = SupplierFactory(name="Pacific Réseaux SARL")
        specs = [
            (servers, evil, "3", 123_457),
            (servers, evil, "2.5", 100_001),
            (network, pacific, "4", 50_000),
            (network, pacific, "5", 10_000),
        ]
        commitments = []
        for line, supplier, quantity, price in specs:
            commitment = request_commitment(
                chef, [ordered_goods(line, quantity, price)], supplier=supplier
            )
            orders.purchase_order_create(user=acheteur, commitment=commitment)
            commitments.append(commitment)
    c1, c2, c3, c4 = commitments
    with at(2026, 11, 20, 9, 0):
        for commitment, day, quantity in [
            (c1, D(2026, 11, 5), "3"),
            (c2, D(2026, 11, 6), "2.5"),
            (c3, D(2026, 11, 2), "4"),
            (c4, D(2026, 11, 10), "2"),
        ]:
            receipts.receipt_create(
                user=acheteur,
                commitment=commitment,
                received_on=day,
                quantities={commitment.lines.get(): quantity},
            )
        for commitment, day, quantity, amount in [
            (c1, D(2026, 11, 15), "1", "123457"),
            (c3, D(2026, 11, 3), "4", "200000"),
        ]:
            invoice_create(
                user=comptable,
                supplier=commitment.supplier,
                supplier_number=f"F-{commitment.number}",
                invoice_date=day,
                received_on=day,
                lines=[invoice_line(commitment.lines.get(), amount_ht=amount, quantity=quantity)],
                commitment=commitment,
            )
    return {
        "servers": servers,
        "network": network,
        "evil": evil,
        "pacific": pacific,
        "commitments": commitments,
    }
