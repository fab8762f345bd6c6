"""Pages of the requests (filled in by the issue #4 work)."""

urlpatterns: list = []
