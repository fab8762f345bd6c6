"""URLs of the procurement pages (namespace "procurement"), mounted under /achats/."""

from .views import commitments, invoices, orders, receipts, requests, suppliers

app_name = "procurement"

urlpatterns = [
    *requests.urlpatterns,
    *commitments.urlpatterns,
    *orders.urlpatterns,
    *receipts.urlpatterns,
    *invoices.urlpatterns,
    *suppliers.urlpatterns,
]
