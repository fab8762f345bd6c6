"""Pages of the invoices (filled in by the issue #4 work)."""

urlpatterns: list = []
