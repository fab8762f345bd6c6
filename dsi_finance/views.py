"""Pages of the project shell: home, logout, lockout and health check."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .filters import UserDirectoryFilter
from .health import system_health
from .roles import CAPABILITIES, holds, user_capabilities, user_roles
from .selectors import user_directory
from .tables import UserDirectoryTable


class CapabilityRequiredMixin(PermissionRequiredMixin):
    """403 for a logged-in user whose roles lack `capability` (anonymous users never get here).

    `capability` is a codename, or a tuple of codenames of which one is enough.
    """

    capability: str | tuple[str, ...] = "use_app"

    def has_permission(self):
        return holds(self.request.user, self.capability)


class HtmxTableMixin:
    """A list page whose table region htmx swaps in place: a request aimed at that
    region (sorting, pagination, filters) gets only the `table` partial of the page's
    own template, so that page and fragment can never drift apart."""

    table_region = "table-region"

    def get_template_names(self):
        names = super().get_template_names()
        htmx = getattr(self.request, "htmx", None)
        if htmx and htmx.target == self.table_region:
            return [f"{names[0]}#table"]
        return names


class HomeView(CapabilityRequiredMixin, TemplateView):
    template_name = "dsi_finance/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["roles"] = user_roles(user)
        context["capabilities"] = [CAPABILITIES[code] for code in user_capabilities(user)]
        return context


class UserDirectoryView(CapabilityRequiredMixin, HtmxTableMixin, SingleTableMixin, FilterView):
    """Who holds which role: for those who read everything (pilotage, direction, controle)."""

    capability = "view_all"
    template_name = "dsi_finance/user_directory.html"
    table_class = UserDirectoryTable
    filterset_class = UserDirectoryFilter

    def get_queryset(self):
        return user_directory(actor=self.request.user)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """JSON state of the database and the broker: 200 when the database answers, else 503."""
    healthy, report = system_health()
    return JsonResponse(report, status=200 if healthy else 503)


class LogoutView(auth_views.LogoutView):
    """Django's POST-only logout, saying so on the login page."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You are logged out."))
        return response


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: 429, French page or JSON for the API."""
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    message = ngettext(
        "Too many failed login attempts: this account is locked for %(minutes)d minute "
        "from this address.",
        "Too many failed login attempts: this account is locked for %(minutes)d minutes "
        "from this address.",
        minutes,
    ) % {"minutes": minutes}
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    context = {"cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
