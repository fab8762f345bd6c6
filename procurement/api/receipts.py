"""API of the receipts."""

ROUTES: list = []
