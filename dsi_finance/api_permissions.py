"""API permissions: the same capabilities as the screens (dsi_finance/roles.py)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from .roles import holds


class HasRolePermission(BasePermission):
    """Authenticated, and holding the view's capability (`use_app` unless the view says).

    A view sets `required_capability`, or `required_capabilities` per HTTP method
    (e.g. {"GET": "view_budget", "POST": "prepare_budget"}); a tuple of codenames
    means any one of them.
    """

    message = _("Your role does not allow this action.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        by_method = getattr(view, "required_capabilities", None) or {}
        capability = by_method.get(request.method) or getattr(
            view, "required_capability", "use_app"
        )
        return holds(user, capability)
