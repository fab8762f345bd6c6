"""Who may open which procurement page or endpoint: any one of these capabilities.

One place for the screens, the API and the menu (dsi_finance/roles.py holds the
capabilities). Reading roles (`view_all`: section head, director, management
control) see everything. The buyer and the accounting assistant read the whole
purchasing chain, because each follows the other's documents: the assistant
opens the request behind the commitment an invoice is matched to, the buyer
answers the supplier who asks whether the invoice was paid. What each may
change is decided by the services, never by these tuples.
"""

SUPPLIERS = ("use_app",)
BUYER = ("enter_purchase_request", "record_order", "record_receipt")
ACCOUNTING = ("enter_invoice", "liquidate_invoice")
APPROVE_REQUEST = ("approve_purchase_request", "approve_over_threshold")
REQUESTS = ("view_all", *BUYER, *APPROVE_REQUEST, *ACCOUNTING)
COMMITMENTS = ("view_all", "open_commitment", *BUYER, *ACCOUNTING)
ORDERS = ("view_all", *BUYER, *ACCOUNTING)
RECEIPTS = ("view_all", *BUYER, *ACCOUNTING)
INVOICES = ("view_all", *BUYER, *ACCOUNTING, "validate_liquidation")
LIQUIDATE = ("liquidate_invoice", "validate_liquidation")
