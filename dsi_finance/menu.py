"""The navigation menu, filtered by what the user's roles allow.

Each entry names the capability it needs (dsi_finance/roles.py): a person sees
exactly the pages they may open, and a URL typed by hand gets the same answer
(the views check the same capability).

The kernel imports no app: each app registers its section from its
AppConfig.ready() (`<app>/menu.py`, like the home queues of dsi_finance/home.py);
the shell's own sections (home, organisation, integration, administration) are
registered here. Sections show in the order of their `order`.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
    code: str = ""  # unique among the registered sections
    order: int = 100  # the shell's home is 0, its administration 100


# The order of the shell's and the apps' sections.
HOME_ORDER, BUDGET_ORDER, PURCHASING_ORDER, STEERING_ORDER = 0, 10, 20, 30
ORGANISATION_ORDER, INTEGRATION_ORDER, ADMINISTRATION_ORDER = 80, 90, 100

_SECTIONS: dict[str, MenuSection] = {}


def register_menu(*sections: MenuSection) -> None:
    """Add sections to the menu (called from an app's ready(); idempotent)."""
    for section in sections:
        _SECTIONS[section.code] = section


def registered_menu() -> list[MenuSection]:
    """Every registered section, in the order of the menu."""
    return sorted(_SECTIONS.values(), key=lambda section: (section.order, section.code))


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


register_menu(
    MenuSection(_("Home"), (MenuItem(_("Home"), "home", "house"),), "home", HOME_ORDER),
    MenuSection(
        _("Organisation"),
        (MenuItem(_("People and roles"), "user-directory", "people", "view_all"),),
        "organisation",
        ORGANISATION_ORDER,
    ),
    MenuSection(
        _("Integration"),
        (MenuItem(_("API documentation"), "api-docs", "braces"),),
        "integration",
        INTEGRATION_ORDER,
    ),
    MenuSection(
        _("Administration"),
        (MenuItem(_("Users and settings"), "admin:index", "gear", None, staff_only=True),),
        "administration",
        ADMINISTRATION_ORDER,
    ),
)


def menu_for(user, current_path: str = "", menu=None) -> list[VisibleSection]:
    """The sections and entries this user may open (of `menu`, by default the
    registered sections); empty sections are left out."""
    if not user.is_authenticated:
        return []
    menu = registered_menu() if menu is None else menu
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


def capabilities_with_screen(user, menu=None) -> list[Right]:
    """The user's capabilities that a menu entry they may open serves, in the order of
    CAPABILITIES, each with those entries: what has no screen yet (chargeback,
    conventions, archives…) is left out until its app adds its menu entry."""
    if not user.is_authenticated:
        return []
    menu = registered_menu() if menu is None else menu
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
