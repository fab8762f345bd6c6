"""Budgets API (/api/v1/): fiscal years, budget lines with their figures, ledger, revisions.

ROUTES is read by dsi_finance/api_urls.py, which registers each viewset on the
project router.
"""

ROUTES: list[tuple[str, type, str]] = []
