"""Transfers (virements): list, request form with both lines' availability, approval."""

urlpatterns = []
