"""Procurement API serializers, one module per document family."""
