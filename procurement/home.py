"""The procurement work each role finds on its home page (dsi_finance.home).

Registered from ProcurementConfig.ready(). Each queue's selector is the one its
list uses when opened with `?queue=<code>`: the home's count is the list's.
"""

from django.utils.translation import gettext_lazy as _

from dsi_finance.home import HomeQueue, register_queues
from dsi_finance.roles import Role

from .selectors import invoices, orders, receipts, requests

ALL_YEARS = {"year": ""}  # the lists start on the current year; a queue spans them all


def _queues() -> list[HomeQueue]:
    return [
        # The buyer
        HomeQueue(
            code="requests-drafts",
            label=_("My draft requests"),
            role=Role.ACHAT,
            capability="enter_purchase_request",
            selector=lambda user: requests.requests_drafts(actor=user),
            url_name="procurement:request-list",
            age_field="created_at",
            query={"tab": "mine", **ALL_YEARS},
            order=10,
        ),
        HomeQueue(
            code="requests-returned",
            label=_("My requests sent back or rejected"),
            role=Role.ACHAT,
            capability="enter_purchase_request",
            selector=lambda user: requests.requests_returned(actor=user),
            url_name="procurement:request-list",
            age_field="decided_at",
            query={"tab": "mine", **ALL_YEARS},
            order=11,
        ),
        HomeQueue(
            code="requests-to-order",
            label=_("Approved requests without an order"),
            role=Role.ACHAT,
            capability="record_order",
            selector=lambda user: requests.requests_to_order(actor=user),
            url_name="procurement:request-list",
            age_field="decided_at",
            query={"tab": "all", **ALL_YEARS},
            order=12,
        ),
        HomeQueue(
            code="orders-late",
            label=_("Orders not received after their expected date"),
            role=Role.ACHAT,
            capability=("record_order", "record_receipt"),
            selector=lambda user: orders.orders_late(actor=user),
            url_name="procurement:order-list",
            age_field="delivery_date",
            query=ALL_YEARS,
            order=13,
        ),
        # The accounting assistant
        HomeQueue(
            code="receipts-to-invoice",
            label=_("Receipts to invoice"),
            role=Role.COMPTABILITE,
            capability="enter_invoice",
            selector=lambda user: receipts.receipts_to_invoice(actor=user),
            url_name="procurement:receipt-list",
            age_field="received_on",
            query=ALL_YEARS,
            order=20,
        ),
        HomeQueue(
            code="invoices-to-liquidate",
            label=_("Invoices to liquidate"),
            role=Role.COMPTABILITE,
            capability="liquidate_invoice",
            selector=lambda user: invoices.invoices_to_liquidate(actor=user),
            url_name="procurement:invoice-list",
            age_field="received_on",
            query={"tab": "to_liquidate"},
            order=21,
        ),
        HomeQueue(
            code="invoices-waiting-validation",
            label=_("Liquidations waiting for validation"),
            role=Role.COMPTABILITE,
            capability="liquidate_invoice",
            selector=lambda user: invoices.invoices_to_validate(actor=user),
            url_name="procurement:invoice-list",
            age_field="liquidated_at",
            query={"tab": "to_liquidate"},
            order=22,
        ),
        HomeQueue(
            code="invoices-late",
            label=_("Late for payment, not liquidated yet"),
            role=Role.COMPTABILITE,
            capability="liquidate_invoice",
            selector=lambda user: invoices.invoices_late_unliquidated(actor=user),
            url_name="procurement:invoice-list",
            age_field="due_on",
            query={"tab": "late"},
            order=23,
        ),
        HomeQueue(
            code="invoices-payment-unrecorded",
            label=_("Payment dates to import"),
            hint=_("Liquidated invoices past their due date without a payment date"),
            role=Role.COMPTABILITE,
            capability=("enter_invoice", "liquidate_invoice"),
            selector=lambda user: invoices.invoices_payment_unrecorded(actor=user),
            url_name="procurement:invoice-list",
            age_field="due_on",
            query={"tab": "late"},
            order=24,
        ),
        # The section head
        HomeQueue(
            code="requests-to-approve",
            label=_("Requests to approve"),
            role=Role.PILOTAGE,
            capability="approve_purchase_request",
            selector=lambda user: requests.requests_for_section_head(actor=user),
            url_name="procurement:request-list",
            age_field="submitted_at",
            query={"tab": "to_approve", **ALL_YEARS},
            order=30,
        ),
        HomeQueue(
            code="invoices-to-validate",
            label=_("Liquidations to validate"),
            role=Role.PILOTAGE,
            capability="validate_liquidation",
            selector=lambda user: invoices.invoices_to_validate(actor=user),
            url_name="procurement:invoice-list",
            age_field="liquidated_at",
            query={"tab": "to_liquidate"},
            order=31,
        ),
        # The IT director
        HomeQueue(
            code="requests-over-threshold",
            label=_("Requests above the approval threshold"),
            role=Role.DIRECTION,
            capability="approve_over_threshold",
            selector=lambda user: requests.requests_over_threshold(actor=user),
            url_name="procurement:request-list",
            age_field="submitted_at",
            query={"tab": "to_approve", **ALL_YEARS},
            order=40,
        ),
        HomeQueue(
            code="requests-transmitted",
            label=_("Requests transmitted for lack of credits"),
            role=Role.DIRECTION,
            capability="approve_over_threshold",
            selector=lambda user: requests.requests_transmitted(actor=user),
            url_name="procurement:request-list",
            age_field="transmitted_at",
            query={"tab": "to_approve", **ALL_YEARS},
            order=41,
        ),
    ]


def register() -> None:
    register_queues(*_queues())
