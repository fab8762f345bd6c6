"""Pages of the receipts (filled in by the issue #4 work)."""

urlpatterns: list = []
