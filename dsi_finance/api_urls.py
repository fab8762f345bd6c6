"""URLs of the JSON API, /api/v1/ (namespace "api").

Each app's viewsets are registered on `router` here; the root, GET /api/v1/,
lists them together with the endpoints that are not viewsets. Like the project's
urls.py (`include("budgets.urls")`), the apps are named by their dotted path, not
imported: the kernel imports no app.
"""

from importlib import import_module

from django.urls import path
from rest_framework import routers

from . import api

# Each app's API module: ROUTES (prefix, viewset, basename) and, optionally,
# URLPATTERNS for its endpoints that are not viewsets. In the order of the API root.
APP_API_MODULES = ("budgets.api", "procurement.api", "reporting.api")


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
_app_apis = [import_module(name) for name in APP_API_MODULES]

for _app_api in _app_apis:
    for _prefix, _viewset, _basename in _app_api.ROUTES:
        router.register(_prefix, _viewset, basename=_basename)

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="token"),
    path("me/", api.MeView.as_view(), name="me"),
    *(pattern for app_api in _app_apis for pattern in getattr(app_api, "URLPATTERNS", ())),
    *router.urls,
]
