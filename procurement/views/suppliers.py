"""Pages of the suppliers (filled in by the issue #4 work)."""

urlpatterns: list = []
