"""URLs of the budgets pages (namespace "budgets"), mounted under /budget/."""

from .views import disco, fiscal_years, imports, revisions, transfers

app_name = "budgets"

urlpatterns = [
    *disco.urlpatterns,
    *revisions.urlpatterns,
    *imports.urlpatterns,
    *transfers.urlpatterns,
    *fiscal_years.urlpatterns,
]
