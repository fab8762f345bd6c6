"""URLs of the JSON API, /api/v1/ (namespace "api").

Each app's viewsets are registered on `router` here; the root, GET /api/v1/,
lists them together with the endpoints that are not viewsets.
"""

from django.urls import path
from rest_framework import routers

from budgets import api as budgets_api
from procurement import api as procurement_api
from reporting import api as reporting_api

from . import api


class ApiRouter(routers.DefaultRouter):
    """DefaultRouter whose root also lists the endpoints that are not viewsets."""

    include_format_suffixes = False
    extra_root_entries = {"auth/token": "token", "me": "me", "dashboard": "dashboard"}

    def get_api_root_view(self, api_urls=None):
        list_route = self.routes[0].name
        entries = {
            prefix: list_route.format(basename=basename)
            for prefix, _viewset, basename in self.registry
        }
        entries.update(self.extra_root_entries)
        return self.APIRootView.as_view(api_root_dict=entries)


router = ApiRouter()

# Each app lists its viewsets in ROUTES (prefix, viewset, basename).
for _prefix, _viewset, _basename in [
    *budgets_api.ROUTES,
    *procurement_api.ROUTES,
    *reporting_api.ROUTES,
]:
    router.register(_prefix, _viewset, basename=_basename)

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="token"),
    path("me/", api.MeView.as_view(), name="me"),
    *reporting_api.URLPATTERNS,
    *router.urls,
]
