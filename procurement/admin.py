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


# --- Purchase orders and receipts (helper "orders") ----------------------------------

from .models import PurchaseOrder, Receipt, ReceiptLine  # noqa: E402


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(SimpleHistoryAdmin):
    """Read only: orders are issued, sent and cancelled through their screens and
    services (procurement.services.orders), which number them without gap."""

    list_display = ("number", "supplier", "commitment", "state", "amount_ttc", "issued_at")
    list_filter = ("state", "fiscal_year")
    search_fields = ("number", "supplier__name", "commitment__number")
    list_select_related = ("supplier", "commitment")
    ordering = ("-issued_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReceiptLineInline(_ReadOnlyInline):
    model = ReceiptLine
    fields = ("commitment_line", "quantity")
    readonly_fields = fields


@admin.register(Receipt)
class ReceiptAdmin(SimpleHistoryAdmin):
    """Read only: receipts are recorded and cancelled through their screens and services
    (procurement.services.receipts), which keep the received quantities."""

    list_display = ("number", "commitment", "received_on", "recorded_by", "cancelled_at")
    search_fields = ("number", "commitment__number")
    list_select_related = ("commitment", "recorded_by")
    inlines = (ReceiptLineInline,)
    ordering = ("-received_on",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Invoices (helper "invoices") ---------------------------------------------------

from .models import Invoice, InvoiceLine  # noqa: E402


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = (
        "position",
        "description",
        "commitment_line",
        "budget_line",
        "quantity",
        "tax_rate",
        "amount_ht_currency",
        "amount_ht",
    )
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(SimpleHistoryAdmin):
    """Read only: invoices are entered, liquidated, cancelled and paid through the screens
    (procurement.services.invoices), which post the ledger entries. Over a million rows,
    the list counts nothing it does not need to."""

    list_display = ("number", "supplier", "supplier_number", "state", "amount_ht", "due_on")
    list_filter = ("state", "currency")
    list_select_related = ("supplier",)
    search_fields = ("=number", "supplier_number")
    show_full_result_count = False
    date_hierarchy = "received_on"
    inlines = (InvoiceLineInline,)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
