"""Procurement filters, one module per document family (suppliers, requests, commitments, orders, receipts, invoices)."""
