"""The navigation menu, filtered by what the user's roles allow.

Each entry names the capability it needs (dsi_finance/roles.py): a person sees
exactly the pages they may open, and a URL typed by hand gets the same answer
(the views check the same capability). Later apps add their sections here.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from procurement import access

from .roles import CAPABILITIES, holds


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    icon: str
    capability: str | tuple[str, ...] | None = "use_app"  # a tuple: any one of them
    staff_only: bool = False
    # What else the page lets its users do (its buttons), for « Mes droits ».
    serves: tuple[str, ...] = ()

    @property
    def capabilities(self) -> tuple[str, ...]:
        """Every capability this page serves: the ones it opens to, and its `serves`."""
        opens = (self.capability,) if isinstance(self.capability, str) else self.capability
        return tuple(opens or ()) + self.serves

    def allows(self, user) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        return self.capability is None or holds(user, self.capability)


@dataclass(frozen=True)
class MenuSection:
    label: str
    items: tuple[MenuItem, ...]


@dataclass
class VisibleItem:
    label: str
    url: str
    icon: str
    active: bool


@dataclass
class VisibleSection:
    label: str
    items: list[VisibleItem] = field(default_factory=list)


MENU: tuple[MenuSection, ...] = (
    MenuSection(_("Home"), (MenuItem(_("Home"), "home", "house"),)),
    MenuSection(
        _("Budget"),
        (
            MenuItem(
                _("Available amounts (DISCO)"), "budgets:disco", "speedometer2", "view_budget"
            ),
            MenuItem(
                _("BP and DM"),
                "budgets:revision-list",
                "journal-text",
                "view_all",
                serves=("prepare_budget", "submit_budget"),
            ),
            MenuItem(
                _("Transfers"),
                "budgets:transfer-list",
                "arrow-left-right",
                "view_all",
                serves=("request_transfer", "approve_transfer"),
            ),
            MenuItem(_("Fiscal years"), "budgets:fiscal-year-list", "calendar3", "view_budget"),
        ),
    ),
    MenuSection(
        _("Purchasing"),
        (
            MenuItem(
                _("Purchase requests"),
                "procurement:request-list",
                "cart",
                access.REQUESTS,
                serves=("override_available",),
            ),
            MenuItem(
                _("Commitments"), "procurement:commitment-list", "journal-check", access.COMMITMENTS
            ),
            MenuItem(
                _("Purchase orders"), "procurement:order-list", "file-earmark-text", access.ORDERS
            ),
            MenuItem(_("Receipts"), "procurement:receipt-list", "box-seam", access.RECEIPTS),
            MenuItem(_("Invoices"), "procurement:invoice-list", "receipt", access.INVOICES),
            MenuItem(_("Suppliers"), "procurement:supplier-list", "building", access.SUPPLIERS),
        ),
    ),
    MenuSection(
        _("Steering"),
        (
            MenuItem(_("Dashboard"), "reporting:dashboard", "graph-up", "view_dashboard"),
            MenuItem(
                _("Year-end forecasts"),
                "reporting:forecast-entry",
                "pencil-square",
                "view_all",
                serves=("enter_forecast",),
            ),
            MenuItem(_("Variance analysis"), "reporting:variance", "bar-chart-steps", "view_all"),
            MenuItem(
                _("Provisions at closing"), "reporting:provisions", "hourglass-split", "view_all"
            ),
            MenuItem(
                _("Reports"),
                "reporting:report-list",
                "file-earmark-bar-graph",
                "download_report",
                serves=("request_report",),
            ),
            MenuItem(
                _("Ledger checks"), "reporting:ledger-check-list", "shield-check", "run_closing"
            ),
        ),
    ),
    MenuSection(
        _("Organisation"),
        (MenuItem(_("People and roles"), "user-directory", "people", "view_all"),),
    ),
    MenuSection(
        _("Integration"),
        (MenuItem(_("API documentation"), "api-docs", "braces"),),
    ),
    MenuSection(
        _("Administration"),
        (MenuItem(_("Users and settings"), "admin:index", "gear", None, staff_only=True),),
    ),
)


def menu_for(user, current_path: str = "", menu=MENU) -> list[VisibleSection]:
    """The sections and entries this user may open; empty sections are left out."""
    if not user.is_authenticated:
        return []
    sections = []
    for section in menu:
        visible = VisibleSection(str(section.label))
        for item in section.items:
            if item.allows(user):
                url = reverse(item.url_name)
                active = current_path == url or (url != "/" and current_path.startswith(url))
                visible.items.append(VisibleItem(str(item.label), url, item.icon, active))
        if visible.items:
            sections.append(visible)
    return sections


@dataclass
class Right:
    """A capability the user holds and the pages where it is used."""

    code: str
    label: str
    pages: list[VisibleItem] = field(default_factory=list)


def capabilities_with_screen(user, menu=MENU) -> list[Right]:
    """The user's capabilities that a menu entry they may open serves, in the order of
    CAPABILITIES, each with those entries: what has no screen yet (chargeback,
    conventions, archives…) is left out until its app adds its menu entry."""
    if not user.is_authenticated:
        return []
    pages: dict[str, list[VisibleItem]] = {}
    for section in menu:
        for item in section.items:
            if not item.allows(user):
                continue
            visible = VisibleItem(str(item.label), reverse(item.url_name), item.icon, False)
            for code in item.capabilities:
                if code in CAPABILITIES and holds(user, code):
                    pages.setdefault(code, []).append(visible)
    return [
        Right(code, str(CAPABILITIES[code]), pages[code]) for code in CAPABILITIES if code in pages
    ]
