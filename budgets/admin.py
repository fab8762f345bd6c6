"""The nomenclature in the admin; lines, revisions and the ledger read only.

Credits change only through budgets.services (the ledger and its cached totals
move together): the admin may keep the reference data (chapters, accounts,
cost centres, projects) and the fiscal years' settings, never the figures.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    BudgetLine,
    BudgetRevision,
    Chapter,
    CostCentre,
    FiscalYear,
    LedgerEntry,
    NatureAccount,
    Project,
    Transfer,
)


@admin.register(FiscalYear)
class FiscalYearAdmin(SimpleHistoryAdmin):
    list_display = ("year", "state", "control_level", "control_mode")
    # The state moves only through the services (open, close): figures depend on it.
    readonly_fields = ("state",)


@admin.register(Chapter)
class ChapterAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "section")
    list_filter = ("section",)
    search_fields = ("code", "label")


@admin.register(NatureAccount)
class NatureAccountAdmin(admin.ModelAdmin):
    list_display = ("number", "label", "chapter")
    list_filter = ("chapter",)
    search_fields = ("number", "label")


@admin.register(CostCentre, Project)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "label")

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: budget lines of past years still point at them.
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to staff for support; every change goes through the app's services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BudgetLine)
class BudgetLineAdmin(ReadOnlyAdmin):
    list_display = ("code", "label", "fiscal_year", "section", "opened", "committed", "liquidated")
    list_filter = ("fiscal_year", "section")
    search_fields = ("code", "label")
    list_select_related = ("fiscal_year",)


@admin.register(BudgetRevision)
class BudgetRevisionAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("kind", "fiscal_year", "state", "vote_date", "vote_reference")
    list_filter = ("state", "kind")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("pk", "fiscal_year", "source", "target", "amount", "state")
    list_filter = ("state",)
    list_select_related = ("fiscal_year", "source", "target")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "created_at", "budget_line", "kind", "amount", "available_after", "user")
    list_filter = ("kind",)
    list_select_related = ("budget_line", "user")
    search_fields = ("budget_line__code",)
    show_full_result_count = False
