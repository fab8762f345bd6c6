"""Everything that writes procurement, one module per document family.

Callers import the module they need (`from procurement.services import requests`)
and call `requests.purchase_request_approve(...)`. Every credit movement goes
through budgets.services (credits_commit, credits_release, credits_liquidate,
credits_unliquidate): procurement never writes a ledger row (DESIGN.md).
"""
