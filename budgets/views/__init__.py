"""Budgets pages, one module per screen family; budgets/urls.py gathers their urlpatterns."""
