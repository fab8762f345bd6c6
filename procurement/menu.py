"""The purchasing section of the menu (dsi_finance.menu), registered from
ProcurementConfig.ready(); who opens which page is procurement.access's."""

from django.utils.translation import gettext_lazy as _

from dsi_finance.menu import PURCHASING_ORDER, MenuItem, MenuSection, register_menu

from . import access


def register() -> None:
    register_menu(
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
                    _("Commitments"),
                    "procurement:commitment-list",
                    "journal-check",
                    access.COMMITMENTS,
                ),
                MenuItem(
                    _("Purchase orders"),
                    "procurement:order-list",
                    "file-earmark-text",
                    access.ORDERS,
                ),
                MenuItem(_("Receipts"), "procurement:receipt-list", "box-seam", access.RECEIPTS),
                MenuItem(_("Invoices"), "procurement:invoice-list", "receipt", access.INVOICES),
                MenuItem(_("Suppliers"), "procurement:supplier-list", "building", access.SUPPLIERS),
            ),
            "procurement",
            PURCHASING_ORDER,
        )
    )
