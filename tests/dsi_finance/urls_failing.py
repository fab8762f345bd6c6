"""A URLconf for tests only: the project's URLs plus a page that fails."""

from django.urls import path

from dsi_finance.urls import urlpatterns as project_urlpatterns


def failing_view(request):
    raise RuntimeError("simulated failure")


urlpatterns = [*project_urlpatterns, path("panne/", failing_view)]
