"""API of the commitments."""

ROUTES: list = []
