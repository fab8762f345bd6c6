"""Budgets: fiscal years, nomenclature, budget lines, revisions, transfers, the ledger,
availability, forecasts and conventions. Imports nothing from the other apps."""
