"""Pages of the orders (filled in by the issue #4 work)."""

urlpatterns: list = []
