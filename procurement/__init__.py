"""Procurement: suppliers, purchase requests, commitments, orders, receipts and invoices.
Consumes credits only through the budgets services."""
