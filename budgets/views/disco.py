"""The DISCO page (every line and its available amount), its XLSX export, and the line page with its ledger."""

urlpatterns = []
