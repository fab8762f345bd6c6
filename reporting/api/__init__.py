"""The reporting API: each module lists its (prefix, viewset, basename) ROUTES, which
dsi_finance/api_urls.py registers under /api/v1/, and its plain URLPATTERNS."""

from . import dashboard, reports

ROUTES: list = [
    *reports.ROUTES,
]
URLPATTERNS: list = [
    *dashboard.URLPATTERNS,
]
