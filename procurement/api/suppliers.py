"""API of the suppliers."""

ROUTES: list = []
