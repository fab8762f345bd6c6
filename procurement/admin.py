"""Procurement in the admin: reference data and the supplier file (each block registers
one family; documents are changed through the screens and their services)."""

# --- TGC rates and suppliers (helper "ref") ----------------------------------------

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Supplier, TaxRate


@admin.register(TaxRate)
class TaxRateAdmin(SimpleHistoryAdmin):
    """The TGC reference: a new rate or a change of rate is a new row with its dates
    (the rows that documents use are protected from deletion)."""

    list_display = ("rate", "label", "valid_from", "valid_until")
    list_filter = ("rate",)
    ordering = ("-rate", "-valid_from")
    date_hierarchy = "valid_from"


@admin.register(Supplier)
class SupplierAdmin(SimpleHistoryAdmin):
    """Read here, kept through the screens (procurement.services.suppliers checks the
    RIDET, the RIB or IBAN and the terms): the admin cannot add, change or delete."""

    list_display = ("name", "ridet", "payment_terms_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "ridet")
    ordering = ("name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Purchase requests (helper "requests") -------------------------------------------

from .models import Attachment, PurchaseRequest, PurchaseRequestLine  # noqa: E402


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PurchaseRequestLineInline(_ReadOnlyInline):
    model = PurchaseRequestLine
    fields = ("position", "description", "quantity", "unit_price", "tax_rate", "budget_line")
    readonly_fields = fields


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    fields = ("name", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields


@admin.register(PurchaseRequest)
class PurchaseRequestAdmin(SimpleHistoryAdmin):
    """Read only: requests are entered, decided and cancelled through their screens and
    services (procurement.services.requests), which take and give back the credits."""

    list_display = ("number", "supplier", "subject", "state", "amount_ht", "created_at")
    list_filter = ("state", "fiscal_year")
    search_fields = ("number", "subject", "supplier__name")
    list_select_related = ("supplier",)
    inlines = (PurchaseRequestLineInline, AttachmentInline)
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
