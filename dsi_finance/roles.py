"""The five roles of DESIGN.md and what each may do.

A role is a Django group; what it may do is a set of capabilities, stored as
permissions of the `dsi_finance.Access` model (a table-less holder). Views and
the API check capabilities (`dsi_finance.approve_purchase_request`), never
group names, so that a person may hold several roles.

This module is the single source of truth: the data migrations call
`sync_role_groups()`, and a change here ships with a new migration that calls
it again (see dsi_finance/migrations/0002_role_groups.py).
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PILOTAGE = "pilotage", _("Budget steering (section head)")
    ACHAT = "achat", _("Purchasing (buyer)")
    COMPTABILITE = "comptabilite", _("Accounting (accounting assistant)")
    DIRECTION = "direction", _("Management (IT director)")
    CONTROLE = "controle", _("Management control (read only)")


# codename -> what it allows (English source; French in the catalogue).
CAPABILITIES: dict[str, str] = {
    "use_app": _("Use DSI Finance"),
    "view_budget": _("Consult budget lines and their available amounts"),
    "view_all": _("Read every budget, request, invoice and report"),
    "view_dashboard": _("View the dashboards"),
    "prepare_budget": _("Prepare the initial budget and the amending decisions"),
    "submit_budget": _("Submit the budget"),
    "request_transfer": _("Request credit transfers"),
    "approve_transfer": _("Approve credit transfers"),
    "enter_forecast": _("Enter year-end forecasts and analyse variances"),
    "approve_purchase_request": _("Approve purchase requests"),
    "approve_over_threshold": _("Approve what exceeds the thresholds or the available amount"),
    "override_available": _("Override a short available amount, with a reason"),
    "open_commitment": _("Open commitments for recurring contracts"),
    "validate_liquidation": _("Validate liquidations above the threshold"),
    "run_closing": _("Run the year-end closing"),
    "manage_chargeback": _("Manage chargeback to client directions"),
    "manage_convention": _("Manage conventions with partners"),
    "check_archive": _("Run archive checks"),
    "request_report": _("Request controlling reports"),
    "download_report": _("Download reports"),
    "enter_purchase_request": _("Enter purchase requests"),
    "manage_supplier": _("Keep the supplier file"),
    "record_order": _("Record purchase orders"),
    "record_receipt": _("Record receipts"),
    "enter_invoice": _("Enter supplier invoices"),
    "liquidate_invoice": _("Match and liquidate invoices"),
    "archive_document": _("Attach and archive documents"),
    "code_analytics": _("Enter analytic coding"),
}

_EVERYONE = {"use_app", "view_budget"}
_READ_ALL = {"view_all", "view_dashboard", "download_report"}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.PILOTAGE: frozenset(
        _EVERYONE
        | _READ_ALL
        | {
            "prepare_budget",
            "request_transfer",
            "enter_forecast",
            "approve_purchase_request",
            "open_commitment",
            "validate_liquidation",
            "run_closing",
            "manage_chargeback",
            "manage_convention",
            "check_archive",
            "request_report",
        }
    ),
    Role.ACHAT: frozenset(
        _EVERYONE | {"enter_purchase_request", "manage_supplier", "record_order", "record_receipt"}
    ),
    Role.COMPTABILITE: frozenset(
        _EVERYONE | {"enter_invoice", "liquidate_invoice", "archive_document", "code_analytics"}
    ),
    Role.DIRECTION: frozenset(
        _EVERYONE
        | _READ_ALL
        | {"submit_budget", "approve_transfer", "approve_over_threshold", "override_available"}
    ),
    Role.CONTROLE: frozenset(_EVERYONE | _READ_ALL),
}

APP_LABEL = "dsi_finance"
ACCESS_MODEL = "access"


def perm(capability: str) -> str:
    """The permission string of a capability, for has_perm() and permission_required."""
    if capability not in CAPABILITIES:
        raise KeyError(f"Unknown capability: {capability}")
    return f"{APP_LABEL}.{capability}"


def holds(user, capability: "str | tuple[str, ...]") -> bool:
    """Whether the user holds the capability, or one of them when given a tuple
    (a page several roles open for different reasons, e.g. invoices)."""
    wanted = (capability,) if isinstance(capability, str) else tuple(capability)
    return any(user.has_perm(perm(code)) for code in wanted)


def require_capability(user, capability: str) -> None:
    """PermissionDenied (403) with a French message when the user's roles lack it."""
    if not user.has_perm(perm(capability)):
        raise PermissionDenied(translation.gettext("Your role does not allow this action."))


def require_any_capability(user, *capabilities: str) -> None:
    """PermissionDenied (French) unless the user holds at least one of the capabilities."""
    if not holds(user, capabilities):
        require_capability(user, capabilities[0])


def user_roles(user) -> list[Role]:
    """The roles a user holds, in the order of the Role enumeration."""
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in Role if role.value in names]


def user_capabilities(user) -> list[str]:
    """The capabilities a user holds, in the order of CAPABILITIES."""
    return [code for code in CAPABILITIES if user.has_perm(perm(code))]


def sync_role_groups(apps=None, *, roles: Iterable[str] | None = None) -> None:
    """Create the role groups and give each exactly its capabilities.

    `apps` is a migration's app registry (historical models) or None for the
    live models. Capabilities no role holds any more are removed from the groups.
    """
    if apps is None:
        from django.apps import apps as live_apps

        apps = live_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")

    content_type, _created = ContentType.objects.get_or_create(
        app_label=APP_LABEL, model=ACCESS_MODEL
    )
    permissions = {}
    # Stored names are the English source; screens translate them from CAPABILITIES.
    with translation.override(None):
        for codename, label in CAPABILITIES.items():
            permission, _created = Permission.objects.update_or_create(
                content_type=content_type, codename=codename, defaults={"name": str(label)[:255]}
            )
            permissions[codename] = permission

    for role in roles or Role.values:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = [permissions[code] for code in sorted(ROLE_CAPABILITIES[role])]
        group.permissions.set(wanted)
