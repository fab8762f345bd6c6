"""Filters of the budgets list pages (django-filter)."""

import django_filters
