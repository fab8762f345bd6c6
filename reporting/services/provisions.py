"""What pilotage writes beside the provisions of the closing synthesis."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from budgets.models import BudgetLine
from dsi_finance.roles import require_capability
from procurement.models import CommitmentLine, Supplier
from reporting.models import ProvisionArgument

MAX_ARGUMENT = 2000


@transaction.atomic
def provision_argument_set(
    *, user, budget_line: BudgetLine, supplier: Supplier, text: str
) -> ProvisionArgument:
    """Writes (or rewrites, or clears with an empty text) the argument of the provision of
    `budget_line` for `supplier`; the history keeps every version."""
    require_capability(user, "run_closing")
    text = (text or "").strip()
    if len(text) > MAX_ARGUMENT:
        raise ValidationError(
            _("The argument is too long: %(max)s characters at most.") % {"max": MAX_ARGUMENT},
            code="too_long",
        )
    if not CommitmentLine.objects.filter(
        budget_line=budget_line, commitment__supplier=supplier
    ).exists():
        raise ValidationError(
            _("No commitment of %(supplier)s is charged to the line %(line)s.")
            % {"supplier": supplier.name, "line": budget_line.code},
            code="no_provision",
        )
    argument = (
        ProvisionArgument.objects.select_for_update()
        .filter(budget_line=budget_line, supplier=supplier)
        .first()
    )
    if argument is None:
        return ProvisionArgument.objects.create(
            budget_line=budget_line, supplier=supplier, text=text, updated_by=user
        )
    if argument.text != text:
        argument.text = text
        argument.updated_by = user
        argument.save()
    return argument
