"""Who may open which procurement page or endpoint: any one of these capabilities.

One place for the screens, the API and the menu (dsi_finance/roles.py holds the
capabilities). Reading roles (`view_all`: section head, director, management
control) see everything; the other roles see the documents of their work.
"""

SUPPLIERS = ("use_app",)
REQUESTS = (
    "view_all",
    "enter_purchase_request",
    "approve_purchase_request",
    "approve_over_threshold",
)
APPROVE_REQUEST = ("approve_purchase_request", "approve_over_threshold")
COMMITMENTS = (
    "view_all",
    "open_commitment",
    "record_order",
    "record_receipt",
    "enter_invoice",
    "liquidate_invoice",
)
ORDERS = ("view_all", "record_order", "record_receipt", "enter_invoice")
RECEIPTS = ("view_all", "record_receipt", "enter_invoice", "liquidate_invoice")
INVOICES = ("view_all", "enter_invoice", "liquidate_invoice", "validate_liquidation")
LIQUIDATE = ("liquidate_invoice", "validate_liquidation")
