"""API of the requests."""

ROUTES: list = []
