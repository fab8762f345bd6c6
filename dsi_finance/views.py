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
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .exports import XlsxExportMixin, yes_no
from .filters import UserDirectoryFilter
from .health import system_health
from .roles import CAPABILITIES, Role, holds, user_capabilities, user_roles
from .selectors import user_directory
from .tables import USER_DIRECTORY_EXPORT, UserDirectoryTable


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
    """The greeting, roles and capabilities; for the roles that hold view_dashboard
    (direction, pilotage, controle), the director's dashboard above them, in place."""

    template_name = "dsi_finance/home.html"

    def get_template_names(self):
        if holds(self.request.user, "view_dashboard"):
            return ["reporting/home_dashboard.html"]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["roles"] = user_roles(user)
        context["capabilities"] = [CAPABILITIES[code] for code in user_capabilities(user)]
        if holds(user, "view_dashboard"):
            from reporting.views.dashboard import dashboard_context  # the shell over the apps

            context.update(dashboard_context(self.request))
        return context


class UserDirectoryView(
    CapabilityRequiredMixin, XlsxExportMixin, HtmxTableMixin, SingleTableMixin, FilterView
):
    """Who holds which role: for those who read everything (pilotage, direction, controle)."""

    capability = "view_all"
    template_name = "dsi_finance/user_directory.html"
    table_class = UserDirectoryTable
    filterset_class = UserDirectoryFilter
    export_columns = USER_DIRECTORY_EXPORT
    export_name = "personnes"
    export_title = gettext_lazy("People")

    def get_queryset(self):
        return user_directory(actor=self.request.user)

    def get_export_rows(self):
        """The people the page lists, with their roles (the groups the selector prefetches,
        read per chunk: no query per person)."""
        labels = {role.value: str(role.label) for role in Role}
        people = self.get_export_queryset().iterator(chunk_size=2000)
        for person in people:
            roles = [labels[group.name] for group in person.groups.all() if group.name in labels]
            yield [
                person.get_full_name() or person.get_username(),
                person.get_username(),
                person.email,
                ", ".join(roles) or _("No role"),
                person.last_login,
                yes_no(person.is_active),
            ]


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
