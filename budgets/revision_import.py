"""Saving an imported BP or DM proposal into a draft revision, all or nothing.

The file is checked again here, under the revision's lock, whatever a preview
showed before: a row that became wrong since (a line created meanwhile, a
commitment that a cut would now undercut) stops the whole import. New lines are
created and items set through budgets.services, in one transaction.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from dsi_finance.roles import require_capability

from . import services
from .models import BudgetRevision
from .services import BudgetError
from .xlsx import NEW_LINE, UNCHANGED, SheetRow, check_revision_rows


@dataclass(frozen=True)
class ImportOutcome:
    lines_created: int
    items_set: int
    unchanged: int
    removed: int

    @property
    def rows(self) -> int:
        return self.items_set + self.unchanged


@transaction.atomic
def revision_import(
    *, user, revision: BudgetRevision, rows: list[SheetRow], replace: bool = False
) -> ImportOutcome:
    """Create the file's new lines and set every row's amount and justification.

    `replace`: the file is the whole proposal, so the draft's lines that it
    leaves out are taken out of the draft. Raises BudgetError with every row's
    error (prefixed by its row number) and saves nothing when one row is wrong.
    """
    require_capability(user, "prepare_budget")
    # The revision row is locked: two imports (or an import and an edit) of the same
    # draft queue up instead of interleaving their items.
    revision = (
        BudgetRevision.objects.select_for_update().select_related("fiscal_year").get(pk=revision.pk)
    )
    if revision.state != BudgetRevision.State.DRAFT:
        raise BudgetError(
            _("The %(revision)s is %(state)s: it can no longer be changed.")
            % {"revision": revision, "state": revision.get_state_display().lower()},
            code="revision_frozen",
        )
    check = check_revision_rows(revision, rows, replace=replace)
    if not check.ok:
        raise BudgetError(check.error_messages(), code="import")

    created = updated = unchanged = 0
    for row in check.rows:
        line = row.line
        if row.status == NEW_LINE:
            line = services.budget_line_create(
                user=user,
                fiscal_year=revision.fiscal_year,
                code=row.sheet.code,
                label=row.sheet.label,
                nature_account=row.nature_account,
                cost_centre=row.cost_centre,
                project=row.project,
            )
            created += 1
        if row.status == UNCHANGED:
            unchanged += 1
            continue
        services.revision_item_set(
            user=user,
            revision=revision,
            budget_line=line,
            amount=row.amount,
            justification=row.sheet.justification,
        )
        updated += 1
    for item in check.removed:
        services.revision_item_remove(user=user, revision=revision, budget_line=item.budget_line)
    return ImportOutcome(
        lines_created=created, items_set=updated, unchanged=unchanged, removed=len(check.removed)
    )
