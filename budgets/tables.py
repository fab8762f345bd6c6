"""Tables of the budgets list pages (django-tables2, on the project BaseTable)."""

import django_tables2 as tables

from dsi_finance.tables import BaseTable
