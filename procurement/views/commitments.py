"""Pages of the commitments (filled in by the issue #4 work)."""

urlpatterns: list = []
