"""Root URLs: the shell, accounts, each app's namespace, API and admin."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

admin.site.site_header = "DSI Finance"
admin.site.site_title = "DSI Finance"

account_patterns = [
    path(
        "connexion/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"
    ),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "mot-de-passe/modifie/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("personnes/", views.UserDirectoryView.as_view(), name="user-directory"),
    path("mes-droits/", views.MyRightsView.as_view(), name="my-rights"),
    path("montant/", views.francs_echo, name="francs-echo"),
    path("budget/", include("budgets.urls")),
    path("achats/", include("procurement.urls")),
    path("pilotage/", include("reporting.urls")),
    path("compte/", include(account_patterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("dsi_finance.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs are a page: an anonymous visitor is sent to the login page. Swagger UI
    # sets inline styles: allowed on this page only, scripts stay strict.
    path(
        "api/docs/",
        login_required(
            csp_update({"style-src": [UNSAFE_INLINE]})(
                SpectacularSwaggerSplitView.as_view(url_name="api-schema")
            )
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
