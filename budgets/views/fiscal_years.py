"""Fiscal years: their state (preparation, open, closed) and their control settings."""

urlpatterns = []
