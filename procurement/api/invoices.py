"""API of the invoices."""

ROUTES: list = []
