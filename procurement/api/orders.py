"""API of the orders."""

ROUTES: list = []
