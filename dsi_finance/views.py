"""Pages of the project shell: home, logout, lockout and health check."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
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
from .home import panel_for, queues_for
from .menu import capabilities_with_screen
from .money import parse_francs
from .roles import Role, holds, user_roles
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
    """The work waiting for each of the user's roles first (the queues the apps register
    in dsi_finance.home), then, for the roles a panel serves (the dashboard for
    view_dashboard), that panel. The shell imports no app: the registry holds them."""

    template_name = "dsi_finance/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["queue_groups"] = queues_for(user)
        self.panel = panel_for(user)
        if self.panel is not None:
            context.update(self.panel.context(self.request))
        return context

    def get_template_names(self):
        # The panel's page (the dashboard) includes the queues above its own content.
        if self.panel is not None:
            return [self.panel.template_name]
        return super().get_template_names()


class MyRightsView(CapabilityRequiredMixin, TemplateView):
    """« Mes droits »: the user's roles and what they allow, only what has a screen
    today (derived from the menu: a capability shows when a menu entry serves it)."""

    capability = "use_app"
    template_name = "dsi_finance/my_rights.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["roles"] = user_roles(user)
        context["capabilities"] = capabilities_with_screen(user)
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


@require_GET
def francs_echo(request):
    """The amount in francs read from `?value=` by the one parser of typed amounts
    (dsi_finance.money.parse_francs): `= 250 000 F CFP`, or the French reason it is
    refused. static/js/francs.js shows it beside every input marked `data-francs`."""
    value = request.GET.get("value", "")[:100]
    try:
        francs = parse_francs(value)
    except ValidationError as error:
        francs, refusal = None, error.messages[0]
    else:
        refusal = None
    response = render(request, "partials/francs_echo.html", {"francs": francs, "refusal": refusal})
    # The figure itself, for a page's own sums (static/js/francs.js sets data-francs-value).
    response["X-Francs-Value"] = "" if francs is None else str(francs)
    return response


def render_line_availability(request, line):
    """A budget line's opened, committed and available credits (a partial that htmx
    swaps beside a line's select): `line` carries `opened`, `committed` and
    `available_amount` (budgets.selectors.line_availability), or None for a hint."""
    return render(request, "dsi_finance/partials/line_availability.html", {"line": line})
