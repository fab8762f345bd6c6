"""URLs of the reporting pages (namespace "reporting"), mounted under /pilotage/.

Each module of reporting/views/ lists its own urlpatterns.
"""

from .views import dashboard, forecasts, provisions, reports, variance

app_name = "reporting"

urlpatterns: list = [
    *dashboard.urlpatterns,
    *forecasts.urlpatterns,
    *variance.urlpatterns,
    *reports.urlpatterns,
    *provisions.urlpatterns,
]
