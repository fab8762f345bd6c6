"""What pilotage does from the variance page: turn the cover proposals into a draft
DM, or one same-section proposal into a transfer request.

Both go through budgets' own services only (revision_create / revision_item_set,
transfer_request), which check the capabilities, the year's state and the amounts.
The proposals are recomputed here from the figures of the moment, never taken from
the browser: an amount can never exceed a line's surplus.
"""

from django.db import transaction
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _

from budgets.models import BudgetLine, BudgetRevision, FiscalYear, Transfer
from budgets.services import (
    revision_create,
    revision_item_set,
    transfer_request,
)
from dsi_finance.errors import ServiceError
from dsi_finance.money import format_xpf
from dsi_finance.roles import require_capability

from ..selectors.variance import TRANSFER, Proposal, cover_proposals, variance_rows

AMENDING = (BudgetRevision.Kind.DM1, BudgetRevision.Kind.DM2)


def _analysis_name(fiscal_year: FiscalYear, month: int | None) -> str:
    if month is None:
        return _("variance analysis %(year)s") % {"year": fiscal_year.year}
    return _("variance analysis of %(month)s %(year)s") % {
        "month": str(MONTHS[month]).lower(),
        "year": fiscal_year.year,
    }


def next_amending_kind(fiscal_year: FiscalYear) -> str | None:
    """The DM that the proposals would go into: the first of DM1, DM2 not yet voted
    (None when the DM2 is voted)."""
    voted = set(
        BudgetRevision.objects.filter(
            fiscal_year=fiscal_year, kind__in=AMENDING, state=BudgetRevision.State.VOTED
        ).values_list("kind", flat=True)
    )
    for kind in AMENDING:
        if kind not in voted:
            return kind
    return None


@transaction.atomic
def variance_draft_dm(*, user, fiscal_year: FiscalYear, month: int | None = None) -> BudgetRevision:
    """Put the cover proposals of the variance analysis into a draft DM, in one go.

    The DM is the next one not voted (DM1, else DM2). It is created if needed; an
    existing draft is used only while it is empty: a draft that already has lines, or
    a DM already submitted, is refused with a French message naming it (pilotage
    reviews it in the revision editor rather than having it silently mixed). Each
    target line gets + what the proposals give it (its overrun, or the part the
    surpluses cover), each source line − what it gives, so that the DM balances (its
    items sum to 0); a year whose DM2 is voted is refused.
    """
    require_capability(user, "enter_forecast")
    require_capability(user, "prepare_budget")
    # The year row is locked: two clicks cannot create two DMs or fill one twice.
    fiscal_year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
    kind = next_amending_kind(fiscal_year)
    if kind is None:
        raise ServiceError(
            _("The DM2 %(year)s is voted: no amending decision is left for this year.")
            % {"year": fiscal_year.year},
            code="no_dm_left",
        )
    proposals = cover_proposals(variance_rows(actor=user, fiscal_year=fiscal_year, month=month))
    if not proposals:
        raise ServiceError(
            _("The variance analysis proposes nothing: no overrun can be covered by a surplus."),
            code="nothing_to_propose",
        )
    revision = BudgetRevision.objects.filter(fiscal_year=fiscal_year, kind=kind).first()
    if revision is not None:
        if revision.state != BudgetRevision.State.DRAFT:
            raise ServiceError(
                _(
                    "The %(revision)s is %(state)s: the proposals cannot be added to it. "
                    "Send it back to draft or vote it first."
                )
                % {"revision": revision, "state": revision.get_state_display().lower()},
                code="revision_frozen",
            )
        if revision.items.exists():
            raise ServiceError(
                _(
                    "The draft %(revision)s already has lines: review it in the revision "
                    "editor, or remove its lines to fill it from the variance analysis."
                )
                % {"revision": revision},
                code="draft_not_empty",
            )
    else:
        revision = revision_create(user=user, fiscal_year=fiscal_year, kind=kind)

    name = _analysis_name(fiscal_year, month)
    changes: dict[int, int] = {}
    lines: dict[int, BudgetLine] = {}
    for proposal in proposals:
        changes[proposal.target.pk] = changes.get(proposal.target.pk, 0) + proposal.amount
        changes[proposal.source.pk] = changes.get(proposal.source.pk, 0) - proposal.amount
        lines[proposal.target.pk] = proposal.target
        lines[proposal.source.pk] = proposal.source
    for line_id in sorted(changes, key=lambda pk: lines[pk].code):
        amount = changes[line_id]
        if amount > 0:
            justification = _(
                "From the %(analysis)s: covers the forecast overrun (%(amount)s)."
            ) % {"analysis": name, "amount": format_xpf(amount)}
        else:
            justification = _(
                "From the %(analysis)s: gives %(amount)s of its forecast surplus."
            ) % {"analysis": name, "amount": format_xpf(-amount)}
        revision_item_set(
            user=user,
            revision=revision,
            budget_line=lines[line_id],
            amount=amount,
            justification=justification,
        )
    return revision


def find_proposal(
    *, actor, fiscal_year: FiscalYear, month: int | None, source_id: int, target_id: int
) -> Proposal | None:
    """The current transfer proposal from `source_id` to `target_id`, if any."""
    for proposal in cover_proposals(
        variance_rows(actor=actor, fiscal_year=fiscal_year, month=month)
    ):
        if (
            proposal.source.pk == source_id
            and proposal.target.pk == target_id
            and proposal.means == TRANSFER
        ):
            return proposal
    return None


@transaction.atomic
def variance_transfer_request(
    *, user, fiscal_year: FiscalYear, month: int | None, source_id: int, target_id: int
) -> Transfer:
    """Request the transfer that the variance analysis proposes from one line to another
    (same section), for the amount it proposes now. Refused when no such proposal
    exists any more, or when the same transfer is already waiting for a decision."""
    require_capability(user, "request_transfer")
    proposal = find_proposal(
        actor=user, fiscal_year=fiscal_year, month=month, source_id=source_id, target_id=target_id
    )
    if proposal is None:
        raise ServiceError(
            _("The variance analysis no longer proposes this transfer: reload the page."),
            code="no_proposal",
        )
    if Transfer.objects.filter(
        source=proposal.source, target=proposal.target, state=Transfer.State.REQUESTED
    ).exists():
        raise ServiceError(
            _("A transfer from %(source)s to %(target)s is already waiting for a decision.")
            % {"source": proposal.source.code, "target": proposal.target.code},
            code="transfer_pending",
        )
    reason = _("From the %(analysis)s: covers the forecast overrun of %(target)s.") % {
        "analysis": _analysis_name(fiscal_year, month),
        "target": proposal.target.code,
    }
    return transfer_request(
        user=user,
        source=proposal.source,
        target=proposal.target,
        amount=proposal.amount,
        reason=reason,
    )
